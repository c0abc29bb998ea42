"""The one key-mismatch reporter and the one checked load of a checkpoint's weights into a model.

Every entry point that puts a densenets checkpoint into a model — ``tools/test.py`` and ``tools/train.py``
(``load_from`` / ``--resume``, through :class:`~densenets.engine.runner.DenseRunner`), the Inferencer and
``tools/infer.py``, ONNX export, the benchmark (through :func:`densenets.apis.load_model_weights`) — ends in
:func:`load_state_checked`; torchvision-format backbone weights (``backbone.weights=PATH``) report what does not fit
with the same :class:`KeyMismatch`.

The rule: the model's keys and the checkpoint's keys must match exactly, name and shape, or the load is refused
with :class:`CheckpointMismatchError` naming the file and the first mismatching keys, and *nothing* is copied. A
deliberate partial load is an explicit option (:class:`PartialLoad`):

- ``only=("backbone.",)``: load just these parts (an ImageNet classifier's or another detector's backbone);
  both sides' keys outside them are ignored, inside they must match exactly;
- ``skip=("head.cls_predictor.",)``: leave these parts of the model at their initialisation (a head swap for
  fine-tuning on other classes); the checkpoint's entries there are ignored whatever their shape.

Which weights a checkpoint gives: its ``state_dict`` (a bare state dict is accepted too), ``module.`` prefixes of a
wrapped model stripped. mmengine's ``EMAHook`` swaps the averaged weights *into* ``state_dict`` before saving (and
the raw ones into ``ema_state_dict``) "so that we can directly load the averaged model weights for deployment", so
``state_dict`` is the averaged model — the same weights mmengine's own ``Runner.load_checkpoint`` evaluates.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import torch
from torch import Tensor, nn

__all__ = ["CheckpointMismatchError", "KeyMismatch", "PartialLoad", "compare_state_dicts", "load_state_checked",
           "state_dict_of"]

_SHOWN = 5  # keys named per kind in a message


class CheckpointMismatchError(ValueError):
    """A checkpoint's tensors do not fit the model its config builds (or the file holds no weights)."""


def _describe(keys: Sequence[str], limit: int = _SHOWN) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" (+{len(keys) - limit} more)" if len(keys) > limit else "")


