# Quantization-aware fine-tuning (densenets/deploy/qat.py) of the trained SSDLite demo, for the int8 ExecuTorch
# program: the exported graph (normalisation + network, raw outputs) with PT2E fake quantization (XNNPACKQuantizer,
# per-channel int8 weights, the scheme of post-training quantization) trained with the demo's own loss. It starts
# from the float checkpoint of configs/demo/ssdlite_mbv3_large_demo.py:
#   python tools/train.py configs/demo/ssdlite_mbv3_large_qat.py --load-from work_dirs/demo_ssdlite/iter_480.pth
#   python tools/deploy/export_executorch.py configs/demo/ssdlite_mbv3_large_qat.py \
#       work_dirs/ssdlite_mbv3_large_qat/iter_100.pth --out work_dirs/et/ssd_demo_qat.pte --quantize int8
#   python tools/test.py configs/demo/ssdlite_mbv3_large_qat.py \
#       --backend executorch --model work_dirs/et/ssd_demo_qat.pte
# A short schedule with a small learning rate (QAT adjusts a converged model to the rounding; Jacob et al. 2018 §3,
# "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference"): 100 iterations of
# AdamW at 1e-4 with cosine decay, no warm-up (the float model is trained already).
# The model is configs/demo/ssdlite_mbv3_large_demo.py's (configs inherit only _base_ files).
_base_ = ['../_base_/models/ssdlite.py', '../_base_/datasets/demo_coco.py', '../_base_/schedules/ssdlite_demo.py']

model = dict(backbone=dict(name='mobilenet_v3_large', reduced_tail='detection'), num_classes=6, bn_momentum=0.1)
qat = dict(input_hw=(256, 256))  # the program's input: the demo's fixed 256x256 test resize

max_iters = 100
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=False, begin=0, end=max_iters)]
default_hooks = dict(checkpoint=dict(interval=max_iters))
