# What the two Faster R-CNN forms share (faster_rcnn_c4.py: the papers' C4 form; faster_rcnn_mbv3_fpn.py:
# torchvision's FPN form): COCO's 80 classes and torchvision's ImageNet input normalisation, padded with the mean.
model = dict(
    type='FasterRCNN',
    num_classes=80,
    data_preprocessor=dict(
        type='ImagePreprocessor',
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        pad_value=(123.675, 116.28, 103.53),  # the mean: zeros after normalisation, as torchvision pads
        size_divisor=32,
    ),
)
