# Table 7 row 7: MobileNetV3-Large, RF2, LR-ASPP F = 256. Paper: 72.37 mIoU, 1.63M params, 10.33B MAdds.
_base_ = ['./lraspp_mbv3_large_cityscapes.py']
model = dict(decode_head=dict(channels=256))
