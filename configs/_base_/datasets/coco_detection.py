# COCO 2017 detection: the dataloaders and the evaluator that every COCO dataset config shares. The task's dataset
# configs inherit this file and add their pipelines (`train_pipeline` / `test_pipeline`) and batch sizes:
# coco_ssdlite_320.py (SSDLite), coco_frcnn_{300,320,600,800}.py (Faster R-CNN, one per shorter side), demo_coco.py.
# SSDLite's pipelines are written once, in coco_ssdlite_pipelines.py (a second base of coco_ssdlite_320.py and
# demo_coco.py; the demo rebuilds them at its size). Why each coco_frcnn_*.py writes its two short pipelines out,
# though they differ only in the resize: mmengine executes a base file before (and without) its children, so a
# child's `short` cannot reach a list built in a base, and it replaces a list wholesale (no merge into `pipeline`);
# rebuilding the nested Albumentations list in four children would be longer than the lists it replaces, and
# splitting the resize into a pipeline step of its own (another albumentations call: box coordinates then differ by
# ~1e-5 px) would change the training data.
# Data layout: data/coco/annotations/instances_{train,val}2017.json, data/coco/{train,val}2017/ (see README).
# Another root: --cfg-options train_dataloader.dataset.data_root=... val_dataloader.dataset.data_root=...
dataset_type = 'CocoDetection'
data_root = 'data/coco/'

train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    collate_fn=dict(type='dense_list_collate'),  # one data_samples dict per image (densenets/engine/collate.py)
    sampler=dict(type='DefaultSampler', shuffle=True),
    drop_last=True,  # epoch-based schedules: no last batch of one (BatchNorm cannot train on it)
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        filter_empty_gt=True,
        on_bad_image='skip',
    ),
)
val_dataloader = dict(
    train_dataloader,  # its workers and collate_fn; one image per batch, in order, every image
    batch_size=1,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='annotations/instances_val2017.json',
                 data_prefix=dict(img='val2017/'), test_mode=True),
)
test_dataloader = val_dataloader

# ann_file defaults to the evaluated dataset's; backend='faster_coco_eval' gives the same figures, faster.
# test-dev (an image-info file: images, no annotations; only written for the evaluation server):
#   tools/test.py CONFIG CKPT --format-only --out-dir DIR --cfg-options
#       test_dataloader.dataset.ann_file=annotations/image_info_test-dev2017.json
#       test_dataloader.dataset.data_prefix.img=test2017/
val_evaluator = dict(type='CocoMetric', backend='pycocotools')
test_evaluator = val_evaluator
