# Faster R-CNN in the papers' C4 form (MobileNetV1 §4.7 / Table 13, ShuffleNet §4.2 / Table 7), with the settings
# of the TF Object Detection API that those papers trained with (Huang et al., "Speed/accuracy trade-offs", 2017):
# RPN on the OS-16 tap C4 with anchors of 256 px x scales (0.25, 0.5, 1, 2) and ratios (0.5, 1, 2); 14x14 RoI
# crops; the backbone's layers after C4 (its stride-2 block -> 7x7) as the second stage, then global pooling and the
# box predictor; RPN NMS (IoU 0.7, score threshold 0.0) over all anchors -- no pre-NMS top-k, as TF's first stage --
# keeping 300 proposals in training and test; RPN batch 256 (1:1), second-stage batch 64 per image (1:3);
# localization loss weight 2.0 in both stages; second-stage NMS IoU 0.6, score threshold 0.0, at most 100 per class
# and 300 per image (TF OD API faster_rcnn_*_coco.config: first_stage_localization_loss_weight: 2.0,
# second_stage_localization_loss_weight: 2.0, second_stage_post_processing.batch_non_max_suppression
# {score_threshold: 0.0, iou_threshold: 0.6, max_detections_per_class: 100, max_total_detections: 300}).
# What still differs, because torchvision's RegionProposalNetwork / RoIHeads are used as is: their smooth-L1 losses
# use beta 1/9 (TF: delta 1) and are normalised over the whole batch's sampled anchors / RoIs (TF: per image); the
# objectness loss is a sigmoid cross-entropy (TF: 2-class softmax, the same function of one logit difference);
# proposals smaller than 1e-3 px are dropped. Experiment configs set `backbone` (and `num_classes` when not 80).
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
    rpn_pre_nms_top_n_train=10**9,  # no cap: every anchor of the level enters NMS
    rpn_pre_nms_top_n_test=10**9,
    rpn_post_nms_top_n_train=300,
    rpn_post_nms_top_n_test=300,
    rpn_nms_thresh=0.7,
    rpn_batch_size_per_image=256,
    rpn_positive_fraction=0.5,
    box_batch_size_per_image=64,
    box_positive_fraction=0.25,
    box_score_thresh=0.0,
    box_nms_thresh=0.6,
    box_detections_per_class=100,
    box_detections_per_img=300,
    loss_weights=dict(loss_rpn_box_reg=2.0, loss_box_reg=2.0),
)
