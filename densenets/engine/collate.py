"""Batch collation that keeps docs/design.md's batch layout: ``inputs`` and ``data_samples`` as lists.

mmengine's ``pseudo_collate`` recurses into mappings, so a list of per-image ``data_samples`` *dicts* would come out
as one dict of lists. ``list_collate`` keeps one dict per image (the images stay a list too; the model's
``ImagePreprocessor`` pads and stacks them on the device). Use it in a dataloader config as
``collate_fn=dict(type='dense_list_collate')``.
"""
from __future__ import annotations

from typing import Any, Sequence

from mmengine.registry import FUNCTIONS


@FUNCTIONS.register_module(name="dense_list_collate", force=True)
def list_collate(batch: Sequence[dict[str, Any]]) -> dict[str, list]:
    """``[dict(inputs=a, data_samples=s), ...]`` -> ``dict(inputs=[a, ...], data_samples=[s, ...])``."""
    if not batch:
        raise ValueError("dense_list_collate: got an empty batch")
    keys = batch[0].keys()
    for i, item in enumerate(batch):
        if not isinstance(item, dict) or item.keys() != keys:
            raise TypeError(
                f"dense_list_collate: item {i} of the batch is {type(item).__name__} with keys "
                f"{sorted(item) if isinstance(item, dict) else '-'}; expected a dict with keys {sorted(keys)}"
            )
    return {k: [item[k] for item in batch] for k in keys}
