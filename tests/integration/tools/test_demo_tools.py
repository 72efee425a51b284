# Copyright (c) mmcenternet contributors. All rights reserved.
"""The user-facing tools on generated data, run as the docs show them (docs/getting_started.md).

``tools/misc/demo.py`` (what ``make demo`` runs) is exercised with one epoch on 16 images; its
checkpoint then feeds the image demo, the heatmap browser, the speed tool and mmdet's inference
APIs.
"""
import glob
import os
import os.path as osp
import re

import cv2
import pytest
import torch
from golden import run_python

CONFIG = 'configs/demo/ctdet_r18_shapes.py'


run = run_python


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    """``tools/misc/demo.py`` with 1 epoch on 16 images: data, checkpoint and its output."""
    base = tmp_path_factory.mktemp('demo')
    data, work = str(base / 'data'), str(base / 'work')
    proc = run('tools/misc/demo.py', '--epochs', '1', '--num-images', '16', '--data-root', data,
               '--work-dir', work)
    return dict(data=data, work=work, ckpt=osp.join(work, 'epoch_1.pth'), out=proc.stdout)


@pytest.mark.slow
def test_demo_steps(demo):
    out = demo['out']
    for step in ('1/5 demo data', '2/5 training', '3/5 evaluating', '4/5 drawing',
                 '5/5 the predicted centre heat map'):
        assert f'==> {step}' in out
    assert re.search(r'epoch +1/1 +loss [\d.]+ \(heatmap', out)
    assert 'Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]' in out
    assert re.search(r'bbox AP [\d.]+, AP50 [\d.]+', out)
    pictures = osp.join(demo['work'], 'predictions')
    assert f'predictions beside the ground truth: {pictures}' in out
    assert sorted(os.listdir(pictures)) == [f'val_{i:05d}.png' for i in range(4)]
    # ground truth beside the prediction: two panels of the enlarged 128x128 image
    assert cv2.imread(osp.join(pictures, 'val_00000.png')).shape == (512, 1024, 3)
    heat = osp.join(demo['work'], 'heatmap', 'test_0_val_00000_pred.png')
    assert f'predicted heat map with its peaks: {heat}' in out and osp.isfile(heat)
    curves = osp.join(demo['work'], 'curves.png')
    assert f'loss and validation AP curves: {curves}' in out
    assert cv2.imread(curves).shape[1] > 600
    # what next: own data, a converted original checkpoint, ONNX export
    for command in ('python tools/train.py configs/my_data/', 'centernet2mmcenternet.py',
                    'python tools/test.py configs/centernet/dla34_2x_coco.py',
                    'python tools/deployment/export_onnx.py'):
        assert command in out


@pytest.mark.slow
def test_pose_demo_steps(tmp_path):
    """``make demo-pose``: stick figures, training, the keypoint AP table, skeletons."""
    data, work = str(tmp_path / 'data'), str(tmp_path / 'work')
    # 16 images: one iteration of the config's batch of 16
    out = run('tools/misc/demo.py', '--task', 'pose', '--epochs', '1', '--num-images', '16',
              '--data-root', data, '--work-dir', work, '--num-pictures', '2').stdout
    for step in ('1/4 demo data', '2/4 training', '3/4 evaluating', '4/4 drawing the persons'):
        assert f'==> {step}' in out
    assert osp.isfile(osp.join(data, 'annotations', 'person_keypoints_val.json'))
    assert re.search(r'epoch +1/1 +loss [\d.]+ \(heatmap', out)
    assert 'Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets= 20 ]' in out
    assert re.search(r'keypoint AP [\d.]+, AP50 [\d.]+', out)
    pictures = osp.join(work, 'predictions')
    assert f'skeletons beside the ground truth: {pictures}' in out
    assert sorted(os.listdir(pictures)) == ['val_00000.png', 'val_00001.png']
    drawn = cv2.imread(osp.join(pictures, 'val_00000.png'))
    assert drawn.shape == (512, 1024, 3)  # ground truth beside the prediction, 4x enlarged
    assert f'loss and validation AP curves: {osp.join(work, "curves.png")}' in out


@pytest.mark.slow
def test_demo_second_run_reuses_data_and_checkpoint(demo):
    proc = run('tools/misc/demo.py', '--epochs', '1', '--num-images', '16', '--data-root',
               demo['data'], '--work-dir', demo['work'], '--num-pictures', '1')
    assert f'found {demo["data"]}, using it' in proc.stdout
    assert f'found {demo["ckpt"]}, skipping training' in proc.stdout
    assert 'Average Precision' in proc.stdout


@pytest.mark.slow
def test_image_demo_file_and_folder(demo, tmp_path):
    val = osp.join(demo['data'], 'val')
    out_dir = str(tmp_path / 'vis')
    # an untrained model scores about sigmoid(-2.19) = 0.1: a low threshold draws boxes
    proc = run('tools/misc/image_demo.py', val, CONFIG, demo['ckpt'], '--out-dir', out_dir,
               '--score-thr', '0.05', '--max-images', '2')
    assert sorted(os.listdir(out_dir)) == ['val_00000.png', 'val_00001.png']
    assert re.search(r'val_00000.png: \d+ object\(s\) >= 0.05 \((rectangle|ellipse|triangle|'
                     r'cross) 0\.\d\d', proc.stdout)
    assert f'drawn images: {out_dir}' in proc.stdout
    drawn = cv2.imread(osp.join(out_dir, 'val_00000.png'))
    assert drawn.shape == (512, 512, 3)  # 128x128 drawn 4x larger (--draw-size 480)

    one = osp.join(val, 'val_00003.png')
    run('tools/misc/image_demo.py', one, CONFIG, demo['ckpt'], '--out-dir', out_dir)
    assert osp.isfile(osp.join(out_dir, 'val_00003.png'))


