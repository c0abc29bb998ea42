# Faster R-CNN "1x" schedule (Detectron / mmdetection standard): 12 epochs, SGD lr 0.02 for a total batch of 16
# (8 GPUs x 2 images), momentum 0.9, weight decay 1e-4 (frcnn_sgd.py), linear warm-up over the first 500 iterations
# from 0.001x, lr x0.1 after epochs 8 and 11. For another total batch size, scale lr linearly (auto_scale_lr /
# --auto-scale-lr).
_base_ = ['../default_runtime.py', './frcnn_sgd.py']

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=12, milestones=[8, 11], gamma=0.1),
]
