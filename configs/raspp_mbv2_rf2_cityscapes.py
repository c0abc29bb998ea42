# Table 7 row 2: MobileNetV2*, RF2 (last stage's outputs halved), R-ASPP F = 256.
# Paper: 72.56 mIoU, 1.15M params, 13.68B MAdds.
_base_ = ['_base_/models/raspp.py', '_base_/datasets/cityscapes_769x769.py', '_base_/schedules/cityscapes_320k.py']
model = dict(backbone=dict(reduced_tail='segmentation'))
