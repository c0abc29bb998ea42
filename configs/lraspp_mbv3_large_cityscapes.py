# LR-ASPP on MobileNetV3-Large, Cityscapes (MobileNetV3 paper §6.4, Table 7 row 8: RF2, F = 128).
# Paper: 72.36 mIoU (val), 1.51M params, 9.74B MAdds at 1024x2048. The model is _base_/models/lraspp.py as it stands
# (TF DeepLab's Cityscapes settings); the other Table 7 / Table 8 LR-ASPP configs override its backbone or head.
_base_ = ['_base_/models/lraspp.py', '_base_/datasets/cityscapes_769x769.py', '_base_/schedules/cityscapes_320k.py']
