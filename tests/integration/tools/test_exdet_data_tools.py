# Copyright (c) mmcenternet contributors. All rights reserved.
"""exdet data through the tools: tools/train.py names a bad annotation; the annotation converter."""
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
from golden import REPO
from exdet_data_common import exdet_annotation, write_coco  # noqa: F401


TOOL = 'tools/dataset_converters/coco_polygons_to_extreme_points.py'


def test_train_tool_reports_the_annotation_of_a_bad_exdet_file(tmp_path):
    """``tools/train.py`` with an exdet config on a file without points or polygons: one line
    naming the annotation, no traceback."""
    cv2.imwrite(str(tmp_path / 'a.png'), np.zeros((30, 40, 3), np.uint8))
    anns = [exdet_annotation(1, segmentation=[[1, 1, 9, 1, 5, 9]]), exdet_annotation(42)]
    # the demo config's classes
    write_coco(str(tmp_path / 'train.json'), anns, names=('diamond', 'triangle', 'pentagon'))
    options = []
    for loader in ('train_dataloader', 'val_dataloader'):
        options += [f'{loader}.dataset.data_root={tmp_path}/',
                    f'{loader}.dataset.ann_file=train.json', f'{loader}.dataset.data_prefix.img=']
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', 'configs/demo/exdet_r18_polygons.py', '--work-dir',
         str(tmp_path / 'wd'), '--cfg-options', *options, 'train_dataloader.num_workers=0',
         f'val_evaluator.ann_file={tmp_path}/train.json'],
        cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert 'annotation 42 of image 1' in proc.stderr
    assert 'neither extreme_points nor a segmentation' in proc.stderr
    assert 'Traceback' not in proc.stderr


def _converter_tool(args, capsys):
    """Run the converter tool's command line in this process: (exit code, stdout, stderr)."""
    import importlib.util

    from mmcenternet.utils.cli import run_cli
    spec = importlib.util.spec_from_file_location('coco_polygons_to_extreme_points',
                                                  osp.join(REPO, TOOL))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    code = 0
    try:
        run_cli(lambda: tool.main(args))
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_converter_tool(tmp_path, capsys):
    src, dst = str(tmp_path / 'in.json'), str(tmp_path / 'out.json')
    anns = [exdet_annotation(1, segmentation=[[4, 0, 9, 0, 12, 6, 6, 10]]),
            exdet_annotation(2, segmentation=[[0, 0, 5, 2, 9, 9]], extreme_points=[[1, 1]] * 4)]
    write_coco(src, anns)
    code, out, err = _converter_tool([src, dst], capsys)
    assert code == 0, err
    out = json.load(open(dst))
    assert out['annotations'][0]['extreme_points'] == [[4, 0], [4, 0], [6, 10], [12, 6]]
    assert out['annotations'][1]['extreme_points'] == [[1, 1]] * 4  # kept
    assert out['images'] == json.load(open(src))['images']
    # an annotation without segmentation: a one-line error naming it, or skipped on request
    write_coco(src, anns + [exdet_annotation(3)])
    code, out, err = _converter_tool([src, dst, '--overwrite'], capsys)
    assert code == 2 and 'annotation 3 of image 1' in err and 'Traceback' not in err
    code, out, err = _converter_tool(
        [src, dst, '--overwrite', '--on-missing', 'skip', '--rule', 'extremenet'], capsys)
    assert code == 0 and '1 skipped' in out
    out = json.load(open(dst))['annotations']
    assert out[1]['extreme_points'] == [[0, 0], [0, 0], [9, 9], [9, 9]]
    assert 'extreme_points' not in out[2]
