# Faster R-CNN, ShuffleNet V2 1x, shorter side 600 (no paper figure for this pair; V2 paper §4 reports detection
# only with a light-head R-CNN). RPN and 14x14 RoIAlign on C4 (OS 16), the backbone's layers after C4 as the second
# stage (papers' form). C4 = stage 3, second stage = stage 4 + conv5.
_base_ = [
    '_base_/models/faster_rcnn_c4.py',
    '_base_/datasets/coco_frcnn_600.py',
    '_base_/schedules/frcnn_1x.py',
]

model = dict(backbone=dict(name='shufflenet_v2', width_mult=1.0))
