# The synthetic Cityscapes-layout demo (tools/make_demo_data.py cityscapes --out data/demo_cityscapes): 256x512 street
# scenes, with the dataset class, transforms and metric of cityscapes_769x769.py. Crops of 256x256 from a 0.75-1.5
# rescale (a narrower range than the paper's 0.5-2.0 so that a CPU run of a few minutes learns something); validation
# and test on the full 256x512 val images with the official metric (scores, not the benchmark server's PNGs).
_base_ = ['./cityscapes_769x769.py']

data_root = 'data/demo_cityscapes'
crop_size = (256, 256)

# the training pipeline of cityscapes_769x769.py with this crop and rescale range (mmengine merges lists wholesale,
# so the list is rebuilt from the base's rather than written out again)
train_pipeline = [
    dict(step, crop_size=crop_size) if step['type'] == 'SegRandomCrop'
    else dict(step, ratio_range=(0.75, 1.5)) if step['type'] == 'SegRandomScale'
    else step
    for step in _base_.train_pipeline
]

train_dataloader = dict(batch_size=8, num_workers=2, dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(batch_size=4, num_workers=1, dataset=dict(data_root=data_root))
test_dataloader = dict(val_dataloader, dataset=dict(data_root=data_root, split='val'))
test_evaluator = dict(_delete_=True, type='CityscapesMetric')
