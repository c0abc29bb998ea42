"""A synthetic street-scene dataset in the exact Cityscapes folder layout and file formats.

Every scene is drawn with the same painter's order as a real street: sky, buildings (with windows), trees, road with
lane marks, sidewalks and terrain, poles with traffic signs/lights, cars and persons in perspective (instance ids
``labelId * 1000 + k``), the ego-vehicle bonnet and an out-of-roi border (both ignored). Colours vary per object,
surfaces carry texture and sensor noise, so a network has to learn shapes and context, not a colour lookup. Output
(labelIds as uint8 PNG, instanceIds as uint16 PNG, optional colour PNG)::

    <out>/leftImg8bit/{train,val,test}/<city>/<city>_<seq>_000019_leftImg8bit.png
    <out>/gtFine/{train,val}/<city>/<city>_<seq>_000019_gtFine_{labelIds,instanceIds,color}.png

Deterministic: image ``i`` of a split is drawn from ``numpy.random.default_rng([seed, split, i])``.
"""
from __future__ import annotations

import os
from typing import Sequence

import cv2
import numpy as np
from cityscapesscripts.helpers.labels import id2label, name2label

__all__ = ["DEMO_CITIES", "draw_street_scene", "make_cityscapes_demo", "make_tiny_cityscapes_demo"]

DEMO_CITIES = {"train": ("aachen", "bochum", "bremen"), "val": ("frankfurt", "lindau"), "test": ("berlin",)}
_SPLIT_CODE = {"train": 0, "val": 1, "test": 2}
_ID = {name: name2label[name].id for name in (
    "ego vehicle", "out of roi", "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light",
    "traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car", "bicycle")}
# base RGB appearance of each class (not the label palette): roughly what a camera sees
_LOOK = {
    "sky": (135, 175, 215), "building": (120, 105, 95), "wall": (160, 150, 135), "fence": (110, 120, 100),
    "vegetation": (60, 105, 45), "terrain": (120, 140, 70), "road": (95, 95, 100), "sidewalk": (165, 150, 150),
    "pole": (80, 80, 85), "traffic sign": (200, 190, 40), "traffic light": (40, 40, 40), "person": (150, 60, 70),
    "car": (40, 60, 130), "bicycle": (30, 30, 30), "ego vehicle": (25, 25, 30), "out of roi": (0, 0, 0),
}

# how much the colour of a surface varies from scene to scene / object to object
_SPREAD = {"sky": 10.0, "road": 8.0, "sidewalk": 15.0, "vegetation": 12.0, "terrain": 12.0, "pole": 10.0}


