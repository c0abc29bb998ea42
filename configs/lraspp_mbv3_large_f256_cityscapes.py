# Table 7 row 7: MobileNetV3-Large, RF2, LR-ASPP F = 256. Paper: 72.37 mIoU, 1.63M params, 10.33B MAdds.
_base_ = ['_base_/models/lraspp.py', '_base_/datasets/cityscapes_769x769.py', '_base_/schedules/cityscapes_320k.py']
model = dict(decode_head=dict(channels=256))
