# SSDLite 320x320 on COCO, trained from scratch: ShuffleNet V2 1x (not in the TF reference; C4 = stage 3, C5 = conv5).
_base_ = [
    '_base_/models/ssdlite.py',
    '_base_/datasets/coco_ssdlite_320.py',
    '_base_/schedules/ssdlite_cosine.py',
]

model = dict(backbone=dict(name='shufflenet_v2', width_mult=1.0))
