# CenterNet's 2x schedule: as 1x but 230 epochs with lr x0.1 after epochs 180 and 210.
_base_ = './adam_140e.py'

param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=230, by_epoch=True, milestones=[180, 210], gamma=0.1)
]
train_cfg = dict(max_epochs=230)
