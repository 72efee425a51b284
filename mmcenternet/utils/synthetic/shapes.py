# Copyright (c) mmcenternet contributors. All rights reserved.
"""A small, deterministic COCO-format detection dataset of coloured shapes.

Used by ``make demo`` and the tests: several classes of shapes of varied size and aspect ratio
on textured backgrounds, some cut by the image border, some images without objects. Shapes are
drawn in a colour that stands out from the background and barely overlap, so that every
annotated object can be seen. The same seed always gives the same files.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

__all__ = ['SHAPE_CLASSES', 'make_shapes_dataset', 'POLYGON_CLASSES',
           'make_polygon_shapes_dataset', 'CocoSplitWriter']

SHAPE_CLASSES = ('rectangle', 'ellipse', 'triangle', 'cross')


def _background(rng: np.random.RandomState, h: int, w: int) -> np.ndarray:
    """Smooth colour gradient + blurred noise + a few faint lines (a 'texture')."""
    base = rng.randint(40, 200, size=3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    grad = (xx / max(w, 1) * rng.uniform(-40, 40) + yy / max(h, 1) * rng.uniform(-40, 40))
    img = base[None, None, :] + grad[..., None]
    noise = rng.normal(0, 25, size=(h // 4 + 1, w // 4 + 1, 3)).astype(np.float32)
    img += cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)
    img = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(rng.randint(0, 4)):
        p1 = (int(rng.randint(0, w)), int(rng.randint(0, h)))
        p2 = (int(rng.randint(0, w)), int(rng.randint(0, h)))
        colour = tuple(int(c) for c in np.clip(base + rng.randint(-30, 30, 3), 0, 255))
        cv2.line(img, p1, p2, colour, 1)
    return img


# Hue (OpenCV's 0-180 scale) of each class's colour family in the ``class_colours`` style:
# red rectangles, green ellipses, blue triangles, yellow crosses.
CLASS_HUES = (0, 60, 120, 28)


def _class_colour(rng: np.random.RandomState, cls: int) -> tuple:
    """A saturated BGR colour near class ``cls``'s hue (:data:`CLASS_HUES`)."""
    hue = (CLASS_HUES[cls % len(CLASS_HUES)] + rng.randint(-8, 9)) % 180
    hsv = np.array([[[hue, rng.randint(170, 256), rng.randint(170, 256)]]], np.uint8)
    return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])


