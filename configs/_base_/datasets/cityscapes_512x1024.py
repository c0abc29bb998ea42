# Cityscapes fine annotations as cityscapes_769x769.py, but with mmsegmentation's LR-ASPP crops: random scale
# 0.5-2.0, random 512x1024 crops (image padded with the mean pixel, labels with 255), flip, photometric jitter.
# Validation, test and layout as there.
_base_ = ['./cityscapes_769x769.py']

crop_size = (512, 1024)
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
