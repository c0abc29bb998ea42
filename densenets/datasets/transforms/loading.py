"""``LoadImageFromFile``: the first step of every pipeline (decode to RGB, check the size against the annotation)."""
from __future__ import annotations

from typing import Any

from ...registry import TRANSFORMS
from ..image_io import load_rgb


@TRANSFORMS.register_module()
class LoadImageFromFile:
    """Decode ``results["img_path"]`` into ``results["img"]`` (``H x W x 3`` RGB ``uint8``) and set ``ori_shape`` /
    ``img_shape`` to ``(h, w)``.

    Conversions (grayscale, RGBA, CMYK, palette, 16-bit -> RGB; EXIF orientation not applied) are those of
    :func:`densenets.datasets.image_io.load_rgb`. When ``results`` holds the annotation file's ``height``/``width``
    and ``check_size`` is on, a different real size raises :class:`~densenets.datasets.image_io.ImageSizeMismatchError`
    naming the file. A missing, unreadable or truncated file raises
    :class:`~densenets.datasets.image_io.BadImageError`; the dataset decides whether to skip it (``on_bad_image``).
    """

    def __init__(self, check_size: bool = True) -> None:
        self.check_size = check_size

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        expected = None
        if self.check_size and "height" in results and "width" in results:
            expected = (int(results["height"]), int(results["width"]))
        img = load_rgb(results["img_path"], expected)
        results["img"] = img
        results["ori_shape"] = img.shape[:2]
        results["img_shape"] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return f"{type(self).__name__}(check_size={self.check_size})"
