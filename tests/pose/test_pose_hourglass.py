# Copyright (c) mmcenternet contributors. All rights reserved.
"""multi_pose Hourglass-104 (multi_pose_hg_1x / 3x): configs, the model against the original
checkpoint layout, and ``tools/train.py`` / ``tools/test.py`` for one iteration each."""
import os
import os.path as osp
from collections import OrderedDict

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from golden import load_json, run_tool
from pose_common import write_keypoint_set

from mmcenternet.utils.convert_official import convert_state_dict, detect_architecture

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = {
    '1x': osp.join(REPO, 'configs', 'centernet_pose', 'hourglass104_1x_coco.py'),
    '3x': osp.join(REPO, 'configs', 'centernet_pose', 'hourglass104_3x_coco.py'),
}
POSE_HEADS = OrderedDict(hm=1, wh=2, hps=34, reg=2, hm_hp=17, hp_offset=2)


@pytest.fixture(scope='module')
def pose_hg():
    """The 1x config's model (191 M backbone parameters: built once)."""
    from mmpose.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmpose'):
        return MODELS.build(Config.fromfile(CONFIGS['1x']).model).eval()


@pytest.mark.parametrize('name, epochs, milestones', [('1x', 50, [40]), ('3x', 150, [130])])
def test_config_is_the_original_recipe(name, epochs, milestones):
    cfg = Config.fromfile(CONFIGS[name])
    assert cfg.train_cfg.max_epochs == epochs
    assert [(s.type, s.milestones, s.gamma) for s in cfg.param_scheduler] == [
        ('MultiStepLR', milestones, 0.1)]
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay) == ('Adam', 2.5e-4, 0)
    assert cfg.auto_scale_lr.base_batch_size == 24 and cfg.train_dataloader.batch_size == 6
    # initialised from the converted ctdet hourglass model, as the original recipe
    assert cfg.load_from == 'checkpoints/hourglass104_coco.pth'
    # keep_res test on a canvas of multiples of 128, flip test by default
    for pipeline in (cfg.val_dataloader.dataset.pipeline, cfg.test_dataloader.dataset.pipeline):
        assert [t['size_mask'] for t in pipeline if t['type'] == 'CenterNetPad'] == [127]
    assert cfg.model.data_preprocessor.pad_size_divisor == 128
    assert cfg.model.test_cfg.flip_test is True
    # multi-scale test (--tta): the original's scales, every view padded to multiples of 128
    assert cfg.tta_model.type == 'CenterNetPoseTTAModel'
    tta = [t for t in cfg.tta_pipeline if t['type'] == 'TestTimeAug'][0]
    assert [t['scale'] for t in tta['transforms'][0]] == [0.5, 0.75, 1.0, 1.25, 1.5]
    assert [t['size_mask'] for t in tta['transforms'][1]] == [127]
    affine = cfg.train_dataloader.dataset.pipeline[1]
    assert affine['type'] == 'CenterNetPoseRandomAffine' and affine['input_size'] == (512, 512)


def _original_multi_pose_hourglass_keys():
    """multi_pose_hg keys / shapes in the original layout as meta tensors: the ctdet hourglass
    backbone of the golden manifest and, per stack, ``<head>.<s>.0.conv.*`` (3x3 conv 256 with
    bias) + ``<head>.<s>.1.*`` (1x1 conv) for the six pose heads (spec 2.4)."""
    manifest = load_json('nets', 'manifest_hourglass_ctdet.json')
    sd = OrderedDict((e['key'], torch.empty(e['shape'], device='meta'))
                     for e in manifest['entries'] if e['key'].split('.')[0] not in POSE_HEADS)
    for name, channels in POSE_HEADS.items():
        for s in range(2):
            sd[f'{name}.{s}.0.conv.weight'] = torch.empty(256, 256, 3, 3, device='meta')
            sd[f'{name}.{s}.0.conv.bias'] = torch.empty(256, device='meta')
            sd[f'{name}.{s}.1.weight'] = torch.empty(channels, 256, 1, 1, device='meta')
            sd[f'{name}.{s}.1.bias'] = torch.empty(channels, device='meta')
    return sd


