# multi_pose_hg_3x: Hourglass-104, 150 epochs (lr x0.1 after 130), batch 24, Adam lr 2.5e-4,
# initialised from the ctdet Hourglass-104 model.
# Original model zoo (COCO val2017 keypoint AP, flip test): 64.0.
# (The original's experiments/multi_pose_hg_3x.sh spells the option `-load_model`; the model
# zoo states the initialisation used here.)
_base_ = './hourglass104_1x_coco.py'

# ---------------------------------------------------------------- schedule
param_scheduler = [  # 1x: 50 epochs, drop at 40
    dict(type='MultiStepLR', begin=0, end=150, by_epoch=True, milestones=[130], gamma=0.1)
]
train_cfg = dict(max_epochs=150)
