# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNetHourglassNet: mmdet's HourglassNet plus the original's input-size rule."""
import pytest
import torch
from mmdet.models.backbones import HourglassNet
from mmdet.registry import MODELS


def _tiny(**kw):
    """Two stacks, three levels (size divisor 4 * 2**3 = 32), few channels: a fast stand-in."""
    cfg = dict(type='CenterNetHourglassNet', downsample_times=3, num_stacks=2,
               stage_channels=(8, 8, 16, 16), stage_blocks=(1, 1, 1, 2), feat_channel=8)
    cfg.update(kw)
    return MODELS.build(cfg).eval()


def test_same_network_as_mmdet():
    torch.manual_seed(0)
    ours = _tiny()
    theirs = HourglassNet(downsample_times=3, num_stacks=2, stage_channels=(8, 8, 16, 16),
                          stage_blocks=(1, 1, 1, 2), feat_channel=8).eval()
    theirs.load_state_dict(ours.state_dict(), strict=True)  # identical parameters and buffers
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        for a, b in zip(ours(x), theirs(x)):
            assert a.shape == (2, 8, 16, 24)
            torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize('shape', [(64, 80), (48, 64), (100, 100)])
def test_sides_not_multiples_of_the_divisor_are_refused(shape):
    net = _tiny()
    assert net.size_divisor == 32
    h, w = shape
    with pytest.raises(ValueError, match=rf'input of {h}x{w} pixels \(HxW\); both sides must be '
                       r'multiples of 32 .*CenterNetPad\(size_mask=31\)'):
        net(torch.zeros(1, 3, h, w))


def test_hourglass104_divisor_is_128():
    from mmengine.config import Config
    from golden import REPO
    cfg = Config.fromfile(f'{REPO}/configs/_base_/models/centernet_hourglass104.py')
    assert cfg.model.backbone.type == 'CenterNetHourglassNet'
    assert cfg.model.backbone.downsample_times == 5  # 4 * 2**5 = 128
