# exdet_coco_dla: the original's ExtremeNet re-implementation on DLA-34 (four extreme-point heat
# maps + a centre heat map, grouped by geometry and a centre check; no edge aggregation).
# Original recipe (experiments/exdet_coco_dla.sh): batch 64 (8 GPUs), Adam lr 2.5e-4, the default
# 140 epochs with lr x0.1 after 90 and 120, DLA-34 from ImageNet.
# Original model zoo (COCO val2017 AP): 33.0 no-aug / 36.5 flip / 38.5 flip + multi-scale.
# Data, quirks of the original's test path and the corrected mode: docs/exdet.md.
_base_ = [
    '../_base_/models/centernet_dla34.py', '../_base_/datasets/coco_exdet_centernet.py',
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
        decoder=dict(type='CenterNetExdetDecoder'),  # its settings: test_cfg
        target_generator=dict(type='CenterNetExdetTargetGenerator', max_objs=128,
                              min_overlap=0.7),
        loss_heatmap=dict(type='CenterNetFocalLoss', loss_weight=1.0),  # each of the 5 maps
        loss_offset=dict(type='CenterNetRegL1Loss', loss_weight=1.0)),  # each of the 4 points
    test_cfg=dict(
        _delete_=True,  # exdet decoding settings replace ctdet's
        topk=100,  # peaks per extreme map (10^8 quadruples per image)
        num_dets=1000,  # quadruples kept by the grouping
        scores_thresh=0.1,  # the grouping's extreme and centre score thresholds
        center_thresh=0.1,
        local_maximum_kernel=3,
        max_per_img=100,
        # 'faithful': the original's test path (docs/exdet.md); 'corrected': without its quirks
        mode='faithful',
        soft_nms=dict(sigma=0.5, min_score=0.001, method='gaussian', iou_threshold=0.5)))

# ------------------------------------------------------------------ data
# Training on extreme points: configs/_base_/datasets/coco_exdet_centernet.py.
train_dataloader = dict(batch_size=8)  # the original: 64 images per step on 8 GPUs

# ------------------------------------------------------------------ schedule
optim_wrapper = dict(optimizer=dict(lr=2.5e-4))  # the original lr for a total batch of 64
auto_scale_lr = dict(base_batch_size=64)
