# Copyright (c) mmcenternet contributors. All rights reserved.
"""The exported exdet decoder returns the original rows (golden decode_exdet and e2e images)."""
import numpy as np
import pytest
import torch
from exdet_export_common import HEADS, PARTS, decoded_rows, onnx_session, ort
from golden import dense, load_npz

from mmcenternet.models.export_decoders import ExdetDecoder


@pytest.mark.golden
def test_onnx_exdet_decoder_gives_the_originals_rows():
    z = load_npz('decode_exdet.npz')

    def maps(case):
        return [dense(z, f'{case}_hm_{p}_logits') for p in PARTS + ('c', )] + \
            [z[f'{case}_reg_{p}'].astype(np.float32) for p in PARTS]

    decoder = ExdetDecoder(HEADS, 1, topk=100, kernel=3, stride=1.0, num_dets=1000)
    sess = onnx_session(decoder, [torch.from_numpy(m[:1, :, :8, :8]) for m in maps('B')])
    for case in ('B', 'C'):  # one image; a batch of two (image 1 = the mirrored input)
        got = decoded_rows(sess.run(None, dict(zip(HEADS, maps(case)))))
        ref = z[f'{case}_dets']
        assert got.shape == ref.shape
        # golden tolerances: order and class exact, scores 1e-6, coordinates 1e-4
        np.testing.assert_array_equal(got[..., 13], ref[..., 13])
        np.testing.assert_allclose(got[..., 4], ref[..., 4], atol=1e-6, rtol=0)
        cols = list(range(4)) + list(range(5, 13))
        np.testing.assert_allclose(got[..., cols], ref[..., cols], atol=1e-4, rtol=0)
        assert (got[..., 4] > 0).sum() > 100  # the planted objects are found


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
        got = decoded_rows(sess.run(None, {'input': torch.cat([x, x.flip(-1)]).numpy()}))
        got[..., coords] /= 4  # the graph's input pixels -> the original's output-map pixels
        ref = refs[f'img{img["id"]}']
        assert got.shape == ref.shape
        for v in range(2):
            n = match_rows(ref[v], got[v], coords, 4, 13)
            assert n >= 0.99 * len(ref[v]), (img['id'], v, n)
