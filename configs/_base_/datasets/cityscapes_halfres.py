# Cityscapes at half resolution for inference: the images are resized to 512x1024 (the "h" columns of MobileNetV3
# Table 7), the model's prediction is upsampled back to 1024x2048 and scored against the full-resolution labels.
# Training as cityscapes_769x769.py.
_base_ = ['./cityscapes_769x769.py']

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCityscapesAnnotations'),
    dict(type='SegResize', size=(512, 1024)),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
