# COCO person keypoints with CenterNet's (COCOHP) data handling.
# Train: the original affine crop/scale/flip (+ the unused rotation draw) and colour
# augmentation at 512x512; every annotation kept in file order (crowd regions and persons without
# keypoints are centre positives without regression); only images with annotations (64115).
# Test: the original --keep_res path (image centred on a (n | 31) + 1 canvas, BGR, no resize),
# all 5000 val images, all 100 decoded persons per image, keypoint AP of the rounded results file.
dataset_type = 'CenterNetCocoPoseDataset'
data_mode = 'bottomup'
data_root = 'data/coco/'
backend_args = None

train_pipeline = [
    dict(type='LoadImage', backend_args=backend_args),
    dict(type='CenterNetPoseRandomAffine', input_size=(512, 512), down_ratio=4,
         scale_range=(0.6, 1.4, 0.1), border=128, rot_prob=0.0, rotate=0.0, flip_prob=0.5),
    dict(type='CenterNetColorAug', seed=123),
    dict(type='PackPoseInputs',
         meta_keys=('id', 'img_id', 'img_path', 'ori_shape', 'img_shape', 'input_size',
                    'input_center', 'input_scale', 'flip', 'flip_direction', 'flip_indices',
                    'homography_matrix', 'centernet_rot')),
]
test_pipeline = [
    dict(type='LoadImage', backend_args=backend_args),
    dict(type='CenterNetPad', size_mask=31),
    dict(type='PackPoseInputs',
         meta_keys=('id', 'img_id', 'img_path', 'ori_shape', 'img_shape', 'flip_indices',
                    'homography_matrix', 'raw_ann_info')),
]

train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_train2017.json',
        data_prefix=dict(img='train2017/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_val2017.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='CenterNetCocoPoseMetric',
    ann_file=data_root + 'annotations/person_keypoints_val2017.json',
    score_mode='bbox',  # person score = centre score, as the original
    nms_mode='none',  # the original evaluates all 100 decoded persons per image
    round_decimals=2)  # the original rounds every number of the results file to 2 decimals
test_evaluator = val_evaluator
