# COCO 2017 detection for Faster R-CNN, shorter side 600, longer side at most 1000: the ShuffleNet paper's Table 7 large setting; Faster R-CNN §3.3's 600 / 1000.
# Aspect-preserving resize inside the pipeline (the model does not resize; ImagePreprocessor pads each batch to a
# multiple of 32) + horizontal flip; test = resize only (PackDetInputs records scale_factor). Dataloaders as
# coco_detection.py (2 images per GPU; 8 GPUs = the schedules' total batch 16).
_base_ = ['./coco_detection.py']

short, max_long = 600, 1000
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
