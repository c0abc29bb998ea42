# Table 8: MobileNetV3-Large LR-ASPP without atrous convolution (output stride 32). Paper: 72.0 mIoU (test), 7.74B
# MAdds. The gate pooling kernel follows TF: (769 - 1) // 32 + 1 = 25 on the OS-32 map; the product goes up x4.
_base_ = ['./lraspp_mbv3_large_cityscapes.py']
model = dict(backbone=dict(output_stride=32), decode_head=dict(pool_kernel=25))
