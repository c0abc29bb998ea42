# SSDLite training schedule of the TF reference (ssdlite_mobilenet_v3_large_320x320_coco.config):
# batch 512, 400k iterations, SGD momentum 0.9, cosine decay from lr 0.4 with a linear warm-up from 0.13333 over
# 2k iterations, L2 4e-5 on conv weights only (TF's regularizer skips BN and biases).
# Scaled linearly to a total batch of 256 (8 GPUs x 32 images; set train_dataloader.batch_size per GPU):
#   lr = 0.4 * 256 / 512 = 0.2, iterations = 400k * 512 / 256 = 800k, warm-up = 2k * 512 / 256 = 4k (same images
#   seen, same lr per image). For total batch B: lr = 0.4 * B / 512, max_iters = 400k * 512 / B, warm-up 2k * 512 / B.
_base_ = ['../default_runtime.py']

max_iters = 800_000
warmup_iters = 4_000
val_interval = 50_000

train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=val_interval)

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=4e-5),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.13333 / 0.4, by_epoch=False, begin=0, end=warmup_iters),
    # T_max defaults to end - begin
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=False, begin=warmup_iters, end=max_iters),
]
auto_scale_lr = dict(enable=False, base_batch_size=256)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=100),
    checkpoint=dict(type='AtomicCheckpointHook', interval=10_000, by_epoch=False, save_best='auto', max_keep_ckpts=3),
)
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)
