# ctdet_pascal_resdcn101_512: ResNet-DCN-101 on Pascal VOC 2007 + 2012 trainval at 512 x 512,
# tested on VOC 2007 test (VOC 2007 AP). Original recipe
# (experiments/ctdet_pascal_resdcn101_512.sh): 70 epochs, lr x0.1 after 45 and 60, the default
# batch 32 and lr 1.25e-4 on 4 GPUs, --input_res 512; ImageNet initialisation as the COCO models.
# Original model zoo (flip test): 78.7 mAP.
#   tools/dist_train.sh configs/centernet_pascal/resdcn101_512_voc.py 4
#   python tools/test.py configs/centernet_pascal/resdcn101_512_voc.py CKPT --flip
_base_ = [
    '../_base_/models/centernet_resdcn18.py', '../_base_/datasets/voc0712_centernet.py',
    '../_base_/schedules/adam_140e.py', '../_base_/default_runtime.py',
    '../_base_/centernet_tta.py'
]

# ------------------------------------------------------------------ model
model = dict(
    backbone=dict(  # ResNet-101, as configs/centernet/resdcn101_1x_coco.py
        depth=101,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.pytorch.org/models/resnet101-5d3b4d8f.pth')),
    neck=dict(in_channels=2048),
    data_preprocessor=dict(
        # the original's Pascal statistics: ImageNet's RGB values applied to the BGR channels
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]),
    bbox_head=dict(num_classes=20,
                   target_generator=dict(max_objs=50)))  # the original's PascalVOC.max_objs

# ------------------------------------------------------------------ data
input_res = 512
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='CenterNetRandomAffine', input_size=(input_res, input_res), down_ratio=4,
         scale_range=(0.6, 1.4, 0.1), border=128, flip_prob=0.5),
    dict(type='CenterNetColorAug'),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                    'flip_direction', 'homography_matrix')),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='CenterNetFixRes', input_size=(input_res, input_res)),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                    'homography_matrix')),
]
train_dataloader = dict(
    batch_size=8,  # 4 GPUs x 8 = the original's 32
    dataset=dict(datasets=[dict(pipeline=train_pipeline), dict(pipeline=train_pipeline)]))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
tta_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='TestTimeAug',
         transforms=[[dict(type='CenterNetTestResize', scale=1.0)],
                     [dict(type='CenterNetFixRes', input_size=(input_res, input_res))],
                     [dict(type='LoadAnnotations', with_bbox=True)],
                     [dict(type='PackDetInputs',
                           meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                                      'scale_factor', 'homography_matrix'))]])
]

# ------------------------------------------------------------------ schedule
optim_wrapper = dict(optimizer=dict(lr=1.25e-4))  # the original's default lr for batch 32
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=70, by_epoch=True, milestones=[45, 60], gamma=0.1)
]
train_cfg = dict(max_epochs=70)
auto_scale_lr = dict(base_batch_size=32)
