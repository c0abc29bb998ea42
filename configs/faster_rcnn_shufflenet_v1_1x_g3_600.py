# Faster R-CNN, ShuffleNet 1x (g=3), shorter side 600 -- ShuffleNet paper Table 7: 19.8 mAP (COCO minival). RPN and
# 14x14 RoIAlign on C4 (OS 16), the backbone's layers after C4 as the second stage (papers' form). C4 = stage 3,
# second stage = stage 4.
_base_ = [
    '_base_/models/faster_rcnn_c4.py',
    '_base_/datasets/coco_frcnn_600.py',
    '_base_/schedules/frcnn_1x.py',
]

model = dict(backbone=dict(name='shufflenet_v1', groups=3, width_mult=1.0))
