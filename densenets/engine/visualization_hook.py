"""Writes test-time predictions drawn on the original images (``tools/test.py --show-dir``)."""
from __future__ import annotations

import os
import os.path as osp
from typing import Any, Sequence

from mmengine.hooks import Hook
from PIL import Image

from ..registry import HOOKS
from .draw import draw_sample


@HOOKS.register_module()
class DenseVisualizationHook(Hook):
    """Draws detection boxes (class name + score) or segmentation colour maps for every test sample.

    Args:
        draw: nothing is drawn unless True (the base runtime config keeps it off; ``--show-dir`` turns it on).
        show_dir: directory for the drawn images (created); one PNG per input image, named after ``img_path``.
            A relative path is taken inside the runner's ``work_dir`` (``tools/test.py`` passes an absolute one).
        score_thr: detections scoring below this are not drawn.
        alpha: opacity of the segmentation colour map.
        interval: draw every ``interval``-th test batch (1 = all).
    """

    priority = "NORMAL"

    def __init__(
        self,
        draw: bool = False,
        show_dir: str | None = None,
        score_thr: float = 0.3,
        alpha: float = 0.5,
        interval: int = 1,
    ) -> None:
        if interval < 1:
            raise ValueError(f"interval must be >= 1, got {interval}")
        self.draw = draw
        self.show_dir = show_dir
        self.score_thr = score_thr
        self.alpha = alpha
        self.interval = interval
        self._out_dir: str | None = None

    def before_test(self, runner: Any) -> None:
        if not self.draw:
            return
        show_dir = self.show_dir or "vis"
        self._out_dir = show_dir if osp.isabs(show_dir) else osp.join(runner.work_dir, show_dir)
        os.makedirs(self._out_dir, exist_ok=True)
        runner.logger.info(f"Drawing test predictions to {self._out_dir}")

    def after_test_iter(
        self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: Sequence[dict] | None = None
    ) -> None:
        if not self.draw or self._out_dir is None or not outputs or batch_idx % self.interval:
            return
        meta = getattr(runner.test_dataloader.dataset, "metainfo", None)
        for sample in outputs:
            image = draw_sample(sample, dataset_meta=meta, score_thr=self.score_thr, alpha=self.alpha)
            if image is None:
                continue
            stem = osp.splitext(osp.basename(sample["img_path"]))[0]
            Image.fromarray(image).save(osp.join(self._out_dir, f"{stem}.png"))
