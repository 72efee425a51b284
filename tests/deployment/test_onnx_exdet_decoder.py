# Copyright (c) mmcenternet contributors. All rights reserved.
"""The export version of the exdet decoder (``--with-decoder`` for exdet configs).

* on the original's decoder inputs (golden section 12.3, cases B and C: K = 100, 10^8 quadruples
  per image), the ONNX graph run by onnxruntime returns the original's 1000 rows;
* class-specific and class-agnostic maps, one or several blocks, maps with fewer cells than K:
  the same rows as the PyTorch decoder of the test path (:class:`CenterNetExdetDecoder`).
"""
import numpy as np
import pytest
import torch
from golden import dense, load_npz

from mmcenternet.models.task_modules import CenterNetExdetDecoder

onnx = pytest.importorskip('onnx', reason="the deploy extra is missing: pip install -e '.[deploy]'")
ort = pytest.importorskip('onnxruntime',
                          reason="the deploy extra is missing: pip install -e '.[deploy]'")

from mmcenternet.deployment.exdet_decoder import EXDET_PAD_SCORE, ExdetDecoder  # noqa: E402
from mmcenternet.deployment.exporter import export_decoder  # noqa: E402

PARTS = ('t', 'l', 'b', 'r')
HEADS = [f'hm_{p}' for p in PARTS + ('c', )] + [f'reg_{p}' for p in PARTS]


def _session(decoder: ExdetDecoder, example):
    """Export the decoder (free batch and map sizes, checked) and open it in onnxruntime."""
    proto = export_decoder(decoder, example)  # full onnx.checker, standard domain only
    return ort.InferenceSession(proto.SerializeToString(), providers=['CPUExecutionProvider'])


def _rows(outs) -> np.ndarray:
    """(bboxes, scores, labels, extreme_points) -> the original's (B, N, 14) rows."""
    bboxes, scores, labels, points = (np.asarray(o) for o in outs)
    b, n = scores.shape
    return np.concatenate([bboxes, scores[..., None], points.reshape(b, n, 8),
                           labels[..., None].astype(np.float32)], axis=-1)


@pytest.mark.golden
def test_onnx_exdet_decoder_gives_the_originals_rows():
    z = load_npz('decode_exdet.npz')

    def maps(case):
        return [dense(z, f'{case}_hm_{p}_logits') for p in PARTS + ('c', )] + \
            [z[f'{case}_reg_{p}'].astype(np.float32) for p in PARTS]

    decoder = ExdetDecoder(HEADS, 1, topk=100, kernel=3, stride=1.0, num_dets=1000)
    sess = _session(decoder, [torch.from_numpy(m[:1, :, :8, :8]) for m in maps('B')])
    for case in ('B', 'C'):  # one image; a batch of two (image 1 = the mirrored input)
        got = _rows(sess.run(None, dict(zip(HEADS, maps(case)))))
        ref = z[f'{case}_dets']
        assert got.shape == ref.shape
        # golden tolerances: order and class exact, scores 1e-6, coordinates 1e-4
        np.testing.assert_array_equal(got[..., 13], ref[..., 13])
        np.testing.assert_allclose(got[..., 4], ref[..., 4], atol=1e-6, rtol=0)
        cols = list(range(4)) + list(range(5, 13))
        np.testing.assert_allclose(got[..., cols], ref[..., cols], atol=1e-4, rtol=0)
        assert (got[..., 4] > 0).sum() > 100  # the planted objects are found


def _random_maps(seed: int, classes: int, extreme_classes: int, h: int, w: int,
                 offsets: bool = True):
    g = torch.Generator().manual_seed(seed)
    maps = [torch.randn(2, extreme_classes, h, w, generator=g) * 2 for _ in PARTS]
    maps.append(torch.randn(2, classes, h, w, generator=g) * 2)
    if offsets:
        maps += [torch.rand(2, 2, h, w, generator=g) for _ in PARTS]
    return maps


def _pytorch_rows(maps, k: int, n: int) -> np.ndarray:
    dec = CenterNetExdetDecoder(topk=k, num_dets=n)
    heat = {p: m.sigmoid() for p, m in zip(PARTS + ('c', ), maps[:5])}
    offs = dict(zip(PARTS, maps[5:])) or None
    return dec.decode(heat, offs).numpy()


