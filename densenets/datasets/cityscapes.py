"""Cityscapes semantic segmentation data in the official folder layout (MobileNetV3 paper §6.4, Cityscapes protocol).

Layout read (``data_root`` is the folder holding ``leftImg8bit/`` and ``gtFine/``)::

    leftImg8bit/{train,val,test}/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    gtFine/{train,val,test}/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png      (uint8 labelIds 0..33)
    gtFine/{train,val,test}/<city>/<city>_<seq>_<frame>_gtFine_instanceIds.png   (uint16 labelId*1000+k, or labelId)

Ground truth is stored as *labelIds*; models are trained on the 19 *trainIds*. The mapping is taken from
``cityscapesscripts.helpers.labels`` (never retyped here) and applied with a 256-entry lookup table; every labelId
whose label has ``ignoreInEval`` becomes 255. Label files are checked when they are read: a wrong size, extra
channels or ids outside the label table raise :class:`CityscapesDataError` naming the file.
"""
from __future__ import annotations

import os
import re
from typing import Any, Callable, Sequence

import cv2
import numpy as np
import torch
from cityscapesscripts.helpers.labels import labels as CS_LABELS
from PIL import Image
from torch.utils.data import Dataset

from ..registry import DATASETS, TRANSFORMS
from .image_io import load_rgb

__all__ = [
    "CITYSCAPES_CLASSES",
    "CITYSCAPES_PALETTE",
    "CityscapesDataError",
    "CityscapesDataset",
    "IGNORE_INDEX",
    "LABEL_TO_TRAIN",
    "TRAIN_TO_LABEL",
    "label_ids_to_train_ids",
    "parse_cityscapes_name",
    "read_label_png",
]

IGNORE_INDEX = 255
_NOT_IN_TABLE = -1

_TRAIN_LABELS = sorted((lb for lb in CS_LABELS if 0 <= lb.trainId < IGNORE_INDEX), key=lambda lb: lb.trainId)
#: the 19 evaluated classes, in trainId order
CITYSCAPES_CLASSES: tuple[str, ...] = tuple(lb.name for lb in _TRAIN_LABELS)
#: their RGB colours (the official ``color`` of each label)
CITYSCAPES_PALETTE: tuple[tuple[int, int, int], ...] = tuple(tuple(lb.color) for lb in _TRAIN_LABELS)
assert [lb.trainId for lb in _TRAIN_LABELS] == list(range(len(_TRAIN_LABELS))), "trainIds must be 0..K-1"

#: labelId (0..255) -> trainId (0..18, 255 = ignore); -1 marks ids that are not in the label table
LABEL_TO_TRAIN = np.full(256, _NOT_IN_TABLE, dtype=np.int16)
for _lb in CS_LABELS:
    if _lb.id >= 0:
        LABEL_TO_TRAIN[_lb.id] = _lb.trainId if 0 <= _lb.trainId < IGNORE_INDEX else IGNORE_INDEX
_LABEL_TO_TRAIN_U8 = np.where(LABEL_TO_TRAIN < 0, IGNORE_INDEX, LABEL_TO_TRAIN).astype(np.uint8)
#: trainId (0..18) -> labelId, for writing predictions in the official labelId space
TRAIN_TO_LABEL = np.array([lb.id for lb in _TRAIN_LABELS], dtype=np.uint8)

_NAME_RE = re.compile(r"^(?P<city>[^_/\\]+)_(?P<seq>\d+)_(?P<frame>\d+)(?:_|\.|$)")


class CityscapesDataError(ValueError):
    """A Cityscapes file or folder is missing or holds something other than what the layout promises."""


def parse_cityscapes_name(path: str) -> tuple[str, str, str]:
    """``(city, seq, frame)`` of a Cityscapes file name such as ``aachen_000000_000019_gtFine_labelIds.png``."""
    m = _NAME_RE.match(os.path.basename(path))
    if m is None:
        raise CityscapesDataError(
            f"{path}: not a Cityscapes file name (expected '<city>_<seq>_<frame>_...png', e.g. "
            "'aachen_000000_000019_leftImg8bit.png')"
        )
    return m.group("city"), m.group("seq"), m.group("frame")


def _png_color_type(path: str) -> int | None:
    """The IHDR colour type of a PNG (3 = palette), or None for other formats."""
    with open(path, "rb") as f:
        head = f.read(26)
    if len(head) == 26 and head[:8] == b"\x89PNG\r\n\x1a\n":
        return head[25]
    return None


