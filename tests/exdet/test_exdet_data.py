# Copyright (c) mmcenternet contributors. All rights reserved.
"""exdet data: extreme points from polygons / RLE (tie rules), the annotation converter, the
dataset (and its errors), the augmentation of the points and the targets (no reference data)."""
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from golden import REPO
from mmdet.structures.bbox import HorizontalBoxes

from mmcenternet.datasets import (CenterNetExdetCocoDataset, DatasetFormatError,
                                  extreme_points_from_mask, extreme_points_from_polygons,
                                  extreme_points_from_segmentation)
from mmcenternet.datasets.transforms import (CenterNetRandomAffine, LoadExtremePoints,
                                             PackExdetInputs)
from mmcenternet.models.task_modules import CenterNetExdetTargetGenerator

TOOL = 'tools/dataset_converters/coco_polygons_to_extreme_points.py'


def test_polygon_rule_first_vertex_on_ties():
    # two polygons; the smallest y (0) is reached by vertices (4, 0) and (9, 0): the first wins
    polys = [[4, 0, 9, 0, 12, 6, 6, 10], [0, 5, 1, 2, 0, 8, 12, 9]]
    pts = extreme_points_from_polygons(polys)
    np.testing.assert_array_equal(pts, [[4, 0], [0, 5], [6, 10], [12, 6]])
    # bottom and right may be the same vertex
    np.testing.assert_array_equal(extreme_points_from_polygons([[0, 0, 5, 2, 9, 9]]),
                                  [[0, 0], [0, 0], [9, 9], [9, 9]])


def test_mask_rule_and_rle():
    mask = np.zeros((12, 14), np.uint8)
    mask[3:8, 4:10] = 1
    mask[2, 6:8] = 1  # top row: (6, 2) is its first pixel
    mask[5:7, 11] = 1  # right column: (11, 5) is its top pixel
    expected = [[6, 2], [4, 3], [4, 7], [11, 5]]
    np.testing.assert_array_equal(extreme_points_from_mask(mask), expected)
    from pycocotools import mask as mask_utils
    rle = mask_utils.encode(np.asfortranarray(mask))
    rle['counts'] = rle['counts'].decode()
    np.testing.assert_array_equal(extreme_points_from_segmentation(rle, 12, 14), expected)


def test_extremenet_band_rule():
    # ExtremeNet's files: the middle of the vertices within 2 % of the extent, truncated
    poly = [[10, 0, 12, 0.1, 20, 10, 11, 30, 0, 12, 0.1, 11]]
    np.testing.assert_array_equal(extreme_points_from_segmentation(poly, 40, 40, 'extremenet'),
                                  [[11, 0], [0, 11], [11, 30], [20, 10]])


def _write_coco(path, annotations, images=None, names=('a', 'b')):
    images = images or [dict(id=1, file_name='a.png', width=40, height=30)]
    cats = [dict(id=i + 1, name=n) for i, n in enumerate(names)]
    with open(path, 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=cats), f)


def _ann(i, **kw):
    return dict(dict(id=i, image_id=1, category_id=1, bbox=[2, 2, 10, 10], area=100, iscrowd=0),
                **kw)


