# Demo (`make demo`): CenterNet trained from scratch on the generated shapes dataset
# (tools/misc/make_demo_data.py: 800 training and 100 validation images of 128x128 pixels, each
# class in its own colour family on a grey texture, shapes inside the image).
# Measured figures (bbox AP on the validation images, time, machine): docs/getting_started.md.
# The head, targets, losses and decoding are CenterNet's, unchanged. What differs from the COCO
# recipe (configs/centernet/resdcn18_1x_coco.py), and why:
#   * the body is shrunk so that it learns from scratch on a CPU in minutes (no pretrained
#     weights, no download): ResNet-18 at half width with its first three stages only (stride
#     16; 1.05 M weights in all), then two plain 3x3 conv + 4x4 transposed-conv up-sampling
#     steps (no DCN: DCN training is slow on a CPU) to the usual stride-4 output;
#   * the size and offset branches start as the original's DLA-34 heads do (PyTorch's default
#     weights, zero bias) instead of ResNet-DCN's N(0, 0.001) weights: from scratch, those tiny
#     weights keep the size regression near the mean size for hundreds of iterations (measured:
#     AP 0.42 instead of 0.74 after the same 12 epochs);
#   * 128x128 inputs (the whole image), Adam at lr 1e-3 with batch 16 for 12 epochs (600
#     iterations), lr x0.1 after epochs 9 and 11.
_base_ = [
    '../_base_/models/centernet_resdcn18.py', '../_base_/datasets/coco_centernet.py',
    '../_base_/schedules/adam_140e.py', '../_base_/default_runtime.py',
    '../_base_/centernet_tta.py'
]

# ----------------------------------------------------------------------------- data
data_root = 'data/demo/'
classes = ('rectangle', 'ellipse', 'triangle', 'cross')
metainfo = dict(classes=classes)
input_size = (128, 128)  # the images are 128x128; COCO models use 512x512

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
    num_workers=0,  # tiny images: worker processes cost more than they save on 2 cores
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
        base_channels=32,  # half width: simple shapes need little capacity
        num_stages=3,  # layer1-3 only: output stride 16
        strides=(1, 2, 2),
        dilations=(1, 1, 1),
        out_indices=(2, ),
        init_cfg=None),  # trained from scratch: no download needed
    neck=dict(
        in_channels=128,  # layer3 width of the half-width backbone
        num_deconv_filters=(64, 64),  # two x2 up-sampling steps: stride 16 -> 4
        num_deconv_kernels=(4, 4),
        use_dcn=False),  # plain 3x3 convolutions: CPU-friendly
    bbox_head=dict(
        num_classes=len(classes),
        branch_init='zero_bias'))  # see the header: trains from scratch

# ----------------------------------------------------------------------------- schedule
max_epochs = 12
optim_wrapper = dict(optimizer=dict(lr=1e-3))  # from scratch with a small batch: a larger step
# (one MultiStepLR at index 0: tools/misc/demo.py --epochs moves its steps)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[9, 11],
         gamma=0.1)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=3)  # four points on the AP curve
auto_scale_lr = dict(base_batch_size=16)

default_hooks = dict(
    logger=dict(interval=25),  # two lines per epoch
    checkpoint=dict(interval=3, max_keep_ckpts=1))
log_processor = dict(window_size=25)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
