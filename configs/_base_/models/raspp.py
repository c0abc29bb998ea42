# R-ASPP on MobileNetV2* (MobileNetV2 paper §6.3; MobileNetV3 Table 7 row 1: no RF2, F = 256). "V2*": the head reads
# the 320-ch output of the last bottleneck, so the 1280 conv is not built. R-ASPP has no low-level skip.
# Experiments override the backbone.
_base_ = ['./encoder_decoder.py']

model = dict(
    backbone=dict(name='mobilenet_v2', reduced_tail=None, output_stride=16),
    in_taps=dict(high='C5_pre'),
    # global image pooling (TF DeepLab's V2 runs set no image_pooling_crop_size), dropout 0.1 after the projection
    decode_head=dict(type='RASPPHead', num_classes=19, channels=256, dropout=0.1),
)
