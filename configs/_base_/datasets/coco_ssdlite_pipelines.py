# SSDLite's COCO pipelines at 320x320 (MobileNetV2 §6.2, MobileNetV3 §6.3), on their own so that the dataset configs
# that use them share one copy: coco_ssdlite_320.py puts them in coco_detection.py's dataloaders, demo_coco.py
# rebuilds them at the demo's 256x256. (A second base beside coco_detection.py rather than a base of it keeps the
# experiments' _base_ chains two levels deep.)
# Training augmentation as torchvision's SSDLite reference and the SSD paper (§2.2, §3.6): photometric distortion,
# zoom-out up to 4x onto a mean-filled canvas, the IoU-constrained random crop, horizontal flip, resize to 320x320.
# (The TF OD API config trains with flip + SSD random crop only: drop the first two steps to match it.)
# Boxes are pascal_voc (xyxy pixels) throughout; see densenets/datasets/transforms/.
ssd_mean_rgb = (123, 117, 104)  # the zoom-out canvas colour (SSD's mean pixel)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='Albumentations',
        transforms=[
            dict(type='SSDPhotometricDistort'),
            dict(type='ZoomOut', max_ratio=4.0, fill=ssd_mean_rgb, p=0.5),
            dict(type='MinIoURandomCrop', min_ious=(0.1, 0.3, 0.5, 0.7, 0.9), min_scale=0.3),
            dict(type='HorizontalFlip', p=0.5),
            dict(type='Resize', height=320, width=320),
        ],
    ),
    dict(type='PackDetInputs'),
]
# resize only; PackDetInputs records scale_factor so predictions map back to the original pixels
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Albumentations', transforms=[dict(type='Resize', height=320, width=320)]),
    dict(type='PackDetInputs'),
]
