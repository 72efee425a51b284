# exdet_coco_dla: the original's ExtremeNet re-implementation on DLA-34 (four extreme-point heat
# maps + a centre heat map, grouped by geometry and a centre check; no edge aggregation).
# Original recipe (experiments/exdet_coco_dla.sh): batch 64 (8 GPUs), Adam lr 2.5e-4, the default
# 140 epochs with lr x0.1 after 90 and 120, DLA-34 from ImageNet.
# Original model zoo (COCO val2017 AP): 33.0 no-aug / 36.5 flip / 38.5 flip + multi-scale.
# Data, quirks of the original's test path and the corrected mode: docs/exdet.md.
_base_ = [
    '../_base_/models/centernet_dla34.py', '../_base_/datasets/coco_centernet.py',
    '../_base_/schedules/adam_140e.py', '../_base_/default_runtime.py',
    '../_base_/centernet_tta.py'
]

# ------------------------------------------------------------------ model
model = dict(
    bbox_head=dict(
        _delete_=True,  # another head type: none of the ctdet head's settings apply
        type='CenterNetExdetHead',
        num_classes=80,
        in_channels=64,
        head_conv=256,
        branch_init='zero_bias',
        stride=4,
        agnostic_ex=False,  # the original's --agnostic_ex: one channel per extreme map
        decoder=dict(type='CenterNetExdetDecoder', topk=100, num_dets=1000, scores_thresh=0.1,
                     center_thresh=0.1, local_maximum_kernel=3),
        target_generator=dict(type='CenterNetExdetTargetGenerator', max_objs=128,
                              min_overlap=0.7),
        loss_heatmap=dict(type='CenterNetFocalLoss', loss_weight=1.0),  # each of the 5 maps
        loss_offset=dict(type='CenterNetRegL1Loss', loss_weight=1.0)),  # each of the 4 points
    test_cfg=dict(
        _delete_=True,  # exdet decoding settings replace ctdet's
        topk=100,  # peaks per extreme map (10^8 quadruples per image)
        num_dets=1000,  # quadruples kept by the grouping
        max_per_img=100,
        # 'faithful': the original's test path (docs/exdet.md); 'corrected': without its quirks
        mode='faithful',
        soft_nms=dict(sigma=0.5, min_score=0.001, method='gaussian', iou_threshold=0.5)))

# ------------------------------------------------------------------ data
# Training reads extreme points (the original's instances_extreme_train2017.json, or any COCO
# file with polygons: missing points are derived from the segmentation while reading).
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='LoadExtremePoints'),  # exdet targets come from the points, not from the boxes
    dict(type='CenterNetRandomAffine', input_size=(512, 512), down_ratio=4,
         scale_range=(0.6, 1.4, 0.1), border=128, flip_prob=0.5,
         mirror_center=False,  # exdet does not mirror the crop centre when flipping
         shift_style='exdet'),  # exdet's --not_rand_crop order (scale first, W/H shifts)
    dict(type='CenterNetColorAug'),
    dict(type='PackExdetInputs',  # also packs gt_instances.extreme_points
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                    'flip_direction', 'homography_matrix')),
]
train_dataloader = dict(
    batch_size=8,  # the original: 64 images per step on 8 GPUs
    dataset=dict(
        type='CenterNetExdetCocoDataset',  # instances carry extreme_points
        ann_file='annotations/instances_extreme_train2017.json',  # the original's file name
        extreme_points_source='auto',
        pipeline=train_pipeline))

# ------------------------------------------------------------------ schedule
optim_wrapper = dict(optimizer=dict(lr=2.5e-4))  # the original lr for a total batch of 64
auto_scale_lr = dict(base_batch_size=64)
