# SSDLite (MobileNetV2 §6.2, MobileNetV3 §6.3) as the TF OD API's ssdlite_mobilenet_v3_large_320x320_coco.config
# builds it. Each experiment adds `model = dict(backbone=dict(name=..., **options))`.
model = dict(
    type='SSDLite',
    num_classes=80,  # contiguous COCO labels (TF's label map has 90 ids; Table 6 complexity is counted with 90)
    data_preprocessor=dict(type='ImagePreprocessor', mean=[127.5] * 3, std=[127.5] * 3),  # pixels to [-1, 1]
    neck=dict(depths=(512, 256, 256, 128), min_depth=16),  # width multiplier follows the backbone's, as in TF
    anchor_layout='tf',  # 'torchvision' = DefaultBoxGenerator([[2, 3]] * 6, 0.2, 0.95)
    loss='focal',  # TF: sigmoid focal (alpha 0.75, gamma 2) + smooth L1; 'softmax_hnm' = torchvision's 3:1 mining
    iou_threshold=0.5,
    bn_eps=1e-3,
    bn_momentum=0.03,  # TF batch-norm decay 0.97
    test_cfg=dict(score_thr=1e-8, nms_iou=0.6, max_per_class=100, max_per_img=100, topk=1000),
)
