# COCO 2017 with CenterNet's data handling.
# Train: the original affine crop/scale/flip + colour augmentation at 512x512, every annotation
# kept in file order (crowd boxes are ordinary objects), images without objects kept.
# Test: the original --keep_res path (image centred on a (n | 31) + 1 canvas, BGR, no resize).
dataset_type = 'CenterNetCocoDataset'
data_root = 'data/coco/'
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='CenterNetRandomAffine', input_size=(512, 512), down_ratio=4,
         scale_range=(0.6, 1.4, 0.1),  # np.arange: the original's 0.6 ... 1.3 factors
         border=128, flip_prob=0.5),
    dict(type='CenterNetColorAug'),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                    'flip_direction', 'homography_matrix')),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='CenterNetPad', size_mask=31),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                    'homography_matrix', 'border')),
]

train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    # plain shuffling as the original (no aspect-ratio grouping: every crop is 512x512)
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        filter_cfg=dict(filter_empty_gt=False),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_val2017.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='CenterNetCocoMetric',
    round_decimals=2,  # the original rounds boxes and scores to 2 decimals before COCOeval
    proposal_nums=(1, 10, 100),  # COCOeval's default maxDets, as the original evaluates
    ann_file=data_root + 'annotations/instances_val2017.json',
    metric='bbox',
    format_only=False,
    backend_args=backend_args)
test_evaluator = val_evaluator

# COCO test-dev: write the submission json only (no annotations to evaluate against), e.g.
#   python tools/test.py CONFIG CKPT --cfg-options \
#       test_dataloader.dataset.ann_file=annotations/image_info_test-dev2017.json \
#       test_dataloader.dataset.data_prefix.img=test2017/ \
#       test_evaluator.format_only=True test_evaluator.outfile_prefix=work_dirs/testdev \
#       test_evaluator.ann_file=data/coco/annotations/image_info_test-dev2017.json
