"""Cityscapes semantic segmentation data in the official folder layout (MobileNetV3 paper §6.4, Cityscapes protocol).

Layout read (``data_root`` is the folder holding ``leftImg8bit/`` and ``gtFine/``)::

    leftImg8bit/{train,val,test}/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    gtFine/{train,val,test}/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png      (uint8 labelIds 0..33)
    gtFine/{train,val,test}/<city>/<city>_<seq>_<frame>_gtFine_instanceIds.png   (uint16 labelId*1000+k, or labelId)

As for COCO (and mmsegmentation's ``CityscapesDataset``), the dataset only lists the samples; decoding and packing
are pipeline steps: ``LoadImageFromFile``, ``LoadCityscapesAnnotations`` (labelIds -> trainIds through the table of
:mod:`densenets.datasets.cityscapes_labels`, instance ids), the augmentations, ``PackSegInputs``.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Sequence

from mmengine.dataset import BaseDataset

from ..registry import DATASETS, TRANSFORMS
from .cityscapes_labels import CITYSCAPES_CLASSES, CITYSCAPES_PALETTE, IGNORE_INDEX, CityscapesDataError

__all__ = ["CityscapesDataset"]


@DATASETS.register_module()
class CityscapesDataset(BaseDataset):
    """The Cityscapes fine-annotation dataset for the 19-class semantic segmentation task (MobileNetV3 §6.4).

    Each sample of the list is ``dict(img_path, stem[, seg_map_path][, instance_path])``; ``pipeline`` turns it
    into docs/design.md's item ``dict(inputs=uint8 Tensor[3, H, W] RGB, data_samples=dict(img_path, seg_map_path,
    ori_shape, img_shape, flip, gt_sem_seg=int64 Tensor[H, W] trainIds (255 = ignore), [gt_instance=int32
    Tensor[H, W]]))``, e.g. ``[LoadImageFromFile, LoadCityscapesAnnotations, <augmentations>, PackSegInputs]``
    (``configs/_base_/datasets/cityscapes_769x769.py``). Missing folders and label files raise
    :class:`~densenets.datasets.cityscapes_labels.CityscapesDataError` naming them when the dataset is built.

    Args:
        data_root: folder holding ``leftImg8bit/`` and ``gtFine/``.
        split: ``"train"``, ``"val"`` or ``"test"``.
        pipeline: transforms applied in order (config dicts built from ``TRANSFORMS``, or callables).
        with_label: list the ``gtFine`` labels (default: every split but ``test``, whose public labels are void).
        with_instance: also list ``_gtFine_instanceIds.png`` for the instance-weighted iIoU (default: ``val``).
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
        **kwargs: Any,
    ) -> None:
        if split not in ("train", "val", "test"):
            raise ValueError(f"CityscapesDataset: split must be 'train', 'val' or 'test', got {split!r}")
        self.split = split
        self.with_label = split != "test" if with_label is None else bool(with_label)
        self.with_instance = (split == "val" if with_instance is None else bool(with_instance)) and self.with_label
        self.img_suffix, self.seg_suffix, self.instance_suffix = img_suffix, seg_suffix, instance_suffix
        super().__init__(
            data_root=data_root,
            indices=indices,
            # built from densenets' registry so that plain-Python use needs no default_scope
            pipeline=[TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline],
            **kwargs,
        )

    def load_data_list(self) -> list[dict[str, str]]:
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
                item = dict(img_path=os.path.join(city_dir, name))
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
