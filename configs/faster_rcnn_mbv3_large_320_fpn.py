# torchvision's fasterrcnn_mobilenet_v3_large_320_fpn (22.8 box mAP on val2017) and the recipe that produced it
# (torchvision models/detection/faster_rcnn.py, backbone_utils.py): ImageNet-initialised backbone
# (MobileNet_V3_Large_Weights.IMAGENET1K_V1, read from torch.hub's cache; nothing is downloaded), every BN frozen
# (FrozenBatchNorm2d: freeze_norm), trainable_backbone_layers=3, i.e. features[:7] = stem + bnecks 1-6 frozen
# (frozen_stages=6); FPN form at min_size 320, max_size 640, RPN pre/post-NMS top-n 150 at test, RPN score threshold
# 0.05; 26-epoch recipe. From scratch: faster_rcnn_mbv3_large_320_fpn_scratch.py.
_base_ = [
    '_base_/models/faster_rcnn_mbv3_fpn.py',
    '_base_/datasets/coco_frcnn_320.py',
    '_base_/schedules/frcnn_26e.py',
]

model = dict(
    backbone=dict(name='mobilenet_v3_large', bn_eps=1e-5, bn_momentum=0.1,
                  weights='MobileNet_V3_Large_Weights.IMAGENET1K_V1', freeze_norm=True, frozen_stages=6),
    rpn_pre_nms_top_n_test=150,
    rpn_post_nms_top_n_test=150,
)
