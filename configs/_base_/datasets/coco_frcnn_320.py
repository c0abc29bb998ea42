# COCO 2017 detection for Faster R-CNN, shorter side 320, longer side at most 640: torchvision's fasterrcnn_mobilenet_v3_large_320_fpn (min_size 320, max_size 640).
# Aspect-preserving resize inside the pipeline (the model does not resize; ImagePreprocessor pads each batch to a
# multiple of 32) + horizontal flip; test = resize only (PackDetInputs records scale_factor). Dataloaders as
# coco_detection.py (2 images per GPU; 8 GPUs = the schedules' total batch 16).
_base_ = ['./coco_detection.py']

short, max_long = 320, 640
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
