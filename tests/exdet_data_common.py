# Copyright (c) mmcenternet contributors. All rights reserved.
"""Small COCO files with extreme points for the exdet data tests."""
import json


def write_coco(path, annotations, images=None, names=('a', 'b')):
    images = images or [dict(id=1, file_name='a.png', width=40, height=30)]
    cats = [dict(id=i + 1, name=n) for i, n in enumerate(names)]
    with open(path, 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=cats), f)


def exdet_annotation(i, **kw):
    return dict(dict(id=i, image_id=1, category_id=1, bbox=[2, 2, 10, 10], area=100, iscrowd=0),
                **kw)
