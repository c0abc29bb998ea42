# The synthetic COCO-format demo set (python tools/make_demo_data.py coco --out data/demo_coco): 6 shape
# categories (ids 1, 2, 3, 5, 7, 9 -> labels 0..5; models need num_classes=6), ~300 train / 60 val images of
# 320 x 240..400. Dataloaders as coco_detection.py on another root with smaller batches and a per-class AP table; the
# SSDLite pipelines of coco_ssdlite_pipelines.py at 256x256 (the SSDLite demos' input) with zoom-out limited to 2x,
# so that a short CPU training still sees objects it can learn. The Faster R-CNN demo replaces the pipelines.
_base_ = ['./coco_detection.py', './coco_ssdlite_pipelines.py']

data_root = 'data/demo_coco/'
demo_num_classes = 6

# coco_ssdlite_pipelines.py's two pipelines with those changes inside their Albumentations step (mmengine merges
# lists wholesale, so the lists are rebuilt from the base's rather than written out again)
train_pipeline, test_pipeline = (
    [
        dict(step, transforms=[
            dict(t, max_ratio=2.0) if t['type'] == 'ZoomOut'
            else dict(t, height=256, width=256) if t['type'] == 'Resize'
            else t
            for t in step['transforms']
        ]) if step['type'] == 'Albumentations' else step
        for step in pipeline
    ]
    for pipeline in (_base_.train_pipeline, _base_.test_pipeline)
)

# the SSDLite demos are iteration-based: the infinite sampler, every batch full (no last batch of one)
train_dataloader = dict(
    batch_size=16, num_workers=1, sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=data_root, pipeline=train_pipeline)
)
val_dataloader = dict(batch_size=8, num_workers=1, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(classwise=True)
test_evaluator = val_evaluator
