# Cityscapes fine annotations, 19 trainIds (255 ignored), as the MobileNetV3 paper §6.4 trains with TF DeepLab:
# random scale 0.5-2.0, random 769x769 crops (image padded with the mean pixel, labels with 255), horizontal flip,
# plus a mild photometric jitter (not in TF DeepLab's recipe; drop SegPhotoMetricDistortion to match it exactly).
# Validation: full 1024x2048 images, single scale, scored by CityscapesMetric (the official cityscapesscripts
# definitions: class mIoU / iIoU, category IoU / iIoU). Test: the test split written as labelId PNGs for the
# benchmark server (format only), e.g. `tools/test.py CONFIG CKPT --format-only --out-dir results/`; to score val
# with tools/test.py instead: --cfg-options test_dataloader.dataset.split=val test_evaluator.format_only=False
# Layout: data/cityscapes/{leftImg8bit,gtFine}/{train,val,test}/<city>/ (see README).
dataset_type = 'CityscapesDataset'
data_root = 'data/cityscapes'
crop_size = (769, 769)
pad_rgb = (127, 127, 127)  # the mean pixel: 0 after the [-1, 1] input scaling

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCityscapesAnnotations'),
    dict(type='SegRandomScale', ratio_range=(0.5, 2.0)),
    dict(type='SegRandomCrop', crop_size=crop_size, pad_val=pad_rgb, seg_pad_val=255),
    dict(type='SegRandomFlip', prob=0.5),
    dict(type='SegPhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [  # full resolution; labels are never resized
    dict(type='LoadImageFromFile'),
    dict(type='LoadCityscapesAnnotations'),
    dict(type='PackSegInputs'),
]

train_dataloader = dict(
    batch_size=4,  # per process; the schedule's lr is for 16 images per iteration (e.g. 4 GPUs x 4)
    num_workers=4,
    persistent_workers=True,
    collate_fn=dict(type='dense_list_collate'),
    sampler=dict(type='InfiniteSampler', shuffle=True),  # iteration-based schedule: every batch is full
    dataset=dict(type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    collate_fn=dict(type='dense_list_collate'),
    # round_up=False: CityscapesMetric keeps running sums, so padded duplicates would be counted
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val', pipeline=test_pipeline),
)
test_dataloader = dict(val_dataloader, dataset=dict(val_dataloader['dataset'], split='test'))
val_evaluator = dict(type='CityscapesMetric')
test_evaluator = dict(type='CityscapesMetric', format_only=True, output_dir='work_dirs/cityscapes_test_labelIds')
