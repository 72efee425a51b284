# CenterNet's hourglass schedule (model zoo notes): as 1x but 50 epochs with lr x0.1 after
# epoch 40.
_base_ = './adam_140e.py'

param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=50, by_epoch=True, milestones=[40], gamma=0.1)
]
train_cfg = dict(max_epochs=50)
