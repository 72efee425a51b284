# CenterNet's multi-scale test of multi_pose (`tools/test.py ... --tta`): every scale runs the
# estimator's own test (with its flip test), the persons of all scales are concatenated in scale
# order and re-scored in place by the original's soft_nms_39 (Gaussian, sigma 0.5); every row is
# kept, as the original's merge_outputs. The original's model zoo reports pose with the flip
# test only; this is its `--test_scales` option.
tta_scales = (0.5, 0.75, 1.0, 1.25, 1.5)

tta_model = dict(
    type='CenterNetPoseTTAModel',
    soft_nms=dict(sigma=0.5, iou_threshold=0.5, min_score=0.001, method='gaussian'))

tta_pipeline = [
    dict(type='LoadImage', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='CenterNetTestResize', scale=s) for s in tta_scales],
            [dict(type='CenterNetPad', size_mask=31)],
            [
                dict(
                    type='PackPoseInputs',
                    meta_keys=('id', 'img_id', 'img_path', 'ori_shape', 'img_shape',
                               'flip_indices', 'homography_matrix', 'raw_ann_info'))
            ],
        ])
]
