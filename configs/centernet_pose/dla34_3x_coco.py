# multi_pose_dla_3x: DLA-34, 320 epochs (lr x0.1 after 270 and 300), batch 128 (8 GPUs x 16),
# Adam lr 5e-4, initialised from the ctdet DLA-34 2x model.
# Original model zoo (COCO val2017 keypoint AP, flip test): 58.9.
_base_ = [
    '../_base_/models/centernet_pose_dla34.py', '../_base_/datasets/coco_keypoints_centernet.py',
    '../_base_/schedules/adam_320e.py', '../_base_/pose_runtime.py',
    '../_base_/centernet_pose_tta.py'
]

# ---------------------------------------------------------------- initialisation
# As the 1x config: the converted ctdet_coco_dla_2x.pth (see dla34_1x_coco.py).
load_from = 'checkpoints/ctdet_coco_dla_2x_mmcenternet.pth'  # default_runtime: None
