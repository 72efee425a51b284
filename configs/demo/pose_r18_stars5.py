# A custom keypoint set: CenterNet multi_pose on generated 5-joint figures (head, hands, feet),
# with the joint count, flip pairs and skeleton read from the dataset's metainfo file (mmpose's
# dataset_info convention; configs/_base_/datasets/stars5_metainfo.py). A small ResNet-18 trained
# from scratch on the CPU in about a minute. Generate the data, then train and test:
#   python -c "from mmcenternet.utils.synthetic.keypoints import STAR5, \
#       make_stick_figures_dataset as m; m('data/demo_stars5', 32, joint_set=STAR5); \
#       m('data/demo_stars5', 16, seed=1, split='val', joint_set=STAR5)"
#   python tools/train.py configs/demo/pose_r18_stars5.py
#   python tools/test.py configs/demo/pose_r18_stars5.py work_dirs/pose_r18_stars5/epoch_60.pth
# What differs from the stick-figure pose demo it inherits: the keypoint set, flips (its flip
# pairs), batch and schedule.
_base_ = ['./pose_r18_stick_figures.py']

# ----------------------------------------------------------------------------- data
data_root = 'data/demo_stars5/'
# the keypoint set: names, flip pairs (`swap`), skeleton, sigmas (COCO's have 17 joints)
metainfo = dict(from_file='{{ fileDirname }}/../_base_/datasets/stars5_metainfo.py')
train_pipeline = [
    dict(type='LoadImage'),
    # figures are small and centred: flips only (their flip pairs come from the metainfo)
    dict(type='CenterNetPoseRandomAffine', input_size={{_base_.input_size}}, down_ratio=4,
         random_crop=False, shift=0.0, scale=0.0, flip_prob=0.5),
    dict(type='PackPoseInputs',
         meta_keys=('id', 'img_id', 'img_path', 'ori_shape', 'img_shape', 'flip',
                    'flip_indices', 'homography_matrix', 'centernet_rot')),
]
train_dataloader = dict(
    batch_size=8,
    dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/person_keypoints_val.json')
test_evaluator = val_evaluator

# ----------------------------------------------------------------------------- model
model = dict(
    head=dict(num_keypoints=5),  # the metainfo's joint count
    test_cfg=dict(flip_test=True))  # the flip pairs are known: the original's flip test

# ----------------------------------------------------------------------------- schedule
max_epochs = 60
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=40),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[45, 54],
         gamma=0.1)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=max_epochs))
