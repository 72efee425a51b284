# CenterNet Hourglass-104 (the original `hourglass` arch, from CornerNet / ExtremeNet): stem
# (7x7/2 conv + stride-2 residual), two hourglass stacks with nearest x2 up-sampling joined by the
# 1x1 conv + BN merge and a residual, no neck. Each stack has its own hm / wh / reg branches
# (3x3 conv 256 + ReLU + 1x1 conv); training supervises both stacks, testing uses the last.
# Input sides must be multiples of 128 (5 stride-2 steps inside the hourglass after stride 4).
model = dict(
    type='CenterNetDetector',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        # COCO statistics of the B, G, R channels (images are never converted to RGB).
        mean=[104.01362025, 114.03422046, 119.91659325],
        std=[73.6027614, 69.89082075, 70.9150785],
        bgr_to_rgb=False,
        pad_size_divisor=128),  # batched inputs must stay multiples of 128
    # mmdet's HourglassNet (the original network layer for layer, checked against the original
    # outputs) with the original's input-size rule enforced: sides not multiples of 128 raise a
    # clear error instead of being resized inside the hourglass. It takes no init_cfg: the
    # original initialises it from a converted ExtremeNet checkpoint (`load_from` in
    # configs/centernet/hourglass104_coco.py).
    backbone=dict(
        type='CenterNetHourglassNet',
        downsample_times=5,
        num_stacks=2,
        stage_channels=(256, 256, 384, 384, 384, 512),
        stage_blocks=(2, 2, 2, 2, 2, 4),
        feat_channel=256,
        norm_cfg=dict(type='BN', requires_grad=True)),
    neck=None,
    bbox_head=dict(
        type='CenterNetDetHead',
        num_classes=80,
        in_channels=256,
        head_conv=256,  # the hourglass heads always have 256 channels (`--head_conv` is ignored)
        num_stacks=2,
        branch_init='default',  # only the heatmap bias is set (-2.19); other branches: defaults
        stride=4,
        bbox_coder=dict(type='CenterNetBBoxCoder'),  # topk and the peak kernel: test_cfg
        target_generator=dict(type='CenterNetTargetGenerator', max_objs=128, min_overlap=0.7),
        loss_heatmap=dict(type='CenterNetFocalLoss', loss_weight=1.0),
        loss_wh=dict(type='CenterNetRegL1Loss', loss_weight=0.1),
        loss_offset=dict(type='CenterNetRegL1Loss', loss_weight=1.0)),
    train_cfg=None,
    test_cfg=dict(topk=100, local_maximum_kernel=3, max_per_img=100))
