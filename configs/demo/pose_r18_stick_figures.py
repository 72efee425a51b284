# Pose demo (`make demo-pose`): CenterNet multi_pose trained from scratch on generated stick
# figures with the 17 COCO joints (tools/misc/make_demo_data.py --pose: 128x128 images, one or two
# figures each). The head, targets, losses and decoding are the COCO model's
# (configs/centernet_pose/dla34_1x_coco.py); what differs, and why:
#   * a small ResNet-18 body from scratch (DLA-34 is far too big to train on a CPU in minutes);
#   * 128x128 inputs, mild scale/shift augmentation and no horizontal flip: each joint type has
#     its own colour, so a flipped figure would show a left joint's colour on the right;
#   * no flip test, for the same reason;
#   * Adam 2e-3 with a warm-up, batch 16, 12 epochs of 400 images (300 iterations), lr x0.1
#     after epochs 9 and 11: from scratch with small batches a larger step.
# Figures: docs/getting_started.md.
_base_ = ['../centernet_pose/dla34_1x_coco.py']

# ----------------------------------------------------------------------------- data
data_root = 'data/demo_pose/'
input_size = (128, 128)
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='CenterNetPoseRandomAffine', input_size=input_size, down_ratio=4,
         random_crop=False, shift=0.1, scale=0.25,  # figures fill the image: mild changes only
         flip_prob=0.0),  # the joint colours tell left from right
    dict(type='PackPoseInputs',
         meta_keys=('id', 'img_id', 'img_path', 'ori_shape', 'img_shape', 'flip',
                    'flip_indices', 'homography_matrix', 'centernet_rot')),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=0,  # tiny images: workers cost more than they save on a small CPU
    persistent_workers=False,
    dataset=dict(data_root=data_root,
                 ann_file='annotations/person_keypoints_train.json',
                 data_prefix=dict(img='train/'), pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root,
                 ann_file='annotations/person_keypoints_val.json',
                 data_prefix=dict(img='val/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/person_keypoints_val.json')
test_evaluator = val_evaluator

# ----------------------------------------------------------------------------- model
model = dict(
    # the detection demo's body: ResNet-18 at half width, three stages (stride 16), from
    # scratch; two 4x4 transposed-conv steps (no DCN) back to the usual stride 4
    backbone=dict(_delete_=True, type='mmdet.ResNet', depth=18, base_channels=32, num_stages=3,
                  strides=(1, 2, 2), dilations=(1, 1, 1), out_indices=(2, ), norm_eval=False,
                  init_cfg=None),
    neck=dict(_delete_=True, type='mmdet.CenterNetResNetNeck', in_channels=128,
              num_deconv_filters=(64, 64), num_deconv_kernels=(4, 4), use_dcn=False),
    head=dict(in_channels=64, head_conv=64),
    test_cfg=dict(flip_test=False))  # see the flip note above

# ----------------------------------------------------------------------------- schedule
load_from = None  # from scratch (the COCO ctdet checkpoint does not fit this body)
max_epochs = 12
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[9, 11],
         gamma=0.1)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=3)  # four points on the AP curve
default_hooks = dict(logger=dict(interval=25), checkpoint=dict(interval=3, max_keep_ckpts=1))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
