# faster_rcnn_mbv3_large_320_fpn.py from scratch: torchvision's builder with weights_backbone=None (trainable BN,
# every backbone layer trainable). Not the recipe behind torchvision's 22.8 mAP, which starts from ImageNet weights.
_base_ = [
    '_base_/models/faster_rcnn_mbv3_fpn.py',
    '_base_/datasets/coco_frcnn_320.py',
    '_base_/schedules/frcnn_26e.py',
]

model = dict(
    backbone=dict(weights=None, freeze_norm=False, frozen_stages=-1),
    rpn_pre_nms_top_n_test=150,
    rpn_post_nms_top_n_test=150,
)
