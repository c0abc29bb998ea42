# SSDLite 320x320 on COCO, trained from scratch: MobileNetV1 1.0 (Table 6 'V1'): 22.2 mAP, 5.1M params, 1.3B MAdds; C4
# = pointwise conv 11. ReLU6 as in TF-slim's mobilenet_v1_arg_scope, which the TF OD API's SSD MobileNetV1 feature
# extractor builds with (the classification form keeps the paper's ReLU).
_base_ = [
    '_base_/models/ssdlite.py',
    '_base_/datasets/coco_ssdlite_320.py',
    '_base_/schedules/ssdlite_cosine.py',
]

model = dict(backbone=dict(name='mobilenet_v1', activation='relu6'))
