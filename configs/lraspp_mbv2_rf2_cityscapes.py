# Table 7 row 4: MobileNetV2 ("V2*": the head reads the 320-ch output of the last bottleneck, not the 1280 conv,
# which is therefore not built), RF2 (last stage's outputs halved), LR-ASPP F = 128.
# Paper: 72.74 mIoU, 0.98M params, 12.57B MAdds. Low-level feature: depthwise output of bottleneck 6 (192 ch).
_base_ = ['./lraspp_mbv3_large_cityscapes.py']
model = dict(
    backbone=dict(name='mobilenet_v2', reduced_tail='segmentation'),
    in_taps=dict(high='C5_pre', low='OS8'),
)
