# The synthetic COCO-format demo set (python tools/make_demo_data.py coco --out data/demo_coco): 6 shape
# categories (ids 1, 2, 3, 5, 7, 9 -> labels 0..5; models need num_classes=6), ~300 train / 60 val images of
# 320 x 240..400. Dataloaders as coco_detection.py on another root with smaller batches and a per-class AP table; the
# SSDLite pipeline of coco_ssdlite_320.py at 256x256 (the SSDLite demos' input) with zoom-out limited to 2x, so that a
# short CPU training still sees objects it can learn. The Faster R-CNN demo replaces the pipelines.
_base_ = ['./coco_detection.py']

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
            dict(type='Resize', height=256, width=256),
        ],
    ),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Albumentations', transforms=[dict(type='Resize', height=256, width=256)]),
    dict(type='PackDetInputs'),
]

# the SSDLite demos are iteration-based: the infinite sampler, every batch full (no last batch of one)
train_dataloader = dict(
    batch_size=16, num_workers=1, sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=data_root, pipeline=train_pipeline)
)
val_dataloader = dict(batch_size=8, num_workers=1, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(classwise=True)
test_evaluator = val_evaluator
