# Copyright (c) mmcenternet contributors. All rights reserved.
"""The separable peak test equals max-pooling bit for bit; decoding runs in fp32 under AMP."""
import pytest
import torch
import torch.nn.functional as F

from mmcenternet.models.utils.heatmap_ops import heatmap_nms, window_max


SHAPES = [(1, 80, 112, 168), (2, 3, 1, 5), (1, 2, 2, 1), (1, 1, 1, 1), (2, 4, 3, 2), (1, 3, 7, 9)]


@pytest.mark.parametrize('shape,kernel', [(s, k) for s in SHAPES for k in (1, 3, 5, 7)] +
                         [((2, 4, 3, 2), 2), ((1, 3, 7, 9), 4)])
def test_window_max_is_max_pooling(shape, kernel):
    gen = torch.Generator().manual_seed(kernel)
    heat = torch.rand(shape, generator=gen)
    heat[heat > 0.8] = 0.8  # plateaus: every maximum of a plateau is kept
    heat[..., ::3, ::2] = torch.rand(heat[..., ::3, ::2].shape, generator=gen)
    ref = F.max_pool2d(heat, kernel, stride=1, padding=(kernel - 1) // 2)
    assert torch.equal(window_max(heat, kernel), ref)
    if kernel % 2:
        assert torch.equal(heatmap_nms(heat, kernel), heat * (ref == heat).float())


def test_peak_test_when_traced_is_max_pooling():
    heat = torch.rand(1, 2, 5, 6)
    graph = torch.jit.trace(lambda h: heatmap_nms(h, 3), (heat, ))
    assert 'max_pool2d' in str(graph.graph)
    assert torch.equal(graph(heat), heatmap_nms(heat, 3))


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_det_head_decodes_in_fp32_under_autocast(dtype):
    from mmdet.structures import DetDataSample

    from mmcenternet.models.dense_heads import CenterNetDetHead
    head = CenterNetDetHead(num_classes=3, in_channels=8, head_conv=8,
                            test_cfg=dict(topk=10, max_per_img=10)).eval()
    feat = torch.randn(1, 8, 12, 16)
    sample = DetDataSample(metainfo=dict(img_shape=(48, 64), ori_shape=(48, 64),
                                         scale_factor=(1.0, 1.0), batch_input_shape=(48, 64)))
    with torch.no_grad():
        ref = head.predict((feat, ), [sample], rescale=True)[0]
        with torch.autocast('cpu', dtype=dtype):
            outs = head((feat, ))
            res = head.predict_by_feat(outs, [sample.metainfo], rescale=True)[0]
    assert outs[0].dtype == dtype
    assert res.scores.dtype == torch.float32 and res.bboxes.dtype == torch.float32
    assert (res.scores - ref.scores).abs().max() < 2e-2
