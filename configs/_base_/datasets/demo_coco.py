# The synthetic COCO-format demo set (python tools/make_demo_data.py coco --out data/demo_coco): 6 shape
# categories (ids 1, 2, 3, 5, 7, 9 -> labels 0..5; models need num_classes=6), ~300 train / 60 val images of
# 320 x 240..400. Same SSDLite 320 pipeline as coco_ssdlite_320.py, with zoom-out limited to 2x so that a short
# CPU training still sees objects it can learn.
dataset_type = 'CocoDetection'
data_root = 'data/demo_coco/'
demo_num_classes = 6
ssd_mean_rgb = (123, 117, 104)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='Albumentations',
        transforms=[
            dict(type='SSDPhotometricDistort'),
            dict(type='ZoomOut', max_ratio=2.0, fill=ssd_mean_rgb, p=0.5),
            dict(type='MinIoURandomCrop', min_ious=(0.1, 0.3, 0.5, 0.7, 0.9), min_scale=0.3),
            dict(type='HorizontalFlip', p=0.5),
            dict(type='Resize', height=320, width=320),
        ],
    ),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Albumentations', transforms=[dict(type='Resize', height=320, width=320)]),
    dict(type='PackDetInputs'),
]

train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=True,
    collate_fn=dict(type='dense_list_collate'),  # one data_samples dict per image (densenets/engine/collate.py)
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        filter_empty_gt=True,
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
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

val_evaluator = dict(type='CocoMetric', classwise=True, backend='pycocotools')
test_evaluator = val_evaluator