def test_dataset_reads_points_derives_missing_ones_and_names_bad_annotations(tmp_path):
    cv2.imwrite(str(tmp_path / 'a.png'), np.zeros((30, 40, 3), np.uint8))
    good = [
        _ann(1, extreme_points=[[5, 2], [2, 6], [6, 12], [12, 7]]),
        _ann(2, segmentation=[[10, 3, 4, 9, 10, 20, 18, 8]]),
        # points outside their box and in the wrong order are used as they are (the original)
        _ann(3, extreme_points=[[5, 25], [2, 6], [6, 1], [35, 7]], iscrowd=1),
    ]
    ann_file = str(tmp_path / 'ok.json')
    _write_coco(ann_file, good)
    ds = CenterNetExdetCocoDataset(ann_file=ann_file, data_prefix=dict(img=str(tmp_path)),
                                   metainfo=dict(classes=('a', 'b')), pipeline=[])
    insts = ds.get_data_info(0)['instances']
    assert [i['extreme_points'] for i in insts] == [
        [[5, 2], [2, 6], [6, 12], [12, 7]], [[10, 3], [4, 9], [10, 20], [18, 8]],
        [[5, 25], [2, 6], [6, 1], [35, 7]]]
    assert insts[2]['ignore_flag'] == 0  # crowd regions are objects, as in the original

    cases = [
        ([_ann(1), _ann(7)], 'annotation 1 of image 1'),  # neither points nor polygons
        ([_ann(4, extreme_points=[[1, 2], [3, 4]])], 'annotation 4 of image 1'),  # malformed
        ([_ann(5, segmentation={'size': [30, 40], 'counts': [1200]})],
         'annotation 5 of image 1'),  # empty mask
    ]
    for anns, message in cases:
        bad = str(tmp_path / 'bad.json')
        _write_coco(bad, anns)
        with pytest.raises(DatasetFormatError, match=message):
            CenterNetExdetCocoDataset(ann_file=bad, data_prefix=dict(img=str(tmp_path)),
                                      metainfo=dict(classes=('a', 'b')), pipeline=[])
    only_field = str(tmp_path / 'field.json')
    _write_coco(only_field, [_ann(9, segmentation=[[1, 1, 5, 1, 3, 6]])])
    with pytest.raises(DatasetFormatError, match='annotation 9 .* has no extreme_points'):
        CenterNetExdetCocoDataset(ann_file=only_field, data_prefix=dict(img=str(tmp_path)),
                                  metainfo=dict(classes=('a', 'b')), pipeline=[],
                                  extreme_points_source='annotation')


def test_train_tool_reports_the_annotation_of_a_bad_exdet_file(tmp_path):
    """``tools/train.py`` with an exdet config on a file without points or polygons: one line
    naming the annotation, no traceback."""
    cv2.imwrite(str(tmp_path / 'a.png'), np.zeros((30, 40, 3), np.uint8))
    _write_coco(str(tmp_path / 'train.json'), [_ann(1, segmentation=[[1, 1, 9, 1, 5, 9]]),
                                               _ann(42)],
                names=('diamond', 'triangle', 'pentagon'))  # the demo config's classes
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

    from mmcenternet.utils.setup_run import run_cli
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
    anns = [_ann(1, segmentation=[[4, 0, 9, 0, 12, 6, 6, 10]]),
            _ann(2, segmentation=[[0, 0, 5, 2, 9, 9]], extreme_points=[[1, 1]] * 4)]
    _write_coco(src, anns)
    code, out, err = _converter_tool([src, dst], capsys)
    assert code == 0, err
    out = json.load(open(dst))
    assert out['annotations'][0]['extreme_points'] == [[4, 0], [4, 0], [6, 10], [12, 6]]
    assert out['annotations'][1]['extreme_points'] == [[1, 1]] * 4  # kept
    assert out['images'] == json.load(open(src))['images']
    # an annotation without segmentation: a one-line error naming it, or skipped on request
    _write_coco(src, anns + [_ann(3)])
    code, out, err = _converter_tool([src, dst, '--overwrite'], capsys)
    assert code == 2 and 'annotation 3 of image 1' in err and 'Traceback' not in err
    code, out, err = _converter_tool(
        [src, dst, '--overwrite', '--on-missing', 'skip', '--rule', 'extremenet'], capsys)
    assert code == 0 and '1 skipped' in out
    out = json.load(open(dst))['annotations']
    assert out[1]['extreme_points'] == [[0, 0], [0, 0], [9, 9], [9, 9]]
    assert 'extreme_points' not in out[2]


