"""Decoding an image file into an RGB ``uint8`` array, with an error that names the file when it cannot be done.

Conventions (the same as COCO's and torchvision's references):

* Every image is returned as ``H x W x 3`` RGB ``uint8``. Grayscale (``L``, ``1``), grayscale+alpha (``LA``), RGBA,
  palette (``P``, with or without transparency), CMYK and YCbCr images are converted with Pillow; alpha is dropped.
* 16-bit images (``I;16*``, and ``I`` as Pillow opens 16-bit PNGs) are scaled to 8 bits by ``/ 257`` so that the full
  range 0..65535 maps onto 0..255 (Pillow's own ``convert("RGB")`` would clip everything above 255 to white).
  32-bit float images (``F``) are taken as 0..1 when their maximum is <= 1, otherwise clipped to 0..255.
* EXIF orientation is **not** applied: COCO's official annotations are in the raw pixel orientation of the stored
  file (as Pillow and pycocotools see it), so rotating would move the image away from its boxes.
* A truncated file is an error (Pillow's ``LOAD_TRUNCATED_IMAGES`` stays off), so is a missing or undecodable one.
"""
from __future__ import annotations

import os

import numpy as np
from PIL import Image, UnidentifiedImageError

__all__ = ["BadImageError", "ImageSizeMismatchError", "load_rgb"]


class BadImageError(OSError):
    """An image file is missing, unreadable, truncated or not an image; the message names the file."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class ImageSizeMismatchError(ValueError):
    """The size recorded in the annotation file differs from the image file's real size."""


_SIXTEEN_BIT = {"I;16", "I;16L", "I;16B", "I;16N"}


def _to_rgb(img: Image.Image) -> np.ndarray:
    mode = img.mode
    if mode == "RGB":
        return np.asarray(img)
    if mode in _SIXTEEN_BIT or mode == "I":
        arr = np.asarray(img).astype(np.float32)
        if mode in _SIXTEEN_BIT or arr.max(initial=0) > 255:
            arr = arr / 257.0
        gray = np.clip(arr + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode == "F":
        arr = np.asarray(img, dtype=np.float32)
        if arr.size and float(np.nanmax(arr)) <= 1.0:
            arr = arr * 255.0
        gray = np.clip(np.nan_to_num(arr) + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    return np.asarray(img.convert("RGB"))


def load_rgb(path: str, expected_hw: tuple[int, int] | None = None) -> np.ndarray:
    """Decode ``path`` into an ``H x W x 3`` RGB ``uint8`` array (see the module docstring for the conventions).

    Raises:
        BadImageError: the file is missing, unreadable, truncated or not a decodable image.
        ImageSizeMismatchError: ``expected_hw`` (the annotation file's ``(height, width)``) differs from the file.
    """
    if not os.path.isfile(path):
        raise BadImageError(path, "image file not found")
    try:
        with Image.open(path) as img:
            img.load()
            size_hw = (img.height, img.width)
            if expected_hw is not None and tuple(int(v) for v in expected_hw) != size_hw:
                raise ImageSizeMismatchError(
                    f"{path}: the annotation file says the image is {expected_hw[0]}x{expected_hw[1]} (h x w) but "
                    f"the file is {size_hw[0]}x{size_hw[1]}; the boxes would not fit this image. Fix the "
                    "'height'/'width' of this image in the annotation file or replace the image."
                )
            arr = _to_rgb(img)
    except ImageSizeMismatchError:
        raise
    except UnidentifiedImageError as e:
        raise BadImageError(path, f"not a decodable image ({e})") from e
    except (OSError, ValueError, SyntaxError) as e:  # truncated data, permission errors, corrupt headers
        raise BadImageError(path, f"cannot decode the image ({type(e).__name__}: {e})") from e
    if not arr.flags.writeable:
        arr = arr.copy()
    return arr