def test_image_demo_bad_input(tmp_path):
    proc = run('tools/misc/image_demo.py', str(tmp_path / 'nope'), CONFIG, 'x.pth',
               expect_rc=2)
    assert proc.stderr.startswith('error: input not found:')
    assert 'Traceback' not in proc.stderr


@pytest.mark.slow
def test_browse_heatmaps(demo, tmp_path):
    cfg_opts = ['--cfg-options', f'train_dataloader.dataset.data_root={demo["data"]}/',
                f'test_dataloader.dataset.data_root={demo["data"]}/']
    out_dir = str(tmp_path / 'hm')
    proc = run('tools/analysis_tools/browse_heatmaps.py', CONFIG, '--checkpoint', demo['ckpt'],
               '--index', '0', '1', '--out-dir', out_dir, *cfg_opts)
    names = sorted(os.listdir(out_dir))
    assert names == ['train_0_train_00000_gt.png', 'train_0_train_00000_pred.png',
                     'train_1_train_00001_gt.png', 'train_1_train_00001_pred.png']
    assert re.search(r'train_00000.png \[train #0\]: \d+ GT boxes, \d+ heatmap peaks \(value 1\); '
                     r'predicted heatmap max 0\.\d+', proc.stdout)
    for name in names:
        assert f'wrote {osp.join(out_dir, name)}' in proc.stdout
    gt = cv2.imread(osp.join(out_dir, names[0]))
    assert gt.shape[1] == 512  # the 128x128 train input drawn 4x larger
    pred = cv2.imread(osp.join(out_dir, names[1]))
    assert pred.shape[1] > 2 * 512  # two panels of the 128x128 test input

    proc = run('tools/analysis_tools/browse_heatmaps.py', CONFIG, '--split', 'test', '--index',
               '2', '--out-dir', out_dir, *cfg_opts)
    assert osp.isfile(osp.join(out_dir, 'test_2_val_00002_gt.png'))


@pytest.mark.slow
def test_benchmark_speed(demo):
    proc = run('tools/analysis_tools/benchmark_speed.py', CONFIG, '--checkpoint', demo['ckpt'],
               '--images', osp.join(demo['data'], 'val'), '--num-images', '2', '--warmup', '1',
               '--repeats', '1')
    lines = proc.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith('model '))
    assert lines[header].split() == ['model', 'load', 'pre', 'net', 'dec', 'post', 'total',
                                     'img/s']
    rows = {line[:50].strip(): [float(v) for v in line[50:].split()]
            for line in lines[header + 1:header + 3]}
    assert set(rows) == {'mmcenternet ctdet_r18_shapes',
                         'mmdet CenterNet, same sizes (R18 w32, no DCN)'}
    for values in rows.values():
        load, pre, net, dec, post, total, per_s = values
        # six values printed to 0.01 ms: their rounding errors add up to at most 0.03
        assert total == pytest.approx(load + pre + net + dec + post, abs=0.031)
        assert per_s == pytest.approx(1000 / total, rel=0.01, abs=0.006)  # printed to 0.01
    assert '2 image(s) from' in proc.stdout and '1 timed run(s) of each after 1 warm-up' in \
        proc.stdout


@pytest.mark.slow
def test_mmdet_inference_apis(demo):
    """mmdet's init_detector / inference_detector / DetInferencer work with our configs, and the
    staged test path of the tools gives the same detections."""
    import mmcv
    from mmdet.apis import DetInferencer, inference_detector, init_detector

    from mmcenternet.apis import StagedDetector, load_detector
    img = osp.join(demo['data'], 'val', 'val_00001.png')
    model = init_detector(CONFIG, demo['ckpt'], device='cpu')
    result = inference_detector(model, img)
    pred = result.pred_instances
    assert len(pred.bboxes) == 100 and pred.bboxes.shape == (100, 4)
    assert model.dataset_meta['classes'] == ('rectangle', 'ellipse', 'triangle', 'cross')

    inferencer = DetInferencer(model=CONFIG, weights=demo['ckpt'], device='cpu')
    out = inferencer(img, return_datasamples=True, no_save_vis=True)
    assert torch.equal(out['predictions'][0].pred_instances.bboxes, pred.bboxes)

    staged = StagedDetector(load_detector(CONFIG, demo['ckpt']))
    timings = {}
    same = staged(mmcv.imread(img), img, timings=timings)
    assert torch.equal(same.pred_instances.bboxes, pred.bboxes)
    assert torch.equal(same.pred_instances.scores, pred.scores)
    assert torch.equal(same.pred_instances.labels, pred.labels)
    assert sorted(timings) == ['dec', 'net', 'post', 'pre']


@pytest.mark.slow
def test_test_tool_show_dir_draws_ground_truth_beside(demo, tmp_path):
    opts = ['--cfg-options'] + [f'{k}_dataloader.dataset.data_root={demo["data"]}/'
                                for k in ('test', 'val')] + \
        [f'test_evaluator.ann_file={demo["data"]}/annotations/val.json']
    work = str(tmp_path / 'w')
    run('tools/test.py', CONFIG, demo['ckpt'], '--work-dir', work, '--show-dir', 'vis', *opts)
    drawn = sorted(glob.glob(osp.join(work, '*', 'vis', '*.png')))
    assert [osp.basename(p) for p in drawn] == [f'val_{i:05d}.png' for i in range(4)]
    # ground truth (left) beside the prediction, the 128x128 images drawn 4x larger
    assert cv2.imread(drawn[0]).shape == (512, 1024, 3)
