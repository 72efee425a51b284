# Copyright (c) mmcenternet contributors. All rights reserved.
"""The head interface of every task (``CenterNetTaskHead``): each head implements it, the test
path is made of it, test settings have one home, and the consumers (TTA, exporter) call it
without asking which task a head solves."""
import warnings

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample

from mmcenternet.models.dense_heads import (CenterNetDetHead, CenterNetExdetHead,
                                            CenterNetPoseHead, CenterNetTaskHead, task_head_of)

BODY = dict(backbone=dict(type='ResNet', depth=18, base_channels=8, out_indices=(3, ),
                          norm_eval=False, init_cfg=None),
            neck=dict(type='CTResNetNeck', in_channels=64, num_deconv_filters=(16, 16, 16),
                      num_deconv_kernels=(4, 4, 4), use_dcn=False),
            data_preprocessor=dict(type='DetDataPreprocessor', mean=[0, 0, 0], std=[1, 1, 1]))


def _maps(head, h=8, w=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(1, c, h, w, generator=g) for c in head.head_module.heads.values())


def _heads():
    return [
        CenterNetDetHead(num_classes=3, in_channels=8, head_conv=8),
        CenterNetExdetHead(num_classes=3, in_channels=8, head_conv=8,
                           test_cfg=dict(topk=10, num_dets=50)),
        CenterNetPoseHead(in_channels=8, num_keypoints=5, head_conv=8),
    ]


def _meta(h=32, w=48):
    return dict(img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0),
                homography_matrix=np.eye(3))


@pytest.mark.parametrize('head', _heads(), ids=lambda h: h.task)
def test_every_head_implements_the_interface(head):
    assert isinstance(head, CenterNetTaskHead)
    assert head.task in ('ctdet', 'exdet', 'multi_pose')
    assert set(head.TEST_DEFAULTS) <= set(head.test_cfg)  # completed at construction
    outs = _maps(head)
    decoded = head.decode_outputs(outs)
    results = head.results_from_decoded(decoded, [_meta()], rescale=True)
    assert len(results) == 1
    decoder = head.export_decoder()
    assert decoder.output_names[:3] == ('bboxes', 'scores', 'labels')
    with torch.no_grad():
        exported = decoder(outs)
    assert exported[0].shape[1] == decoder.rows


def test_predict_is_decode_then_results():
    head = CenterNetDetHead(num_classes=3, in_channels=8, head_conv=8)
    outs = _maps(head)
    a = head.predict_by_feat(outs, [_meta()])[0]
    b = head.results_from_decoded(head.decode_outputs(outs), [_meta()])[0]
    assert torch.equal(a.bboxes, b.bboxes) and torch.equal(a.scores, b.scores)


def test_ctdet_export_decoder_gives_the_head_decoding():
    head = CenterNetDetHead(num_classes=3, in_channels=8, head_conv=8, test_cfg=dict(topk=7))
    outs = _maps(head, 10, 10)
    bboxes, scores, labels = head.decode_outputs(outs)
    with torch.no_grad():
        eb, es, el = head.export_decoder()(outs)
    assert eb.shape == (1, 7, 4)
    torch.testing.assert_close(es, scores)
    torch.testing.assert_close(eb, bboxes)
    assert torch.equal(el, labels)


def test_test_settings_have_one_home():
    head = CenterNetDetHead(num_classes=3, in_channels=8, head_conv=8,
                            test_cfg=dict(topk=5, local_maximum_kernel=1))
    assert head.test_cfg['topk'] == 5
    assert head.decode_outputs(_maps(head))[1].shape == (1, 5)
    # the coder's old keys still work, with a warning, unless they contradict test_cfg
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        head = CenterNetDetHead(num_classes=3, in_channels=8, head_conv=8,
                                bbox_coder=dict(type='CenterNetBBoxCoder', topk=9))
    assert head.test_cfg['topk'] == 9
    assert any('set test_cfg.topk instead' in str(w.message) for w in caught)
    with pytest.raises(ValueError, match='topk is set twice, topk=5 in test_cfg and topk=9 in '
                       'bbox_coder'):
        CenterNetDetHead(num_classes=3, in_channels=8, head_conv=8, test_cfg=dict(topk=5),
                         bbox_coder=dict(type='CenterNetBBoxCoder', topk=9))
    with pytest.raises(ValueError, match='num_dets is set twice'):
        CenterNetExdetHead(num_classes=3, in_channels=8, head_conv=8, test_cfg=dict(num_dets=5),
                           decoder=dict(type='CenterNetExdetDecoder', num_dets=6))


class _FourthTaskHead(CenterNetDetHead):
    """A made-up task: the consumers must reach it through the interface alone."""

    task = 'fourth'
    calls = []

    def tta_predict_view(self, model, inputs, samples, flip):
        self.calls.append(('view', flip))
        return [('view', i) for i in range(len(samples))]

    def tta_merge(self, views, soft_nms=None, max_per_img=None, nms_single_scale=False):
        self.calls.append(('merge', len(views)))
        from mmengine.structures import InstanceData
        return InstanceData(scores=torch.zeros(0))


def test_a_fourth_task_needs_no_change_in_the_consumers():
    from mmcenternet.deployment.exporter import make_decoder
    from mmcenternet.deployment.utils import task_of
    from mmcenternet.models.test_time_augs import CenterNetTTAModel
    if 'FourthTaskHead' not in MODELS.module_dict:
        MODELS.register_module(name='FourthTaskHead', module=_FourthTaskHead)
    model = MODELS.build(dict(type='CenterNetDetector', **BODY,
                              bbox_head=dict(type='FourthTaskHead', num_classes=2, in_channels=16,
                                             head_conv=8)))
    assert task_head_of(model) is model.bbox_head and task_of(model) == 'fourth'
    assert make_decoder(model)[2] == 'fourth'
    tta = CenterNetTTAModel(module=model, flip=True)
    sample = DetDataSample()
    sample.set_metainfo(_meta(32, 32))
    x = torch.zeros(3, 32, 32)
    tta.test_step(dict(inputs=[[x], [x]], data_samples=[[sample], [sample]]))
    assert _FourthTaskHead.calls == [('view', True), ('view', True), ('merge', 2)]
