# SSDLite 320x320 on COCO, trained from scratch: MobileNetV3-Small with the reduced tail (Table 6 'V3-Small †'): 16.1
# mAP, 1.77M params, 0.16B MAdds.
_base_ = [
    '_base_/models/ssdlite.py',
    '_base_/datasets/coco_ssdlite_320.py',
    '_base_/schedules/ssdlite_cosine.py',
]

model = dict(backbone=dict(name='mobilenet_v3_small', reduced_tail='detection'))
