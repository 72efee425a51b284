# CenterNet DLA-34 (the original `dla_34` arch): DLA-34 backbone, DLA-up / IDA-up neck with
# modulated deformable convolutions, head_conv 256, output stride 4.
model = dict(
    type='CenterNetDetector',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        # COCO statistics of the B, G, R channels (images are never converted to RGB).
        mean=[104.01362025, 114.03422046, 119.91659325],
        std=[73.6027614, 69.89082075, 70.9150785],
        bgr_to_rgb=False,
        pad_size_divisor=32),
    backbone=dict(
        type='DLA',
        depth=34,
        # ImageNet weights of the DLA authors (see docs/model_zoo.md for a mirror).
        init_cfg=dict(
            type='Pretrained', checkpoint='http://dl.yf.io/dla/models/imagenet/dla34-ba72cf86.pth')),
    neck=dict(
        type='DLAUpNeck',
        in_channels=[16, 32, 64, 128, 256, 512],
        start_level=2,
        end_level=5,
        # The deformable convolutions (docs/speed.md): impl='auto' runs mmcenternet's fast
        # implementation on CPU and mmcv's CUDA kernel on GPU; impl='mmcv' (or type='DCNv2')
        # always runs mmcv's op. Same weights and results either way.
        dcn_cfg=dict(type='DCNv2Fast', deform_groups=1, impl='auto')),
    bbox_head=dict(
        type='CenterNetDetHead',
        num_classes=80,
        in_channels=64,
        head_conv=256,
        branch_init='zero_bias',
        stride=4,
        bbox_coder=dict(type='CenterNetBBoxCoder'),  # topk and the peak kernel: test_cfg
        target_generator=dict(type='CenterNetTargetGenerator', max_objs=128, min_overlap=0.7),
        loss_heatmap=dict(type='CenterNetFocalLoss', loss_weight=1.0),
        loss_wh=dict(type='CenterNetRegL1Loss', loss_weight=0.1),
        loss_offset=dict(type='CenterNetRegL1Loss', loss_weight=1.0)),
    train_cfg=None,
    test_cfg=dict(topk=100, local_maximum_kernel=3, max_per_img=100))
