# LR-ASPP (MobileNetV3 paper §6.4) on MobileNetV3-Large, Table 7 row 8 (RF2, F = 128), with TF DeepLab's Cityscapes
# settings: 769x769 training crops, output stride 16, gate pooling kernel crop / 16 = 49 (TF scale_dimension:
# (769 - 1) // 16 + 1) with stride (4, 5), F = 128, sum merge at stride 8. Experiments override the backbone / head.
_base_ = ['./encoder_decoder.py']

model = dict(
    backbone=dict(name='mobilenet_v3_large', reduced_tail='segmentation', output_stride=16),
    # high: the last 1x1 conv (480 ch with RF2); low: depthwise output of bneck 6 (120 ch, TF DeepLab's OS-8 feature)
    in_taps=dict(high='C5', low='OS8'),
    decode_head=dict(type='LRASPPHead', num_classes=19, channels=128, pool_kernel=49, pool_stride=(4, 5)),
)
