# Copyright (c) mmcenternet contributors. All rights reserved.
"""What the exdet export-decoder tests share: the decoder run by onnxruntime, its rows."""
import numpy as np
import pytest

onnx = pytest.importorskip('onnx', reason="the deploy extra is missing: pip install -e '.[deploy]'")
ort = pytest.importorskip('onnxruntime',
                          reason="the deploy extra is missing: pip install -e '.[deploy]'")

from mmcenternet.deployment.exporter import export_decoder  # noqa: E402
from mmcenternet.models.export_decoders import ExdetDecoder  # noqa: E402


PARTS = ('t', 'l', 'b', 'r')


HEADS = [f'hm_{p}' for p in PARTS + ('c', )] + [f'reg_{p}' for p in PARTS]


def onnx_session(decoder: ExdetDecoder, example):
    """Export the decoder (free batch and map sizes, checked) and open it in onnxruntime."""
    proto = export_decoder(decoder, example)  # full onnx.checker, standard domain only
    return ort.InferenceSession(proto.SerializeToString(), providers=['CPUExecutionProvider'])


def decoded_rows(outs) -> np.ndarray:
    """(bboxes, scores, labels, extreme_points) -> the original's (B, N, 14) rows."""
    bboxes, scores, labels, points = (np.asarray(o) for o in outs)
    b, n = scores.shape
    return np.concatenate([bboxes, scores[..., None], points.reshape(b, n, 8),
                           labels[..., None].astype(np.float32)], axis=-1)
