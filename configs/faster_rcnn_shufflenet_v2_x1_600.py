# Faster R-CNN, ShuffleNet V2 1x, shorter side 600 (no paper figure for this pair; V2 paper §4 reports detection
# only with a light-head R-CNN). RPN and 14x14 RoIAlign on C4 (OS 16), the backbone's layers after C4 as the second
# stage (papers' form). C4 = stage 3, second stage = stage 4 + conv5.
_base_ = [
    '_base_/models/faster_rcnn_c4.py',
    '_base_/datasets/coco_frcnn.py',
    '_base_/schedules/frcnn_1x.py',
]

model = dict(backbone=dict(name='shufflenet_v2', width_mult=1.0))

# Aspect-preserving resize inside the pipeline (the model does not resize): shorter side 600, longer side at most 1000;
# ImagePreprocessor pads each batch to a multiple of 32.
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
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))  # per GPU; 8 GPUs = total batch 16
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
