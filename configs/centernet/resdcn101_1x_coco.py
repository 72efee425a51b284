# ctdet_coco_resdcn101: ResNet-DCN-101, 140 epochs, batch 96 (8 GPUs x 12), Adam lr 3.75e-4.
# Original model zoo (COCO val2017 AP): 34.6 no-aug / 36.2 flip / 39.3 flip + multi-scale.
_base_ = './resdcn18_1x_coco.py'

model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.pytorch.org/models/resnet101-5d3b4d8f.pth')),
    neck=dict(in_channels=2048))  # Bottleneck output width

train_dataloader = dict(batch_size=12)  # 8 GPUs x 12 = 96
optim_wrapper = dict(optimizer=dict(lr=3.75e-4))  # the original lr for batch 96
auto_scale_lr = dict(base_batch_size=96)
