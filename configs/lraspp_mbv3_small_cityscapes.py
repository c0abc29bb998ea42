# Table 7 row 11: MobileNetV3-Small, RF2, LR-ASPP F = 128. Paper: 68.38 mIoU (val), 0.47M params, 2.90B MAdds;
# Table 8 (test): 69.4 mIoU. Low-level feature: depthwise output of bneck 3 (88 ch).
_base_ = ['_base_/models/lraspp.py', '_base_/datasets/cityscapes_769x769.py', '_base_/schedules/cityscapes_320k.py']
model = dict(backbone=dict(name='mobilenet_v3_small'))
