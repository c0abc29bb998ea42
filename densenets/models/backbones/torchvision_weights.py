"""Loading torchvision-format checkpoints into densenets backbones and classifiers.

A torchvision checkpoint is the ``state_dict`` of e.g. ``torchvision.models.mobilenet_v3_large()``. Each supported
architecture has a :class:`TorchvisionFormat` in :data:`TORCHVISION_FORMATS`: a function that maps every key of
our backbone to its torchvision key (by module structure, never by position in a flat list), the keys of our
classification head, and the torchvision prefix of the classifier (skipped when loading a bare backbone).

Keys that do not fit — missing, unexpected, or of another shape (an RF2 tail or α ≠ 1 against full-width
weights) — are never dropped silently: they are listed by name in the returned :class:`LoadReport` and in a warning.
To add an architecture, write its ``backbone_keys`` function and add one entry to :data:`TORCHVISION_FORMATS`.

``weights`` may also be a torchvision weight name, ``"MobileNet_V3_Large_Weights.IMAGENET1K_V1"`` (or the enum member
itself): :func:`resolve_weights` finds it where torchvision's own ``weights.get_state_dict()`` keeps it — torch.hub's
cache, ``<torch.hub.get_dir()>/checkpoints/<file name of weights.url>`` (``$TORCH_HOME/hub/checkpoints``). Nothing
is ever downloaded here: a missing file is reported with the URL to fetch and the path to put it at.
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlparse

import torch
from torch import Tensor, nn


@dataclass
class LoadReport:
    """What a checkpoint load did. ``mismatched`` holds ``(our key, file key, our shape, file shape)``."""

    path: str
    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every model key was loaded and every file key was used (or deliberately skipped)."""
        return not (self.missing or self.unexpected or self.mismatched)

    def __str__(self) -> str:
        from ...engine.state_dict import KeyMismatch  # the one key-mismatch reporter

        lines = [f"{self.path}: loaded {len(self.loaded)} tensors, skipped {len(self.skipped)} classifier tensors"]
        parts = KeyMismatch(self.missing, self.unexpected, self.mismatched).parts(limit=None)
        if parts:
            lines.append("not loaded (model tensors left at their initialisation, file tensors unused) — "
                         + "; ".join(parts))
        return "\n".join(lines)


def read_checkpoint(path: str | os.PathLike) -> dict[str, Tensor]:
    """Read a state_dict with ``torch.load(weights_only=True)``; a mmengine checkpoint's ``state_dict`` is accepted.

    Raises ``FileNotFoundError`` / ``ValueError`` naming the file when it is absent or not a state_dict.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such checkpoint file")
    from ...engine.checkpoint import load_checkpoint  # the one checkpoint reader

    try:
        obj = load_checkpoint(path, map_location="cpu")
    except Exception as err:  # pickle, zip and weights-only errors all mean "not a usable checkpoint"
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise ValueError(f"{path} is not a PyTorch checkpoint readable with weights_only=True "
                         f"({type(err).__name__}: {first[:200]})") from err
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not obj:
        raise ValueError(f"{path}: expected a state_dict (a non-empty mapping of names to tensors), "
                         f"got {type(obj).__name__}")
    bad = [k for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, Tensor)]
    if bad:
        raise ValueError(f"{path}: not a state_dict, entries that are not name -> tensor: {bad[:5]}")
    return dict(obj)


def load_mapped(
    module: nn.Module,
    state: Mapping[str, Tensor],
    key_map: Mapping[str, str],
    path: str,
    skip_prefixes: tuple[str, ...] = (),
) -> LoadReport:
    """Copy ``state[key_map[k]]`` into ``module``'s entry ``k`` for every key of ``module.state_dict()``.

    File keys starting with ``skip_prefixes`` are expected to stay unused (reported as ``skipped``).
    Anything else that does not fit is reported by name and warned about.
    """
    from ...engine.state_dict import compare_state_dicts  # the one key comparison

    report = LoadReport(path)
    own = module.state_dict()
    mismatch = compare_state_dicts(own, state, key_map)
    report.missing, report.mismatched = mismatch.missing, mismatch.mismatched
    unfit = set(mismatch.missing) | {ours for ours, *_ in mismatch.mismatched}
    new_state = {key: state[key_map.get(key, key)] for key in own if key not in unfit}
    report.loaded = list(new_state)
    for key in mismatch.unexpected:
        (report.skipped if key.startswith(skip_prefixes) else report.unexpected).append(key)
    module.load_state_dict(new_state, strict=False)
    if report.complete:
        from mmengine.logging import print_log

        print_log(str(report), logger="current")  # shows in the Runner's log (stdlib logging would hide it)
    else:
        warnings.warn(f"checkpoint does not fit {type(module).__name__}:\n{report}", stacklevel=3)
    return report


# -- key maps --------------------------------------------------------------------------------------------------------
def _translate(keys: list[str], prefixes: list[tuple[str, str]]) -> dict[str, str]:
    """Map each key by its longest matching ``(our prefix, their prefix)`` pair."""
    prefixes = sorted(prefixes, key=lambda p: len(p[0]), reverse=True)
    out: dict[str, str] = {}
    for key in keys:
        for ours, theirs in prefixes:
            if key.startswith(ours):
                out[key] = theirs + key[len(ours):]
                break
    return out


def _mobilenet_prefixes(
    backbone: nn.Module, block_parts: Callable[[nn.Module], dict[str, str]]
) -> list[tuple[str, str]]:
    """Units ``stem, block1..blockN, final_conv`` ↔ torchvision's ``features.0 .. features.N+1``."""
    pairs: list[tuple[str, str]] = []
    for index, (name, unit) in enumerate(backbone.units.items()):
        if name.startswith("block"):
            parts = block_parts(unit).items()
            pairs += [(f"units.{name}.{ours}.", f"features.{index}.{theirs}.") for ours, theirs in parts]
        else:
            pairs.append((f"units.{name}.", f"features.{index}."))
    return pairs


