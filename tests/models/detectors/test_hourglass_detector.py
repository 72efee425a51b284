# Copyright (c) mmcenternet contributors. All rights reserved.
"""Hourglass-104 ctdet: the config model is the original network; flip and multi-scale TTA."""

import numpy as np
import torch
from mmdet.registry import MODELS
from hourglass_common import cfg, CONFIG, hg_model  # noqa: F401


def test_config_model_is_the_original_hourglass(cfg, hg_model):
    sd = hg_model.state_dict()
    # centernet-spec 2.6: 984 keys, 191,284,008 parameters for ctdet / COCO
    assert len(sd) == 984
    assert sum(p.numel() for p in hg_model.parameters()) == 191_284_008
    head = MODELS.build(cfg.model.bbox_head)  # fresh (hg_model may hold loaded weights)
    assert head.num_stacks == 2 and head.head_module.heads == dict(hm=80, wh=2, reg=2)
    for s in range(2):
        assert torch.all(head.head_module.hm[s][-1].bias == -2.19)
    # test paths pad to multiples of 128, schedule and optimiser of ctdet_coco_hg
    pads = [t for t in cfg.test_dataloader.dataset.pipeline if t['type'] == 'CenterNetPad']
    assert [p['size_mask'] for p in pads] == [127]
    assert cfg.val_dataloader.dataset.pipeline[1]['size_mask'] == 127
    tta = [t for t in cfg.tta_pipeline if t['type'] == 'TestTimeAug'][0]
    assert [t['size_mask'] for t in tta['transforms'][1]] == [127]
    assert [t['scale'] for t in tta['transforms'][0]] == [0.5, 0.75, 1.0, 1.25, 1.5]
    assert cfg.optim_wrapper.optimizer.type == 'Adam' and cfg.optim_wrapper.optimizer.lr == 2.5e-4
    assert cfg.optim_wrapper.optimizer.weight_decay == 0
    assert cfg.train_cfg.max_epochs == 50
    assert [(s.type, s.milestones, s.gamma)
            for s in cfg.param_scheduler] == [('MultiStepLR', [40], 0.1)]
    assert cfg.auto_scale_lr.base_batch_size == 24
    assert cfg.model.data_preprocessor.pad_size_divisor == 128


def test_hourglass_flip_multiscale_test_time_augmentation(cfg, hg_model):
    """The config's TTA (flip + 5 scales) on a small image: every view padded to 128 multiples."""
    from mmcv.transforms import Compose
    from mmengine.dataset import pseudo_collate
    pipeline = Compose([t for t in cfg.tta_pipeline if t['type'] != 'LoadImageFromFile'])
    img = np.random.default_rng(0).integers(0, 255, (64, 80, 3), dtype=np.uint8)
    data = pipeline(dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2], img_id=0))
    assert len(data['inputs']) == 5
    for view in data['inputs']:
        assert view.shape[-2] % 128 == 0 and view.shape[-1] % 128 == 0
    tta = MODELS.build(dict(**cfg.tta_model, module=hg_model)).eval()
    assert tta.flip
    res = tta.test_step(pseudo_collate([data]))[0].pred_instances
    assert 0 < len(res.scores) <= 100 + 10 and res.bboxes.shape == (len(res.scores), 4)
    assert torch.isfinite(res.bboxes).all() and (res.labels < 80).all()
