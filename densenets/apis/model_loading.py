"""Build a model from a config and load a checkpoint into it, with errors that name what does not fit."""
from __future__ import annotations

from typing import Any

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch import nn

from ..engine.checkpoint import load_checkpoint
from ..registry import MODELS


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's tensors do not fit the model its config builds."""


def load_config(config: str | Config, cfg_options: dict | None = None) -> Config:
    """``Config.fromfile`` (or a copy of a Config) with ``--cfg-options``-style overrides merged in."""
    cfg = Config.fromfile(config) if not isinstance(config, Config) else config.copy()
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get("default_scope", "densenets"))
    return cfg


def build_model(cfg: Config) -> nn.Module:
    """Build ``cfg.model`` from the densenets registry (importing the modules that register models)."""
    import densenets.models  # noqa: F401  (registers the models)

    return MODELS.build(cfg.model)


def _describe(keys: list[str], limit: int = 5) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" (+{len(keys) - limit} more)" if len(keys) > limit else "")


def load_model_weights(model: nn.Module, checkpoint: str, strict: bool = True) -> dict[str, Any]:
    """Load ``checkpoint`` (an mmengine checkpoint with ``state_dict``/``ema_state_dict``, or a bare state dict)
    into ``model`` with ``weights_only=True``. Returns the checkpoint's ``meta`` (holds ``dataset_meta``).

    A mismatch raises :class:`CheckpointMismatchError` naming the first missing, unexpected and wrongly shaped keys.
    EMA weights are used when the checkpoint carries them (mmengine's ``EMAHook`` saves them as ``ema_state_dict``
    with ``module.`` prefixes).
    """
    ckpt = load_checkpoint(checkpoint)
    if not isinstance(ckpt, dict):
        raise CheckpointMismatchError(f"checkpoint {checkpoint}: expected a dict, got {type(ckpt).__name__}")
    state = ckpt.get("state_dict", ckpt)
    ema = ckpt.get("ema_state_dict")
    if isinstance(ema, dict) and ema:
        averaged = {k[len("module."):]: v for k, v in ema.items() if k.startswith("module.")}
        if averaged:
            state = averaged
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointMismatchError(f"checkpoint {checkpoint}: no state_dict of tensors in it")
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [
        f"{k} {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in own
        if k in state and tuple(state[k].shape) != tuple(own[k].shape)
    ]
    if shapes or (strict and (missing or unexpected)):
        parts = []
        if shapes:
            parts.append(f"shape mismatch: {_describe(shapes)}")
        if missing:
            parts.append(f"missing in checkpoint: {_describe(missing)}")
        if unexpected:
            parts.append(f"not in model: {_describe(unexpected)}")
        raise CheckpointMismatchError(
            f"checkpoint {checkpoint} does not match the model built from the config — " + "; ".join(parts)
        )
    model.load_state_dict(state, strict=strict)
    meta = ckpt.get("meta", {})
    return meta if isinstance(meta, dict) else {}
