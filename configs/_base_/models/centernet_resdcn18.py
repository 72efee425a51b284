# CenterNet ResNet-DCN-18 (the original `resdcn_18` arch): torchvision-layout ResNet-18,
# 3 x (DCNv2 3x3 + BN + ReLU, 4x4 stride-2 transposed conv + BN + ReLU), head_conv 64.
model = dict(
    type='CenterNetDetector',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[104.01362025, 114.03422046, 119.91659325],
        std=[73.6027614, 69.89082075, 70.9150785],
        bgr_to_rgb=False,
        pad_size_divisor=32),
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch',
        # The original trains every layer with batch statistics.
        norm_eval=False,
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.pytorch.org/models/resnet18-5c106cde.pth')),
    neck=dict(
        type='CenterNetResNetNeck',  # mmdet's CTResNetNeck with a configurable DCN
        in_channels=512,
        num_deconv_filters=(256, 128, 64),
        num_deconv_kernels=(4, 4, 4),
        use_dcn=True,
        # As the DLA-34 configs (docs/speed.md): impl='auto' is the fast implementation on
        # CPU and mmcv's CUDA kernel on GPU; impl='mmcv' (or type='DCNv2') is mmcv's op.
        dcn_cfg=dict(type='DCNv2Fast', impl='auto')),
    bbox_head=dict(
        type='CenterNetDetHead',
        num_classes=80,
        in_channels=64,
        head_conv=64,
        # ResNet-DCN initialises size/offset branches with N(0, 0.001) weights.
        branch_init='normal',
        stride=4,
        bbox_coder=dict(type='CenterNetBBoxCoder'),  # topk and the peak kernel: test_cfg
        target_generator=dict(type='CenterNetTargetGenerator', max_objs=128, min_overlap=0.7),
        loss_heatmap=dict(type='CenterNetFocalLoss', loss_weight=1.0),
        loss_wh=dict(type='CenterNetRegL1Loss', loss_weight=0.1),
        loss_offset=dict(type='CenterNetRegL1Loss', loss_weight=1.0)),
    train_cfg=None,
    test_cfg=dict(topk=100, local_maximum_kernel=3, max_per_img=100))