def test_affine_transforms_points_like_the_original_and_keeps_ctdet_behaviour():
    img = np.random.RandomState(0).randint(0, 255, (50, 80, 3)).astype(np.uint8)
    pts = np.array([[[30, 5], [10, 20], [32, 40], [60, 18]]], np.float32)
    c = np.array([40., 25.])
    aug = CenterNetRandomAffine(input_size=(64, 64), mirror_center=False, shift_style='exdet')
    out = aug.apply(dict(img=img.copy(), gt_bboxes=None, gt_extreme_points=pts.copy()), c, 80.0,
                    True)
    # mirrored x' = W - x - 1, left and right swapped, mapped with scale 16 / 80 to the output
    # map, clipped to [0, 15], stored x 4
    mirrored = np.array([[80 - 30 - 1, 5], [80 - 60 - 1, 18], [80 - 32 - 1, 40],
                         [80 - 10 - 1, 20]], np.float64)
    expected = np.clip((mirrored - [40, 25]) * 0.2 + 8, 0, 15) * 4
    np.testing.assert_allclose(out['gt_extreme_points'][0], expected, atol=1e-4)
    # flip does not move the crop centre (exdet); ctdet's default still mirrors it
    with np.testing.assert_raises(AssertionError):
        np.testing.assert_array_equal(CenterNetRandomAffine().sample_params, None)
    np.random.seed(1)
    ex = CenterNetRandomAffine(flip_prob=1.0, mirror_center=False, shift_style='exdet')
    ct = CenterNetRandomAffine(flip_prob=1.0)
    state = np.random.get_state()
    c_ex, s_ex, f_ex = ex.sample_params(50, 80)
    np.random.set_state(state)
    c_ct, s_ct, f_ct = ct.sample_params(50, 80)
    assert f_ex and f_ct and s_ex == s_ct
    assert c_ct[0] == 80 - c_ex[0] - 1 and c_ct[1] == c_ex[1]
    assert c_ex.dtype == np.float64 and c_ct.dtype == np.float32
    # exdet shift mode: scale first, shifts proportional to W and H
    draws = iter([0.5, 1.0, -3.0, 0.9])
    ex = CenterNetRandomAffine(random_crop=False, mirror_center=False, shift_style='exdet')
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(np.random, 'randn', lambda: next(draws))
        mp.setattr(np.random, 'random', lambda: next(draws))
        c2, s2, f2 = ex.sample_params(50, 80)
    assert s2 == pytest.approx(80 * 1.2) and not f2
    np.testing.assert_allclose(c2, [40 + 80 * 0.1, 25 - 50 * 0.2])


def test_load_and_pack_extreme_points():
    results = dict(instances=[dict(bbox=[0, 0, 4, 4], bbox_label=0, ignore_flag=0,
                                   extreme_points=[[1, 0], [0, 1], [2, 4], [4, 2]]),
                              dict(bbox=[0, 0, 4, 4], bbox_label=1, ignore_flag=1,
                                   extreme_points=[[1, 1], [1, 1], [3, 3], [3, 3]])])
    results = LoadExtremePoints()(results)
    assert results['gt_extreme_points'].shape == (2, 4, 2)
    results.update(img=np.zeros((8, 8, 3), np.uint8), gt_bboxes=HorizontalBoxes(np.zeros((2, 4))),
                   gt_bboxes_labels=np.array([0, 1]), gt_ignore_flags=np.array([False, True]))
    packed = PackExdetInputs(meta_keys=())(results)['data_samples']
    assert packed.gt_instances.extreme_points.shape == (1, 4, 2)
    assert packed.ignored_instances.extreme_points.tolist() == [[[1, 1], [1, 1], [3, 3], [3, 3]]]
    with pytest.raises(KeyError, match='no extreme_points'):
        LoadExtremePoints()(dict(instances=[dict(bbox=[0, 0, 1, 1])]))


def test_targets_skip_bad_geometry_respect_max_objs_and_agnostic_maps():
    gen = CenterNetExdetTargetGenerator(max_objs=3)
    pts = torch.tensor([
        [[20., 4.], [4., 20.], [20., 36.], [36., 20.]],  # valid
        [[20., 36.], [4., 20.], [20., 4.], [36., 20.]],  # bottom above top: skipped
        [[8., 8.], [8., 8.], [8., 8.], [8., 8.]],  # zero size: skipped
        [[40., 4.], [30., 12.], [40., 20.], [50., 12.]],  # beyond max_objs: no target
    ])
    labels = torch.tensor([1, 1, 0, 0])
    t = gen([pts], [labels], 2, (16, 16), stride=4, agnostic=True)
    assert t['reg_mask'][0].tolist() == [1, 0, 0]
    assert t['hm_t'].shape == (1, 1, 16, 16) and t['hm_c'].shape == (1, 2, 16, 16)
    assert t['hm_t'][0, 0, 1, 5] == 1 and t['hm_l'][0, 0, 5, 1] == 1
    assert t['hm_c'][0, 1, 5, 5] == 1 and t['hm_c'][0, 0].max() == 0
    assert int((t['hm_t'] == 1).sum()) == 1  # the skipped and the extra objects draw nothing
    assert t['ind_r'][0].tolist() == [5 * 16 + 9, 0, 0]
