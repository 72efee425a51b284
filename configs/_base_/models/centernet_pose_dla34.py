# CenterNet multi_pose DLA-34 (the original `dla_34` arch with the `multi_pose` heads): DLA-34
# backbone, DLA-up / IDA-up neck with modulated deformable convolutions, head_conv 256, stride 4.
model = dict(
    type='CenterNetPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        # COCO statistics of the B, G, R channels (images are never converted to RGB).
        mean=[104.01362025, 114.03422046, 119.91659325],
        std=[73.6027614, 69.89082075, 70.9150785],
        bgr_to_rgb=False,
        pad_size_divisor=32),
    # No ImageNet init: multi_pose training starts from a ctdet checkpoint (`load_from`).
    backbone=dict(type='DLA', depth=34),
    neck=dict(
        type='DLAUpNeck',
        in_channels=[16, 32, 64, 128, 256, 512],
        start_level=2,
        end_level=5,
        # The deformable convolutions (docs/speed.md): impl='auto' runs mmcenternet's fast
        # implementation on CPU and mmcv's CUDA kernel on GPU; impl='mmcv' (or type='DCNv2')
        # always runs mmcv's op. Same weights and results either way.
        dcn_cfg=dict(type='DCNv2Fast', deform_groups=1, impl='auto')),
    head=dict(
        type='CenterNetPoseHead',
        in_channels=64,
        num_keypoints=17,
        head_conv=256,
        branch_init='zero_bias',
        stride=4,
        max_objs=32,
        min_overlap=0.7,
        loss_heatmap=dict(type='CenterNetFocalLoss', loss_weight=1.0),
        loss_wh=dict(type='CenterNetRegL1Loss', loss_weight=0.1),
        loss_offset=dict(type='CenterNetRegL1Loss', loss_weight=1.0),
        loss_hps=dict(type='CenterNetRegL1Loss', loss_weight=1.0),
        loss_hm_hp=dict(type='CenterNetFocalLoss', loss_weight=1.0),
        loss_hp_offset=dict(type='CenterNetRegL1Loss', loss_weight=1.0)),
    # The model-zoo setting is flip test; `tools/test.py --no-flip` tests without it.
    test_cfg=dict(flip_test=True, topk=100, hm_hp_thresh=0.1, dist_ratio=0.3,
                  local_maximum_kernel=3))
