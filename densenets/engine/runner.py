"""mmengine's Runner with densenets' checkpoint rule for ``load_from`` and ``resume``.

mmengine 0.10.7's ``Runner.load_checkpoint`` loads with ``strict=False``: a checkpoint of another model prints the
"do not match exactly" lists and evaluation goes on with a partly random model (exit 0), and ``resume`` from such a
file fails later in the optimizer's param groups. :class:`DenseRunner` overrides exactly that method (``resume``
calls it too): the file is read by :func:`~densenets.engine.checkpoint.load_checkpoint` and loaded by
:func:`~densenets.engine.state_dict.load_state_checked` — an exact match, or an error naming the file and the first
mismatching keys before anything is changed. A deliberate partial load is the config's
``load_partial=dict(only=[...], skip=[...])`` (``tools/train.py --load-only / --load-skip``); resuming is never
partial. Hooks see the checkpoint (``after_load_checkpoint``, e.g. ``EMAHook``) as in mmengine.

The val / test loops are built with one more check: a :class:`~densenets.evaluation.CocoMetric` that would read the
model's labels as other categories (a model of another number of classes than the evaluated dataset, or
``label_space='coco_category_ids'`` on a model without torchvision's 90 category-id labels) is an error before the
first batch (:meth:`~densenets.evaluation.CocoMetric.check_num_classes`), not a plausible wrong score.
"""
from __future__ import annotations

from typing import Any

from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint

from ..evaluation import CocoMetric
from ..registry import RUNNERS
from .checkpoint import load_checkpoint
from .state_dict import CheckpointMismatchError, PartialLoad, load_state_checked


@RUNNERS.register_module()
class DenseRunner(Runner):
    """``Runner`` whose checkpoint loading refuses mismatches (see the module docstring)."""

    load_partial: PartialLoad = PartialLoad()

    @classmethod
    def from_cfg(cls, cfg: Any) -> "DenseRunner":
        runner = super().from_cfg(cfg)
        runner.load_partial = PartialLoad.from_cfg(cfg.get("load_partial"))
        return runner

    def build_val_loop(self, loop: Any) -> Any:
        return self._check_label_space(super().build_val_loop(loop))

    def build_test_loop(self, loop: Any) -> Any:
        return self._check_label_space(super().build_test_loop(loop))

    def _check_label_space(self, loop: Any) -> Any:
        model = self.model.module if is_model_wrapper(self.model) else self.model
        num_classes = getattr(model, "num_classes", None)  # exported programs (tools/test.py --backend) carry theirs
        for metric in getattr(getattr(loop, "evaluator", None), "metrics", ()):
            if isinstance(metric, CocoMetric) and num_classes is not None:
                metric.check_num_classes(int(num_classes))
        return loop

    def load_checkpoint(self, filename: str, map_location: Any = "cpu", strict: bool = False,
                        revise_keys: list = [(r"^module.", "")]) -> dict:  # noqa: B006  (mmengine's signature)
        filename = str(filename)
        if "://" in filename:  # a URL / torchvision:// scheme: mmengine's reader, the same check
            checkpoint = _load_checkpoint(filename, map_location=map_location)
        else:
            checkpoint = load_checkpoint(filename, map_location=map_location)
        resuming = bool(self._resume)
        if resuming and not (isinstance(checkpoint, dict) and isinstance(checkpoint.get("meta"), dict)
                             and "message_hub" in checkpoint):
            raise CheckpointMismatchError(
                f"checkpoint {filename}: holds no training state (meta, message_hub) to resume from; "
                "start from its weights with load_from (tools/train.py --load-from) instead")
        self.call_hook("after_load_checkpoint", checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        partial = PartialLoad() if resuming else self.load_partial
        left_out = load_state_checked(model, checkpoint, filename, partial)
        self._has_loaded = True
        self.logger.info(f"Load checkpoint from {filename}" + (
            f" (partial load: {partial}; {len(left_out.missing)} model tensors left at their initialisation, "
            f"{len(left_out.unexpected)} checkpoint tensors unused)" if partial else ""))
        return checkpoint
