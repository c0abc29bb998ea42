# Table 7 row 2: MobileNetV2*, RF2 (last stage's outputs halved), R-ASPP F = 256.
# Paper: 72.56 mIoU, 1.15M params, 13.68B MAdds.
_base_ = ['./raspp_mbv2_cityscapes.py']
model = dict(backbone=dict(reduced_tail='segmentation'))
