# Demo: CenterNet (ResNet-18, plain up-sampling) trained from scratch on the generated shapes
# dataset (tools/misc/make_demo_data.py). Small enough to train on a laptop CPU in minutes.
_base_ = [
    '../_base_/models/centernet_resdcn18.py', '../_base_/datasets/coco_centernet.py',
    '../_base_/schedules/adam_140e.py', '../_base_/default_runtime.py',
    '../_base_/centernet_tta.py'
]

# ----------------------------------------------------------------------------- data
data_root = 'data/demo/'
classes = ('rectangle', 'ellipse', 'triangle', 'cross')
metainfo = dict(classes=classes)
input_size = (128, 128)  # the images are 160x128; COCO models use 512x512

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='CenterNetRandomAffine', input_size=input_size, down_ratio=4,
         border=32,  # 128 is meant for COCO-sized images
         flip_prob=0.5),
    dict(type='CenterNetColorAug'),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                    'flip_direction', 'homography_matrix')),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=False,
    batch_sampler=None,
    dataset=dict(
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
        base_channels=32,  # half-width ResNet-18: simple shapes need little capacity
        init_cfg=None),  # trained from scratch: no download needed
    neck=dict(
        in_channels=256,  # layer4 width of the half-width backbone
        num_deconv_filters=(128, 64, 64),
        use_dcn=False),  # plain 3x3 convolutions: CPU-friendly
    bbox_head=dict(num_classes=len(classes)))

# ----------------------------------------------------------------------------- schedule
optim_wrapper = dict(optimizer=dict(lr=1e-3))  # small batch from scratch: a larger step
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=24, by_epoch=True, milestones=[18, 22], gamma=0.1)
]
train_cfg = dict(max_epochs=24, val_interval=8)
auto_scale_lr = dict(base_batch_size=16)

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=8, max_keep_ckpts=2))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
