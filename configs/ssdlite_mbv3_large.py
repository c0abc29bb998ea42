# SSDLite 320x320 on COCO, trained from scratch: MobileNetV3-Large with the reduced tail (Table 6 'V3-Large †', TF
# V3_LARGE_DETECTION): 22.0 mAP, 3.22M params, 0.51B MAdds.
_base_ = [
    '_base_/models/ssdlite.py',
    '_base_/datasets/coco_ssdlite_320.py',
    '_base_/schedules/ssdlite_cosine.py',
]

model = dict(backbone=dict(name='mobilenet_v3_large', reduced_tail='detection'))
