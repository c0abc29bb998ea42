# torchvision's fasterrcnn_mobilenet_v3_large_320_fpn (22.8 box mAP on val2017 with ImageNet weights): FPN form at
# min_size 320, max_size 640, RPN pre/post-NMS top-n 150 at test, RPN score threshold 0.05; 26-epoch recipe.
_base_ = [
    '_base_/models/faster_rcnn_mbv3_fpn.py',
    '_base_/datasets/coco_frcnn_320.py',
    '_base_/schedules/frcnn_26e.py',
]

model = dict(
    backbone=dict(name='mobilenet_v3_large', bn_eps=1e-5, bn_momentum=0.1),
    rpn_pre_nms_top_n_test=150,
    rpn_post_nms_top_n_test=150,
)
