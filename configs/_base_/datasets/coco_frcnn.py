# COCO 2017 detection for Faster R-CNN: aspect-preserving resize (shorter side `short`, longer side at most
# `max_long`; Faster R-CNN §3.3) + horizontal flip; test = resize only (scale_factor recorded).
# The ShuffleNet paper's Table 7 uses shorter side 300 and 600. Override the sizes from the command line, e.g.
#   --cfg-options train_dataloader.dataset.pipeline.1.transforms.0.short=300 \
#                 val_dataloader.dataset.pipeline.1.transforms.0.short=300 \
#                 test_dataloader.dataset.pipeline.1.transforms.0.short=300
# or in an experiment config by redefining the pipelines (see configs/_base_/datasets/coco_ssdlite_320.py for layout).
dataset_type = 'CocoDetection'
data_root = 'data/coco/'
short = 600
max_long = 1000

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
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    collate_fn=dict(type='dense_list_collate'),  # one data_samples dict per image (densenets/engine/collate.py)
    sampler=dict(type='DefaultSampler', shuffle=True),
    drop_last=True,  # epoch-based schedule: no last batch of one (BatchNorm cannot train on it)
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
    batch_size=1,
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

val_evaluator = dict(type='CocoMetric', backend='pycocotools')
test_evaluator = val_evaluator
