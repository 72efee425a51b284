# CenterNet's multi_pose 3x schedule: as 1x but 320 epochs with lr x0.1 after epochs 270 and 300.
_base_ = './adam_140e.py'

param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=320, by_epoch=True, milestones=[270, 300], gamma=0.1)
]
train_cfg = dict(max_epochs=320)
