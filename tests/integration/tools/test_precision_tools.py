# Copyright (c) mmcenternet contributors. All rights reserved.
"""The reduced-precision tools on small inputs: int8 quantisation through the test and image
tools, bf16 through the test tool, the precision benchmark and the GPU report (CPU mode)."""
import os
import os.path as osp
import re

import pytest
from golden import run_python

pytest.importorskip('onnxruntime', reason="the deploy extra is missing: pip install -e '.[deploy]'")

from mmcenternet.utils.synthetic.shapes import make_shapes_dataset  # noqa: E402

CONFIG = 'configs/demo/ctdet_r18_shapes.py'


run = run_python


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """The demo config trained for one epoch on 16 images, exported (fp32) and quantised."""
    base = tmp_path_factory.mktemp('precision')
    data = str(base / 'data')
    style = dict(class_colours=True, inside=True, size_range=(0.2, 0.5))
    make_shapes_dataset(data, 16, (128, 128), seed=0, split='train', **style)
    make_shapes_dataset(data, 4, (128, 128), seed=1, split='val', **style)
    opts = ['--cfg-options'] + [f'{k}_dataloader.dataset.data_root={data}/'
                                for k in ('train', 'val', 'test')] + \
        [f'{k}_evaluator.ann_file={data}/annotations/val.json' for k in ('val', 'test')]
    work = str(base / 'work')
    run('tools/train.py', CONFIG, '--work-dir', work, *opts, 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=1')
    ckpt = osp.join(work, 'epoch_1.pth')
    fp32, int8 = str(base / 'demo.onnx'), str(base / 'demo_int8.onnx')
    run('tools/deployment/export_onnx.py', CONFIG, ckpt, fp32, '--dynamic', *opts)
    proc = run('tools/deployment/quantize_onnx.py', CONFIG, fp32, int8, '--calib-dir',
               osp.join(data, 'train'), '--num-images', '4', *opts)
    return dict(base=base, data=data, opts=opts, ckpt=ckpt, fp32=fp32, int8=int8,
                out=proc.stdout)


@pytest.mark.slow
def test_quantize_tool_and_int8_through_test_and_image_tools(trained):
    # float32: 6 head convolutions, the stem (conv1 and layer1's 4) and 2 up-sampling layers
    assert re.search(r'wrote .*demo_int8\.onnx: 12 convolutions int8, 13 float32 \(heads, '
                     r'deform, stem, upsampling\), calibrated on 4 image\(s\)', trained['out'])
    assert 'histogram' not in trained['out']  # onnxruntime's progress prints are kept out
    proc = run('tools/test.py', CONFIG, '--onnx', trained['int8'], '--work-dir',
               str(trained['base'] / 'test_int8'), *trained['opts'])
    assert re.search(r'coco/bbox_mAP: [\d.]+', proc.stdout + proc.stderr)
    out_dir = str(trained['base'] / 'pictures')
    proc = run('tools/misc/image_demo.py', osp.join(trained['data'], 'val'), CONFIG, '--onnx',
               trained['int8'], '--out-dir', out_dir, '--max-images', '2', *trained['opts'])
    assert sorted(os.listdir(out_dir)) == ['val_00000.png', 'val_00001.png']


@pytest.mark.slow
def test_bf16_through_the_test_tool(trained):
    proc = run('tools/test.py', CONFIG, trained['ckpt'], '--precision', 'bf16', '--work-dir',
               str(trained['base'] / 'test_bf16'), *trained['opts'])
    assert re.search(r'coco/bbox_mAP: [\d.]+', proc.stdout + proc.stderr)
    proc = run('tools/test.py', CONFIG, trained['ckpt'], '--precision', 'bf16', '--keep-fp32',
               '--work-dir', str(trained['base'] / 'test_bf16_whole'), *trained['opts'])
    assert re.search(r'coco/bbox_mAP: [\d.]+', proc.stdout + proc.stderr)  # whole body bf16
    proc = run('tools/test.py', CONFIG, '--onnx', trained['fp32'], '--precision', 'bf16',
               expect_rc=2)
    assert 'quantize_onnx.py' in proc.stderr
    proc = run('tools/test.py', CONFIG, trained['ckpt'], '--keep-fp32', 'stem', expect_rc=2)
    assert '--keep-fp32 applies with --precision bf16 or fp16' in proc.stderr


@pytest.mark.slow
def test_quantize_tool_bad_input(trained, tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    proc = run('tools/deployment/quantize_onnx.py', CONFIG, trained['fp32'],
               str(tmp_path / 'x.onnx'), '--calib-dir', str(empty), expect_rc=2)
    assert proc.stderr.strip().splitlines()[-1].startswith('error: no images')
    assert str(empty) in proc.stderr
    bad = tmp_path / 'bad'
    bad.mkdir()
    (bad / 'broken.png').write_bytes(b'not an image')
    proc = run('tools/deployment/quantize_onnx.py', CONFIG, trained['fp32'],
               str(tmp_path / 'x.onnx'), '--calib-dir', str(bad), expect_rc=2)
    assert 'broken.png' in proc.stderr and 'Traceback' not in proc.stderr
    proc = run('tools/deployment/quantize_onnx.py', 'configs/centernet/dla34_1x_coco.py',
               trained['fp32'], str(tmp_path / 'x.onnx'), '--calib-dir',
               osp.join(trained['data'], 'val'), expect_rc=2)
    assert 'does not match' in proc.stderr


@pytest.mark.slow
def test_precision_benchmark_prints_every_path(tmp_path):
    proc = run('tools/analysis_tools/benchmark_precision.py', '--work-dir', str(tmp_path),
               '--networks', 'ResNet-DCN-18', '--train-iters', '2', '--batch', '2',
               '--num-train', '6', '--num-val', '3', '--num-calib', '2', '--repeats', '1',
               '--warmup', '0', '--speed-size', '64', '96', '--seed', '3')
    out = proc.stdout
    assert out.startswith('machine: cpu: ')
    for path in ("PyTorch fp32, mmcv's DCN", 'PyTorch fp32, fast DCN', 'PyTorch bf16',
                 'PyTorch bf16, heat-map bf16', 'PyTorch bf16, whole body', 'onnxruntime fp32',
                 'onnxruntime int8'):
        row = next(line for line in out.splitlines() if line.startswith('ResNet-DCN-18')
                   and line[15:42].rstrip() == path)
        values = row[14 + 28:].split()
        assert len(values) >= 10, row  # AP dAP AP50 peaks, 5 stages, x mmcv
    assert osp.isfile(tmp_path / 'ResNet-DCN-18' / 'final.pth')
    with open(tmp_path / 'ResNet-DCN-18' / 'config.py') as f:
        assert 'randomness = dict(seed=3)' in f.read()


@pytest.mark.slow
def test_gpu_report_runs_on_the_cpu(tmp_path):
    out = str(tmp_path / 'report.md')
    run('tools/analysis_tools/gpu_report.py', '--device', 'cpu', '--quick', '--out', out)
    text = open(out).read()
    for section in ('## mmcv', '## Golden networks on the device', '## Inference',
                    '## Training'):
        assert section in text
    assert re.search(r'\| DLA-34 \| multi-scale \| fp16 \| [\d.]+ \| [\d.]+ \|', text)
    assert re.search(r'\| AMP \(fp16\) \| [\d.]+ \| [\d.]+ \|', text)
    proc = run('tools/analysis_tools/gpu_report.py', '--out', out, expect_rc=1)
    assert 'no CUDA device' in proc.stderr
