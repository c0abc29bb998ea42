# Quantization-aware fine-tuning (densenets/deploy/qat.py) of the trained LR-ASPP demo, for the int8 ExecuTorch
# program: the exported graph (normalisation + network, logits) with PT2E fake quantization (XNNPACKQuantizer,
# per-channel int8 weights, the scheme of post-training quantization) trained with the demo's own loss. It starts
# from the float checkpoint of configs/demo/lraspp_mbv3_large_demo.py:
#   python tools/train.py configs/demo/lraspp_mbv3_large_qat.py --load-from work_dirs/demo_lraspp/iter_400.pth
#   python tools/deploy/export_executorch.py configs/demo/lraspp_mbv3_large_qat.py \
#       work_dirs/lraspp_mbv3_large_qat/iter_60.pth --out work_dirs/et/seg_demo_qat.pte --quantize int8
#   python tools/test.py configs/demo/lraspp_mbv3_large_qat.py \
#       --backend executorch --model work_dirs/et/seg_demo_qat.pte
# The graph has the program's fixed input size, the demo's whole 256x512 images (the gate pools in 16x16 windows on
# the 16x32 feature map; a 256x256 crop would give a global-pooling graph, another network), so training takes
# random-scale crops of the full image size (a scaled-down image is padded, its labels with the ignore label).
# A short schedule with a small learning rate (QAT adjusts a converged model to the rounding; Jacob et al. 2018 §3,
# "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference"): 60 iterations,
# SGD at 1/20 of the demo's base LR with poly decay.
# The model is configs/demo/lraspp_mbv3_large_demo.py's (configs inherit only _base_ files).
_base_ = ['../_base_/models/lraspp.py', '../_base_/datasets/demo_cityscapes.py',
          '../_base_/schedules/lraspp_demo.py']

model = dict(backbone=dict(bn_momentum=0.1), decode_head=dict(pool_kernel=16))
qat = dict(input_hw=(256, 512))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCityscapesAnnotations'),
    dict(type='SegRandomScale', ratio_range=(0.75, 1.5)),
    dict(type='SegRandomCrop', crop_size=(256, 512), pad_val=(127, 127, 127), seg_pad_val=255),
    dict(type='SegRandomFlip', prob=0.5),
    dict(type='SegPhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

max_iters = 60
optim_wrapper = dict(optimizer=dict(lr=0.005))
param_scheduler = [dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0, end=max_iters, by_epoch=False)]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
