# Table 7 row 4: MobileNetV2 ("V2*": the head reads the 320-ch output of the last bottleneck, not the 1280 conv,
# which is therefore not built), RF2 (last stage's outputs halved), LR-ASPP F = 128.
# Paper: 72.74 mIoU, 0.98M params, 12.57B MAdds. Low-level feature: depthwise output of bottleneck 6 (192 ch).
_base_ = ['_base_/models/lraspp.py', '_base_/datasets/cityscapes_769x769.py', '_base_/schedules/cityscapes_320k.py']
model = dict(
    backbone=dict(name='mobilenet_v2', reduced_tail='segmentation'),
    in_taps=dict(high='C5_pre', low='OS8'),
)
