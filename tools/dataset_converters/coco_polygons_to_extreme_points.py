# Copyright (c) mmcenternet contributors. All rights reserved.
"""Write a COCO annotation file with ``extreme_points`` for exdet from COCO segmentations.

Usage:
    python tools/dataset_converters/coco_polygons_to_extreme_points.py \\
        data/coco/annotations/instances_train2017.json \\
        data/coco/annotations/instances_extreme_train2017.json

Every annotation gets ``extreme_points = [[x_t, y_t], [x_l, y_l], [x_b, y_b], [x_r, y_r]]``
(top, left, bottom, right), the vertex with the smallest y / smallest x / largest y / largest x
over all vertices of its polygons (polygons in annotation order, vertices in polygon order);
ties: the first such vertex. RLE masks (crowd regions) use their extreme pixels. ``--rule
extremenet`` writes the points of ExtremeNet's own ``instances_extreme_*.json`` files instead
(see docs/exdet.md). Annotations that already have ``extreme_points`` keep them unless
``--overwrite`` is given. Everything else in the file is copied unchanged.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmcenternet.datasets.extreme_points import (RULES, ExtremePointsError,  # noqa: E402
                                                 extreme_points_from_segmentation)
from mmcenternet.utils.cli import UserError, run_cli  # noqa: E402


def convert(data: dict, rule: str = 'first_vertex', overwrite: bool = False,
            on_missing: str = 'error') -> dict:
    """Add ``extreme_points`` to the annotations of a loaded COCO dict (in place).

    Args:
        data: COCO dict (``images``, ``annotations``, ...).
        rule: ``'first_vertex'`` or ``'extremenet'``.
        overwrite: Recompute points already present.
        on_missing: ``'error'`` (an annotation without usable segmentation stops the conversion,
            naming it) or ``'skip'`` (it is left without points and counted).

    Returns:
        Counts ``{'written', 'kept', 'skipped'}``.
    """
    sizes = {img['id']: (img.get('height'), img.get('width')) for img in data.get('images', [])}
    counts = dict(written=0, kept=0, skipped=0)
    for ann in data.get('annotations', []):
        if 'extreme_points' in ann and not overwrite:
            counts['kept'] += 1
            continue
        h, w = sizes.get(ann.get('image_id'), (None, None))
        try:
            segm = ann.get('segmentation')
            if not segm:
                raise ExtremePointsError('no segmentation')
            pts = extreme_points_from_segmentation(segm, h, w, rule=rule)
        except ExtremePointsError as exc:
            if on_missing == 'skip':
                counts['skipped'] += 1
                continue
            raise UserError(f'annotation {ann.get("id")} of image {ann.get("image_id")}: cannot '
                            f'take extreme points ({exc}); use --on-missing skip to leave such '
                            'annotations without points') from exc
        ann['extreme_points'] = [[float(x), float(y)] for x, y in pts]
        counts['written'] += 1
    return counts


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('src', help='COCO annotation file with segmentations')
    parser.add_argument('dst', help='output annotation file')
    parser.add_argument('--rule', choices=RULES, default='first_vertex',
                        help='first_vertex (default): first extreme vertex; extremenet: the band '
                        'rule of ExtremeNet\'s instances_extreme files')
    parser.add_argument('--overwrite', action='store_true',
                        help='recompute extreme_points that the file already has')
    parser.add_argument('--on-missing', choices=('error', 'skip'), default='error',
                        help='annotations without a usable segmentation: stop (default) or skip')
    args = parser.parse_args(argv)
    if osp.abspath(args.src) == osp.abspath(args.dst):
        raise UserError('source and destination must differ')
    if not osp.isfile(args.src):
        raise UserError(f'annotation file not found: {args.src}')
    with open(args.src) as f:
        data = json.load(f)
    counts = convert(data, args.rule, args.overwrite, args.on_missing)
    with open(args.dst, 'w') as f:
        json.dump(data, f)
    print(f'{args.src}: {counts["written"]} annotation(s) given extreme points ({args.rule}), '
          f'{counts["kept"]} kept their own, {counts["skipped"]} skipped\nwrote {args.dst}')


if __name__ == '__main__':
    run_cli(main)
