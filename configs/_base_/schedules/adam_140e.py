# CenterNet's 1x schedule: Adam (no weight decay, no warm-up, no clipping), 140 epochs,
# lr x0.1 after epochs 90 and 120. lr 5e-4 is for a total batch of 128.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=5e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0))
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=140, by_epoch=True, milestones=[90, 120], gamma=0.1)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=140, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# `tools/train.py --auto-scale-lr` scales lr linearly from this total batch size.
auto_scale_lr = dict(enable=False, base_batch_size=128)
