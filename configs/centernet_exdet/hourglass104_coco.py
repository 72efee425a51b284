# exdet_coco_hg: the original's ExtremeNet re-implementation on Hourglass-104 (two stacks, both
# supervised, the last one tested).
# Original recipe (experiments/exdet_coco_hg.sh): batch 24 (5 GPUs), Adam lr 2.5e-4; the script
# sets no schedule and no initialisation; the model-zoo notes say every hourglass model follows
# ExtremeNet's 50 epochs with lr x0.1 after 40 (used here, as for ctdet_coco_hg).
# Original model zoo (COCO val2017 AP): 35.8 no-aug / 39.8 flip / 42.4 flip + multi-scale.
# Test: `--keep_res` with the image centred on a (n | 127) + 1 canvas (sides multiples of 128).
_base_ = [
    '../_base_/models/centernet_hourglass104.py', '../_base_/datasets/coco_exdet_centernet.py',
    '../_base_/schedules/adam_50e.py', '../_base_/default_runtime.py',
    '../_base_/centernet_tta.py'
]

# ------------------------------------------------------------------ model
model = dict(
    bbox_head=dict(
        _delete_=True,  # another head type: none of the ctdet head's settings apply
        type='CenterNetExdetHead',
        num_classes=80,
        in_channels=256,
        head_conv=256,  # the hourglass heads always have 256 channels
        num_stacks=2,  # one set of branches per stack; the loss averages the stacks
        branch_init='default',  # only the heat-map biases are set (-2.19)
        stride=4,
        agnostic_ex=False,
        decoder=dict(type='CenterNetExdetDecoder'),  # its settings: test_cfg
        target_generator=dict(type='CenterNetExdetTargetGenerator', max_objs=128,
                              min_overlap=0.7),
        loss_heatmap=dict(type='CenterNetFocalLoss', loss_weight=1.0),
        loss_offset=dict(type='CenterNetRegL1Loss', loss_weight=1.0)),
    test_cfg=dict(
        _delete_=True,  # exdet decoding settings replace ctdet's
        topk=100,
        num_dets=1000,
        scores_thresh=0.1,
        center_thresh=0.1,
        local_maximum_kernel=3,
        max_per_img=100,
        mode='faithful',  # see docs/exdet.md
        soft_nms=dict(sigma=0.5, min_score=0.001, method='gaussian', iou_threshold=0.5)))

# ------------------------------------------------------------------ data
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='CenterNetPad', size_mask=127),  # the hourglass needs multiples of 128, not 32
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                    'homography_matrix', 'border')),
]
# the original: 24 images per step (4 on the master GPU + 4 x 5); 4 x 6 here
train_dataloader = dict(batch_size=6)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))  # the 127 padding above
test_dataloader = val_dataloader

# ------------------------------------------------------------------ schedule
optim_wrapper = dict(optimizer=dict(lr=2.5e-4))  # the original lr for a total batch of 24
auto_scale_lr = dict(base_batch_size=24)

# ------------------------------------------------------------------ initialisation
# The original exdet_coco_hg script loads no checkpoint. ExtremeNet's model is the same network;
# to start from it instead, convert it with `--init-for exdet` (heads kept) and set load_from:
#   python tools/model_converters/centernet2mmcenternet.py ExtremeNet_500000.pkl \
#       checkpoints/extremenet_hg104_exdet_init.pth --init-for exdet
load_from = None

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
