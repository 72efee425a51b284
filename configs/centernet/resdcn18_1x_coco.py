# ctdet_coco_resdcn18: ResNet-DCN-18, 140 epochs, batch 114 (4 GPUs), Adam lr 5e-4.
# Original model zoo (COCO val2017 AP): 28.1 no-aug / 30.0 flip / 33.2 flip + multi-scale.
_base_ = [
    '../_base_/models/centernet_resdcn18.py', '../_base_/datasets/coco_centernet.py',
    '../_base_/schedules/adam_140e.py', '../_base_/default_runtime.py',
    '../_base_/centernet_tta.py'
]

# The original recipe: 114 images per step on 4 GPUs (4 x 28 + 2 on the master GPU).
train_dataloader = dict(batch_size=28)
auto_scale_lr = dict(base_batch_size=114)  # lr 5e-4 was tuned for a total batch of 114
