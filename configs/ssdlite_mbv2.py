# SSDLite 320x320 on COCO, trained from scratch: MobileNetV2 1.0 (Table 6 'V2'; MobileNetV2 paper Table 6): 22.1 mAP,
# 4.3M params, 0.80B MAdds.
_base_ = [
    '_base_/models/ssdlite.py',
    '_base_/datasets/coco_ssdlite_320.py',
    '_base_/schedules/ssdlite_cosine.py',
]

model = dict(backbone=dict(name='mobilenet_v2'))
