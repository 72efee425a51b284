# ctdet_coco_dla_1x: DLA-34, 140 epochs, batch 128 (8 GPUs x 16), Adam lr 5e-4.
# Original model zoo (COCO val2017 AP): 36.3 no-aug / 38.2 flip / 40.7 flip + multi-scale.
_base_ = [
    '../_base_/models/centernet_dla34.py', '../_base_/datasets/coco_centernet.py',
    '../_base_/schedules/adam_140e.py', '../_base_/default_runtime.py',
    '../_base_/centernet_tta.py'
]
