# torchvision's fasterrcnn_mobilenet_v3_large_fpn, rebuilt from the same torchvision modules (19,386,354 params with
# the backbone's BN frozen, as torchvision counts them; 19,410,754 with trainable BN; 91 outputs for COCO's 90 ids).
# The FPN reads what torchvision's `_mobilenet_extractor` returns: the outputs of the last two "stages" it finds,
# i.e. the OUTPUT of bneck 13 (160 ch, already at OS 32: bneck 13 is the stride-2 block) and the final 1x1 conv
# (960 ch, OS 32) -- not the paper's C4 (bneck-13 expansion, 672 ch, OS 16). Both FPN levels are at stride 32, so
# every RoI is pooled from the first one; the max-pooled extra level (OS 64) feeds only the RPN. Set
# fpn_taps=('C4', 'C5') for a genuine two-scale FPN (+131,072 params). Backbone as torchvision's detection builder
# makes it (models/detection/faster_rcnn.py, backbone_utils.py): nn.BatchNorm2d defaults (eps 1e-5, momentum 0.1),
# ImageNet-initialised (MobileNet_V3_Large_Weights.IMAGENET1K_V1, read from torch.hub's cache; nothing is
# downloaded), every BN frozen (FrozenBatchNorm2d: freeze_norm), trainable_backbone_layers=3, i.e. features[:7] =
# stem + bnecks 1-6 frozen (frozen_stages=6). From scratch: weights=None, freeze_norm=False, frozen_stages=-1.
_base_ = ['./faster_rcnn.py']

model = dict(
    backbone=dict(name='mobilenet_v3_large', bn_eps=1e-5, bn_momentum=0.1,
                  weights='MobileNet_V3_Large_Weights.IMAGENET1K_V1', freeze_norm=True, frozen_stages=6),
    neck='fpn',
    roi_head='two_mlp',
    fpn_taps=('block13.out', 'C5'),
    fpn_channels=256,
    anchor_sizes=(32, 64, 128, 256, 512),
    aspect_ratios=(0.5, 1.0, 2.0),
    roi_output_size=7,
    representation_size=1024,
    rpn_pre_nms_top_n_train=2000,
    rpn_pre_nms_top_n_test=1000,
    rpn_post_nms_top_n_train=2000,
    rpn_post_nms_top_n_test=1000,
    rpn_score_thresh=0.05,
    box_batch_size_per_image=512,
    box_score_thresh=0.05,
    box_nms_thresh=0.5,
    box_detections_per_img=100,
)
