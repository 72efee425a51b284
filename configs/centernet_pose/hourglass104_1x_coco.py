# multi_pose_hg_1x: Hourglass-104 (two stacks), 50 epochs (lr x0.1 after 40), batch 24, Adam lr
# 2.5e-4, initialised from the ctdet Hourglass-104 model (ctdet_coco_hg.pth).
# Original model zoo (COCO val2017 keypoint AP, flip test): 58.7.
# Test: `--keep_res --flip_test`, the image centred on a (n | 127) + 1 canvas (multiples of 128).
_base_ = [
    '../_base_/models/centernet_pose_hourglass104.py',
    '../_base_/datasets/coco_keypoints_centernet.py', '../_base_/schedules/adam_50e.py',
    '../_base_/pose_runtime.py', '../_base_/centernet_pose_tta.py'
]

# ---------------------------------------------------------------- data
# Training crops stay 512 x 512 (a multiple of 128); only the test padding changes.
test_pipeline = [
    dict(type='LoadImage', backend_args=None),
    dict(type='CenterNetPad', size_mask=127),  # the hourglass needs multiples of 128, not 32
    dict(type='PackPoseInputs',
         meta_keys=('id', 'img_id', 'img_path', 'ori_shape', 'img_shape', 'flip_indices',
                    'homography_matrix', 'raw_ann_info')),
]
# The original: 24 images per step on 5 GPUs (4 on the master GPU + 5 x 4); here 4 GPUs x 6.
train_dataloader = dict(batch_size=6)  # base: 16 (DLA-34)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))  # the 127 padding above
test_dataloader = val_dataloader

# ---------------------------------------------------------------- test-time augmentation
# As configs/_base_/centernet_pose_tta.py (same scales), padded to multiples of 128.
tta_pipeline = [
    dict(type='LoadImage', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='CenterNetTestResize', scale=s) for s in (0.5, 0.75, 1.0, 1.25, 1.5)],
            [dict(type='CenterNetPad', size_mask=127)],  # multiples of 128, not 32
            [
                dict(type='PackPoseInputs',
                     meta_keys=('id', 'img_id', 'img_path', 'ori_shape', 'img_shape',
                                'flip_indices', 'homography_matrix', 'raw_ann_info'))
            ],
        ])
]

# ---------------------------------------------------------------- schedule
optim_wrapper = dict(optimizer=dict(lr=2.5e-4))  # the original lr for a total batch of 24
auto_scale_lr = dict(base_batch_size=24)  # base: 128

# ---------------------------------------------------------------- initialisation
# The original starts from ctdet_coco_hg.pth. Convert it once:
#   python tools/model_converters/centernet2mmcenternet.py ctdet_coco_hg.pth \
#       checkpoints/hourglass104_coco.pth
# Backbone and detection branches load into the pose model (bbox_head.* -> head.*); the
# 80-class `hm` output layer does not fit the 1-class one and keeps its fresh initialisation
# (mmengine warns "size mismatch"); `hps`, `hm_hp` and `hp_offset` start fresh, exactly as the
# original's loader.
load_from = 'checkpoints/hourglass104_coco.pth'  # pose_runtime: None
