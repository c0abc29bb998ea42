# What the Faster R-CNN schedules (frcnn_1x.py, frcnn_26e.py) share: epoch loops, SGD lr 0.02 for a total batch of
# 16 (8 GPUs x 2 images), momentum 0.9, weight decay 1e-4 (Detectron / mmdetection and torchvision
# references/detection alike). Each schedule adds its length, warm-up and lr steps.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4),
    # decay on every parameter, BN and biases included, as this recipe's reference does
)
auto_scale_lr = dict(enable=False, base_batch_size=16)
