# Table 7 row 9: MobileNetV2* 0.5, RF2, LR-ASPP F = 128. Paper: 68.57 mIoU, 0.28M params, 4.00B MAdds.
_base_ = ['./lraspp_mbv3_large_cityscapes.py']
model = dict(
    backbone=dict(name='mobilenet_v2', reduced_tail='segmentation', width_mult=0.5),
    in_taps=dict(high='C5_pre', low='OS8'),
)
