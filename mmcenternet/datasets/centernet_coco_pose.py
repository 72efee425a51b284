# Copyright (c) mmcenternet contributors. All rights reserved.
"""COCO person keypoints read the way CenterNet's ``COCOHP`` dataset reads them."""
import os.path as osp
from typing import List, Optional

import numpy as np
from mmengine.logging import print_log
from mmpose.datasets import CocoDataset

from mmcenternet.utils.errors import DatasetFormatError
from mmcenternet.registry import POSE_DATASETS

__all__ = ['CenterNetCocoPoseDataset']


@POSE_DATASETS.register_module()
class CenterNetCocoPoseDataset(CocoDataset):
    """mmpose's COCO keypoint dataset, bottom-up, with the original's annotation handling.

    Differences from mmpose's ``CocoDataset`` (all as in the original ``COCOHP``):

    * every annotation of an image is kept, in file order, including crowd regions and persons
      without labelled keypoints (the training targets make them centre positives without
      regression) and boxes of any size;
    * ``bbox`` is the raw ``(x, y, x + w, y + h)`` in float32 (not clipped to the image);
    * ``keypoints_visible`` is 1 for every joint with visibility > 0 (labelled), else 0;
    * training (``test_mode=False``) lists only images with at least one annotation (64115 on
      train2017), testing lists every image of the file (5000 on val2017);
    * an annotation without a box or with a keypoint array of the wrong length is an error that
      names the annotation and the image (never silently dropped).

    Other keypoint sets than COCO's are given as mmpose's are, by a metainfo file
    (``metainfo=dict(from_file=...)`` in mmpose's ``dataset_info`` format): its joints, flip
    pairs (``swap``) and skeleton are used everywhere; a ``swap`` that names no joint of the
    file is an error naming the file.

    Args:
        data_mode: Must be ``'bottomup'`` (one sample per image).
        **kwargs: ``CocoDataset`` arguments.
    """

    def __init__(self, *args, data_mode: str = 'bottomup', **kwargs) -> None:
        if data_mode != 'bottomup':
            raise ValueError(f'{self.__class__.__name__} is bottom-up only (one sample per '
                             f'image), got data_mode={data_mode!r}')
        super().__init__(*args, data_mode=data_mode, **kwargs)

    @classmethod
    def _load_metainfo(cls, metainfo: Optional[dict] = None) -> dict:
        source = (metainfo or {}).get('from_file', 'the dataset metainfo')
        try:
            meta = super()._load_metainfo(metainfo)
        except KeyError as exc:
            raise DatasetFormatError(
                f'{source}: a keypoint\'s swap names {exc}, which is not one of its keypoint '
                'names') from None
        flip = meta.get('flip_indices')
        if flip is not None and any(flip[j] != i for i, j in enumerate(flip)):
            raise DatasetFormatError(f'{source}: the swap entries do not form left/right pairs '
                                     f'(flip indices {list(flip)})')
        return meta

    def load_data_list(self) -> List[dict]:
        if not self.bbox_file and not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'annotation file not found: {self.ann_file}')
        data_list = super().load_data_list()
        num_anns = sum(len(d.get('bbox', ())) for d in data_list)
        print_log(f'{self.__class__.__name__}: {len(data_list)} images, {num_anns} person '
                  f'annotations from {self.ann_file} (test_mode={self.test_mode})',
                  logger='current')
        return data_list

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        ann = raw_data_info['raw_ann_info']
        img = raw_data_info['raw_img_info']
        where = f'{self.ann_file}: annotation {ann.get("id")} of image {ann.get("image_id")} ' \
            f'({img.get("file_name")})'
        num_keypoints = self.metainfo['num_keypoints']
        bbox = ann.get('bbox')
        if bbox is None or len(bbox) != 4:
            raise DatasetFormatError(f'{where} has no [x, y, w, h] bbox (got {bbox!r})')
        raw_kps = ann.get('keypoints')
        if raw_kps is None:
            raise DatasetFormatError(f'{where} has no "keypoints" field (a COCO person keypoints '
                                     'file, e.g. person_keypoints_train2017.json, is needed)')
        if len(raw_kps) != 3 * num_keypoints:
            raise DatasetFormatError(
                f'{where} has {len(raw_kps)} keypoint values; expected {3 * num_keypoints} '
                f'({num_keypoints} joints x (x, y, v))')
        try:
            x, y, w, h = (float(v) for v in bbox)
            kps = np.asarray(raw_kps, dtype=np.float32).reshape(1, num_keypoints, 3)
        except (TypeError, ValueError) as exc:
            raise DatasetFormatError(f'{where} has non-numeric bbox or keypoints: {exc}') from exc
        visible = (kps[..., 2] > 0).astype(np.float32)
        info = dict(
            img_id=ann['image_id'],
            img_path=img['img_path'],
            bbox=np.array([[x, y, x + w, y + h]], dtype=np.float32),
            bbox_score=np.ones(1, dtype=np.float32),
            num_keypoints=int(ann.get('num_keypoints', int(visible.sum()))),
            keypoints=kps[..., :2],
            keypoints_visible=visible,
            area=np.array(ann.get('area', w * h), dtype=np.float32),
            iscrowd=ann.get('iscrowd', 0),
            segmentation=ann.get('segmentation', None),
            id=ann['id'],
            category_id=np.array(ann['category_id']),
            raw_ann_info=dict(ann))
        if 'crowdIndex' in img:
            info['crowd_index'] = img['crowdIndex']
        return info
