# Table 8: MobileNetV3-Small LR-ASPP without atrous convolution (output stride 32). Paper: 68.3 mIoU (test), 2.06B
# MAdds. Gate pooling kernel (769 - 1) // 32 + 1 = 25.
_base_ = ['_base_/models/lraspp.py', '_base_/datasets/cityscapes_769x769.py', '_base_/schedules/cityscapes_320k.py']
model = dict(backbone=dict(name='mobilenet_v3_small', output_stride=32), decode_head=dict(pool_kernel=25))
