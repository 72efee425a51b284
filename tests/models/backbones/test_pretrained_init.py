# Copyright (c) mmcenternet contributors. All rights reserved.
"""ImageNet initialisation from files in the published layouts (DLA authors, torchvision)."""
import torch
from mmdet.registry import MODELS


def _published_dla34(path):
    """A file laid out like dla34-ba72cf86.pth: DLA keys plus the 1000-way ``fc`` classifier."""
    ref = MODELS.build(dict(type='DLA', depth=34))
    sd = {k: torch.randn_like(v) if v.is_floating_point() else v
          for k, v in ref.state_dict().items()}
    sd['fc.weight'] = torch.randn(1000, 512, 1, 1)
    sd['fc.bias'] = torch.randn(1000)
    torch.save(sd, path)
    return sd


def _torchvision_resnet18(path):
    """A file laid out like resnet18-5c106cde.pth (torchvision keys, ``fc`` head)."""
    ref = MODELS.build(dict(type='ResNet', depth=18))
    sd = {k: torch.randn_like(v) if v.is_floating_point() else v
          for k, v in ref.state_dict().items()}
    sd['fc.weight'] = torch.randn(1000, 512)
    sd['fc.bias'] = torch.randn(1000)
    torch.save(sd, path)
    return sd


def test_dla34_imagenet_layout_loads_into_the_backbone(tmp_path):
    path = str(tmp_path / 'dla34-ba72cf86.pth')
    sd = _published_dla34(path)
    model = MODELS.build(
        dict(type='DLA', depth=34, init_cfg=dict(type='Pretrained', checkpoint=path)))
    model.init_weights()
    own = model.state_dict()
    assert all(torch.equal(own[k], sd[k]) for k in own)
    assert not hasattr(model, 'fc')


def test_torchvision_resnet_layout_loads_into_the_detector(tmp_path):
    path = str(tmp_path / 'resnet18-5c106cde.pth')
    sd = _torchvision_resnet18(path)
    from mmengine.config import Config
    from golden import REPO
    cfg = Config.fromfile(f'{REPO}/configs/centernet/resdcn18_1x_coco.py')
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=path)
    model = MODELS.build(cfg.model)
    model.init_weights()
    own = model.backbone.state_dict()
    assert all(torch.equal(own[k], sd[k]) for k in own)
    # the neck keeps CenterNet's initialisation: bilinear [:, 0] slice, BN weight 1 / bias 0
    up = model.neck.deconv_layers[1].conv.weight
    assert torch.allclose(up[0, 0, 0], torch.tensor([0.0625, 0.1875, 0.1875, 0.0625]))
    assert torch.all(model.neck.deconv_layers[0].bn.weight == 1)
