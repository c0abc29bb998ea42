"""Cityscapes label tables, the labelId -> trainId mapping, file names and label-PNG decoding.

Defined once, from ``cityscapesscripts.helpers.labels`` (never retyped): the dataset's ``metainfo``, the annotation
loader (:class:`~densenets.datasets.transforms.LoadCityscapesAnnotations`), the evaluation and its writers and the
drawing code (:mod:`densenets.engine.draw`) all take their classes, colours and id tables from here. Ground truth is
stored as *labelIds* (0..33); models are trained on the 19 *trainIds*; every labelId whose label has ``ignoreInEval``
becomes 255 (:data:`IGNORE_INDEX`).
"""
from __future__ import annotations

import os
import re
import warnings

import cv2
import numpy as np
from cityscapesscripts.helpers.labels import id2label
from cityscapesscripts.helpers.labels import labels as CS_LABELS
from PIL import Image

__all__ = [
    "CITYSCAPES_CLASSES",
    "CITYSCAPES_PALETTE",
    "CityscapesDataError",
    "IGNORE_INDEX",
    "IGNORED_IN_EVAL",
    "LABEL_NAMES",
    "LABEL_TO_TRAIN",
    "NUM_LABEL_IDS",
    "NUM_TRAIN_IDS",
    "TRAIN_TO_LABEL",
    "label_ids_to_train_ids",
    "parse_cityscapes_name",
    "read_label_png",
    "train_ids_to_label_ids",
]

IGNORE_INDEX = 255
_NOT_IN_TABLE = -1

_TRAIN_LABELS = sorted((lb for lb in CS_LABELS if 0 <= lb.trainId < IGNORE_INDEX), key=lambda lb: lb.trainId)
#: the 19 evaluated classes, in trainId order
CITYSCAPES_CLASSES: tuple[str, ...] = tuple(lb.name for lb in _TRAIN_LABELS)
#: their RGB colours (the official ``color`` of each label)
CITYSCAPES_PALETTE: tuple[tuple[int, int, int], ...] = tuple(tuple(lb.color) for lb in _TRAIN_LABELS)
NUM_TRAIN_IDS = len(_TRAIN_LABELS)  # 19
assert [lb.trainId for lb in _TRAIN_LABELS] == list(range(NUM_TRAIN_IDS)), "trainIds must be 0..K-1"

NUM_LABEL_IDS = max(lb.id for lb in CS_LABELS) + 1  # 34: labelIds 0..33
#: name of each labelId 0..33
LABEL_NAMES: tuple[str, ...] = tuple(id2label[i].name for i in range(NUM_LABEL_IDS))
#: per labelId: True where the official evaluation ignores the label (``ignoreInEval``)
IGNORED_IN_EVAL = np.array([id2label[i].ignoreInEval for i in range(NUM_LABEL_IDS)])

#: labelId (0..255) -> trainId (0..18, 255 = ignore); -1 marks ids that are not in the label table
LABEL_TO_TRAIN = np.full(256, _NOT_IN_TABLE, dtype=np.int16)
for _lb in CS_LABELS:
    if _lb.id >= 0:
        LABEL_TO_TRAIN[_lb.id] = _lb.trainId if 0 <= _lb.trainId < IGNORE_INDEX else IGNORE_INDEX
_LABEL_TO_TRAIN_U8 = np.where(LABEL_TO_TRAIN < 0, IGNORE_INDEX, LABEL_TO_TRAIN).astype(np.uint8)
#: trainId (0..18) -> labelId, for writing predictions in the official labelId space
TRAIN_TO_LABEL = np.array([lb.id for lb in _TRAIN_LABELS], dtype=np.uint8)
#: any uint8 id -> labelId: trainIds 0..18 to their labelId, everything else (255, ...) to 0 'unlabeled'
_TRAIN_TO_LABEL_U8 = np.zeros(256, dtype=np.uint8)
_TRAIN_TO_LABEL_U8[:NUM_TRAIN_IDS] = TRAIN_TO_LABEL

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


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_header(head: bytes) -> tuple[int, int, int] | None:
    """``(bit depth, colour type, interlace method)`` from a PNG's first 29 bytes (IHDR), or None if not a PNG."""
    if len(head) >= 29 and head[:8] == _PNG_SIGNATURE and head[12:16] == b"IHDR":
        return head[24], head[25], head[28]
    return None


def _decode_gray_png(path: str) -> np.ndarray | None:
    """The fast path for what label files are: 8- or 16-bit grayscale, non-interlaced PNGs, decoded by libpng
    through ``torchvision.io.decode_png`` from one read of the file (faster than ``cv2.imread`` on Cityscapes-size
    maps, the same values; see docs/notes/cityscapes-data-metric.md). None for anything else, and when the pinned
    torchvision lacks the decoder (it deprecates its image codecs in 0.29), so that OpenCV takes over."""
    try:
        from torchvision.io import ImageReadMode, decode_png, read_file
    except ImportError:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torchvision 0.29's notice on its image codecs
        data = read_file(path)
        if _png_header(data[:29].numpy().tobytes()) not in ((8, 0, 0), (16, 0, 0)):
            return None
        try:
            arr = decode_png(data, ImageReadMode.UNCHANGED)
        except RuntimeError:  # corrupt or truncated: the general path reports it
            return None
    return arr[0].numpy() if arr.shape[0] == 1 else None


def read_label_png(path: str) -> np.ndarray:
    """Decode a single-channel label/id image (8- or 16-bit PNG) as stored, without any colour conversion.

    8/16-bit grayscale PNGs (what cityscapesscripts, Pillow and OpenCV write) take the fast path
    (:func:`_decode_gray_png`); other files go through OpenCV's ``IMREAD_UNCHANGED``, and palette PNGs (which OpenCV
    would expand to colours) through Pillow, which returns the palette indices. Raises :class:`CityscapesDataError`
    naming the file when it is missing, undecodable or has several channels.
    """
    if not os.path.isfile(path):
        raise CityscapesDataError(f"{path}: file not found")
    arr = _decode_gray_png(path)
    if arr is not None:
        return arr
    arr = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if arr is not None and arr.ndim == 3:
        with open(path, "rb") as f:
            header = _png_header(f.read(29))
        if header is not None and header[1] == 3:
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


def train_ids_to_label_ids(train_ids: np.ndarray) -> np.ndarray:
    """Map trainIds to labelIds (uint8): 0..18 to their labelId, anything else (255, other ids) to 0 'unlabeled'
    (how the official script counts a pixel predicted as no class: a false negative, never a false positive)."""
    train_ids = np.asarray(train_ids)
    if train_ids.dtype != np.uint8:
        train_ids = np.where((train_ids >= 0) & (train_ids < NUM_TRAIN_IDS), train_ids, IGNORE_INDEX).astype(np.uint8)
    return _TRAIN_TO_LABEL_U8[train_ids]
