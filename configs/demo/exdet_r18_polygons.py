# Demo: CenterNet exdet (extreme points + centre grouping) with a quarter-width ResNet-18 and
# plain up-sampling, trained from scratch on generated polygon images (make_polygon_shapes_dataset
# in mmcenternet/utils/synthetic/shapes.py). The annotations have polygons only: the dataset derives
# the extreme points from them while reading. Small enough to train on a CPU in about a minute:
#   python -c "from mmcenternet.utils.synthetic import make_polygon_shapes_dataset as m; \
#       m('data/demo_polygons', 600, split='train'); \
#       m('data/demo_polygons', 32, seed=2, split='val')"
#   python tools/train.py configs/demo/exdet_r18_polygons.py
_base_ = [
    '../_base_/models/centernet_resdcn18.py', '../_base_/datasets/coco_exdet_centernet.py',
    '../_base_/schedules/adam_140e.py', '../_base_/default_runtime.py',
    '../_base_/centernet_tta.py'
]

# ----------------------------------------------------------------------------- data
data_root = 'data/demo_polygons/'
classes = ('diamond', 'triangle', 'pentagon')
metainfo = dict(classes=classes)
# The images are 63 x 63: the test canvas, (63 | 31) + 1 = 64, is then the training input size
# (COCO models use 512 x 512).
input_size = (64, 64)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='LoadExtremePoints'),
    dict(type='CenterNetRandomAffine', input_size=input_size, down_ratio=4,
         random_crop=False, shift=0.0, scale=0.0,  # tiny images: flips only, no crop
         flip_prob=0.5, mirror_center=False, shift_style='exdet'),  # exdet's augmentation
    dict(type='CenterNetColorAug'),
    dict(type='PackExdetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                    'flip_direction', 'homography_matrix')),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=False,
    dataset=dict(
        type='CenterNetExdetCocoDataset',  # extreme points from the polygons
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/train.json',
        data_prefix=dict(img='train/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/val.json',
        data_prefix=dict(img='val/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator

# ----------------------------------------------------------------------------- model
model = dict(
    backbone=dict(
        base_channels=16,  # quarter-width ResNet-18: simple shapes need little capacity
        init_cfg=None),  # trained from scratch: no download needed
    neck=dict(
        in_channels=128,  # layer4 width of the quarter-width backbone
        num_deconv_filters=(64, 32, 32),
        use_dcn=False),  # plain 3x3 convolutions: CPU-friendly
    bbox_head=dict(
        _delete_=True,  # the exdet head replaces the ctdet head
        type='CenterNetExdetHead',
        num_classes=len(classes),
        in_channels=32,
        head_conv=32,
        branch_init='normal',
        stride=4,
        decoder=dict(type='CenterNetExdetDecoder'),  # its settings: test_cfg
        target_generator=dict(type='CenterNetExdetTargetGenerator', max_objs=128),
        loss_heatmap=dict(type='CenterNetFocalLoss', loss_weight=1.0),
        loss_offset=dict(type='CenterNetRegL1Loss', loss_weight=1.0)),
    test_cfg=dict(_delete_=True, topk=100, num_dets=1000, max_per_img=100, mode='faithful'))

# ----------------------------------------------------------------------------- schedule
optim_wrapper = dict(optimizer=dict(lr=3e-3))  # small model from scratch: a larger step
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=16, by_epoch=True, milestones=[14], gamma=0.1)
]
train_cfg = dict(max_epochs=16, val_interval=8)
auto_scale_lr = dict(base_batch_size=16)

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=8, max_keep_ckpts=2))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
