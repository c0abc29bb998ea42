# SSDLite 320x320 on COCO, trained from scratch: MobileNetV3-Small, full tail (Table 6 'V3-Small'): 16.0 mAP, 2.49M
# params, 0.21B MAdds.
_base_ = [
    '_base_/models/ssdlite.py',
    '_base_/datasets/coco_ssdlite_320.py',
    '_base_/schedules/ssdlite_cosine.py',
]

model = dict(backbone=dict(name='mobilenet_v3_small', reduced_tail=None))
