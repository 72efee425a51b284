# Copyright (c) mmcenternet contributors. All rights reserved.
"""Run a detection or pose model on a video file or a camera, as the original's ``demo.py``
does: every frame through the test path, drawn, written to a video file (OpenCV) and / or shown
in a window, with the frames per second on the frame and printed at the end.

Examples:
    python tools/misc/video_demo.py clip.mp4 configs/centernet/dla34_2x_coco.py \\
        checkpoints/dla34_2x.pth --out outputs/clip_drawn.mp4
    python tools/misc/video_demo.py 0 configs/centernet/dla34_2x_coco.py \\
        checkpoints/dla34_2x.pth --show                      # webcam 0, in a window
    python tools/misc/video_demo.py clip.mp4 configs/centernet_pose/dla34_3x_coco.py \\
        checkpoints/pose_dla34_3x.pth --out outputs/pose.mp4
    python tools/misc/video_demo.py clip.mp4 configs/centernet/dla34_2x_coco.py \\
        --backend onnxruntime --onnx dla34.onnx --out outputs/clip_drawn.mp4
"""
import argparse
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmcenternet  # noqa: E402,F401  (registers modules, fixes checkpoint I/O)
from mmengine.config import DictAction  # noqa: E402

from mmcenternet.utils.cli import UserError, run_cli  # noqa: E402

#: Writers by file extension (FourCC codes that opencv-python's own FFmpeg build writes).
FOURCC = {'.mp4': 'mp4v', '.avi': 'MJPG', '.mkv': 'MJPG'}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Draw the detections of a model on the frames of a video or a camera')
    parser.add_argument('input', help='a video file, or a camera index (0 = the first camera)')
    parser.add_argument('config', help='detection or pose config file')
    parser.add_argument('checkpoint', nargs='?',
                        help='checkpoint file (not needed with --backend onnxruntime)')
    parser.add_argument('--backend', choices=['pytorch', 'onnxruntime'], default=None,
                        help='run the network with PyTorch (default) or onnxruntime (--onnx)')
    parser.add_argument('--onnx', help='ONNX file (raw maps, exported with --dynamic)')
    parser.add_argument('--out', help='write the drawn frames to this video file '
                        f'({", ".join(FOURCC)})')
    parser.add_argument('--show', action='store_true', help='show the frames in a window')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='draw detections with at least this score')
    parser.add_argument('--max-frames', type=int, default=None, help='stop after N frames')
    parser.add_argument('--device', default='cpu', help="'cpu', 'cuda' or 'cuda:N'")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    if args.backend is None:
        args.backend = 'onnxruntime' if args.onnx else 'pytorch'
    if args.backend == 'onnxruntime' and not args.onnx:
        parser.error('--backend onnxruntime needs --onnx FILE')
    if args.backend == 'pytorch' and not args.checkpoint:
        parser.error('the following arguments are required: checkpoint (or --onnx FILE)')
    if not args.out and not args.show:
        parser.error('nothing to do: give --out FILE and / or --show')
    return args


def open_capture(source: str):
    """``cv2.VideoCapture`` of a file or a camera index, or a one-line error naming it."""
    import cv2
    camera = source.isdigit()
    if not camera and not osp.isfile(source):
        raise UserError(f'video file not found: {source}')
    cap = cv2.VideoCapture(int(source) if camera else source)
    if not cap.isOpened():
        what = f'camera {source}' if camera else f'video {source}'
        raise UserError(f'cannot open {what} (OpenCV could not read it'
                        f'{"; is a camera connected?" if camera else "; is it a video file?"})')
    return cap


def open_writer(path: str, fps: float, size):
    import cv2
    ext = osp.splitext(path)[1].lower()
    if ext not in FOURCC:
        raise UserError(f'--out {path}: use a {", ".join(FOURCC)} file')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*FOURCC[ext]), fps, size)
    if not writer.isOpened():
        raise UserError(f'--out {path}: OpenCV cannot write {ext} videos here')
    return writer


def build_predictor(args):
    """``frame -> drawn frame`` for the config's task."""
    from mmcenternet.utils.cli import is_pose_config, load_config
    if is_pose_config(load_config(args.config, args.cfg_options)):
        from mmcenternet.apis import draw_pose, inference_pose, load_pose_estimator
        model = load_pose_estimator(
            args.config, args.checkpoint, device=args.device, cfg_options=args.cfg_options,
            onnx_file=args.onnx if args.backend == 'onnxruntime' else None)

        def pose(frame):
            pred = inference_pose(model, frame).pred_instances
            return draw_pose(frame, pred, args.score_thr, meta=model.dataset_meta)

        return pose
    from mmdet.apis import inference_detector

    from mmcenternet.apis import load_detector
    from mmcenternet.visualization import draw_detections
    model = load_detector(args.config, args.checkpoint, device=args.device,
                          cfg_options=args.cfg_options,
                          onnx_file=args.onnx if args.backend == 'onnxruntime' else None)
    classes = model.dataset_meta.get('classes')

    def detect(frame):
        pred = inference_detector(model, frame).pred_instances.cpu()
        return draw_detections(frame, pred.bboxes.numpy(), pred.scores.numpy(),
                               pred.labels.numpy(), args.score_thr, classes)

    return detect


def main(argv=None) -> None:
    import cv2

    from mmcenternet.visualization import draw_fps
    args = parse_args(argv)
    if args.show and not os.environ.get('DISPLAY') and sys.platform.startswith('linux'):
        raise UserError('--show needs a display (DISPLAY is not set); write the frames with '
                        '--out FILE instead')
    predict = build_predictor(args)
    cap = open_capture(args.input)
    fps_in = cap.get(cv2.CAP_PROP_FPS) or 25.0
    writer, frames, start, rate = None, 0, time.perf_counter(), 0.0
    try:
        while args.max_frames is None or frames < args.max_frames:
            ok, frame = cap.read()
            if not ok:
                break
            t0 = time.perf_counter()
            drawn = predict(frame)
            seconds = time.perf_counter() - t0
            rate = 1.0 / seconds if frames == 0 else 0.9 * rate + 0.1 / seconds
            draw_fps(drawn, rate)
            if args.out:
                if writer is None:
                    writer = open_writer(args.out, fps_in, (drawn.shape[1], drawn.shape[0]))
                writer.write(drawn)
            if args.show:
                cv2.imshow('mmcenternet', drawn)
                if cv2.waitKey(1) & 0xFF in (27, ord('q')):  # Esc / q: stop
                    break
            frames += 1
    finally:
        cap.release()
        if writer is not None:
            writer.release()
        if args.show:
            cv2.destroyAllWindows()
    if frames == 0:
        raise UserError(f'no frame could be read from {args.input}')
    total = time.perf_counter() - start
    print(f'{frames} frames in {total:.1f} s: {frames / total:.2f} FPS (reading, network, '
          f'decoding and drawing){"; wrote " + args.out if args.out else ""}')


if __name__ == '__main__':
    run_cli(main)
