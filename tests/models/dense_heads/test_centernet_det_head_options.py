# Copyright (c) mmcenternet contributors. All rights reserved.
"""The ctdet head's training options from ground-truth boxes (the losses themselves are checked
against the original in tests/integration/golden/test_options_golden.py), and the option
combinations the original cannot run, refused with the setting named."""
import pytest
import torch
from mmengine.structures import InstanceData

from mmcenternet.models.dense_heads import CenterNetDetHead

GT = [InstanceData(bboxes=torch.tensor([[4., 4., 40., 30.], [20., 10., 60., 50.]]),
                   labels=torch.tensor([1, 2]))]


def _head(**kw):
    torch.manual_seed(0)
    return CenterNetDetHead(num_classes=3, in_channels=8, head_conv=8, **kw)


@pytest.mark.parametrize('options', [
    dict(dense_wh=True),
    dict(cat_spec_wh=True),
    dict(loss_heatmap=dict(type='CenterNetMSELoss'),
         target_generator=dict(type='CenterNetTargetGenerator', heatmap='msra', hm_gauss=2)),
    dict(loss_wh=dict(type='CenterNetRegSmoothL1Loss', loss_weight=0.1),
         loss_offset=dict(type='CenterNetRegSmoothL1Loss')),
    dict(loss_offset=None),
], ids=['dense_wh', 'cat_spec_wh', 'mse_loss', 'sl1', 'not_reg_offset'])
def test_options_train_from_boxes(options):
    head = _head(**options)
    outs = head([torch.randn(1, 8, 16, 16)])
    losses = head.loss_by_feat(outs, GT)
    assert set(losses) == ({'loss_heatmap', 'loss_wh'} if options.get('loss_offset', 1) is None
                           else {'loss_heatmap', 'loss_wh', 'loss_offset'})
    total = sum(losses.values())
    assert torch.isfinite(total) and total > 0
    total.backward()
    if options.get('cat_spec_wh'):
        assert head.head_module.heads['wh'] == 6
        with torch.no_grad():
            bboxes, scores, labels = head.decode_outputs(outs)
        assert bboxes.shape == (1, 100, 4)


def test_class_specific_targets_fill_the_class_columns():
    t = _head(cat_spec_wh=True).target_generator(
        [GT[0].bboxes], [GT[0].labels], 3, (16, 16), stride=4, cat_spec_wh=True)
    assert t['cat_spec_wh'].shape == (1, 128, 6)
    assert torch.equal(t['cat_spec_mask'][0, 0], torch.tensor([0., 0, 1, 1, 0, 0]))
    assert torch.equal(t['cat_spec_wh'][0, 1, 4:], t['wh'][0, 1])


def test_combinations_the_original_cannot_run_are_refused():
    with pytest.raises(ValueError, match='dense_wh and cat_spec_wh together cannot run'):
        _head(dense_wh=True, cat_spec_wh=True)
    with pytest.raises(ValueError, match='norm_wh with cat_spec_wh cannot run'):
        _head(norm_wh=True, cat_spec_wh=True)
    with pytest.raises(ValueError, match="loss_heatmap=CenterNetMSELoss with "
                       "target_generator.heatmap='umich'"):
        _head(loss_heatmap=dict(type='CenterNetMSELoss'))
    with pytest.raises(ValueError, match="target_generator.heatmap must be one of"):
        _head(target_generator=dict(type='CenterNetTargetGenerator', heatmap='gauss'))