class _Canvas:
    """Image, labelIds and instanceIds drawn together so that they always agree."""

    def __init__(self, h: int, w: int, rng: np.random.Generator) -> None:
        self.h, self.w, self.rng = h, w, rng
        self.img = np.zeros((h, w, 3), np.float32)
        self.label = np.zeros((h, w), np.uint8)
        self.inst = np.zeros((h, w), np.int32)
        self.count: dict[int, int] = {}

    def colour(self, name: str, spread: float | None = None) -> np.ndarray:
        spread = _SPREAD.get(name, 25.0) if spread is None else spread
        return np.clip(np.array(_LOOK[name], np.float32) + self.rng.normal(0, spread, 3), 0, 255)

    def paint(self, mask: np.ndarray, name: str, colour: np.ndarray | None = None, texture: float = 12.0,
              instance: bool = False) -> None:
        if not mask.any():
            return
        lid = _ID[name]
        colour = self.colour(name) if colour is None else colour
        n = int(mask.sum())
        self.img[mask] = colour + self.rng.normal(0, texture, (n, 1)) + self.rng.normal(0, texture / 3, (n, 3))
        self.label[mask] = lid
        if instance:
            k = self.count.get(lid, 0)
            self.count[lid] = k + 1
            self.inst[mask] = lid * 1000 + k
        else:
            self.inst[mask] = lid

    def shape_mask(self, draw) -> np.ndarray:
        m = np.zeros((self.h, self.w), np.uint8)
        draw(m)
        return m.astype(bool)

    def rect(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        return self.shape_mask(lambda m: cv2.rectangle(m, (int(x0), int(y0)), (int(x1), int(y1)), 1, -1))

    def circle(self, cx: float, cy: float, r: float) -> np.ndarray:
        return self.shape_mask(lambda m: cv2.circle(m, (int(cx), int(cy)), max(1, int(r)), 1, -1))

    def ellipse(self, cx: float, cy: float, ax: float, ay: float, start: int = 0, end: int = 360,
                thickness: int = -1) -> np.ndarray:
        axes = (max(1, int(ax)), max(1, int(ay)))
        return self.shape_mask(lambda m: cv2.ellipse(m, (int(cx), int(cy)), axes, 0, start, end, 1, thickness))


def _pts(*xy: Sequence[float]) -> np.ndarray:
    return np.array([[int(round(x)), int(round(y))] for x, y in xy], np.int32)


def draw_street_scene(rng: np.random.Generator, h: int = 256, w: int = 512, cars: tuple[int, int] = (1, 6),
                      persons: tuple[int, int] = (0, 5)) -> tuple[np.ndarray, ...]:
    """One random scene: ``(image RGB uint8, labelIds uint8, instanceIds int32)``; ``cars``/``persons`` give the
    range ``[low, high)`` of the number of objects drawn (some may end up hidden behind nearer ones)."""
    c = _Canvas(h, w, rng)
    horizon = int(h * rng.uniform(0.38, 0.5))
    vx = w * rng.uniform(0.35, 0.65)  # vanishing point
    yy, xx = np.mgrid[0:h, 0:w]
    # sky with a vertical gradient
    sky = yy < horizon
    c.paint(sky, "sky", texture=4.0)
    c.img[sky] += (yy[sky, None] / max(horizon, 1) * 40.0 - 20.0)
    # buildings: a row of blocks with windows on both sides of the street
    x = -rng.uniform(0, 30)
    while x < w:
        bw = rng.uniform(0.08, 0.25) * w
        top = horizon - rng.uniform(0.1, 0.42) * h
        m = c.rect(x, top, x + bw, horizon + h // 10)
        col = c.colour("building", 30)
        c.paint(m, "building", col, texture=10.0)
        win = m & ((yy - int(top)) % 14 < 6) & ((xx - int(x)) % 12 < 5) & (yy > top + 4)
        c.img[win] = col * 0.45 + rng.normal(0, 6, (int(win.sum()), 1))
        x += bw + rng.uniform(-5, 10)
    # trees: overlapping green blobs with a fine texture
    for _ in range(rng.integers(1, 5)):
        cx, cy = rng.uniform(0, w), horizon - rng.uniform(0, 0.15) * h
        r = rng.uniform(0.05, 0.14) * h
        m = c.ellipse(cx, cy, r * 1.4, r)
        c.paint(m, "vegetation", texture=22.0)
    # wall or fence segment now and then
    if rng.random() < 0.5:
        name = "wall" if rng.random() < 0.5 else "fence"
        x0 = rng.uniform(0, 0.6) * w
        m = c.rect(x0, horizon - h // 14, x0 + w * 0.3, horizon + 2)
        c.paint(m, name)
        if name == "fence":
            bars = m & ((xx % 6) < 2)
            c.img[bars] *= 0.6
    # ground: sidewalk, road trapezoid, terrain strip
    ground = yy >= horizon
    c.paint(ground, "sidewalk", texture=8.0)
    tiles = ground & (((yy // 8) + (xx // 16)) % 2 == 0)
    c.img[tiles] *= 0.92
    half_bottom = w * rng.uniform(0.32, 0.45)
    road = c.shape_mask(lambda m: cv2.fillPoly(m, [_pts((vx - 3, horizon), (vx + 3, horizon),
                                                         (vx + half_bottom, h), (vx - half_bottom, h))], 1))
    c.paint(road, "road", texture=7.0)
    lane = road & (np.abs(xx - vx) < 1 + (yy - horizon) * 0.02) & (((yy - horizon) // 10) % 2 == 0)
    c.img[lane] = 215 + rng.normal(0, 5, (int(lane.sum()), 1))
    if rng.random() < 0.6:
        side = rng.choice([-1, 1])
        edge = vx + side * half_bottom * 1.35 * (yy - horizon) / max(h - horizon, 1)
        terr = ground & ~road & ((xx - edge) * side > 0)
        c.paint(terr, "terrain", texture=18.0)
    # poles with a sign or a traffic light
    for _ in range(rng.integers(1, 4)):
        px = rng.uniform(0.05, 0.95) * w
        base = horizon + rng.uniform(0.05, 0.3) * h
        ph = (base - horizon) * 2.2 + 0.1 * h
        pw = max(1.0, ph * 0.03)
        m = c.rect(px, base - ph, px + pw, base)
        c.paint(m, "pole", texture=5.0)
        s = max(3.0, ph * 0.12)
        top = base - ph
        if rng.random() < 0.5:
            m = c.circle(px + pw / 2, top, s)
            c.paint(m, "traffic sign", texture=6.0)
        else:
            m = c.rect(px - s / 3, top, px + pw + s / 3, top + 2 * s)
            c.paint(m, "traffic light", texture=4.0)
    # cars on the road, far to near (perspective size), each an instance
    for y in np.sort(rng.uniform(horizon + 0.05 * h, h * 0.95, rng.integers(*cars))):
        t = (y - horizon) / max(h - horizon, 1)
        cw, ch = w * (0.06 + 0.3 * t), h * (0.04 + 0.22 * t)
        cx = vx + rng.uniform(-0.9, 0.9) * half_bottom * t
        body = c.rect(cx - cw / 2, y - ch * 0.6, cx + cw / 2, y)
        roof = c.rect(cx - cw / 3, y - ch, cx + cw / 3, y - ch * 0.55)
        wheels = c.circle(cx - cw / 3, y, ch / 6) | c.circle(cx + cw / 3, y, ch / 6)
        col = c.colour("car", 60)
        c.paint(body | roof | wheels, "car", col, texture=6.0, instance=True)
        c.img[roof & ~body] = col * 0.4 + 30
        c.img[wheels] = 20
    # persons on the sidewalks (a few riding bicycles)
    for _ in range(rng.integers(*persons)):
        y = rng.uniform(horizon + 0.05 * h, h * 0.92)
        t = (y - horizon) / max(h - horizon, 1)
        pw, ph = w * (0.012 + 0.03 * t), h * (0.08 + 0.3 * t)
        side = rng.choice([-1, 1])
        px = vx + side * (half_bottom * t + rng.uniform(0.02, 0.12) * w)
        body = c.rect(px - pw / 2, y - ph * 0.8, px + pw / 2, y)
        head = c.circle(px, y - ph * 0.88, pw * 0.6)
        c.paint(body | head, "person", c.colour("person", 50), texture=8.0, instance=True)
        c.img[head] = (200, 160, 130)
        if rng.random() < 0.2:
            bike = c.ellipse(px, y, pw * 1.6, ph * 0.12, thickness=2)
            c.paint(bike & ~body, "bicycle", texture=3.0, instance=True)
    # ego-vehicle bonnet and out-of-roi border, both ignored by the evaluation
    bonnet = c.ellipse(w // 2, h + int(h * 0.02), w * 0.6, h * rng.uniform(0.06, 0.12), 180, 360)
    c.paint(bonnet, "ego vehicle", texture=3.0)
    border = np.zeros((h, w), bool)
    border[:2], border[-2:], border[:, :2], border[:, -2:] = True, True, True, True
    c.paint(border, "out of roi", texture=0.0)
    c.img += rng.normal(0, 4.0, c.img.shape)  # sensor noise
    img = np.clip(c.img, 0, 255).astype(np.uint8)
    return img, c.label, c.inst


def _colour_map(label: np.ndarray) -> np.ndarray:
    lut = np.zeros((256, 3), np.uint8)
    for i in range(34):
        lut[i] = id2label[i].color
    return lut[label]


def _write(path: str, arr: np.ndarray) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, arr):
        raise OSError(f"{path}: could not write")


def make_cityscapes_demo(out_dir: str, num_train: int = 60, num_val: int = 20, num_test: int = 0, seed: int = 0,
                         size: Sequence[int] = (256, 512), with_color: bool = True) -> dict[str, int]:
    """Write the demo dataset under ``out_dir`` (see the module docstring); returns the image count per split."""
    h, w = (int(v) for v in size)
    counts = {}
    for split, n in (("train", num_train), ("val", num_val), ("test", num_test)):
        cities = DEMO_CITIES[split]
        for i in range(int(n)):
            rng = np.random.default_rng([int(seed), _SPLIT_CODE[split], i])
            city = cities[i % len(cities)]
            stem = f"{city}_{i // len(cities):06d}_000019"
            img, label, inst = draw_street_scene(rng, h, w)
            _write(os.path.join(out_dir, "leftImg8bit", split, city, f"{stem}_leftImg8bit.png"), img[:, :, ::-1])
            if split == "test":
                continue
            gt = os.path.join(out_dir, "gtFine", split, city, f"{stem}_gtFine_")
            _write(gt + "labelIds.png", label)
            _write(gt + "instanceIds.png", inst.astype(np.uint16))
            if with_color:
                _write(gt + "color.png", _colour_map(label)[:, :, ::-1])
        counts[split] = int(n)
    return counts


def make_tiny_cityscapes_demo(out_dir: str, num_train: int = 3, num_val: int = 2, seed: int = 0,
                              size: Sequence[int] = (64, 128)) -> str:
    """A few small images for tests; returns ``out_dir``."""
    make_cityscapes_demo(out_dir, num_train=num_train, num_val=num_val, seed=seed, size=size, with_color=False)
    return out_dir
