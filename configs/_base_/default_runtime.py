# Runtime settings shared by every experiment (mmengine Runner).
# tools/train.py makes the `by_epoch` flags below follow `train_cfg` (epoch- or iteration-based loop), switches the
# distributed backend to gloo when CUDA is absent, and adds AMP / EMA / SyncBN on request
# (densenets/engine/runner_cfg.py).
default_scope = 'densenets'

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # atomic writes (temp file + os.replace); keeps the newest `max_keep_ckpts` plus the best one
    checkpoint=dict(type='AtomicCheckpointHook', interval=1, by_epoch=True, save_best='auto', max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DenseVisualizationHook', draw=False),
)

log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)

# the validation and test loops of every experiment (the schedules set train_cfg)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends, name='visualizer')

log_level = 'INFO'
load_from = None
resume = False

randomness = dict(seed=0, deterministic=False)

# the EMAHook that `tools/train.py --ema` adds: Xema <- (1 - momentum) * Xema + momentum * X after every iteration
# (mmengine's ExponentialMovingAverage; BN running statistics are copied from the live model)
ema_cfg = dict(ema_type='ExponentialMovingAverage', momentum=0.0002)