def test_model_has_the_original_layout(pose_hg):
    sd = pose_hg.state_dict()
    # centernet-spec 2.6: a multi_pose hourglass checkpoint has 1008 keys
    assert len(sd) == 1008
    head = pose_hg.head
    assert head.num_stacks == 2 and head.head_module.heads == dict(POSE_HEADS)
    for s in range(2):
        # only heat-map biases are set: `hm` and `hm_hp` (the original tests 'hm' in the name)
        assert torch.all(head.head_module.hm[s][-1].bias == -2.19)
        assert torch.all(head.head_module.hm_hp[s][-1].bias == -2.19)
        assert not torch.all(head.head_module.hps[s][-1].bias == 0)  # PyTorch default init


@pytest.mark.golden
def test_original_checkpoint_converts_onto_the_model(pose_hg):
    """An original multi_pose_hg checkpoint converts onto exactly the model's keys and shapes."""
    sd = pose_hg.state_dict()
    original = _original_multi_pose_hourglass_keys()
    assert len(original) == 1008  # centernet-spec 2.6
    info = detect_architecture(original)
    assert (info['arch'], info['task'], info['num_stacks']) == ('hourglass', 'multi_pose', 2)
    converted = convert_state_dict(original, info)
    assert {k: tuple(v.shape) for k, v in converted.items()} == \
        {k: tuple(v.shape) for k, v in sd.items()}


def test_two_stacks_trained_last_stack_tested(pose_hg):
    x = torch.zeros(1, 3, 128, 256)
    with torch.no_grad():
        feats = pose_hg.extract_feat(x)
        outs = pose_hg.head(feats)
    assert len(feats) == 2 and tuple(feats[1].shape) == (1, 256, 32, 64)
    # stack 0 heads, then stack 1 heads, each in the original order
    assert [o.shape[1] for o in outs] == list(POSE_HEADS.values()) * 2


def test_input_not_a_multiple_of_128_is_a_clear_error(pose_hg):
    with pytest.raises(ValueError, match=r'input of 96x256 pixels .* multiples of 128'):
        pose_hg.extract_feat(torch.zeros(1, 3, 96, 256))


@pytest.mark.slow
@pytest.mark.parametrize('name', ['1x', '3x'])
def test_train_and_test_tools_run_the_config(name, tmp_path):
    """One training iteration (128 x 128 crops), its checkpoint, then the flip test + keypoint AP."""
    root = str(tmp_path)
    write_keypoint_set(root)
    work = osp.join(root, 'work')
    data = [
        f'train_dataloader.dataset.data_root={root}/', 'train_dataloader.dataset.ann_file=kp.json',
        'train_dataloader.dataset.data_prefix.img=', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'train_dataloader.batch_size=2',
        f'test_dataloader.dataset.data_root={root}/', 'test_dataloader.dataset.ann_file=kp.json',
        'test_dataloader.dataset.data_prefix.img=', f'test_evaluator.ann_file={root}/kp.json',
        'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False'
    ]
    log = run_tool(
        'tools/train.py', CONFIGS[name], '--no-validate', '--work-dir', work, '--cfg-options',
        'load_from=None', *data, 'train_dataloader.dataset.pipeline.1.input_size=(128,128)',
        'train_cfg.max_epochs=1', 'default_hooks.checkpoint.interval=1',
        'default_hooks.checkpoint.save_optimizer=False', 'default_hooks.checkpoint.save_last=False'
    )
    for term in ('loss_hm', 'loss_wh', 'loss_offset', 'loss_hps', 'loss_hm_hp', 'loss_hp_offset'):
        assert term in log
    assert 'Epoch(train) [1][1/1]' in log  # one batch of 2 (3 annotated images, drop_last)
    ckpt = osp.join(work, 'epoch_1.pth')
    log = run_tool('tools/test.py', CONFIGS[name], ckpt, '--work-dir', osp.join(root, 'test'),
                   '--cfg-options', *data)
    assert 'coco/AP' in log  # flip test on 128-multiple canvases, then mmpose's keypoint AP
    os.remove(ckpt)  # 780 MB
