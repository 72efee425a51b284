# ctdet_coco_resdcn18: ResNet-DCN-18, 140 epochs, total batch 114, Adam lr 5e-4.
# Original model zoo (COCO val2017 AP): 28.1 no-aug / 30.0 flip / 33.2 flip + multi-scale.
_base_ = [
    '../_base_/models/centernet_resdcn18.py', '../_base_/datasets/coco_centernet.py',
    '../_base_/schedules/adam_140e.py', '../_base_/default_runtime.py',
    '../_base_/centernet_tta.py'
]

# The original's 114 images per step (it split them 18 + 3 x 32 over 4 GPUs); with equal
# per-process batches that is 6 processes x 19: tools/dist_train.sh CONFIG 6. Other process
# counts: add --auto-scale-lr to keep lr / batch as the original.
train_dataloader = dict(batch_size=19)
auto_scale_lr = dict(base_batch_size=114)  # lr 5e-4 was tuned for a total batch of 114
