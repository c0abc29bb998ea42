# R-ASPP on MobileNetV2*, Cityscapes: the MobileNetV2 paper's §6.3 segmentation model, as MobileNetV3 Table 7 row 1
# lists it (no RF2, F = 256). Paper: 72.84 mIoU (val), 2.11M params, 21.29B MAdds at 1024x2048. The model is
# _base_/models/raspp.py as it stands; the other R-ASPP configs override its backbone.
_base_ = ['_base_/models/raspp.py', '_base_/datasets/cityscapes_769x769.py', '_base_/schedules/cityscapes_320k.py']