@pytest.mark.parametrize('extreme_classes,offsets', [(3, True), (1, True), (3, False)])
def test_onnx_exdet_decoder_equals_the_pytorch_decoder(extreme_classes, offsets):
    """Class-specific and class-agnostic maps, with and without offsets, in several blocks."""
    k, n = 12, 500
    heads = HEADS if offsets else HEADS[:5]
    maps = _random_maps(extreme_classes + offsets, 3, extreme_classes, 10, 14, offsets)
    ref = _pytorch_rows(maps, k, n)
    blocks = ExdetDecoder(heads, 1, topk=k, kernel=3, stride=1.0, num_dets=n, chunk=5 * k**3)
    one = ExdetDecoder(heads, 1, topk=k, kernel=3, stride=1.0, num_dets=n, chunk=k**4)
    with torch.no_grad():
        assert np.array_equal(_rows(blocks(maps)), _rows(one(maps)))  # 3 blocks = 1 block
    got = _rows(_session(blocks, maps).run(None, {h: m.numpy() for h, m in zip(heads, maps)}))
    assert got.shape == ref.shape == (2, n, 14)
    np.testing.assert_array_equal(got[..., 13], ref[..., 13])
    np.testing.assert_allclose(got[..., 4], ref[..., 4], atol=1e-6, rtol=0)
    np.testing.assert_allclose(got[..., :13], ref[..., :13], atol=1e-5, rtol=0)
    assert (ref[..., 4] > 0).any() and (ref[..., 4] < 0).any()  # valid and penalised rows
    if extreme_classes == 1:  # agnostic: the class comes from the centre map
        assert len(np.unique(got[..., 13])) > 1


def test_onnx_exdet_decoder_pads_maps_smaller_than_k():
    """Class-agnostic 3 x 3 maps (9 cells) with K = 12: the real quadruples (9^4 = 6561 >= N)
    come first, as the PyTorch decoder returns them; padding rows only when N exceeds them."""
    k = 12
    maps = _random_maps(7, 2, 1, 3, 3)
    for n in (1000, 7000):
        ref = _pytorch_rows(maps, k, n)
        decoder = ExdetDecoder(HEADS, 1, topk=k, kernel=3, stride=1.0, num_dets=n)
        with torch.no_grad():
            got = _rows(decoder(maps))
        real = ref.shape[1]
        assert real == min(n, 9**4) and got.shape[1] == n
        np.testing.assert_allclose(got[:, :real, 4], ref[..., 4], atol=1e-6, rtol=0)
        np.testing.assert_array_equal(got[:, :real, 13], ref[..., 13])
        assert np.all(got[:, real:, 4] < EXDET_PAD_SCORE / 10)
        assert np.all(got[:, :real, 4] > -7)


@pytest.mark.slow
@pytest.mark.golden
def test_exported_exdet_model_gives_the_originals_rows_on_e2e_images(tmp_path):
    """Converted DLA-34 exdet checkpoint -> export with the decoder (K = 100, free input size)
    -> onnxruntime on the e2e images and their mirrors: the original's 1000 decoded rows per view
    (golden section 12.5), >= 99 % matched in all 14 columns."""
    import json
    import os.path as osp

    from golden import REPO, golden_path, match_rows, write_original_checkpoint
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.dataset import Compose

    from mmcenternet.deployment import export_onnx
    from mmcenternet.utils.convert_official import convert_checkpoint
    config = osp.join(REPO, 'configs/centernet_exdet/dla34_coco.py')
    src, ckpt = str(tmp_path / 'orig.pth'), str(tmp_path / 'exdet.pth')
    write_original_checkpoint('dla_34_exdet', src)
    convert_checkpoint(src, ckpt)
    out = str(tmp_path / 'exdet_decoded.onnx')
    res = export_onnx(config, ckpt, out, shape=(64, 64), dynamic=True, with_decoder=True)
    assert res['metadata']['num_dets'] == '1000' and res['metadata']['topk'] == '100'
    sess = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    cfg = Config.fromfile(config)
    pipeline = Compose(cfg.test_pipeline)
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    e2e = osp.dirname(golden_path('e2e', 'annotations_e2e.json'))
    refs = load_npz('e2e', 'decoded_dla_34_exdet_flip.npz')  # views: image, mirrored image
    images = json.load(open(osp.join(e2e, 'annotations_e2e.json')))['images']
    coords = list(range(4)) + list(range(5, 13))
    for img in images:
        data = pipeline(dict(img_path=osp.join(e2e, img['file_name']), img_id=img['id']))
        x = preprocessor(dict(inputs=[data['inputs']], data_samples=[data['data_samples']]),
                         False)['inputs']
        got = _rows(sess.run(None, {'input': torch.cat([x, x.flip(-1)]).numpy()}))
        got[..., coords] /= 4  # the graph's input pixels -> the original's output-map pixels
        ref = refs[f'img{img["id"]}']
        assert got.shape == ref.shape
        for v in range(2):
            n = match_rows(ref[v], got[v], coords, 4, 13)
            assert n >= 0.99 * len(ref[v]), (img['id'], v, n)
