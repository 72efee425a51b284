# CenterNet multi_pose Hourglass-104 (the original `hourglass` arch with the `multi_pose` heads):
# the pose model of centernet_pose_dla34.py on the two-stack Hourglass-104 of
# centernet_hourglass104.py, without a neck; the six pose branches exist once per stack
# (3x3 conv 256 + ReLU + 1x1 conv). Training supervises both stacks (every loss term divided by
# 2 and summed); testing uses the last stack.
_base_ = './centernet_pose_dla34.py'

model = dict(
    data_preprocessor=dict(pad_size_divisor=128),  # 5 stride-2 steps after stride 4: 128
    # Refuses input sides that are not multiples of 128 (the original network's rule). No
    # init_cfg (mmdet's HourglassNet accepts none): training starts from the converted ctdet
    # hourglass checkpoint (`load_from`).
    # Its defaults are Hourglass-104 (the settings spelled out in centernet_hourglass104.py).
    backbone=dict(_delete_=True, type='CenterNetHourglassNet'),  # not DLA: drop its settings
    neck=None,  # the hourglass output is already at stride 4
    head=dict(
        in_channels=256,  # DLA-up: 64
        num_stacks=2,  # one set of branches per stack
        # Only heat-map biases are set (-2.19 for `hm` and `hm_hp`, whose names contain "hm");
        # the other branches keep PyTorch's defaults, as the original hourglass heads
        # (DLA: zero biases). `head_conv` stays 256 (the original ignores `--head_conv` here).
        branch_init='default'))
