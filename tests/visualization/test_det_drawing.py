# Copyright (c) mmcenternet contributors. All rights reserved.
import numpy as np

from mmcenternet.visualization.det_drawing import (describe_groups, draw_detections,
                                                   group_detections, label_scale,
                                                   layout_labels)


def test_classes_on_one_peak_form_one_group_same_class_never_merges():
    boxes = [[10, 10, 50, 50], [10, 10, 50, 50], [11, 10, 51, 50], [60, 60, 90, 90],
             [10, 10, 50, 50]]
    scores = [0.3, 0.9, 0.6, 0.7, 0.2]
    labels = [1, 0, 2, 0, 0]
    groups = group_detections(boxes, scores, labels)
    assert groups == [[1, 2, 0], [3], [4]]  # by falling score; box 4 repeats class 0
    texts = describe_groups(groups, scores, labels, ('rect', 'ellipse', 'cross'))
    assert texts[0] == 'rect 0.90 (also cross 0.60, ellipse 0.30)'
    assert texts[1] == 'rect 0.70'


def test_labels_never_overlap_in_a_crowd():
    rng = np.random.RandomState(0)
    h, w = 480, 640
    boxes = []
    for _ in range(25):  # many boxes around one spot, their top-left corners close together
        x, y = rng.uniform(200, 260), rng.uniform(150, 200)
        boxes.append((x, y, x + rng.uniform(20, 120), y + rng.uniform(20, 120)))
    texts = [f'class {k} 0.{k:02d}' for k in range(len(boxes))]
    rects = layout_labels(boxes, texts, w, h, label_scale(h, w))
    for i, a in enumerate(rects):
        assert 0 <= a[0] and 0 <= a[1] and a[2] <= w and a[3] <= h
        for b in rects[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


def test_label_size_is_legible_on_small_and_large_pictures():
    assert label_scale(480, 480) >= 0.45 and label_scale(1920, 1080) <= 1.2


def test_threshold_and_ground_truth_mode():
    img = np.zeros((100, 100, 3), np.uint8)
    none = draw_detections(img, [[10, 10, 60, 60]], [0.1], [0], score_thr=0.3)
    assert not none.any()  # below the display threshold: nothing drawn
    gt = draw_detections(img, [[10, 10, 60, 60]], None, [0], classes=('a', ))
    assert gt.any()
