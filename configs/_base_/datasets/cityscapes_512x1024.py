# Cityscapes fine annotations as cityscapes_769x769.py, but with mmsegmentation's LR-ASPP crops: random scale
# 0.5-2.0, random 512x1024 crops (image padded with the mean pixel, labels with 255), flip, photometric jitter.
# Validation, test and layout as there.
_base_ = ['./cityscapes_769x769.py']

crop_size = (512, 1024)
# the training pipeline of cityscapes_769x769.py with this crop size (mmengine merges lists wholesale, so the list
# is rebuilt from the base's rather than written out again)
train_pipeline = [
    dict(step, crop_size=crop_size) if step['type'] == 'SegRandomCrop' else step for step in _base_.train_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
