# Table 7 row 5: MobileNetV3-Large with its full tail (no RF2), R-ASPP F = 256 on the 960-ch last conv.
# Paper: 72.64 mIoU, 3.60M params, 18.43B MAdds.
_base_ = ['_base_/models/raspp.py', '_base_/datasets/cityscapes_769x769.py', '_base_/schedules/cityscapes_320k.py']
model = dict(backbone=dict(name='mobilenet_v3_large', reduced_tail=None), in_taps=dict(high='C5'))
