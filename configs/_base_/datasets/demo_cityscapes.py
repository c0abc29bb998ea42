# The synthetic Cityscapes-layout demo (tools/make_demo_data.py cityscapes --out data/demo_cityscapes): 256x512 street
# scenes, same dataset class, transforms and metric as the real data. Crops of 256x256 from a 0.75-1.5 rescale (a
# narrower range than the paper's 0.5-2.0 so that a CPU run of a few minutes learns something); validation on the
# full 256x512 images with the official metric.
dataset_type = 'CityscapesDataset'
data_root = 'data/demo_cityscapes'
crop_size = (256, 256)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCityscapesAnnotations'),
    dict(type='SegRandomScale', ratio_range=(0.75, 1.5)),
    dict(type='SegRandomCrop', crop_size=crop_size, pad_val=(127, 127, 127), seg_pad_val=255),
    dict(type='SegRandomFlip', prob=0.5),
    dict(type='SegPhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCityscapesAnnotations'),
    dict(type='PackSegInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    collate_fn=dict(type='dense_list_collate'),
    sampler=dict(type='InfiniteSampler', shuffle=True),  # iteration-based schedule: every batch is full
    dataset=dict(type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=4,
    num_workers=1,
    persistent_workers=True,
    collate_fn=dict(type='dense_list_collate'),
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val', pipeline=test_pipeline),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='CityscapesMetric')
test_evaluator = val_evaluator
