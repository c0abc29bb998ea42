# Cityscapes schedule of the segmentation configs (LR-ASPP / R-ASPP from scratch or from ImageNet weights).
# TF DeepLab train.py defaults: SGD momentum 0.9, "poly" learning rate with power 0.9, L2 weight decay 4e-5.
# Length, base LR and batch follow mmsegmentation's LR-ASPP Cityscapes recipe: 320k iterations, lr 0.01 with a poly
# floor of 1e-4, 16 images per iteration (e.g. 4 GPUs x 4); the paper does not publish its schedule.
_base_ = ['../default_runtime.py']

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=4e-5),
    # TF slim's L2 regulariser covers conv weights only, not BN parameters or biases
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0),
    clip_grad=None,
)
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=320000, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=320000, val_interval=32000)
# checkpoint and validation every 32k of the 320k iterations (tools/train.py also makes the hooks' by_epoch follow the
# iteration-based loop)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=32000))
log_processor = dict(by_epoch=False)
# lr 0.01 is for 16 images per iteration; `tools/train.py --cfg-options auto_scale_lr.enable=True` rescales it
auto_scale_lr = dict(enable=False, base_batch_size=16)
