# Table 7 row 9: MobileNetV2* 0.5, RF2, LR-ASPP F = 128. Paper: 68.57 mIoU, 0.28M params, 4.00B MAdds.
_base_ = ['_base_/models/lraspp.py', '_base_/datasets/cityscapes_769x769.py', '_base_/schedules/cityscapes_320k.py']
model = dict(
    backbone=dict(name='mobilenet_v2', reduced_tail='segmentation', width_mult=0.5),
    in_taps=dict(high='C5_pre', low='OS8'),
)