def _v3_block(unit: nn.Module) -> dict[str, str]:
    # torchvision InvertedResidual.block = [expand?, depthwise, se?, project]
    parts = [p for p in ("expand", "depthwise", "se", "project") if getattr(unit, p) is not None]
    return {p: f"block.{j}" for j, p in enumerate(parts)}


def _v2_block(unit: nn.Module) -> dict[str, str]:
    # torchvision InvertedResidual.conv = [expand?, depthwise, project conv, project BN]
    parts = [p for p in ("expand", "depthwise") if getattr(unit, p) is not None]
    out = {p: f"conv.{j}" for j, p in enumerate(parts)}
    out["project.0"], out["project.1"] = f"conv.{len(parts)}", f"conv.{len(parts) + 1}"
    return out


def mobilenet_v3_keys(backbone: nn.Module) -> dict[str, str]:
    return _translate(list(backbone.state_dict()), _mobilenet_prefixes(backbone, _v3_block))


def mobilenet_v2_keys(backbone: nn.Module) -> dict[str, str]:
    return _translate(list(backbone.state_dict()), _mobilenet_prefixes(backbone, _v2_block))


def shufflenet_v2_keys(backbone: nn.Module) -> dict[str, str]:
    # ShuffleNetV2 units sit at torchvision's module paths (conv1, stage2.0.branch2.0, ..., conv5) under "units."
    return {key: key[len("units."):] for key in backbone.state_dict() if key.startswith("units.")}


@dataclass(frozen=True)
class TorchvisionFormat:
    """How one torchvision architecture's state_dict maps onto ours."""

    backbone_keys: Callable[[nn.Module], dict[str, str]]  # backbone -> {our key: torchvision key}
    head_keys: dict[str, str]  # our classification-head key -> torchvision key
    classifier_prefixes: tuple[str, ...] = ("classifier.",)


_V3_HEAD = {"fc1.weight": "classifier.0.weight", "fc1.bias": "classifier.0.bias",
            "fc.weight": "classifier.3.weight", "fc.bias": "classifier.3.bias"}
TORCHVISION_FORMATS: dict[str, TorchvisionFormat] = {
    "mobilenet_v2": TorchvisionFormat(
        mobilenet_v2_keys, {"fc.weight": "classifier.1.weight", "fc.bias": "classifier.1.bias"}
    ),
    "mobilenet_v3_large": TorchvisionFormat(mobilenet_v3_keys, _V3_HEAD),
    "mobilenet_v3_small": TorchvisionFormat(mobilenet_v3_keys, _V3_HEAD),
    "shufflenet_v2": TorchvisionFormat(shufflenet_v2_keys, {"fc.weight": "fc.weight", "fc.bias": "fc.bias"}, ("fc.",)),
}


# torchvision weight enums whose checkpoints fit a densenets backbone, by the backbone's ``arch``
TORCHVISION_WEIGHT_ENUMS: dict[str, str] = {
    "MobileNet_V2_Weights": "mobilenet_v2",
    "MobileNet_V3_Large_Weights": "mobilenet_v3_large",
    "MobileNet_V3_Small_Weights": "mobilenet_v3_small",
    "ShuffleNet_V2_X0_5_Weights": "shufflenet_v2",
    "ShuffleNet_V2_X1_0_Weights": "shufflenet_v2",
    "ShuffleNet_V2_X1_5_Weights": "shufflenet_v2",
    "ShuffleNet_V2_X2_0_Weights": "shufflenet_v2",
}


