# COCO 2017 detection at 320x320 for SSDLite (MobileNetV2 §6.2, MobileNetV3 §6.3); dataloaders as coco_detection.py.
# Training augmentation as torchvision's SSDLite reference and the SSD paper (§2.2, §3.6): photometric distortion,
# zoom-out up to 4x onto a mean-filled canvas, the IoU-constrained random crop, horizontal flip, resize to 320x320.
# (The TF OD API config trains with flip + SSD random crop only: drop the first two steps to match it.)
# Boxes are pascal_voc (xyxy pixels) throughout; see densenets/datasets/transforms/.
_base_ = ['./coco_detection.py']

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

# per GPU; the SSDLite schedule assumes 8 GPUs (total 256). Iteration-based schedule: the infinite sampler, so every
# batch is full (no last batch of one, which BatchNorm cannot train on).
train_dataloader = dict(batch_size=32, num_workers=4, sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(classwise=False)
test_evaluator = val_evaluator
