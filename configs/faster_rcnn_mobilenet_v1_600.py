# Faster R-CNN, MobileNetV1 1.0, shorter side 600 -- ShuffleNet paper Table 7: 19.8 mAP (COCO minival); MobileNet
# paper Table 13 (its own setup): 19.8 mAP. RPN and 14x14 RoIAlign on C4 (OS 16), the backbone's layers after C4 as
# the second stage (papers' form). C4 = pointwise conv 11, second stage = conv 12-13. ReLU6 as in TF-slim's
# mobilenet_v1_arg_scope, which the TF OD API's Faster R-CNN MobileNetV1 feature extractor builds with.
_base_ = [
    '_base_/models/faster_rcnn_c4.py',
    '_base_/datasets/coco_frcnn_600.py',
    '_base_/schedules/frcnn_1x.py',
]

model = dict(backbone=dict(name='mobilenet_v1', activation='relu6'))
