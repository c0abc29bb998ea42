"""Build a model from a config and load a checkpoint into it, with errors that name what does not fit."""
from __future__ import annotations

from typing import Any, Mapping

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from torch import nn

from ..engine.cfg_check import check_cfg_options
from ..engine.checkpoint import load_checkpoint
from ..engine.state_dict import CheckpointMismatchError, PartialLoad, load_state_checked
from ..registry import MODELS

__all__ = ["CheckpointMismatchError", "build_model", "load_config", "load_model_weights"]


def load_config(config: str | Config, cfg_options: dict | None = None) -> Config:
    """``Config.fromfile`` (or a copy of a Config) with ``--cfg-options``-style overrides merged in."""
    cfg = Config.fromfile(config) if not isinstance(config, Config) else config.copy()
    if cfg_options:
        check_cfg_options(cfg, cfg_options)  # a misspelt key is an error with a suggestion, not ignored
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get("default_scope", "densenets"))
    return cfg


def build_model(cfg: Config) -> nn.Module:
    """Build ``cfg.model`` from the densenets registry (importing the modules that register models)."""
    import densenets.models  # noqa: F401  (registers the models)

    return MODELS.build(cfg.model)


def load_model_weights(model: nn.Module, checkpoint: str,
                       partial: PartialLoad | Mapping | None = None) -> dict[str, Any]:
    """Read ``checkpoint`` (:func:`~densenets.engine.checkpoint.load_checkpoint`, ``weights_only=True``) and load
    its weights into ``model`` through :func:`~densenets.engine.state_dict.load_state_checked`: an exact match, or
    :class:`CheckpointMismatchError` naming the file and the first mismatching keys (nothing is loaded then).
    ``partial=dict(only=[prefixes], skip=[prefixes])`` is a deliberate partial load. Returns the checkpoint's
    ``meta`` (holds ``dataset_meta``).
    """
    ckpt = load_checkpoint(checkpoint)
    left_out = load_state_checked(model, ckpt, str(checkpoint), partial)
    if left_out:
        print_log(f"checkpoint {checkpoint}: partial load left {len(left_out.missing)} model tensors at their "
                  f"initialisation and {len(left_out.unexpected)} checkpoint tensors unused", logger="current")
    meta = ckpt.get("meta", {})
    return meta if isinstance(meta, dict) else {}
