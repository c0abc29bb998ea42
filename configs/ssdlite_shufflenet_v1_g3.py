# SSDLite 320x320 on COCO, trained from scratch: ShuffleNet V1 1x g=3 (not in the TF reference; C4 = stage 3, C5 =
# stage 4).
_base_ = [
    '_base_/models/ssdlite.py',
    '_base_/datasets/coco_ssdlite_320.py',
    '_base_/schedules/ssdlite_cosine.py',
]

model = dict(backbone=dict(name='shufflenet_v1', groups=3))
