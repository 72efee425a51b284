# Copyright (c) mmcenternet contributors. All rights reserved.
"""The reference implementations the benchmark tools compare mmcenternet against, in one place.

* :func:`mmcv_deform_conv`: mmcv's modulated deformable convolution (the op mmcenternet's fast
  one replaces);
* :class:`MMDetCenterNet`: mmdet's own CenterNet (``centernet_r18-dcnv2``: its test pipeline,
  head and decoding) as timed stages, on the body of the config it is compared with where the
  two share one (ResNet + ``CTResNetNeck``-style neck);
* :func:`loop_targets`: training targets one object at a time in NumPy, as the original's data
  loader builds them;
* :func:`original_exdet_grouping`: exdet grouping scoring all K^4 quadruples at once, as the
  original's ``exct_decode`` does.

Used by the ``benchmark_*.py`` tools beside it.
"""
import copy
import math
import os.path as osp

import cv2
import numpy as np
import torch

__all__ = ['MMDET_CENTERNET', 'mmdet_centernet_config', 'mmcv_deform_conv', 'MMDetCenterNet',
           'load_image', 'loop_targets', 'original_exdet_grouping']

#: mmdet's CenterNet config (mmengine's ``mmdet::`` scope).
MMDET_CENTERNET = 'mmdet::centernet/centernet_r18-dcnv2_8xb16-crop512-140e_coco.py'
PARTS = ('t', 'l', 'b', 'r')


def mmdet_centernet_config() -> str:
    """The file of :data:`MMDET_CENTERNET` inside the installed mmdet."""
    import mmdet
    return osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', 'centernet',
                    'centernet_r18-dcnv2_8xb16-crop512-140e_coco.py')


def mmcv_deform_conv(x, offset, mask, weight, bias, stride, padding, dilation, deform_groups):
    """mmcv's ``modulated_deform_conv2d`` (one group) on contiguous inputs."""
    from mmcv.ops import modulated_deform_conv2d
    return modulated_deform_conv2d(x.contiguous(), offset.contiguous(), mask.contiguous(), weight,
                                   bias, stride, padding, dilation, 1, deform_groups)


def load_image(value):
    """``(path, image)`` -> the image read from ``path``, else a copy of ``image``."""
    path, img = value
    return cv2.imread(path) if path is not None else img.copy()


class MMDetCenterNet:
    """mmdet's ``CenterNet`` detector with its own test pipeline, head and decoding."""

    #: ``(stage, function)`` pairs: ``load``, ``pre``, ``net``, ``dec``, ``post``.
    steps = ()

    def __init__(self, cfg, device):
        from mmdet.registry import MODELS
        from mmengine.dataset import Compose
        from mmengine.hub import get_config
        from mmengine.registry import init_default_scope
        base = get_config(MMDET_CENTERNET)
        init_default_scope('mmdet')
        model_cfg = copy.deepcopy(base.model)
        ours = cfg.model
        head = ours.get('bbox_head', {})
        same_body = (ours.get('backbone', {}).get('type') == 'ResNet' and ours.get(
            'neck', {}).get('type') in ('CTResNetNeck', 'CenterNetResNetNeck'))
        if same_body:
            model_cfg.backbone = copy.deepcopy(ours.backbone)
            # mmdet's own neck (mmcv's DCNv2) with the sizes of ours
            for key in ('in_channels', 'num_deconv_filters', 'num_deconv_kernels', 'use_dcn'):
                if key in ours.neck:
                    model_cfg.neck[key] = copy.deepcopy(ours.neck[key])
            model_cfg.bbox_head.in_channels = head.get('in_channels', 64)
            model_cfg.bbox_head.feat_channels = head.get('head_conv', 64)
            depth = ours.backbone.get('depth', 18)
            dcn = 'DCNv2' if ours.neck.get('use_dcn', True) else 'no DCN'
            width = ours.backbone.get('base_channels', 64)
            self.name = (f'mmdet CenterNet, same sizes (R{depth}'
                         f'{"" if width == 64 else f" w{width}"}, {dcn})')
        else:
            self.name = 'mmdet CenterNet R18-DCNv2 (mmdet config)'
        model_cfg.backbone.init_cfg = None
        model_cfg.bbox_head.num_classes = head.get('num_classes', 80)
        self.model = MODELS.build(model_cfg).to(device).eval()
        self.device = next(self.model.parameters()).device
        pipeline = [t for t in copy.deepcopy(base.test_dataloader.dataset.pipeline)
                    if t['type'] != 'LoadAnnotations']
        pipeline[0] = dict(type='mmdet.LoadImageFromNDArray',
                           to_float32=pipeline[0].get('to_float32', False))
        self.pipeline = Compose(pipeline)
        m, h = self.model, self.model.bbox_head
        test_cfg = model_cfg.test_cfg

        def pre(img):
            data = self.pipeline(dict(img=img, img_id=0))
            batch = m.data_preprocessor(
                dict(inputs=[data['inputs']], data_samples=[data['data_samples']]), False)
            return batch['inputs'], batch['data_samples']

        def dec(prev):
            (heat, wh, offset), samples = prev
            shape = samples[0].metainfo['batch_input_shape']
            dets, labels = h._decode_heatmap(heat[0], wh[0], offset[0], shape,
                                             k=test_cfg.topk,
                                             kernel=test_cfg.local_maximum_kernel)
            return (dets, labels), samples

        def post(prev):
            from mmengine.structures import InstanceData
            (dets, labels), samples = prev
            results = []
            for i, sample in enumerate(samples):
                meta = sample.metainfo
                # the border mmdet's RandomCenterCropPad pasted the image at: top, _, left, _
                top, left = meta['border'][0], meta['border'][2]
                boxes = dets[i, :, :4] - dets.new_tensor([left, top, left, top])
                if 'scale_factor' in meta:
                    boxes = boxes / boxes.new_tensor(meta['scale_factor']).repeat(2)
                res = InstanceData(bboxes=boxes, scores=dets[i, :, 4], labels=labels[i])
                results.append(res[:test_cfg.max_per_img].cpu())
            return m.add_pred_to_datasample(samples, results)

        self.steps = (
            ('load', load_image),
            ('pre', pre),
            ('net', lambda prev: (m._forward(prev[0]), prev[1])),
            ('dec', dec),
            ('post', post),
        )


