# torchvision's fasterrcnn_mobilenet_v3_large_320_fpn (22.8 box mAP on val2017) and the recipe that produced it
# (torchvision models/detection/faster_rcnn.py, backbone_utils.py): the ImageNet-initialised backbone with frozen BN
# and stem + bnecks 1-6 of _base_/models/faster_rcnn_mbv3_fpn.py; FPN form at min_size 320, max_size 640, RPN
# pre/post-NMS top-n 150 at test, RPN score threshold 0.05; 26-epoch recipe. From scratch:
# faster_rcnn_mbv3_large_320_fpn_scratch.py.
_base_ = [
    '_base_/models/faster_rcnn_mbv3_fpn.py',
    '_base_/datasets/coco_frcnn_320.py',
    '_base_/schedules/frcnn_26e.py',
]

model = dict(
    rpn_pre_nms_top_n_test=150,
    rpn_post_nms_top_n_test=150,
)
