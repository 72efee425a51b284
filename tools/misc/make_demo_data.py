# Copyright (c) mmcenternet contributors. All rights reserved.
"""Write the demo dataset (coloured shapes, COCO format) used by ``make demo`` and the tests.

Usage:
    python tools/misc/make_demo_data.py [--out data/demo] [--train 240] [--val 60]
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmcenternet.utils.synthetic.shapes import make_shapes_dataset  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/demo', help='dataset root')
    parser.add_argument('--train', type=int, default=240, help='training images')
    parser.add_argument('--val', type=int, default=60, help='validation images')
    parser.add_argument('--size', type=int, nargs=2, default=(160, 128), help='image w h')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    tr = make_shapes_dataset(args.out, args.train, args.size, seed=args.seed, split='train')
    va = make_shapes_dataset(args.out, args.val, args.size, seed=args.seed + 1, split='val')
    print(f'wrote {args.train} training images ({tr["ann_file"]}) and {args.val} validation '
          f'images ({va["ann_file"]})')


if __name__ == '__main__':
    main()