def read_label_png(path: str) -> np.ndarray:
    """Decode a single-channel label/id image (8- or 16-bit PNG) as stored, without any colour conversion.

    OpenCV's ``IMREAD_UNCHANGED`` is the fast path; palette PNGs (which OpenCV would expand to colours) are read
    through Pillow, which returns the palette indices. Raises :class:`CityscapesDataError` naming the file when it is
    missing, undecodable or has several channels.
    """
    if not os.path.isfile(path):
        raise CityscapesDataError(f"{path}: file not found")
    arr = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if arr is not None and arr.ndim == 3 and _png_color_type(path) == 3:
        arr = None  # palette PNG: take the indices, not the colours
    if arr is None:
        try:
            with Image.open(path) as img:
                if img.mode not in ("P", "L", "I", "I;16", "I;16B", "I;16L", "1"):
                    raise CityscapesDataError(f"{path}: a label image must have one channel, this one is {img.mode}")
                arr = np.array(img)
        except CityscapesDataError:
            raise
        except Exception as e:  # Pillow raises a zoo of types for corrupt files
            raise CityscapesDataError(f"{path}: cannot decode the image ({type(e).__name__}: {e})") from e
    if arr.ndim != 2:
        raise CityscapesDataError(
            f"{path}: a label image must have one channel, this one has {arr.shape[2]} (colour-coded '_color.png' "
            "files cannot be used as labels; use the '_labelIds.png' files)"
        )
    return arr


def label_ids_to_train_ids(label_ids: np.ndarray, path: str = "<array>") -> np.ndarray:
    """Map a labelId map to trainIds (uint8, 255 = ignore); ids outside the label table raise, naming ``path``."""
    if label_ids.dtype != np.uint8:
        if label_ids.size and (label_ids.min() < 0 or label_ids.max() > 255):
            bad = np.unique(label_ids[(label_ids < 0) | (label_ids > 255)])[:10].tolist()
            raise CityscapesDataError(f"{path}: label ids {bad} are not Cityscapes labelIds (0..33)")
        label_ids = label_ids.astype(np.uint8)
    present = np.flatnonzero(np.bincount(label_ids.ravel(), minlength=256))
    bad = present[LABEL_TO_TRAIN[present] == _NOT_IN_TABLE]
    if bad.size:
        raise CityscapesDataError(
            f"{path}: label ids {bad.tolist()} are not in the Cityscapes label table (valid labelIds: 0..33); is this "
            "a trainId or colour image instead of '_gtFine_labelIds.png'?"
        )
    return _LABEL_TO_TRAIN_U8[label_ids]


