# COCO 2017 detection at 320x320 for SSDLite (MobileNetV2 §6.2, MobileNetV3 §6.3).
# Training augmentation as torchvision's SSDLite reference and the SSD paper (§2.2, §3.6): photometric distortion,
# zoom-out up to 4x onto a mean-filled canvas, the IoU-constrained random crop, horizontal flip, resize to 320x320.
# (The TF OD API config trains with flip + SSD random crop only: drop the first two steps to match it.)
# Boxes are pascal_voc (xyxy pixels) throughout; see densenets/datasets/transforms/.
# Data layout: data/coco/annotations/instances_{train,val}2017.json, data/coco/{train,val}2017/ (see README).
# Another root: --cfg-options train_dataloader.dataset.data_root=... val_dataloader.dataset.data_root=...
dataset_type = 'CocoDetection'
data_root = 'data/coco/'
ssd_mean_rgb = (123, 117, 104)  # the zoom-out canvas colour (SSD's mean pixel)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='Albumentations',
        transforms=[
            dict(type='SSDPhotometricDistort'),
            dict(type='ZoomOut', max_ratio=4.0, fill=ssd_mean_rgb, p=0.5),
            dict(type='MinIoURandomCrop', min_ious=(0.1, 0.3, 0.5, 0.7, 0.9), min_scale=0.3),
            dict(type='HorizontalFlip', p=0.5),
            dict(type='Resize', height=320, width=320),
        ],
    ),
    dict(type='PackDetInputs'),
]
# resize only; PackDetInputs records scale_factor so predictions map back to the original pixels
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Albumentations', transforms=[dict(type='Resize', height=320, width=320)]),
    dict(type='PackDetInputs'),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    collate_fn=dict(type='dense_list_collate'),  # one data_samples dict per image (densenets/engine/collate.py)
    sampler=dict(type='InfiniteSampler', shuffle=True),  # iteration-based schedule: every batch is full
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        filter_empty_gt=True,
        on_bad_image='skip',
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    collate_fn=dict(type='dense_list_collate'),  # one data_samples dict per image (densenets/engine/collate.py)
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_val2017.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader

# ann_file defaults to the evaluated dataset's; backend='faster_coco_eval' gives the same figures, faster.
val_evaluator = dict(type='CocoMetric', classwise=False, backend='pycocotools')
# test-dev: set test_dataloader.dataset to image_info_test-dev2017.json / test2017 and
# test_evaluator=dict(type='CocoMetric', format_only=True, outfile_prefix='work_dirs/test-dev/detections')
test_evaluator = val_evaluator
