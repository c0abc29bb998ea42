# COCO 2017 detection at 320x320 for SSDLite (MobileNetV2 §6.2, MobileNetV3 §6.3): the dataloaders and evaluator of
# coco_detection.py with the SSDLite pipelines of coco_ssdlite_pipelines.py (SSD augmentation, resize to 320x320).
_base_ = ['./coco_detection.py', './coco_ssdlite_pipelines.py']

# per GPU; the SSDLite schedule assumes 8 GPUs (total 256). Iteration-based schedule: the infinite sampler, so every
# batch is full (no last batch of one, which BatchNorm cannot train on).
train_dataloader = dict(batch_size=32, num_workers=4, sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset=dict(pipeline=_base_.train_pipeline))
val_dataloader = dict(batch_size=8, dataset=dict(pipeline=_base_.test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(classwise=False)
test_evaluator = val_evaluator
