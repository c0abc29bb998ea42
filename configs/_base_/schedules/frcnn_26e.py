# torchvision's recipe for fasterrcnn_mobilenet_v3_large_fpn / _320_fpn (references/detection): 26 epochs, SGD lr 0.02
# for a total batch of 16 (8 GPUs x 2 images), momentum 0.9, weight decay 1e-4 (frcnn_sgd.py), linear warm-up over
# the first 1000 iterations from 0.001x, lr x0.1 after epochs 16 and 22.
_base_ = ['../default_runtime.py', './frcnn_sgd.py']

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=26, val_interval=1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=26, milestones=[16, 22], gamma=0.1),
]
