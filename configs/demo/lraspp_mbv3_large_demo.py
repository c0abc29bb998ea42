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
_base_ = ['../_base_/models/lraspp.py', '../_base_/datasets/demo_cityscapes.py', '../_base_/schedules/lraspp_demo.py']

model = dict(backbone=dict(bn_momentum=0.1), decode_head=dict(pool_kernel=16))
