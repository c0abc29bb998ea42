"""Loading steps: ``LoadImageFromFile`` (the first step of every pipeline: decode to RGB, check the size against the
annotation) and ``LoadCityscapesAnnotations`` (labelIds -> trainIds and instance ids of a Cityscapes sample)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ...registry import TRANSFORMS
from ..cityscapes_labels import CityscapesDataError, label_ids_to_train_ids, read_label_png
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


@TRANSFORMS.register_module()
class LoadCityscapesAnnotations:
    """Decode the label files a :class:`~densenets.datasets.CityscapesDataset` sample lists, checking each.

    ``results["seg_map_path"]`` (``_gtFine_labelIds.png``) -> ``results["gt_seg_map"]``: uint8 trainIds (255 =
    ignore), mapped with the table of :mod:`densenets.datasets.cityscapes_labels`; ``results["instance_path"]``
    (``_gtFine_instanceIds.png``) -> ``results["gt_instance"]``: int32 instanceIds. A path that the sample does not
    list is not loaded (the test split has no labels; training needs no instances; images given to the Inferencer
    have none), so one pipeline serves every split. Runs after :class:`LoadImageFromFile`: a label map whose size
    differs from ``ori_shape`` raises :class:`~densenets.datasets.cityscapes_labels.CityscapesDataError` naming both
    files, as do undecodable, multi-channel and out-of-table label files.
    """

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        if "seg_map_path" in results:
            path = results["seg_map_path"]
            results["gt_seg_map"] = label_ids_to_train_ids(_read_sized(results, path, "label map"), path)
        if "instance_path" in results:
            results["gt_instance"] = _read_sized(results, results["instance_path"], "instance map").astype(np.int32)
        return results

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _read_sized(results: dict[str, Any], path: str, what: str) -> np.ndarray:
    """The label PNG at ``path``; a size other than the image's ``ori_shape`` raises, naming both files."""
    array = read_label_png(path)
    hw = tuple(results["ori_shape"]) if "ori_shape" in results else None
    if hw is not None and array.shape != hw:
        raise CityscapesDataError(
            f"{path}: {what} is {array.shape[0]}x{array.shape[1]} but its image "
            f"{results.get('img_path')} is {hw[0]}x{hw[1]} (h x w)"
        )
    return array
