# Copyright (c) mmcenternet contributors. All rights reserved.
"""Convert an original CenterNet checkpoint (xingyizhou/CenterNet) for mmcenternet.

Usage:
    python tools/model_converters/centernet2mmcenternet.py ctdet_coco_dla_2x.pth dla34_2x.pth
    python tools/model_converters/centernet2mmcenternet.py ExtremeNet_500000.pkl hg104_init.pth

Architecture (dla_34, resdcn_18/101, hourglass, ...) and task (ctdet, multi_pose, exdet) are read
from the keys; the file is read with torch's weights-only loader and written so that it loads the
same way. ExtremeNet / CornerNet hourglass checkpoints (the original's initialisation of its
hourglass models) become a backbone initialisation for `load_from`; `--init-for TASK` also turns
a CenterNet hourglass checkpoint into an initialisation for another task (e.g. ctdet_coco_hg.pth
for the multi-pose model), keeping only the heads that task's model has.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmcenternet.utils.convert_official import (TASK_HEADS,  # noqa: E402
                                                OfficialCheckpointError, convert_checkpoint)
from mmcenternet.utils.cli import UserError, run_cli  # noqa: E402

CONFIGS = {
    ('dla', 34, 'ctdet'): 'configs/centernet/dla34_1x_coco.py or dla34_2x_coco.py',
    ('resdcn', 18, 'ctdet'): 'configs/centernet/resdcn18_1x_coco.py',
    ('resdcn', 101, 'ctdet'): 'configs/centernet/resdcn101_1x_coco.py',
    ('dla', 34, 'multi_pose'): 'configs/centernet_pose/dla34_1x_coco.py or dla34_3x_coco.py',
    ('hourglass', 104, 'ctdet'): 'configs/centernet/hourglass104_coco.py',
    ('hourglass', 104, 'multi_pose'): 'configs/centernet_pose/hourglass104_1x_coco.py or '
                                      'hourglass104_3x_coco.py',
    ('dla', 34, 'exdet'): 'configs/centernet_exdet/dla34_coco.py',
    ('hourglass', 104, 'exdet'): 'configs/centernet_exdet/hourglass104_coco.py',
}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('src', help='original checkpoint (model_*.pth / ctdet_coco_*.pth)')
    parser.add_argument('dst', help='output checkpoint for mmcenternet')
    parser.add_argument(
        '--init-for', choices=sorted(TASK_HEADS),
        help='write a hourglass initialisation for this task (backbone + the heads that task has; '
        'for load_from). ExtremeNet / CornerNet files are always converted so, for ctdet by '
        'default')
    args = parser.parse_args(argv)
    if osp.abspath(args.src) == osp.abspath(args.dst):
        raise UserError('source and destination must differ')
    try:
        info = convert_checkpoint(args.src, args.dst, init_for=args.init_for)
    except OfficialCheckpointError as exc:
        raise UserError(f'{args.src}: {exc}') from exc
    cfg = CONFIGS.get((info['arch'], info['depth'], info['task']), 'a matching config')
    if 'init_for' in info:
        kept = ', '.join(info['kept_heads']) or 'none'
        print(f'{args.src}: {info["source"]} hourglass checkpoint -> initialisation for '
              f'{info["init_for"]} (backbone kept; heads kept: {kept}; dropped: '
              f'{", ".join(info["dropped"]) or "nothing"})\nwrote {args.dst} (use it as '
              f'load_from with {cfg})')
        return
    if info['task'] == 'exdet' and info['heads'].get('hm_t') == 1:
        cfg += ' and --cfg-options model.bbox_head.agnostic_ex=True (class-agnostic extreme maps)'
    if info['task'] == 'ctdet' and info['heads'].get('wh', 2) > 2:
        cfg += (' and --cfg-options model.bbox_head.cat_spec_wh=True (class-specific sizes, the '
                "original's --cat_spec_wh)")
    print(f'{args.src}: {info["arch"]}{info["depth"]} {info["task"]} with {info["num_classes"]} '
          f'classes, heads {info["heads"]}\nwrote {args.dst} (use it with {cfg})')


if __name__ == '__main__':
    run_cli(main)