@DATASETS.register_module()
class CityscapesDataset(Dataset):
    """The Cityscapes fine-annotation dataset for the 19-class semantic segmentation task (MobileNetV3 §6.4).

    Each item is ``dict(inputs=uint8 Tensor[3, H, W] RGB, data_samples=dict(img_path, seg_map_path, ori_shape,
    img_shape, gt_sem_seg=int64 Tensor[H, W] trainIds (255 = ignore), [gt_instance=int32 Tensor[H, W]], flip))``
    as fixed in docs/design.md. ``pipeline`` is a list of transforms (config dicts built from ``TRANSFORMS`` or
    callables) applied to ``dict(img, gt_seg_map[, gt_instance], img_shape, ori_shape, flip)``.

    Args:
        data_root: folder holding ``leftImg8bit/`` and ``gtFine/``.
        split: ``"train"``, ``"val"`` or ``"test"``.
        pipeline: transforms applied in order.
        with_label: load ``gtFine`` labels (default: every split but ``test``, whose public labels are void).
        with_instance: also load ``_gtFine_instanceIds.png`` for the instance-weighted iIoU (default: ``val``).
        indices: keep only the first ``indices`` samples (an int) or the listed ones (a sequence).
    """

    METAINFO = dict(classes=CITYSCAPES_CLASSES, palette=CITYSCAPES_PALETTE, ignore_index=IGNORE_INDEX)

    def __init__(
        self,
        data_root: str = "data/cityscapes",
        split: str = "train",
        pipeline: Sequence[dict | Callable] = (),
        with_label: bool | None = None,
        with_instance: bool | None = None,
        indices: int | Sequence[int] | None = None,
        img_suffix: str = "_leftImg8bit.png",
        seg_suffix: str = "_gtFine_labelIds.png",
        instance_suffix: str = "_gtFine_instanceIds.png",
    ) -> None:
        if split not in ("train", "val", "test"):
            raise ValueError(f"CityscapesDataset: split must be 'train', 'val' or 'test', got {split!r}")
        self.data_root = data_root
        self.split = split
        self.with_label = split != "test" if with_label is None else bool(with_label)
        self.with_instance = (split == "val" if with_instance is None else bool(with_instance)) and self.with_label
        self.img_suffix, self.seg_suffix, self.instance_suffix = img_suffix, seg_suffix, instance_suffix
        self.pipeline = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]
        self.data_list = self._scan()
        if indices is not None:
            keep = range(min(indices, len(self.data_list))) if isinstance(indices, int) else indices
            self.data_list = [self.data_list[i] for i in keep]

    @property
    def metainfo(self) -> dict[str, Any]:
        return dict(self.METAINFO)

    def _scan(self) -> list[dict[str, str]]:
        img_dir = os.path.join(self.data_root, "leftImg8bit", self.split)
        seg_dir = os.path.join(self.data_root, "gtFine", self.split)
        if not os.path.isdir(img_dir):
            raise CityscapesDataError(f"{img_dir}: image folder not found (expected <data_root>/leftImg8bit/<split>)")
        if self.with_label and not os.path.isdir(seg_dir):
            raise CityscapesDataError(f"{seg_dir}: label folder not found (expected <data_root>/gtFine/<split>)")
        items = []
        for city in sorted(os.listdir(img_dir)):
            city_dir = os.path.join(img_dir, city)
            if not os.path.isdir(city_dir):
                continue
            for name in sorted(os.listdir(city_dir)):
                if not name.endswith(self.img_suffix):
                    continue
                stem = name[: -len(self.img_suffix)]
                item = dict(img_path=os.path.join(city_dir, name), stem=stem)
                if self.with_label:
                    item["seg_map_path"] = os.path.join(seg_dir, city, stem + self.seg_suffix)
                    if not os.path.isfile(item["seg_map_path"]):
                        raise CityscapesDataError(
                            f"{item['img_path']}: its label file {item['seg_map_path']} is missing"
                        )
                if self.with_instance:
                    item["instance_path"] = os.path.join(seg_dir, city, stem + self.instance_suffix)
                    if not os.path.isfile(item["instance_path"]):
                        raise CityscapesDataError(
                            f"{item['img_path']}: its instance file {item['instance_path']} is missing"
                        )
                items.append(item)
        if not items:
            raise CityscapesDataError(f"{img_dir}: no '*{self.img_suffix}' images found in its city folders")
        return items

    def __len__(self) -> int:
        return len(self.data_list)

    def get_data_info(self, idx: int) -> dict[str, str]:
        return dict(self.data_list[idx])

    def load_sample(self, idx: int) -> dict[str, Any]:
        """Decode image, trainId labels and instance ids of sample ``idx`` (before the pipeline), checking them."""
        info = self.data_list[idx]
        img = load_rgb(info["img_path"])
        hw = img.shape[:2]
        results: dict[str, Any] = dict(
            img=img, img_path=info["img_path"], ori_shape=hw, img_shape=hw, flip=False
        )
        if self.with_label:
            path = info["seg_map_path"]
            label_ids = read_label_png(path)
            if label_ids.shape != hw:
                raise CityscapesDataError(
                    f"{path}: label map is {label_ids.shape[0]}x{label_ids.shape[1]} but its image "
                    f"{info['img_path']} is {hw[0]}x{hw[1]} (h x w)"
                )
            results["seg_map_path"] = path
            results["gt_seg_map"] = label_ids_to_train_ids(label_ids, path)
        if self.with_instance:
            path = info["instance_path"]
            inst = read_label_png(path)
            if inst.shape != hw:
                raise CityscapesDataError(
                    f"{path}: instance map is {inst.shape[0]}x{inst.shape[1]} but its image is {hw[0]}x{hw[1]}"
                )
            results["gt_instance"] = inst.astype(np.int32)
        return results

    def __getitem__(self, idx: int) -> dict[str, Any]:
        results = self.load_sample(idx)
        for t in self.pipeline:
            results = t(results)
        return self.pack(results)

    @staticmethod
    def pack(results: dict[str, Any]) -> dict[str, Any]:
        """Turn a pipeline result into the ``inputs``/``data_samples`` pair of docs/design.md."""
        img = np.ascontiguousarray(results["img"])
        sample: dict[str, Any] = dict(
            img_path=results["img_path"],
            ori_shape=tuple(results["ori_shape"]),
            img_shape=tuple(img.shape[:2]),
            flip=bool(results.get("flip", False)),
        )
        if "seg_map_path" in results:
            sample["seg_map_path"] = results["seg_map_path"]
        if "gt_seg_map" in results:
            sample["gt_sem_seg"] = torch.from_numpy(np.ascontiguousarray(results["gt_seg_map"]).astype(np.int64))
        if "gt_instance" in results:
            sample["gt_instance"] = torch.from_numpy(np.ascontiguousarray(results["gt_instance"], dtype=np.int32))
        return dict(inputs=torch.from_numpy(img).permute(2, 0, 1).contiguous(), data_samples=sample)
