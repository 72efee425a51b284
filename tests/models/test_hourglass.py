# Copyright (c) mmcenternet contributors. All rights reserved.
"""Hourglass-104 ctdet: model, converter (CenterNet, ExtremeNet, CornerNet files), config, loss."""
import importlib.util
import os.path as osp
import tempfile
from collections import OrderedDict

import numpy as np
import pytest
import torch
from golden import REPO, dense, load_json, load_npz, write_original_checkpoint
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmengine.structures import InstanceData

from mmcenternet.utils.checkpoint_io import torch_load
from mmcenternet.utils.convert_official import (OfficialCheckpointError, convert_checkpoint,
                                                convert_init_state_dict, convert_state_dict,
                                                detect_architecture, detect_hourglass_source)

CONFIG = osp.join(REPO, 'configs', 'centernet', 'hourglass104_coco.py')
HEADS = ('hm', 'wh', 'reg')


@pytest.fixture(scope='module')
def cfg():
    return Config.fromfile(CONFIG)


@pytest.fixture(scope='module')
def hg_model(cfg):
    """The config's model (built once: HG-104 has 191 M parameters)."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdet'):
        return MODELS.build(cfg.model).eval()


@pytest.fixture(scope='module')
def golden_model(hg_model):
    """``hg_model`` loaded from the golden original-layout checkpoint via the converter file path.

    Returns ``(model, npz, convert info, converted state dict)``.
    """
    z = load_npz('nets', 'hourglass_ctdet.npz')
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = osp.join(tmp, 'orig.pth'), osp.join(tmp, 'conv.pth')
        write_original_checkpoint('hourglass_ctdet', src, seed=int(z['weight_seed']))
        info = convert_checkpoint(src, dst)
        # strict: every model weight comes from the converted file and nothing is left over
        load_checkpoint(hg_model, dst, map_location='cpu', strict=True)
        converted = torch_load(dst, map_location='cpu', allow_pickle=False)
    return hg_model, z, info, converted


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


@pytest.mark.golden
def test_converted_hourglass_matches_original_both_stacks(golden_model):
    model, z, info, converted = golden_model
    assert (info['arch'], info['depth'], info['task'], info['num_stacks']) == ('hourglass', 104,
                                                                               'ctdet', 2)
    assert converted['meta']['arch'] == 'hourglass' and converted['meta']['epoch'] == 140
    with torch.no_grad():
        outs = model(torch.from_numpy(z['input']), mode='tensor')
    # the original's order: stack 0 heads, then stack 1 heads
    names = [f'out{s}_{h}' for s in (0, 1) for h in HEADS]
    assert len(outs) == len(names)
    for name, out in zip(names, outs):
        assert tuple(out.shape) == z[name].shape, name
        np.testing.assert_allclose(out.numpy(), z[name], atol=1e-4, rtol=0, err_msg=name)


@pytest.mark.golden
def test_hourglass_head_tests_on_last_stack_and_trains_on_both(cfg):
    z = load_npz('nets', 'hourglass_ctdet.npz')
    head = MODELS.build(cfg.model.bbox_head)
    outs = tuple(torch.from_numpy(z[f'out{s}_{h}']) for s in (0, 1) for h in HEADS)
    meta = dict(img_shape=(128, 128), ori_shape=(128, 128), scale_factor=(1.0, 1.0))
    res = head.predict_by_feat(outs, [meta], rescale=False)[0]
    # testing decodes the last stack only
    ref_b, ref_s, ref_l = head.decode_maps(*(outs[3].sigmoid(), ) + outs[4:])
    np.testing.assert_array_equal(res.scores.numpy(), ref_s[0].numpy())
    np.testing.assert_array_equal(res.labels.numpy(), ref_l[0].numpy())
    np.testing.assert_array_equal(res.bboxes.numpy(), ref_b[0].numpy())
    # training: every term is the mean of the two stacks' terms
    gt = [
        InstanceData(bboxes=torch.tensor([[10., 20., 70., 100.], [30., 30., 50., 41.]]),
                     labels=torch.tensor([3, 7]))
    ]
    losses = head.loss_by_feat(outs, gt)
    per_stack = [head.loss_by_feat(outs[s * 3:s * 3 + 3] * 2, gt) for s in (0, 1)]
    for key in ('loss_center_heatmap', 'loss_wh', 'loss_offset'):
        assert per_stack[0][key] != per_stack[1][key]
        expected = (per_stack[0][key] + per_stack[1][key]) / 2
        np.testing.assert_allclose(losses[key].item(), expected.item(), rtol=1e-6)


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


class _StoredTargets(torch.nn.Module):
    """Stands in for the target generator: returns the golden targets."""

    def __init__(self, targets):
        super().__init__()
        self.targets = targets

    def forward(self, bboxes, labels, num_classes, feat_shape, stride=4):
        assert tuple(feat_shape) == tuple(self.targets['hm'].shape[-2:])
        return self.targets


@pytest.mark.golden
def test_two_stack_ctdet_loss_golden(cfg):
    """golden README section 7: CtdetLoss with num_stacks 2 (``--arch hourglass``)."""
    z = load_npz('losses.npz')
    t = dict(hm=torch.from_numpy(dense(z, 'ct_target_hm')),
             wh=torch.from_numpy(z['ct_target_wh']),
             reg=torch.from_numpy(z['ct_target_reg']),
             ind=torch.from_numpy(z['ct_target_ind']),
             reg_mask=torch.from_numpy(z['ct_target_reg_mask'].astype(np.float32)))
    outs = []
    for s in (0, 1):
        outs += [
            torch.from_numpy(dense(z, f'ct_s{s}_hm_logits')),
            torch.from_numpy(z[f'ct_s{s}_wh'].astype(np.float32)),
            torch.from_numpy(z[f'ct_s{s}_reg'].astype(np.float32))
        ]
    head = MODELS.build(cfg.model.bbox_head)  # the hourglass head: num_stacks 2
    assert head.num_stacks == 2
    head.target_generator = _StoredTargets(t)
    gt = [
        InstanceData(bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long))
        for _ in range(2)
    ]
    losses = head.loss_by_feat(tuple(outs), gt)
    np.testing.assert_allclose(losses['loss_center_heatmap'].item(),
                               z['ctdet_2stack_hm_loss'],
                               rtol=1e-5)
    np.testing.assert_allclose(losses['loss_wh'].item() / 0.1, z['ctdet_2stack_wh_loss'], rtol=1e-5)
    np.testing.assert_allclose(losses['loss_offset'].item(), z['ctdet_2stack_off_loss'], rtol=1e-5)
    np.testing.assert_allclose(sum(losses.values()).item(), z['ctdet_2stack_loss'], rtol=1e-5)


def _original_keys_with_shapes():
    """The original hourglass ctdet keys / shapes (golden manifest) as meta tensors."""
    manifest = load_json('nets', 'manifest_hourglass_ctdet.json')
    return OrderedDict(
        (e['key'], torch.empty(e['shape'], device='meta', dtype=getattr(torch, e['dtype'])))
        for e in manifest['entries'])


def _extremenet_head(name, channels, stacks=2):
    """An ExtremeNet/CornerNet-style head ``<name>.<s>.0.conv.*`` + ``<name>.<s>.1.*``."""
    out = OrderedDict()
    for s in range(stacks):
        out[f'{name}.{s}.0.conv.weight'] = torch.empty(256, 256, 3, 3, device='meta')
        out[f'{name}.{s}.0.conv.bias'] = torch.empty(256, device='meta')
        out[f'{name}.{s}.1.weight'] = torch.empty(channels, 256, 1, 1, device='meta')
        out[f'{name}.{s}.1.bias'] = torch.empty(channels, device='meta')
    return out


@pytest.mark.golden
def test_extremenet_checkpoint_initialises_the_backbone(hg_model):
    original = _original_keys_with_shapes()
    # ExtremeNet_500000.pkl: CenterNet's backbone keys, ExtremeNet's heads, written by
    # PyTorch 0.4.0 (no num_batches_tracked)
    ext = OrderedDict((k, v) for k, v in original.items()
                      if k.split('.')[0] not in HEADS and not k.endswith('num_batches_tracked'))
    for name in ('t_heats', 'l_heats', 'b_heats', 'r_heats', 'ct_heats'):
        ext.update(_extremenet_head(name, 80))
    for name in ('t_regrs', 'l_regrs', 'b_regrs', 'r_regrs'):
        ext.update(_extremenet_head(name, 2))
    assert detect_hourglass_source(ext) == 'extremenet'
    own = hg_model.state_dict()
    backbone = {k: v for k, v in own.items() if k.startswith('backbone.')}

    new, info = convert_init_state_dict(ext, 'ctdet')
    assert info['source'] == 'extremenet' and info['kept_heads'] == []
    assert info['dropped'] == [
        'hm_t', 'hm_l', 'hm_b', 'hm_r', 'hm_c', 'reg_t', 'reg_l', 'reg_b', 'reg_r'
    ]
    assert set(new) == set(backbone)  # the whole backbone, counters added, no head
    for key, value in new.items():
        assert tuple(value.shape) == tuple(backbone[key].shape), key

    # the same file as an exdet initialisation keeps ExtremeNet's (renamed) heads
    new, info = convert_init_state_dict(ext, 'exdet')
    assert info['kept_heads'] == [
        'hm_t', 'hm_l', 'hm_b', 'hm_r', 'hm_c', 'reg_t', 'reg_l', 'reg_b', 'reg_r'
    ] and info['dropped'] == []
    assert tuple(new['bbox_head.head_module.hm_c.1.2.weight'].shape) == (80, 256, 1, 1)
    assert tuple(new['bbox_head.head_module.reg_r.0.0.weight'].shape) == (256, 256, 3, 3)

    # CornerNet: same backbone, corner heads dropped
    corner = OrderedDict(
        (k, v) for k, v in ext.items() if not k.split('.')[0].endswith(('_heats', '_regrs')))
    corner.update(_extremenet_head('tl_heats', 80))
    corner.update(_extremenet_head('br_regrs', 2))
    corner['tl_cnvs.p1_conv1.conv.weight'] = torch.empty(128, 256, 3, 3, device='meta')
    assert detect_hourglass_source(corner) == 'cornernet'
    new, info = convert_init_state_dict(corner, 'ctdet')
    assert set(new) == set(backbone) and info['source'] == 'cornernet'
    assert info['dropped'] == ['tl_heats', 'br_regrs', 'tl_cnvs']


@pytest.mark.golden
def test_hourglass_multi_pose_checkpoint_keys():
    """multi_pose_hg checkpoints: the same backbone, six heads per stack on ``head.head_module``."""
    sd = _original_keys_with_shapes()
    for name, ch in (('hps', 34), ('hm_hp', 17), ('hp_offset', 2)):
        sd.update(_extremenet_head(name, ch))
    sd.update(_extremenet_head('hm', 1))
    info = detect_architecture(sd)
    assert (info['arch'], info['task'], info['num_classes']) == ('hourglass', 'multi_pose', 1)
    new = convert_state_dict(sd, info)
    assert len(new) == len(sd)
    assert tuple(new['head.head_module.hps.1.2.weight'].shape) == (34, 256, 1, 1)
    assert tuple(new['head.head_module.hm_hp.0.0.bias'].shape) == (256, )
    assert 'backbone.hourglass_modules.1.low2.low2.low2.low2.low2.3.bn2.running_var' in new
    # initialising the pose model from ctdet_coco_hg keeps the shared heads (hm's 80 classes are
    # then skipped at load time by shape, as in the original's loader)
    new, info = convert_init_state_dict(_original_keys_with_shapes(), 'multi_pose')
    assert info['source'] == 'centernet' and info['kept_heads'] == list(HEADS)
    assert 'head.head_module.wh.1.2.bias' in new


def _tiny_extremenet():
    """A few ExtremeNet keys covering every renaming rule (values are tiny stand-ins)."""
    keys = [
        'pre.0.conv.weight', 'pre.0.bn.running_mean', 'pre.1.conv1.weight', 'pre.1.skip.0.weight',
        'pre.1.skip.1.running_mean', 'kps.0.low1.0.skip.1.bias',
        'kps.1.low2.low2.low2.low2.low2.3.bn2.running_mean', 'kps.0.low2.low3.1.skip.0.weight',
        'cnvs.1.conv.weight', 'cnvs.0.bn.running_mean', 'inters.0.conv2.weight',
        'inters.0.bn1.running_mean', 'inters_.0.0.weight', 'inters_.0.1.running_mean',
        'cnvs_.0.0.weight', 'cnvs_.0.1.running_mean', 't_heats.0.0.conv.weight',
        'ct_heats.1.1.bias', 't_regrs.1.1.weight', 'r_regrs.0.0.conv.bias'
    ]
    return OrderedDict(('module.' + k, torch.full((2, ), float(i))) for i, k in enumerate(keys))


EXPECTED_BACKBONE = {
    'pre.0.conv.weight': 'backbone.stem.0.conv.weight',
    'pre.0.bn.running_mean': 'backbone.stem.0.bn.running_mean',
    'pre.1.conv1.weight': 'backbone.stem.1.0.conv1.weight',
    'pre.1.skip.0.weight': 'backbone.stem.1.0.downsample.0.weight',
    'pre.1.skip.1.running_mean': 'backbone.stem.1.0.downsample.1.running_mean',
    'kps.0.low1.0.skip.1.bias': 'backbone.hourglass_modules.0.low1.0.downsample.1.bias',
    'kps.1.low2.low2.low2.low2.low2.3.bn2.running_mean':
    'backbone.hourglass_modules.1.low2.low2.low2.low2.low2.3.bn2.running_mean',
    'kps.0.low2.low3.1.skip.0.weight':
    'backbone.hourglass_modules.0.low2.low3.1.downsample.0.weight',
    'cnvs.1.conv.weight': 'backbone.out_convs.1.conv.weight',
    'cnvs.0.bn.running_mean': 'backbone.out_convs.0.bn.running_mean',
    'inters.0.conv2.weight': 'backbone.inters.0.conv2.weight',
    'inters.0.bn1.running_mean': 'backbone.inters.0.bn1.running_mean',
    'inters_.0.0.weight': 'backbone.conv1x1s.0.conv.weight',
    'inters_.0.1.running_mean': 'backbone.conv1x1s.0.bn.running_mean',
    'cnvs_.0.0.weight': 'backbone.remap_convs.0.conv.weight',
    'cnvs_.0.1.running_mean': 'backbone.remap_convs.0.bn.running_mean',
}
EXPECTED_EXDET_HEADS = {
    't_heats.0.0.conv.weight': 'bbox_head.head_module.hm_t.0.0.weight',
    'ct_heats.1.1.bias': 'bbox_head.head_module.hm_c.1.2.bias',
    't_regrs.1.1.weight': 'bbox_head.head_module.reg_t.1.2.weight',
    'r_regrs.0.0.conv.bias': 'bbox_head.head_module.reg_r.0.0.bias',
}


def _load_tool():
    path = osp.join(REPO, 'tools', 'model_converters', 'centernet2mmcenternet.py')
    spec = importlib.util.spec_from_file_location('centernet2mmcenternet', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_extremenet_file_through_the_converter_tool(tmp_path, capsys):
    src = tmp_path / 'ExtremeNet_500000.pkl'
    sd = _tiny_extremenet()
    torch.save(sd, str(src))  # ExtremeNet saves the bare state dict (DataParallel keys)
    values = {k[len('module.'):]: v for k, v in sd.items()}
    tool = _load_tool()

    # default: a ctdet initialisation (backbone only)
    tool.main([str(src), str(tmp_path / 'init.pth')])
    assert 'extremenet hourglass checkpoint -> initialisation for ctdet' in capsys.readouterr().out
    ckpt = torch_load(str(tmp_path / 'init.pth'), map_location='cpu', allow_pickle=False)
    new = ckpt['state_dict']
    counters = {k for k in new if k.endswith('num_batches_tracked')}
    assert set(new) - counters == set(EXPECTED_BACKBONE.values())
    for old, key in EXPECTED_BACKBONE.items():
        assert torch.equal(new[key], values[old]), key
    # every BatchNorm (seen through its running_mean) gets the zero counter of the original loader
    assert counters == {
        k.replace('running_mean', 'num_batches_tracked')
        for k in EXPECTED_BACKBONE.values() if k.endswith('running_mean')
    }
    assert all(new[k].item() == 0 and new[k].dtype == torch.int64 for k in counters)
    assert ckpt['meta']['init_for'] == 'ctdet' and ckpt['meta']['source'] == 'xingyizhou/ExtremeNet'

    # --init-for exdet keeps the renamed ExtremeNet heads
    tool.main([str(src), str(tmp_path / 'exdet.pth'), '--init-for', 'exdet'])
    new = torch_load(str(tmp_path / 'exdet.pth'), map_location='cpu',
                     allow_pickle=False)['state_dict']
    for old, key in EXPECTED_EXDET_HEADS.items():
        assert torch.equal(new[key], values[old]), key


def test_hourglass_converter_errors(tmp_path):
    sd = OrderedDict((k[len('module.'):], v) for k, v in _tiny_extremenet().items())
    bad = OrderedDict(sd)
    bad['pre.2.conv.weight'] = torch.zeros(1)
    with pytest.raises(OfficialCheckpointError, match='unexpected Hourglass key pre.2'):
        convert_init_state_dict(bad, 'ctdet')
    with pytest.raises(OfficialCheckpointError, match='unknown task'):
        convert_init_state_dict(sd, 'ddd')
    with pytest.raises(OfficialCheckpointError, match='not a Hourglass-104 checkpoint'):
        convert_init_state_dict({'conv1.weight': torch.zeros(1)}, 'ctdet')
    dla = tmp_path / 'dla.pth'
    torch.save({'epoch': 1, 'state_dict': {'base.base_layer.0.weight': torch.zeros(1)}}, str(dla))
    with pytest.raises(OfficialCheckpointError, match='only Hourglass-104'):
        convert_checkpoint(str(dla), str(tmp_path / 'out.pth'), init_for='ctdet')
