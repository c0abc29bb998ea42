# Table 7 row 3: MobileNetV2*, RF2, LR-ASPP F = 256. Paper: 72.97 mIoU, 1.02M params, 12.83B MAdds.
_base_ = ['./lraspp_mbv3_large_cityscapes.py']
model = dict(
    backbone=dict(name='mobilenet_v2', reduced_tail='segmentation'),
    in_taps=dict(high='C5_pre', low='OS8'),
    decode_head=dict(channels=256),
)
