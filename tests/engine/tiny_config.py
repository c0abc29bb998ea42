# Test-only config: a tiny real segmentation task (tests/engine/engine_tiny_task.py) on the shared runtime base.
# Subprocesses need tests/engine on PYTHONPATH; every test sets `*_dataloader.dataset.data_root`.
_base_ = ['../../configs/_base_/default_runtime.py']
custom_imports = dict(imports=['engine_tiny_task'], allow_failed_imports=False)

model = dict(type='EngineTinySeg', width=8)

_loader = dict(batch_size=2, num_workers=0, collate_fn=dict(type='dense_list_collate'))
train_dataloader = dict(
    **_loader, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='EngineTinyShapes', data_root='data/engine_tiny', num_samples=16, seed=0))
val_dataloader = dict(
    **_loader, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='EngineTinyShapes', data_root='data/engine_tiny', num_samples=8, seed=1))
test_dataloader = val_dataloader
val_evaluator = dict(type='EngineTinyIoU')
test_evaluator = val_evaluator

train_cfg = dict(type='IterBasedTrainLoop', max_iters=8, val_interval=4)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=4e-5),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=2),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=2, end=8, T_max=6, eta_min=0.0),
]

default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=4, max_keep_ckpts=1))
custom_hooks = [dict(type='EngineLossRecorder')]
