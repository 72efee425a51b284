# COCO 2017 for exdet (the original's ExtremeNet re-implementation): as coco_centernet.py, with
# training on extreme points (the original's instances_extreme_train2017.json, or any COCO file
# with polygons: missing points are derived from the segmentation while reading) and exdet's
# variant of the affine augmentation. Testing is ctdet's keep_res path.
_base_ = './coco_centernet.py'

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='LoadExtremePoints'),  # exdet targets come from the points, not from the boxes
    dict(type='CenterNetRandomAffine', input_size=(512, 512), down_ratio=4,
         scale_range=(0.6, 1.4, 0.1), border=128, flip_prob=0.5,
         mirror_center=False,  # exdet does not mirror the crop centre when flipping
         shift_style='exdet'),  # exdet's --not_rand_crop order (scale first, W/H shifts)
    dict(type='CenterNetColorAug'),
    dict(type='PackExdetInputs',  # also packs gt_instances.extreme_points
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                    'flip_direction', 'homography_matrix')),
]
train_dataloader = dict(
    dataset=dict(
        type='CenterNetExdetCocoDataset',  # instances carry extreme_points
        ann_file='annotations/instances_extreme_train2017.json',  # the original's file name
        extreme_points_source='auto',
        pipeline=train_pipeline))
