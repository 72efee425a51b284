# Copyright (c) mmcenternet contributors. All rights reserved.
"""The inference API: ``load_detector`` and ``StagedDetector`` (the test path in timed stages),
whose result is ``model.test_step``'s for every detection task."""
import os.path as osp

import numpy as np
import pytest
import torch
from golden import REPO

from mmcenternet.apis import StagedDetector, array_test_pipeline, load_detector
from mmcenternet.utils.errors import UserError

CONFIGS = {
    'ctdet': osp.join(REPO, 'configs', 'demo', 'ctdet_r18_shapes.py'),
    'exdet': osp.join(REPO, 'configs', 'demo', 'exdet_r18_polygons.py'),
}


@pytest.mark.parametrize('task', list(CONFIGS))
def test_staged_detector_equals_test_step(task):
    torch.manual_seed(0)
    model = load_detector(CONFIGS[task], None)
    for p in model.bbox_head.parameters():  # random but decisive maps
        torch.nn.init.normal_(p, std=0.5)
    assert model.bbox_head.task == task
    img = np.random.RandomState(0).randint(0, 255, (61, 90, 3)).astype(np.uint8)
    staged = StagedDetector(model)
    timings = {}
    ours = staged(img, timings=timings)
    assert set(timings) == set(StagedDetector.STAGES)
    data = array_test_pipeline(model.cfg)(dict(img=img, img_id=0))
    with torch.no_grad():
        ref = model.test_step(dict(inputs=[data['inputs']], data_samples=[data['data_samples']]))
    a, b = ours.pred_instances, ref[0].pred_instances
    assert len(a.scores) == len(b.scores) > 0
    np.testing.assert_array_equal(a.scores.numpy(), b.scores.numpy())
    np.testing.assert_array_equal(a.bboxes.numpy(), b.bboxes.numpy())


def test_load_detector_refuses_a_pose_config_and_a_missing_file():
    with pytest.raises(UserError, match='is a pose config'):
        load_detector(osp.join(REPO, 'configs', 'centernet_pose', 'dla34_1x_coco.py'))
    with pytest.raises(UserError, match='checkpoint file not found'):
        load_detector(CONFIGS['ctdet'], '/nonexistent.pth')
    assert load_detector(CONFIGS['ctdet']).dataset_meta['classes'][0] == 'rectangle'