@dataclass(frozen=True)
class WeightsSource:
    """Where a ``weights=`` value lives: ``path`` (a local file, or torch.hub's cache file of a torchvision weight
    ``name`` downloaded from ``url``)."""

    path: str
    name: str | None = None
    url: str | None = None

    @property
    def available(self) -> bool:
        return os.path.isfile(self.path)

    def missing_message(self) -> str:
        return (f"torchvision weights {self.name} are not in torch.hub's cache: fetch {self.url} and save it as "
                f"{self.path} (on a machine with internet, `torchvision.models.get_weight('{self.name}')"
                f".get_state_dict()` does exactly that; set TORCH_HOME to use another cache directory)")


def resolve_weights(weights: object, arch: str = "") -> WeightsSource:
    """A local checkpoint path, or a torchvision weight name / enum member for a backbone of ``arch``.

    A string ``"<Enum>.<MEMBER>"`` whose enum is one of torchvision's is a weight name (never a file name); its file
    is torchvision's cache file, whether or not it exists yet (see :attr:`WeightsSource.available`).
    """
    from torchvision.models import WeightsEnum, get_weight

    if isinstance(weights, WeightsEnum):
        enum, member = type(weights).__name__, weights.name
    elif isinstance(weights, str) and not os.path.exists(weights) and weights.count(".") == 1 \
            and all(part.isidentifier() for part in weights.split(".")) and weights.split(".")[0].endswith("_Weights"):
        enum, member = weights.split(".")
    else:
        return WeightsSource(os.fspath(weights))  # type: ignore[arg-type]
    name = f"{enum}.{member}"
    try:
        entry = weights if isinstance(weights, WeightsEnum) else get_weight(name)
    except (ValueError, KeyError, AttributeError) as err:
        raise ValueError(f"weights={name!r}: not a torchvision weight name ({err})") from err
    expected = TORCHVISION_WEIGHT_ENUMS.get(enum)
    if expected is None:
        raise ValueError(f"weights={name!r}: a backbone loads only classification weights of "
                         f"{sorted(TORCHVISION_WEIGHT_ENUMS)}")
    if arch and arch != expected:
        raise ValueError(f"weights={name!r} are {expected} weights, but this backbone is {arch}")
    filename = os.path.basename(urlparse(entry.url).path)  # as torch.hub.load_state_dict_from_url names it
    return WeightsSource(os.path.join(torch.hub.get_dir(), "checkpoints", filename), name, entry.url)


def _is_own_format(module: nn.Module, state: Mapping[str, Tensor]) -> bool:
    own = set(module.state_dict())
    return len(own & set(state)) > len(own) // 2


def load_backbone_weights(backbone: nn.Module, path: str | os.PathLike) -> LoadReport:
    """Load a torchvision-format (or densenets-format) checkpoint into a backbone; the classifier is skipped.

    A densenets model checkpoint (detector, segmentor, :class:`ImageClassifier`) gives its ``backbone.*`` entries.
    """
    state = read_checkpoint(path)
    inner = {k[len("backbone."):]: v for k, v in state.items() if k.startswith("backbone.")}
    if inner and _is_own_format(backbone, inner):
        state = inner
    fmt = TORCHVISION_FORMATS.get(getattr(backbone, "arch", ""))
    if _is_own_format(backbone, state) or fmt is None:
        return load_mapped(backbone, state, {}, os.fspath(path))
    return load_mapped(backbone, state, fmt.backbone_keys(backbone), os.fspath(path), fmt.classifier_prefixes)


def load_classifier_weights(model: nn.Module, path: str | os.PathLike) -> LoadReport:
    """Load a torchvision-format (or densenets-format) checkpoint into an :class:`ImageClassifier` (backbone + head)."""
    state = read_checkpoint(path)
    fmt = TORCHVISION_FORMATS.get(getattr(model.backbone, "arch", ""))
    if _is_own_format(model, state) or fmt is None:
        return load_mapped(model, state, {}, os.fspath(path))
    key_map = {f"backbone.{k}": v for k, v in fmt.backbone_keys(model.backbone).items()}
    key_map.update({f"head.{k}": v for k, v in fmt.head_keys.items()})
    return load_mapped(model, state, key_map, os.fspath(path))
