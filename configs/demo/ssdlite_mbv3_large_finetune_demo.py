# Transfer learning, the path users take most: SSDLite-MobileNetV3-Large fine-tuned on a COCO-format dataset of your
# own from an ImageNet backbone checkpoint in torchvision's format. The demo data stands in for "your own data":
#   python tools/train.py configs/demo/ssdlite_mbv3_large_finetune_demo.py \
#       --cfg-options model.backbone.weights=/path/to/mobilenet_v3_large-8738ca79.pth
# (torchvision's IMAGENET1K_V1 file; any state_dict of torchvision.models.mobilenet_v3_large() loads). The full tail
# (reduced_tail=None) is used because torchvision's ImageNet weights exist only for it; keys that would not fit are
# reported by name in the log. Another dataset: set data_root / ann_file / data_prefix of the dataloaders and
# metainfo=dict(classes=(...)) (a subset and order of the json's category names), and model.num_classes to match.
# Everything else as configs/demo/ssdlite_mbv3_large_demo.py.
_base_ = ['../_base_/models/ssdlite.py', '../_base_/datasets/demo_coco.py', '../_base_/schedules/ssdlite_demo.py']

model = dict(
    backbone=dict(name='mobilenet_v3_large', reduced_tail=None, weights=None),  # set weights=PATH
    num_classes=6,  # demo_num_classes of the dataset config
    bn_momentum=0.03,  # pretrained running statistics are a good start; keep TF's slower update
)
# the backbone already knows ImageNet features: a smaller LR than from scratch
optim_wrapper = dict(optimizer=dict(lr=1e-3))