def _grey_background(rng: np.random.RandomState, h: int, w: int) -> np.ndarray:
    """The textured background of :func:`_background` with its colour taken out."""
    img = _background(rng, h, w)
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    return cv2.cvtColor((grey * 0.7).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def _contrasting_colour(rng: np.random.RandomState, bg_mean: np.ndarray) -> tuple:
    """A random colour that differs clearly from the background's mean colour."""
    colour = rng.randint(0, 256, 3)
    for _ in range(20):
        if np.abs(colour - bg_mean).sum() >= 150:
            break
        colour = rng.randint(0, 256, 3)
    return tuple(int(c) for c in colour)


def _overlap(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection of boxes ``a`` and ``b`` over the area of the smaller one."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return iw * ih / max(small, 1e-6)


def _draw_shape(img: np.ndarray, cls: int, box: Sequence[float], colour) -> None:
    x1, y1, x2, y2 = [int(round(v)) for v in box]
    cx, cy = (x1 + x2) // 2, (y1 + y2) // 2
    if cls == 0:
        cv2.rectangle(img, (x1, y1), (x2, y2), colour, -1)
    elif cls == 1:
        cv2.ellipse(img, (cx, cy), (max((x2 - x1) // 2, 1), max((y2 - y1) // 2, 1)), 0, 0, 360,
                    colour, -1)
    elif cls == 2:
        pts = np.array([[cx, y1], [x1, y2], [x2, y2]], np.int32)
        cv2.fillPoly(img, [pts], colour)
    else:
        tw, th = max((x2 - x1) // 4, 1), max((y2 - y1) // 4, 1)
        cv2.rectangle(img, (cx - tw, y1), (cx + tw, y2), colour, -1)
        cv2.rectangle(img, (x1, cy - th), (x2, cy + th), colour, -1)


class CocoSplitWriter:
    """Collects one generated split and writes it as ``<root>/<split>/<split>_NNNNN.png`` plus a
    COCO json in ``<root>/annotations/`` (image ids from 1, annotation ids in adding order).

    Args:
        out_dir: Dataset root.
        split: Image sub-folder and file-name prefix.
        ann_name: Annotation file name (default ``<split>.json``).
    """

    def __init__(self, out_dir: str, split: str, ann_name: Optional[str] = None) -> None:
        self.root, self.split = out_dir, split
        self.img_dir = osp.join(out_dir, split)
        self.ann_file = osp.join(out_dir, 'annotations', ann_name or f'{split}.json')
        os.makedirs(self.img_dir, exist_ok=True)
        os.makedirs(osp.dirname(self.ann_file), exist_ok=True)
        self.images: List[dict] = []
        self.annotations: List[dict] = []

    def add_annotation(self, image_id: int, category_id: int, box: Sequence[float], area: float,
                       **fields) -> None:
        """One object: ``box`` as ``(x1, y1, x2, y2)``, written as COCO ``[x, y, w, h]``."""
        x1, y1, x2, y2 = box
        self.annotations.append(
            dict(id=len(self.annotations) + 1, image_id=image_id, category_id=category_id,
                 bbox=[round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)],
                 area=round(float(area), 2), iscrowd=0, **fields))

    def add_image(self, index: int, img: np.ndarray) -> None:
        """Write image ``index`` (0-based; its id is ``index + 1``)."""
        name = f'{self.split}_{index:05d}.png'
        cv2.imwrite(osp.join(self.img_dir, name), img)
        self.images.append(dict(id=index + 1, file_name=name, width=img.shape[1],
                                height=img.shape[0]))

    def save(self, categories: List[dict]) -> Dict[str, str]:
        """Write the json; returns ``{'root', 'ann_file', 'img_dir'}``."""
        with open(self.ann_file, 'w') as f:
            json.dump(dict(images=self.images, annotations=self.annotations,
                           categories=categories), f)
        return dict(root=self.root, ann_file=self.ann_file, img_dir=self.img_dir)


def make_shapes_dataset(out_dir: str,
                        num_images: int = 200,
                        img_size: Sequence[int] = (160, 128),
                        max_objects: int = 5,
                        empty_fraction: float = 0.1,
                        seed: int = 0,
                        split: str = 'train',
                        max_overlap: float = 0.25,
                        class_colours: bool = False,
                        inside: bool = False,
                        size_range: Sequence[float] = (0.15, 0.5)) -> Dict[str, str]:
    """Write ``<out_dir>/<split>/*.png`` and ``<out_dir>/annotations/<split>.json``.

    Args:
        out_dir: Dataset root.
        num_images: Number of images.
        img_size: ``(w, h)`` of every image.
        max_objects: Up to this many shapes per image.
        empty_fraction: Share of images without any object.
        seed: Random seed (the output is a pure function of the arguments).
        split: Sub-folder and annotation file name.
        max_overlap: Largest share of the smaller of two shapes that the other may cover (a
            shape is placed elsewhere, or left out, rather than hidden under another).
        class_colours: Draw each class in its own colour family (:data:`CLASS_HUES`) on a grey
            texture, so that colour and outline both tell the class; otherwise any colour that
            stands out from a coloured texture.
        inside: Keep every shape wholly inside the image (no shape cut by the border).
        size_range: Shape size (square root of the box area) as a fraction of the shorter side.

    Returns:
        Paths ``{'root', 'ann_file', 'img_dir'}``.
    """
    rng = np.random.RandomState(seed)
    w, h = int(img_size[0]), int(img_size[1])
    out = CocoSplitWriter(out_dir, split)
    for i in range(num_images):
        img = _grey_background(rng, h, w) if class_colours else _background(rng, h, w)
        bg_mean = img.reshape(-1, 3).mean(0)
        n = 0 if rng.rand() < empty_fraction else rng.randint(1, max_objects + 1)
        placed: List[List[float]] = []
        for _ in range(n):
            cls = rng.randint(len(SHAPE_CLASSES))
            box = None
            for _try in range(20):
                side = rng.uniform(*size_range) * min(w, h)
                aspect = np.exp(rng.uniform(-0.7, 0.7))
                bw, bh = side * np.sqrt(aspect), side / np.sqrt(aspect)
                if inside:
                    bw, bh = min(bw, w - 3.0), min(bh, h - 3.0)
                    cx = rng.uniform(bw / 2 + 1, w - 2 - bw / 2)
                    cy = rng.uniform(bh / 2 + 1, h - 2 - bh / 2)
                else:  # centres may lie near the border so that some shapes are cut by it
                    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
                cand = [cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2]
                if all(_overlap(cand, other) < max_overlap for other in placed):
                    box = cand
                    break
            if box is None:  # no free place left in this image
                continue
            placed.append(box)
            colour = _class_colour(rng, cls) if class_colours else _contrasting_colour(rng, bg_mean)
            _draw_shape(img, cls, box, colour)
            x1, y1 = max(box[0], 0.0), max(box[1], 0.0)
            x2, y2 = min(box[2], w - 1.0), min(box[3], h - 1.0)
            if x2 - x1 < 2 or y2 - y1 < 2:
                continue
            out.add_annotation(i + 1, cls + 1, (x1, y1, x2, y2), (x2 - x1) * (y2 - y1))
        out.add_image(i, img)
    return out.save([dict(id=k + 1, name=n, supercategory='shape')
                     for k, n in enumerate(SHAPE_CLASSES)])


POLYGON_CLASSES = ('diamond', 'triangle', 'pentagon')


def _polygon(rng: np.random.RandomState, cls: int, cx: float, cy: float,
             radius: float) -> np.ndarray:
    """Vertices (n, 2) of a jittered, rotated polygon of class ``cls`` around ``(cx, cy)``."""
    sides = (4, 3, 5)[cls]
    start = rng.uniform(0, 2 * np.pi) if cls else rng.uniform(-0.3, 0.3) - np.pi / 2
    angles = start + np.arange(sides) * 2 * np.pi / sides + rng.uniform(-0.15, 0.15, sides)
    radii = radius * rng.uniform(0.8, 1.0, sides)
    aspect = np.exp(rng.uniform(-0.3, 0.3))
    return np.stack([cx + radii * np.cos(angles) * aspect, cy + radii * np.sin(angles) / aspect],
                    axis=1)


def make_polygon_shapes_dataset(out_dir: str,
                                num_images: int = 100,
                                img_size: Sequence[int] = (63, 63),
                                max_objects: int = 2,
                                radius_range: Sequence[float] = (0.2, 0.35),
                                seed: int = 0,
                                split: str = 'train') -> Dict[str, str]:
    """Like :func:`make_shapes_dataset`, with polygon outlines (``segmentation``) for ``exdet``.

    Filled polygons (diamonds, triangles, pentagons; :data:`POLYGON_CLASSES`) of random rotation
    and size lie entirely inside the image and do not overlap. Each annotation has the polygon as
    its COCO ``segmentation`` (one polygon, float vertices) and the box of its vertices, but no
    ``extreme_points``: exdet derives them from the polygon.

    Args:
        out_dir: Dataset root.
        num_images: Number of images.
        img_size: ``(w, h)`` of every image (63 x 63 pads to a 64 x 64 test canvas).
        max_objects: 1 to this many polygons per image.
        radius_range: Polygon radius as a fraction of the shorter image side.
        seed: Random seed (the output is a pure function of the arguments).
        split: Sub-folder and annotation file name.

    Returns:
        Paths ``{'root', 'ann_file', 'img_dir'}``.
    """
    rng = np.random.RandomState(seed)
    w, h = int(img_size[0]), int(img_size[1])
    out = CocoSplitWriter(out_dir, split)
    for i in range(num_images):
        img = _background(rng, h, w)
        bg_mean = img.reshape(-1, 3).mean(0)
        placed: List[List[float]] = []
        for _ in range(rng.randint(1, max_objects + 1)):
            cls = rng.randint(len(POLYGON_CLASSES))
            for _try in range(20):
                radius = rng.uniform(*radius_range) * min(w, h)
                pts = _polygon(rng, cls, rng.uniform(0, w), rng.uniform(0, h), radius)
                box = [*pts.min(0), *pts.max(0)]
                inside = box[0] >= 1 and box[1] >= 1 and box[2] <= w - 2 and box[3] <= h - 2
                if inside and all(_overlap(box, other) == 0 for other in placed):
                    break
            else:
                continue
            placed.append(box)
            cv2.fillPoly(img, [np.round(pts).astype(np.int32)], _contrasting_colour(rng, bg_mean))
            poly = [round(float(v), 2) for v in pts.reshape(-1)]
            out.add_annotation(i + 1, cls + 1, box, cv2.contourArea(pts.astype(np.float32)),
                               segmentation=[poly])
        out.add_image(i, img)
    return out.save([dict(id=k + 1, name=n, supercategory='shape')
                     for k, n in enumerate(POLYGON_CLASSES)])
