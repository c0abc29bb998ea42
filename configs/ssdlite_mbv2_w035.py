# SSDLite 320x320 on COCO, trained from scratch: MobileNetV2 0.35 (Table 6 'V2 0.35'): 13.7 mAP, 0.93M params, 0.16B
# MAdds.
_base_ = [
    '_base_/models/ssdlite.py',
    '_base_/datasets/coco_ssdlite_320.py',
    '_base_/schedules/ssdlite_cosine.py',
]

# TF's SSD feature extractor scales the final 1280 conv with the width too (no finegrain_classification_mode)
model = dict(backbone=dict(name='mobilenet_v2', width_mult=0.35, scale_final_conv=True))
