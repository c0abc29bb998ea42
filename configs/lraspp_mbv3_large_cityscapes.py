# LR-ASPP on MobileNetV3-Large, Cityscapes (MobileNetV3 paper §6.4, Table 7 row 8: RF2, F = 128).
# Paper: 72.36 mIoU (val), 1.51M params, 9.74B MAdds at 1024x2048. The other Table 7 / Table 8 configs inherit this.
_base_ = [
    './_base_/datasets/cityscapes_769x769.py',
    './_base_/schedules/cityscapes_320k.py',
    './_base_/default_runtime.py',
]

# TF DeepLab's Cityscapes settings (SPEC §5): 769x769 training crops, output stride 16, gate pooling kernel
# crop / 16 = 49 (TF scale_dimension: (769 - 1) // 16 + 1) with stride (4, 5), F = 128, sum merge at stride 8.
model = dict(
    type='EncoderDecoder',
    backbone=dict(name='mobilenet_v3_large', reduced_tail='segmentation', output_stride=16),
    # high: the last 1x1 conv (480 ch with RF2); low: depthwise output of bneck 6 (120 ch, TF DeepLab's OS-8 feature)
    in_taps=dict(high='C5', low='OS8'),
    decode_head=dict(type='LRASPPHead', num_classes=19, channels=128, pool_kernel=49, pool_stride=(4, 5)),
    # TF DeepLab MobileNet preprocessing: pixels scaled to [-1, 1]; padding with the mean pixel (0 after scaling)
    data_preprocessor=dict(
        type='ImagePreprocessor', mean=(127.5, 127.5, 127.5), std=(127.5, 127.5, 127.5), pad_value=127.5,
        size_divisor=1,
    ),
    ignore_index=255,
)
# checkpoint and validation every 32k of the 320k iterations (the schedule's val_interval)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=32000))
log_processor = dict(by_epoch=False)
