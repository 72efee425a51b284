# Copyright (c) mmcenternet contributors. All rights reserved.
"""Every config loads and its data pipelines build and run on a generated image."""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest
from golden import REPO
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.registry import DefaultScope

CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '*', '*.py')))
CONFIGS = [c for c in CONFIGS if '_base_' not in c]


def _pipelines(cfg):
    out = {}
    for loader in ('train_dataloader', 'test_dataloader'):
        ds = cfg[loader]['dataset']
        while 'dataset' in ds or 'datasets' in ds:  # wrappers, ConcatDataset (VOC 07 + 12)
            ds = ds['dataset'] if 'dataset' in ds else ds['datasets'][0]
        out[loader] = ds['pipeline']
    if 'tta_pipeline' in cfg:
        out['tta_pipeline'] = cfg.tta_pipeline
    return out


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, REPO))
def test_pipelines_build_and_run(path, tmp_path):
    cfg = Config.fromfile(path)
    img = np.random.RandomState(0).randint(0, 255, (90, 120, 3), np.uint8)
    cv2.imwrite(str(tmp_path / 'x.png'), img)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmdet')):
        for name, pipeline in _pipelines(cfg).items():
            steps = Compose(pipeline)
            if name != 'test_dataloader' or cfg.get('default_scope') == 'mmpose':
                continue  # training needs annotation keys; building it is the check
            out = steps(dict(img_path=str(tmp_path / 'x.png'), img_id=0, ori_shape=(90, 120)))
            assert out['inputs'].shape[0] == 3


def test_coco_train_pipeline_runs_on_an_annotated_image(tmp_path):
    from mmdet.structures.bbox import HorizontalBoxes
    cfg = Config.fromfile(osp.join(REPO, 'configs/centernet/dla34_2x_coco.py'))
    pipe = Compose(cfg.train_dataloader.dataset.pipeline[2:])  # after loading
    img = np.random.RandomState(0).randint(0, 255, (300, 400, 3), np.uint8)
    res = pipe(dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2], img_id=1,
                    gt_bboxes=HorizontalBoxes(np.array([[10., 20., 200., 150.]], np.float32)),
                    gt_bboxes_labels=np.array([3]), gt_ignore_flags=np.array([False])))
    assert tuple(res['inputs'].shape) == (3, 512, 512)
    assert len(res['data_samples'].gt_instances) == 1
