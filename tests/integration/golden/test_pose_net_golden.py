# Copyright (c) mmcenternet contributors. All rights reserved.
"""The multi_pose DLA-34 model: golden ``nets/dla_34_multi_pose``, initialisation from a ctdet
checkpoint, configs, and a small training / testing step through the real pipelines."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from golden import REPO, load_npz, write_original_checkpoint
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint

from mmcenternet.utils.convert_official import convert_checkpoint

CONFIGS = [osp.join(REPO, 'configs', 'centernet_pose', f) for f in
           ('dla34_1x_coco.py', 'dla34_3x_coco.py')]
BRANCHES = ('hm', 'wh', 'hps', 'reg', 'hm_hp', 'hp_offset')


def _build(cfg_model):
    from mmpose.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmpose'):
        return MODELS.build(cfg_model)


@pytest.fixture(scope='module')
def cfg():
    return Config.fromfile(CONFIGS[0])


@pytest.mark.golden
def test_golden_dla34_multi_pose_net(cfg, tmp_path):
    z = load_npz('nets', 'dla_34_multi_pose.npz')
    src, dst = str(tmp_path / 'model_140.pth'), str(tmp_path / 'converted.pth')
    write_original_checkpoint('dla_34_multi_pose', src, seed=int(z['weight_seed']))
    convert_checkpoint(src, dst)  # the command-line converter runs in test_pose_e2e.py
    model = _build(cfg.model)
    load_checkpoint(model, dst, map_location='cpu', strict=True)
    model.eval()
    with torch.no_grad():
        outs = model(torch.from_numpy(z['input']), None, mode='tensor')
    assert len(outs) == len(BRANCHES)
    for name, out in zip(BRANCHES, outs):
        ref = z[f'out0_{name}']
        assert out.shape == ref.shape, name
        np.testing.assert_allclose(out.numpy(), ref, rtol=0, atol=1e-4, err_msg=name)


@pytest.mark.golden
def test_init_from_converted_ctdet_checkpoint(cfg, tmp_path):
    """``load_from`` a ctdet model: everything loads except the 80-class ``hm`` output layer,
    which keeps its initialisation (bias -2.19), and the new pose branches."""
    src, dst = str(tmp_path / 'ctdet.pth'), str(tmp_path / 'ctdet_converted.pth')
    manifest = write_original_checkpoint('dla_34_ctdet', src)
    convert_checkpoint(src, dst)
    model = _build(cfg.model)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    load_checkpoint(model, dst, map_location='cpu', strict=False)  # as the runner's load_from
    after = model.state_dict()
    original = {e['key']: e['shape'] for e in manifest['entries']}
    prefix = 'head.head_module.'
    for name in ('wh', 'reg'):
        for layer in ('0', '2'):
            key = f'{prefix}{name}.0.{layer}.weight'
            assert not torch.equal(after[key], before[key]), f'{key} was not loaded'
    assert not torch.equal(after[prefix + 'hm.0.0.weight'], before[prefix + 'hm.0.0.weight'])
    assert original['hm.2.weight'][0] == 80
    for key in (prefix + 'hm.0.2.weight', prefix + 'hm.0.2.bias'):
        assert torch.equal(after[key], before[key]), f'{key} should keep its initialisation'
    assert torch.all(after[prefix + 'hm.0.2.bias'] == -2.19)
    for name in ('hps', 'hm_hp', 'hp_offset'):
        key = f'{prefix}{name}.0.2.weight'
        assert torch.equal(after[key], before[key])
    assert not torch.equal(after['backbone.base_layer.0.weight'],
                           before['backbone.base_layer.0.weight'])
    # ... but tools/test.py refuses it as a pose checkpoint
    from mmcenternet.utils.config_checks import check_checkpoint_matches
    from mmcenternet.utils.errors import UserError
    with pytest.raises(UserError, match='24 of 24 pose-head weights are absent'):
        check_checkpoint_matches(cfg, dst)


@pytest.mark.parametrize('path,epochs,milestones', [(CONFIGS[0], 140, [90, 120]),
                                                    (CONFIGS[1], 320, [270, 300])])
def test_configs(path, epochs, milestones):
    c = Config.fromfile(path)
    assert c.default_scope == 'mmpose'
    assert c.custom_imports['imports'] == ['mmcenternet']
    assert c.train_cfg.max_epochs == epochs
    assert c.param_scheduler[0].milestones == milestones and c.param_scheduler[0].end == epochs
    assert c.optim_wrapper.optimizer.type == 'Adam' and c.optim_wrapper.optimizer.lr == 5e-4
    assert c.optim_wrapper.optimizer.weight_decay == 0
    assert c.train_dataloader.batch_size * 8 == 128 == c.auto_scale_lr.base_batch_size
    assert c.model.test_cfg.flip_test is True
    assert c.model.head.max_objs == 32
    assert c.test_evaluator.score_mode == 'bbox' and c.test_evaluator.nms_mode == 'none'
    assert 'ctdet' in c.load_from
    assert c.visualizer.type == 'Visualizer' and 'visualization' not in c.default_hooks


def _image(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)


def test_small_train_and_test_step(cfg, tmp_path):
    """A 64x64 training step (pipeline -> preprocessor -> loss -> backward) and a flip-test
    prediction mapped back to the image through the keep_res canvas."""
    torch.manual_seed(0)
    np.random.seed(0)
    model = _build(cfg.model)
    img_path = str(tmp_path / 'img.jpg')
    cv2.imwrite(img_path, _image(50, 70))
    train = [dict(t) for t in cfg.train_pipeline]
    train[1].update(input_size=(64, 64))
    with DefaultScope.overwrite_default_scope('mmpose'):
        train_pipe, test_pipe = Compose(train), Compose(cfg.test_pipeline)
    kps = np.random.default_rng(1).uniform(5, 45, (2, 17, 2)).astype(np.float32)
    info = dict(img_path=img_path, img_id=1, id=[1, 2], bbox=np.array(
        [[5, 5, 40, 45], [30, 10, 65, 48]], np.float32), bbox_score=np.ones(2, np.float32),
                keypoints=kps, keypoints_visible=np.ones((2, 17), np.float32),
                flip_indices=[0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15])
    batch = pseudo_collate([train_pipe(dict(info)) for _ in range(2)])
    model.train()
    data = model.data_preprocessor(batch, training=True)
    assert data['inputs'].shape == (2, 3, 64, 64)
    losses = model(**data, mode='loss')
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert model.head.head_module.hps[0][2].weight.grad.abs().sum() > 0

    model.eval()
    test = test_pipe(dict(img_path=img_path, img_id=1, id=[], flip_indices=info['flip_indices']))
    assert tuple(test['inputs'].shape[1:]) == (64, 96)
    with torch.no_grad():
        out = model.test_step(pseudo_collate([test]))[0]
        # the same maps without flip, decoded by hand, mapped to the image by the canvas offset
        model.test_cfg['flip_test'] = False
        plain = model.test_step(pseudo_collate([test]))[0]
        inputs = model.data_preprocessor(pseudo_collate([test]))['inputs']
        maps = model.head.split_stacks(model(inputs, None, mode='tensor'))[-1]
    pred = out.pred_instances
    assert pred.keypoints.shape == (100, 17, 2) and pred.bboxes.shape == (100, 4)
    assert pred.keypoint_scores.shape == (100, 17) and np.all(pred.keypoint_scores == 1)
    assert np.all(np.diff(pred.bbox_scores) <= 0)
    maps['hm'], maps['hm_hp'] = maps['hm'].sigmoid(), maps['hm_hp'].sigmoid()
    dets = model.head.decode_maps(maps)
    top, left = 64 // 2 - 50 // 2, 96 // 2 - 70 // 2
    np.testing.assert_allclose(plain.pred_instances.keypoints,
                               dets['keypoints'][0].numpy() - [left, top], atol=1e-4)
    np.testing.assert_allclose(plain.pred_instances.bboxes,
                               dets['bboxes'][0].numpy() - [left, top, left, top], atol=1e-4)
    assert not np.allclose(plain.pred_instances.bbox_scores, pred.bbox_scores)


def test_multiscale_test_is_refused(cfg):
    from mmcenternet.models.dense_heads import CenterNetPoseHead
    with DefaultScope.overwrite_default_scope('mmpose'):
        head = CenterNetPoseHead(in_channels=4, head_conv=4)
    with pytest.raises(NotImplementedError, match='CenterNetPoseTTAModel'):
        head.predict((torch.zeros(1, 4, 8, 8), ), [], dict(multiscale_test=True))


@pytest.mark.golden
def test_converter_reports_multi_pose(tmp_path):
    src, dst = str(tmp_path / 'mp.pth'), str(tmp_path / 'mp_conv.pth')
    write_original_checkpoint('dla_34_multi_pose', src)
    info = convert_checkpoint(src, dst)
    assert info['task'] == 'multi_pose' and info['num_classes'] == 1
    assert info['heads'] == dict(hm=1, wh=2, reg=2, hps=34, hm_hp=17, hp_offset=2)
    sd = torch.load(dst, map_location='cpu')['state_dict']
    assert sd['head.head_module.hps.0.2.weight'].shape == (34, 256, 1, 1)
    assert not any(k.startswith('bbox_head.') for k in sd)
