# R-ASPP on MobileNetV2*, Cityscapes: the MobileNetV2 paper's §6.3 segmentation model, as MobileNetV3 Table 7 row 1
# lists it (no RF2, F = 256). Paper: 72.84 mIoU (val), 2.11M params, 21.29B MAdds at 1024x2048.
# "V2*": the head reads the 320-ch output of the last bottleneck, so the 1280 conv is not built. R-ASPP has no
# low-level skip. The other R-ASPP configs inherit this one.
_base_ = [
    './_base_/datasets/cityscapes_769x769.py',
    './_base_/schedules/cityscapes_320k.py',
    './_base_/default_runtime.py',
]

model = dict(
    type='EncoderDecoder',
    backbone=dict(name='mobilenet_v2', reduced_tail=None, output_stride=16),
    in_taps=dict(high='C5_pre'),
    # global image pooling (TF DeepLab's V2 runs set no image_pooling_crop_size), dropout 0.1 after the projection
    decode_head=dict(type='RASPPHead', num_classes=19, channels=256, dropout=0.1),
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
