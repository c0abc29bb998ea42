"""The one way a model turns its ``backbone`` argument into a :class:`~densenets.models.backbones.base.Backbone`.

Every model (SSDLite, Faster R-CNN, the encoder-decoder segmentor, the ImageClassifier) takes its backbone as
``dict(name=..., **options)`` for :func:`~densenets.models.backbones.build_backbone` or as an already built
``Backbone``; the model, not the config, decides which taps it reads, so ``out_taps`` in the config is an error.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from .backbones import Backbone, build_backbone


def backbone_from_config(
    cfg: Mapping[str, Any] | Backbone,
    out_taps: Sequence[str],
    owner: str,
    defaults: Mapping[str, Any] | None = None,
) -> Backbone:
    """Build (or re-tap) the backbone a model reads ``out_taps`` from.

    Args:
        cfg: ``dict(name=..., **options)`` (``type=`` is accepted for ``name``), or a built :class:`Backbone`,
            whose ``out_taps`` are then set to ``out_taps``.
        out_taps: the taps the model reads, in order; ``forward`` returns them under these names.
        owner: the model's name, for error messages (``"SSDLite"``, ``"the segmentor"``...).
        defaults: options used where the config does not set them (e.g. the detector's ``bn_eps``).
    """
    out_taps = tuple(out_taps)
    if isinstance(cfg, Backbone):
        if tuple(cfg.out_taps) != out_taps:
            cfg.set_out_taps(out_taps)
        return cfg
    options = dict(cfg)
    name = options.pop("name", None) or options.pop("type", None)
    if name is None:
        raise ValueError(f"{owner}: the backbone config needs a 'name' (e.g. 'mobilenet_v3_large'), got {dict(cfg)}")
    if "out_taps" in options:
        raise ValueError(f"backbone.out_taps is set by {owner} from its own arguments (in_taps, rpn_tap, fpn_taps...)")
    for key, value in (defaults or {}).items():
        options.setdefault(key, value)
    return build_backbone(name, out_taps=out_taps, **options)
