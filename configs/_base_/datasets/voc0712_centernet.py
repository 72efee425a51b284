# Pascal VOC for the original's ctdet_pascal_* models: trained on VOC 2007 + 2012 trainval,
# tested on VOC 2007 test with the VOC 2007 AP (11-point, `difficult` objects ignored) as the
# original's evaluation (tools/reval.py). Train: the original affine crop/scale/flip + colour
# augmentation at the dataset's default 384 x 384 (`input_res 512`: the *_512 configs). Test: the
# original's default fixed-resolution input (no --keep_res): the image warped onto the square
# input. Layout (mmdet's): data/VOCdevkit/VOC2007/{Annotations,JPEGImages,ImageSets/Main}, same
# for VOC2012.
dataset_type = 'CenterNetVOCDataset'
data_root = 'data/VOCdevkit/'
backend_args = None
input_res = 384  # the original's PascalVOC.default_resolution

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='CenterNetRandomAffine', input_size=(input_res, input_res), down_ratio=4,
         scale_range=(0.6, 1.4, 0.1), border=128, flip_prob=0.5),
    dict(type='CenterNetColorAug'),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                    'flip_direction', 'homography_matrix')),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='CenterNetFixRes', input_size=(input_res, input_res)),
    # after the warp: the metric compares with boxes in image pixels
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                    'homography_matrix')),
]

train_dataloader = dict(
    batch_size=32,  # the original's default batch, one GPU
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='ConcatDataset',
        ignore_keys=['dataset_type'],  # the two years carry their own dataset_type
        datasets=[
            dict(type=dataset_type, data_root=data_root,
                 ann_file='VOC2007/ImageSets/Main/trainval.txt',
                 data_prefix=dict(sub_data_root='VOC2007/'),
                 filter_cfg=dict(filter_empty_gt=False), pipeline=train_pipeline,
                 backend_args=backend_args),
            dict(type=dataset_type, data_root=data_root,
                 ann_file='VOC2012/ImageSets/Main/trainval.txt',
                 data_prefix=dict(sub_data_root='VOC2012/'),
                 filter_cfg=dict(filter_empty_gt=False), pipeline=train_pipeline,
                 backend_args=backend_args),
        ]))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='VOC2007/ImageSets/Main/test.txt',
                 data_prefix=dict(sub_data_root='VOC2007/'), test_mode=True,
                 pipeline=test_pipeline, backend_args=backend_args))
test_dataloader = val_dataloader

# VOC 2007 AP: 11-point interpolation, IoU 0.5, difficult objects ignored
val_evaluator = dict(type='VOCMetric', metric='mAP', eval_mode='11points')
test_evaluator = val_evaluator
