# Copyright (c) mmcenternet contributors. All rights reserved.
"""The dataset check that tools/train.py runs before training (custom COCO-format data)."""
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
from golden import REPO

from mmcenternet.utils.dataset_check import check_coco_file
from mmcenternet.utils.errors import UserError
from mmcenternet.utils.synthetic.shapes import SHAPE_CLASSES, make_shapes_dataset

CONFIG = 'configs/demo/ctdet_r18_shapes.py'


@pytest.fixture
def shapes(tmp_path):
    root = str(tmp_path / 'shapes')
    paths = make_shapes_dataset(root, num_images=8, img_size=(96, 80), seed=5, split='train')
    with open(paths['ann_file']) as f:
        data = json.load(f)
    assert len(data['annotations']) >= 5
    return root, paths['ann_file'], data


def rewrite(ann_file: str, data: dict) -> None:
    with open(ann_file, 'w') as f:
        json.dump(data, f)


def to_xyxy(data: dict) -> dict:
    for ann in data['annotations']:
        x, y, w, h = ann['bbox']
        ann['bbox'] = [x, y, x + w, y + h]
    return data


def test_generated_data_passes(shapes):
    root, ann_file, _ = shapes
    warnings = check_coco_file(ann_file, SHAPE_CLASSES, len(SHAPE_CLASSES),
                               osp.join(root, 'train'))
    assert warnings == []


def test_xyxy_boxes(shapes):
    _, ann_file, data = shapes
    rewrite(ann_file, to_xyxy(data))
    with pytest.raises(UserError) as err:
        check_coco_file(ann_file, SHAPE_CLASSES, len(SHAPE_CLASSES))
    msg = str(err.value)
    assert 'reach far past their image' in msg
    assert 'look like [x1, y1, x2, y2]' in msg
    assert 'w = x2 - x1' in msg
    assert '\n' not in msg


def test_unknown_category_names_annotation_and_image(shapes):
    _, ann_file, data = shapes
    ann = data['annotations'][2]
    ann['category_id'] = 99
    image = next(im for im in data['images'] if im['id'] == ann['image_id'])
    rewrite(ann_file, data)
    with pytest.raises(UserError) as err:
        check_coco_file(ann_file, SHAPE_CLASSES, len(SHAPE_CLASSES))
    msg = str(err.value)
    assert f'annotation {ann["id"]} of image {image["id"]} ({image["file_name"]})' in msg
    assert 'unknown category_id 99' in msg
    assert 'declared: [1, 2, 3, 4]' in msg


def test_class_count_mismatch_names_both_sides(shapes):
    _, ann_file, _ = shapes
    with pytest.raises(UserError) as err:
        check_coco_file(ann_file, SHAPE_CLASSES, num_classes=3)
    msg = str(err.value)
    assert 'the model predicts 3 classes' in msg
    assert 'trains 4' in msg and 'rectangle' in msg


def test_class_names_not_in_file(shapes):
    _, ann_file, _ = shapes
    with pytest.raises(UserError) as err:
        check_coco_file(ann_file, ('rectangle', 'circle'), num_classes=2)
    assert "missing: ['circle']" in str(err.value)


def test_train_tool_stops_before_training_with_one_line(shapes, tmp_path):
    """The same xyxy file through tools/train.py: `error: ...` on stderr, no traceback."""
    root, ann_file, data = shapes
    rewrite(ann_file, to_xyxy(data))
    make_shapes_dataset(root, num_images=2, img_size=(96, 80), seed=6, split='val')
    cmd = [sys.executable, 'tools/train.py', CONFIG, '--work-dir', str(tmp_path / 'wd'),
           '--cfg-options', f'train_dataloader.dataset.data_root={root}/',
           f'val_dataloader.dataset.data_root={root}/',
           f'val_evaluator.ann_file={root}/annotations/val.json']
    # (PYTHONWARNINGS: mmengine's import warns about pkg_resources before our message)
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stderr.startswith(f'error: {ann_file}: '), proc.stderr[-2000:]
    assert len(proc.stderr.strip().splitlines()) == 1
    assert 'look like [x1, y1, x2, y2]' in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert not osp.exists(str(tmp_path / 'wd' / 'epoch_1.pth'))


def test_custom_dataset_doc_config(shapes, tmp_path):
    """The ten-line config of docs/custom_dataset.md, pointed at generated data, passes the
    check; with a wrong class count it fails naming both numbers."""
    from mmengine.config import Config

    from mmcenternet.utils.dataset_check import check_training_data
    root, _, _ = shapes
    with open(osp.join(REPO, 'docs', 'custom_dataset.md')) as f:
        snippet = re.search(r'```python\n(_base_ = .*?)```', f.read(), re.S).group(1)
    snippet = snippet.replace("'../centernet/resdcn18_1x_coco.py'",
                              repr(osp.join(REPO, 'configs/centernet/resdcn18_1x_coco.py')))
    snippet = snippet.replace("'data/my_data/'", repr(root + '/'))
    assert len(snippet.strip().splitlines()) <= 12
    cfg_file = tmp_path / 'resdcn18_my_data.py'
    cfg_file.write_text(snippet)
    cfg = Config.fromfile(str(cfg_file))
    assert cfg.model.bbox_head.num_classes == 4
    assert tuple(cfg.train_dataloader.dataset.metainfo.classes) == SHAPE_CLASSES
    assert cfg.train_dataloader.dataset.type == 'CenterNetCocoDataset'
    check_training_data(cfg)

    cfg.model.bbox_head.num_classes = 5
    with pytest.raises(UserError, match='the model predicts 5 classes but the dataset'):
        check_training_data(cfg)
