# Table 7 row 6: MobileNetV3-Large, RF2 (TF DeepLab mobilenet_v3_large_seg tail), R-ASPP F = 256.
# Paper: 71.91 mIoU, 1.76M params, 11.24B MAdds.
_base_ = ['_base_/models/raspp.py', '_base_/datasets/cityscapes_769x769.py', '_base_/schedules/cityscapes_320k.py']
model = dict(backbone=dict(name='mobilenet_v3_large', reduced_tail='segmentation'), in_taps=dict(high='C5'))
