# Copyright (c) mmcenternet contributors. All rights reserved.
"""Write the demo dataset (coloured shapes, COCO format) used by ``make demo`` and the tests.

By default each class has its own colour family on a grey texture and every shape lies wholly
inside its image (``configs/demo/ctdet_r18_shapes.py`` is tuned for this);
``--any-colour --cut-by-border`` writes the harder variant (any colour on a coloured texture,
shapes cut by the border) that the tests use. ``--pose`` writes stick figures with the 17 COCO
joints instead (``person_keypoints_{train,val}.json``, for
``configs/demo/pose_r18_stick_figures.py``).

Usage:
    python tools/misc/make_demo_data.py [--out data/demo] [--train 800] [--val 100]
    python tools/misc/make_demo_data.py --pose --out data/demo_pose --train 400 --val 50
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmcenternet.utils.synthetic.keypoints import make_stick_figures_dataset  # noqa: E402
from mmcenternet.utils.synthetic.shapes import make_shapes_dataset  # noqa: E402

DEFAULT_TRAIN, DEFAULT_VAL, DEFAULT_SIZE = 800, 100, (128, 128)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/demo', help='dataset root')
    parser.add_argument('--train', type=int, default=DEFAULT_TRAIN, help='training images')
    parser.add_argument('--val', type=int, default=DEFAULT_VAL, help='validation images')
    parser.add_argument('--size', type=int, nargs=2, default=DEFAULT_SIZE, help='image w h')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--any-colour', action='store_true',
                        help='any colour on a coloured texture instead of one colour family '
                        'per class')
    parser.add_argument('--cut-by-border', action='store_true',
                        help='let shapes reach over the image border')
    parser.add_argument('--pose', action='store_true',
                        help='stick figures with COCO\'s 17 joints instead of shapes')
    args = parser.parse_args(argv)
    if args.pose:
        tr = make_stick_figures_dataset(args.out, args.train, args.size, seed=args.seed,
                                        split='train')
        va = make_stick_figures_dataset(args.out, args.val, args.size, seed=args.seed + 1,
                                        split='val')
        print(f'wrote {args.train} training images ({tr["ann_file"]}) and {args.val} '
              f'validation images ({va["ann_file"]})')
        return
    style = dict(class_colours=not args.any_colour, inside=not args.cut_by_border,
                 size_range=(0.15, 0.5) if args.cut_by_border else (0.2, 0.5),
                 max_overlap=0.25 if args.cut_by_border else 0.1)
    tr = make_shapes_dataset(args.out, args.train, args.size, seed=args.seed, split='train',
                             **style)
    va = make_shapes_dataset(args.out, args.val, args.size, seed=args.seed + 1, split='val',
                             **style)
    print(f'wrote {args.train} training images ({tr["ann_file"]}) and {args.val} validation '
          f'images ({va["ann_file"]})')


if __name__ == '__main__':
    main()
