# Table 8: MobileNetV3-Large LR-ASPP without atrous convolution (output stride 32). Paper: 72.0 mIoU (test), 7.74B
# MAdds. The gate pooling kernel follows TF: (769 - 1) // 32 + 1 = 25 on the OS-32 map; the product goes up x4.
_base_ = ['_base_/models/lraspp.py', '_base_/datasets/cityscapes_769x769.py', '_base_/schedules/cityscapes_320k.py']
model = dict(backbone=dict(output_stride=32), decode_head=dict(pool_kernel=25))