def loop_targets(boxes, labels, num_classes, out_h, out_w, max_objs=128):
    """Per-object reference in the style of the original data loader (numpy, one at a time)."""
    results = []
    for b, lab in zip(boxes, labels):
        hm = np.zeros((num_classes, out_h, out_w), np.float32)
        wh = np.zeros((max_objs, 2), np.float32)
        reg = np.zeros((max_objs, 2), np.float32)
        ind = np.zeros(max_objs, np.int64)
        mask = np.zeros(max_objs, np.uint8)
        for k, (box, c) in enumerate(zip(b.numpy() / 4, lab.numpy())):
            if k >= max_objs:
                break
            h, w = box[3] - box[1], box[2] - box[0]
            if not (h > 0 and w > 0):
                continue
            from mmcenternet.models.utils.gaussian_target import centernet_gaussian_radius
            r = max(0, int(centernet_gaussian_radius(torch.tensor([float(math.ceil(h))]),
                                                     torch.tensor([float(math.ceil(w))]))))
            ct = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], np.float32)
            ci = ct.astype(np.int32)
            d = 2 * r + 1
            y, x = np.ogrid[-r:r + 1, -r:r + 1]
            g = np.exp(-(x * x + y * y) / (2 * (d / 6)**2))
            left, right = min(ci[0], r), min(out_w - ci[0], r + 1)
            top, bottom = min(ci[1], r), min(out_h - ci[1], r + 1)
            win = hm[c, ci[1] - top:ci[1] + bottom, ci[0] - left:ci[0] + right]
            np.maximum(win, g[r - top:r + bottom, r - left:r + right], out=win)
            wh[k] = w, h
            ind[k] = ci[1] * out_w + ci[0]
            reg[k] = ct - ci
            mask[k] = 1
        results.append((hm, wh, reg, ind, mask))
    return results


def original_exdet_grouping(heat: dict, offsets, k: int, num_dets: int = 1000):
    """All K^4 quadruples at once, as the original ``exct_decode`` does (for comparison)."""
    from mmcenternet.models.utils import heatmap_nms, quadruple_scores, topk_two_stage
    peaks = [topk_two_stage(heatmap_nms(heat[p]).clamp(max=1), k) for p in PARTS]
    w = heat['c'].shape[-1]
    scores = torch.stack([pk[0][0] for pk in peaks])
    inds = torch.stack([pk[1][0] for pk in peaks])
    labels = torch.stack([pk[2][0] for pk in peaks])
    ar = torch.arange(k)
    it, il, ib, ir = (v.reshape(-1) for v in torch.meshgrid(ar, ar, ar, ar, indexing='ij'))
    s = quadruple_scores(scores, inds % w, inds // w, labels, heat['c'][0], it, il, ib, ir)
    return torch.topk(s, min(num_dets, len(s)))
