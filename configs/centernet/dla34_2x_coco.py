# ctdet_coco_dla_2x: DLA-34, 230 epochs (lr x0.1 after 180 and 210), batch 128, Adam lr 5e-4.
# Original model zoo (COCO val2017 AP): 37.4 no-aug / 39.2 flip / 41.7 flip + multi-scale.
_base_ = [
    '../_base_/models/centernet_dla34.py', '../_base_/datasets/coco_centernet.py',
    '../_base_/schedules/adam_230e.py', '../_base_/default_runtime.py',
    '../_base_/centernet_tta.py'
]
