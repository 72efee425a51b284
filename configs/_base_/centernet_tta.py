# CenterNet's test-time augmentation as the original does it (`tools/test.py ... --tta`):
# per scale the image and its mirror run as one batch, heatmaps (after sigmoid) and sizes are
# averaged at feature level (offsets from the unflipped pass), and with several scales the
# per-class detections are merged with the original's in-place Gaussian soft-NMS, then the
# global top-100 cut (ties kept). Original model-zoo column: flip + multi-scale.
tta_scales = (0.5, 0.75, 1.0, 1.25, 1.5)

tta_model = dict(
    type='CenterNetTTAModel',
    flip=True,
    soft_nms=dict(sigma=0.5, min_score=0.001, method='gaussian', mode='faithful'),
    max_per_img=100)

tta_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='CenterNetTestResize', scale=s) for s in tta_scales],
            [dict(type='CenterNetPad', size_mask=31)],
            [
                dict(
                    type='PackDetInputs',
                    meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                               'homography_matrix', 'border'))
            ],
        ])
]
