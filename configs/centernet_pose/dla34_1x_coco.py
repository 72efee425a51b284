# multi_pose_dla_1x: DLA-34, 140 epochs (lr x0.1 after 90 and 120), batch 128 (8 GPUs x 16),
# Adam lr 5e-4, initialised from the ctdet DLA-34 2x model.
# Original model zoo (COCO val2017 keypoint AP, flip test): 54.7.
_base_ = [
    '../_base_/models/centernet_pose_dla34.py', '../_base_/datasets/coco_keypoints_centernet.py',
    '../_base_/schedules/adam_140e.py', '../_base_/pose_runtime.py',
    '../_base_/centernet_pose_tta.py'
]

# ---------------------------------------------------------------- initialisation
# The original starts from ctdet_coco_dla_2x.pth. Convert it once:
#   python tools/model_converters/centernet2mmcenternet.py ctdet_coco_dla_2x.pth \
#       checkpoints/ctdet_coco_dla_2x_mmcenternet.pth
# Its detection head loads into the pose head; the 80-class `hm` output layer does not fit the
# 1-class one and keeps its fresh initialisation (mmengine warns "size mismatch"), `hps`,
# `hm_hp` and `hp_offset` start fresh, exactly as the original's loader.
load_from = 'checkpoints/ctdet_coco_dla_2x_mmcenternet.pth'  # default_runtime: None
