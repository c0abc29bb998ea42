# Faster R-CNN in the papers' C4 form (MobileNetV1 §4.7 / Table 13, ShuffleNet §4.2 / Table 7), with the settings
# of the TF Object Detection API that those papers trained with (Huang et al., "Speed/accuracy trade-offs", 2017):
# RPN on the OS-16 tap C4 with anchors of 256 px x scales (0.25, 0.5, 1, 2) and ratios (0.5, 1, 2); 14x14 RoI
# crops; the backbone's layers after C4 (its stride-2 block -> 7x7) as the second stage, then global pooling and the
# box predictor; 300 proposals after RPN NMS (IoU 0.7) in training and test; RPN batch 256 (1:1), second-stage
# batch 64 per image (1:3). Experiment configs set `backbone` (and `num_classes` when not COCO's 80).
_base_ = ['./faster_rcnn.py']

model = dict(
    backbone=dict(name='mobilenet_v1'),
    neck=None,
    roi_head='backbone_tail',
    rpn_tap='C4',
    tail_until='C5',
    anchor_sizes=(64, 128, 256, 512),
    aspect_ratios=(0.5, 1.0, 2.0),
    roi_output_size=14,
    rpn_pre_nms_top_n_train=6000,
    rpn_pre_nms_top_n_test=6000,
    rpn_post_nms_top_n_train=300,
    rpn_post_nms_top_n_test=300,
    rpn_nms_thresh=0.7,
    rpn_batch_size_per_image=256,
    rpn_positive_fraction=0.5,
    box_batch_size_per_image=64,
    box_positive_fraction=0.25,
    box_score_thresh=0.05,
    box_nms_thresh=0.5,
    box_detections_per_img=100,
)
