# torchvision's fasterrcnn_mobilenet_v3_large_fpn (32.8 box mAP on val2017 with ImageNet weights): FPN form,
# min_size 800, max_size 1333, RPN score threshold 0.05; 26-epoch recipe.
_base_ = [
    '_base_/models/faster_rcnn_mbv3_fpn.py',
    '_base_/datasets/coco_frcnn_800.py',
    '_base_/schedules/frcnn_26e.py',
]

model = dict(backbone=dict(name='mobilenet_v3_large', bn_eps=1e-5, bn_momentum=0.1))
