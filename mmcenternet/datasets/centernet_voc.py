# Copyright (c) mmcenternet contributors. All rights reserved.
"""Pascal VOC (XML annotations) for the original's ``ctdet_pascal_*`` models."""
import xml.etree.ElementTree as ET
from typing import List

from mmdet.datasets import VOCDataset

from mmcenternet.registry import DET_DATASETS
from mmcenternet.utils.errors import DatasetFormatError

__all__ = ['CenterNetVOCDataset']


@DET_DATASETS.register_module()
class CenterNetVOCDataset(VOCDataset):
    """mmdet's ``VOCDataset`` whose bad input stops with one line naming the file.

    Objects are read as mmdet reads them (coordinates minus one, ``difficult`` objects marked
    ignored: not trained on, and ignored by the VOC metric as in the original's evaluation). An
    image-set list that is missing, an annotation that is not valid XML, an object without a
    class name, box or valid coordinates, or a class name that is not one of the dataset's
    classes is an error naming the file (mmdet would raise deep in the XML parser, or skip the
    object silently).
    """

    def load_data_list(self) -> List[dict]:
        import os.path as osp
        if not osp.isfile(self.ann_file):
            raise DatasetFormatError(f'image-set list not found: {self.ann_file}')
        return super().load_data_list()

    def parse_data_info(self, img_info: dict):
        try:
            return super().parse_data_info(img_info)
        except DatasetFormatError as exc:
            raise DatasetFormatError(f'{img_info["xml_path"]}: {exc}') from None
        except ET.ParseError as exc:
            raise DatasetFormatError(f'{img_info["xml_path"]}: not a valid XML file ({exc})') \
                from None
        except FileNotFoundError:
            raise DatasetFormatError(f'{img_info["xml_path"]}: annotation file not found (listed '
                                     f'as image {img_info["img_id"]} in {self.ann_file})') from None
        except (AttributeError, TypeError, ValueError) as exc:
            raise DatasetFormatError(f'{img_info["xml_path"]}: missing or malformed field '
                                     f'({type(exc).__name__}: {exc})') from None

    def _parse_instance_info(self, raw_ann_info, minus_one: bool = True) -> List[dict]:
        for obj in raw_ann_info.findall('object'):
            name = obj.find('name')
            if name is None or name.text not in self._metainfo['classes']:
                found = None if name is None else name.text
                raise DatasetFormatError(
                    f'an object named {found!r}, not one of the classes '
                    f'{list(self._metainfo["classes"])}')
        return super()._parse_instance_info(raw_ann_info, minus_one)
