# Demo: LR-ASPP MobileNetV3-Large (the Table 7 row 8 network) trained from scratch on the synthetic Cityscapes-layout
# demo data, on a CPU, in about 10 minutes; evaluated with CityscapesMetric (the official cityscapesscripts scores).
#   python tools/make_demo_data.py cityscapes --out data/demo_cityscapes
#   python tools/train.py configs/demo/lraspp_mbv3_large_demo.py
# Differences from the paper config (configs/lraspp_mbv3_large_cityscapes.py), all for a short CPU run:
# 256x256 crops of 256x512 images, gate pooling kernel 256 / 16 = 16 (TF's crop / output-stride rule), BN momentum
# 0.1 so that the running statistics settle within a few hundred steps, a short poly schedule with a larger LR.
# Calibration (demo data of the default generator: 120 train / 30 val images, seed 0): this config reached
# 74.5 class mIoU on val (category mIoU 83.7) after its 400 iterations in a GPU run; base LR 0.05 gave 68.8,
# 0.02 gave 59.7. On a CPU with 2 threads one iteration took about 1.0 s (16-core Xeon host, quiet), i.e. about
# 7 minutes of training plus ~10 s of validation; expect a few points of run-to-run spread on CPU.
_base_ = ['../_base_/models/lraspp.py', '../_base_/datasets/demo_cityscapes.py', '../_base_/default_runtime.py']

max_iters = 400

model = dict(backbone=dict(bn_momentum=0.1), decode_head=dict(pool_kernel=16))

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
