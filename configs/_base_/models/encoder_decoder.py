# What the segmentation models share (lraspp.py, raspp.py): the EncoderDecoder segmentor with TF DeepLab's MobileNet
# preprocessing -- pixels scaled to [-1, 1], padding with the mean pixel (0 after scaling) -- and label 255 ignored.
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='ImagePreprocessor', mean=(127.5, 127.5, 127.5), std=(127.5, 127.5, 127.5), pad_value=127.5,
        size_divisor=1,
    ),
    ignore_index=255,
)
