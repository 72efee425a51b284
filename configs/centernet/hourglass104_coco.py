# ctdet_coco_hg: Hourglass-104 (two stacks), 50 epochs (lr x0.1 after 40), batch 24, Adam lr 2.5e-4,
# initialised from ExtremeNet (ExtremeNet_500000.pkl converted with
#   python tools/model_converters/centernet2mmcenternet.py ExtremeNet_500000.pkl \
#       checkpoints/extremenet_hg104_init.pth
# which keeps the backbone and drops ExtremeNet's heads, as the original recipe does).
# Original model zoo (COCO val2017 AP): 40.3 no-aug / 42.2 flip / 45.1 flip + multi-scale.
# Test: `--keep_res` with the image centred on a (n | 127) + 1 canvas (sides multiples of 128).
_base_ = [
    '../_base_/models/centernet_hourglass104.py', '../_base_/datasets/coco_centernet.py',
    '../_base_/schedules/adam_50e.py', '../_base_/default_runtime.py',
    '../_base_/centernet_tta.py'
]

# ------------------------------------------------------------------ data
# Training input stays 512 x 512 (a multiple of 128); only the test padding changes.
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='CenterNetPad', size_mask=127),  # the hourglass needs multiples of 128, not 32
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                    'homography_matrix', 'border')),
]
# The original: 24 images per step on 5 GPUs (4 on the master GPU + 4 x 5); here 4 GPUs x 6.
train_dataloader = dict(batch_size=6)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))  # the 127 padding above
test_dataloader = val_dataloader

# ------------------------------------------------------------------ schedule
optim_wrapper = dict(optimizer=dict(lr=2.5e-4))  # the original lr for a total batch of 24
auto_scale_lr = dict(base_batch_size=24)

# ------------------------------------------------------------------ initialisation
# The backbone starts from the converted ExtremeNet checkpoint (command above); its heads are
# not in this model and stay at CenterNet's initialisation. mmdet's HourglassNet accepts no
# init_cfg, hence `load_from` (non-strict: the missing hm / wh / reg branches are reported).
# `tools/test.py` replaces it with the checkpoint under test.
load_from = 'checkpoints/extremenet_hg104_init.pth'

# ------------------------------------------------------------------ test-time augmentation
# As configs/_base_/centernet_tta.py (same scales), padded to multiples of 128.
tta_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='CenterNetTestResize', scale=s) for s in (0.5, 0.75, 1.0, 1.25, 1.5)],
            [dict(type='CenterNetPad', size_mask=127)],  # multiples of 128, not 32
            [
                dict(
                    type='PackDetInputs',
                    meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                               'homography_matrix', 'border'))
            ],
        ])
]