@dataclass
class KeyMismatch:
    """What does not fit between a model's state dict and a checkpoint's, by name.

    ``mismatched`` holds ``(model key, file key, model shape, file shape)``; ``file key`` differs from ``model key``
    only for a mapped load (torchvision's layout, see ``densenets/models/backbones/torchvision_weights.py``).
    """

    missing: list[str] = field(default_factory=list)  # in the model, not in the file
    unexpected: list[str] = field(default_factory=list)  # in the file, not used by the model
    mismatched: list[tuple[str, str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.mismatched)

    def parts(self, limit: int | None = _SHOWN) -> list[str]:
        """One phrase per kind of mismatch, the first ``limit`` keys named (all with ``None``)."""
        limit = limit or max(len(self.missing), len(self.unexpected), len(self.mismatched), 1)
        out = []
        if self.mismatched:
            out.append("shape mismatch: " + _describe([
                f"{ours} {tuple(a)} vs checkpoint {tuple(b)}" if ours == theirs
                else f"{ours} {tuple(a)} vs checkpoint {theirs} {tuple(b)}"
                for ours, theirs, a, b in self.mismatched], limit))
        if self.missing:
            out.append(f"missing in checkpoint: {_describe(self.missing, limit)}")
        if self.unexpected:
            out.append(f"not in model: {_describe(self.unexpected, limit)}")
        return out

    def __str__(self) -> str:
        return "; ".join(self.parts())


def compare_state_dicts(own: Mapping[str, Tensor], state: Mapping[str, Tensor],
                        key_map: Mapping[str, str] | None = None) -> KeyMismatch:
    """Compare ``own`` (a model's ``state_dict()``) with ``state``; ``key_map`` maps a model key to its file key."""
    key_map = key_map or {}
    report = KeyMismatch()
    used = set()
    for key, target in own.items():
        src = key_map.get(key, key)
        if src not in state:
            report.missing.append(key)
            continue
        used.add(src)
        if tuple(state[src].shape) != tuple(target.shape):
            report.mismatched.append((key, src, tuple(target.shape), tuple(state[src].shape)))
    report.unexpected = [k for k in state if k not in used]
    return report


@dataclass(frozen=True)
class PartialLoad:
    """An explicit partial load: ``only`` the model parts with these key prefixes, and/or ``skip`` these."""

    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()

    @classmethod
    def from_cfg(cls, value: Any) -> "PartialLoad":
        """From a config value: ``None``, ``dict(only=[...], skip=[...])`` or a ``PartialLoad``."""
        if value is None:
            return cls()
        if isinstance(value, PartialLoad):
            return value
        if not isinstance(value, Mapping) or set(value) - {"only", "skip"}:
            raise ValueError(f"load_partial must be dict(only=[prefixes], skip=[prefixes]), got {value!r}")
        as_tuple = lambda v: (v,) if isinstance(v, str) else tuple(v or ())  # noqa: E731
        return cls(as_tuple(value.get("only")), as_tuple(value.get("skip")))

    def __bool__(self) -> bool:
        return bool(self.only or self.skip)

    def selects(self, key: str) -> bool:
        return (not self.only or key.startswith(self.only)) and not (self.skip and key.startswith(self.skip))

    def __str__(self) -> str:
        return ", ".join(([f"only {', '.join(self.only)}"] if self.only else [])
                         + ([f"skipping {', '.join(self.skip)}"] if self.skip else []))


def state_dict_of(checkpoint: Any, path: str) -> dict[str, Tensor]:
    """The model weights a checkpoint holds (see the module docstring), ``module.`` prefixes stripped."""
    if not isinstance(checkpoint, Mapping):
        raise CheckpointMismatchError(f"checkpoint {path}: expected a dict, got {type(checkpoint).__name__}")
    state = checkpoint.get("state_dict", checkpoint)
    if (not isinstance(state, Mapping) or not state
            or not all(isinstance(k, str) and isinstance(v, Tensor) for k, v in state.items())):
        raise CheckpointMismatchError(f"checkpoint {path}: no state_dict of tensors in it")
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}


def load_state_checked(model: nn.Module, checkpoint: Any, path: str,
                       partial: PartialLoad | Mapping | None = None) -> KeyMismatch:
    """Copy a checkpoint's weights into ``model`` if they match exactly (within ``partial``), else raise.

    Returns what the partial load left out (empty for a full load). Raises :class:`CheckpointMismatchError` naming
    ``path`` and the first mismatching keys; the model is then untouched.
    """
    partial = PartialLoad.from_cfg(partial)
    state = state_dict_of(checkpoint, path)
    own = model.state_dict()
    own_sel = {k: v for k, v in own.items() if partial.selects(k)}
    state_sel = {k: v for k, v in state.items() if partial.selects(k)}
    if partial and not own_sel:
        raise CheckpointMismatchError(f"checkpoint {path}: the partial load ({partial}) selects no model key")
    mismatch = compare_state_dicts(own_sel, state_sel)
    if mismatch:
        how = f" (partial load: {partial})" if partial else ""
        hint = "" if partial else (
            "; to load part of it on purpose, name the part: load_partial=dict(only=['backbone.']) or "
            "dict(skip=['<head prefix>.']) (tools/train.py --load-only / --load-skip)")
        raise CheckpointMismatchError(
            f"checkpoint {path} does not match the model built from the config{how} — {mismatch}{hint}")
    with torch.no_grad():
        model.load_state_dict(state_sel, strict=not partial)
    left_out = KeyMismatch(missing=[k for k in own if k not in own_sel],
                           unexpected=[k for k in state if k not in state_sel])
    return left_out
