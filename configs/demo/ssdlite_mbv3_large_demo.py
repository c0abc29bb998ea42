# Demo: SSDLite-MobileNetV3-Large with the reduced tail (the Table 6 "V3-Large †" network of
# configs/ssdlite_mbv3_large.py) trained from scratch on the synthetic COCO-format shapes set, on a CPU, in about
# 10 minutes; evaluated with CocoMetric (pycocotools):
#   python tools/make_demo_data.py coco --out data/demo_coco
#   OMP_NUM_THREADS=2 python tools/train.py configs/demo/ssdlite_mbv3_large_demo.py
# Differences from the COCO config, all for a short CPU run: 256x256 input (maps 16, 8, 4, 2, 1, 1), 6 classes, batch
# 16 (_base_/datasets/demo_coco.py), BN momentum 0.1, AdamW with a short cosine schedule and a 50-iteration warm-up
# (_base_/schedules/ssdlite_demo.py; the lead calibrates its length to ~10 minutes on a quiet 2-core machine).
_base_ = ['../_base_/models/ssdlite.py', '../_base_/datasets/demo_coco.py', '../_base_/schedules/ssdlite_demo.py']

model = dict(
    backbone=dict(name='mobilenet_v3_large', reduced_tail='detection'),
    num_classes=6,  # demo_num_classes of the dataset config
    bn_momentum=0.1,  # running statistics must settle within a few hundred steps (0.03 lags: eval mAP 5x lower)
)
