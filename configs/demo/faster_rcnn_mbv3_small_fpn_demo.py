# CPU demo: the FPN-form Faster R-CNN (torchvision's mobile layout) on MobileNetV3-Small, trained from scratch on the
# synthetic COCO-format shapes set (python tools/make_demo_data.py coco --out data/demo_coco), shorter side 256:
#   OMP_NUM_THREADS=2 python tools/train.py configs/demo/faster_rcnn_mbv3_small_fpn_demo.py
# Chosen over the papers' C4 form for the demo: there the backbone tail runs on every 14x14 RoI, and depthwise-conv
# backward passes on hundreds of RoIs make a CPU step ~2.5x slower. Here: FPN (64 ch) over C4 (bneck-9 expansion,
# OS 16) and C5 (OS 32) + a pooled level, 7x7 RoIAlign, a 256-wide TwoMLPHead; anchors halved (16..256 px) for the
# small images and objects (17-163 px).
_base_ = [
    '../_base_/models/faster_rcnn_mbv3_fpn.py',
    '../_base_/datasets/demo_coco.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # BN momentum 0.1, not MobileNetV3's TF-style 0.01: with a few hundred steps, 0.01 leaves the running statistics
    # near their initial values and the model collapses in eval mode (constant features, AR 0 after 2 epochs)
    # from scratch: this backbone replaces the base's (ImageNet start, frozen BN and stages) as a whole
    backbone=dict(_delete_=True, name='mobilenet_v3_small', bn_eps=1e-3, bn_momentum=0.1),
    num_classes=6,  # demo_num_classes of the dataset config
    fpn_taps=('C4', 'C5'),
    fpn_channels=64,
    representation_size=256,
    anchor_sizes=(16, 32, 64, 128, 256),
    rpn_post_nms_top_n_train=256,
    rpn_post_nms_top_n_test=100,
    box_batch_size_per_image=64,
)

short, max_long = 256, 427
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='Albumentations',
        transforms=[
            dict(type='ResizeShortestEdge', short=short, max_long=max_long),
            dict(type='HorizontalFlip', p=0.5),
        ],
    ),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Albumentations', transforms=[dict(type='ResizeShortestEdge', short=short, max_long=max_long)]),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(
    batch_size=4, num_workers=1, dataset=dict(pipeline=train_pipeline),
    # epoch-based: the finite sampler, no last batch of one (the dataset config's InfiniteSampler is for iterations)
    sampler=dict(type='DefaultSampler', shuffle=True), drop_last=True)
val_dataloader = dict(batch_size=8, num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 24  # ~0.3 s per step on 2 CPU cores: about 8 minutes
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=max_epochs, val_interval=8)
# from scratch on a few hundred images: AdamW converges in far fewer steps than the COCO recipe's SGD
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=10.0),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=30),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.0, by_epoch=True, begin=0, end=max_epochs),
]
default_hooks = dict(logger=dict(type='LoggerHook', interval=16))
log_processor = dict(by_epoch=True)
