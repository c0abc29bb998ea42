# Table 7 row 3: MobileNetV2*, RF2, LR-ASPP F = 256. Paper: 72.97 mIoU, 1.02M params, 12.83B MAdds.
_base_ = ['_base_/models/lraspp.py', '_base_/datasets/cityscapes_769x769.py', '_base_/schedules/cityscapes_320k.py']
model = dict(
    backbone=dict(name='mobilenet_v2', reduced_tail='segmentation'),
    in_taps=dict(high='C5_pre', low='OS8'),
    decode_head=dict(channels=256),
)
