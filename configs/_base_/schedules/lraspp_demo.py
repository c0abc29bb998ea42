# Schedule of the LR-ASPP CPU demo (configs/demo/lraspp_mbv3_large_demo.py and its QAT fine-tune): 400 iterations of
# SGD with poly decay and a larger base LR than the paper's (see the demo config for the calibration).
_base_ = ['../default_runtime.py']

max_iters = 400

optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=4e-5), clip_grad=None
)
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1),
)
log_processor = dict(by_epoch=False, window_size=10)
