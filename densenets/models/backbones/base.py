"""The backbone contract: named taps, declared :class:`FeatureSpec`s, an ordered ``dict[str, Tensor]`` out.

A backbone is an ordered sequence of named *units* (``self.units``: stem, blocks, final conv...). Every unit has an
``out`` point; a unit that exposes block-internal points (``expand``, ``depthwise`` of an inverted residual) implements
:class:`TappedUnit`. A tap's canonical name is ``"<unit>.<point>"`` (e.g. ``"block13.expand"``); ``"<unit>"`` alone
means ``"<unit>.out"``. Subclasses add paper aliases (``C4``, ``C5``, ``OS8``) that map onto canonical names.

``forward`` computes only as far as the last requested tap (a C4-only backbone never runs the tail), and
``forward_from`` continues from a tap's tensor — the Faster R-CNN papers' form runs the layers after C4 on each RoI.
"""
from __future__ import annotations

import warnings
from collections import OrderedDict
from typing import Iterable, Protocol, runtime_checkable

from torch import Tensor, nn

from ..feature_spec import FeatureSpec


@runtime_checkable
class TappedUnit(Protocol):
    """A unit with block-internal tap points, in execution order, ``"out"`` last."""

    tap_points: tuple[str, ...]

    def forward_taps(self, x: Tensor, points: frozenset[str]) -> tuple[Tensor, dict[str, Tensor]]:
        """Run the unit; return its output and the tensors at ``points``."""
        ...

    def forward_from(self, point: str, x: Tensor) -> Tensor:
        """Finish the unit from the tensor at ``point`` (raises if the point cannot be resumed, e.g. mid-residual)."""
        ...


class Backbone(nn.Module):
    """Base class of every densenets backbone. Subclasses call :meth:`add_unit` in execution order, then
    :meth:`add_alias` for the paper's names, then :meth:`set_out_taps`."""

    def __init__(self) -> None:
        super().__init__()
        self.units = nn.ModuleDict()
        self._specs: dict[str, FeatureSpec] = {}
        self.aliases: dict[str, str] = {}
        self.out_taps: tuple[str, ...] = ()
        self._plan: dict[str, frozenset[str]] = {}
        self._stop_unit: str | None = None

    # -- construction -------------------------------------------------------------------------------------------
    def add_unit(self, name: str, module: nn.Module, specs: dict[str, FeatureSpec]) -> None:
        """Append a unit; ``specs`` maps each of its points (``"out"`` required) to its FeatureSpec."""
        if "out" not in specs:
            raise ValueError(f"unit {name!r} must declare an 'out' FeatureSpec")
        points = tuple(getattr(module, "tap_points", ("out",)))
        if set(specs) != set(points):
            raise ValueError(f"unit {name!r}: specs for {sorted(specs)} but the module has points {points}")
        self.units[name] = module
        for point, spec in specs.items():
            self._specs[f"{name}.{point}"] = spec

    def add_alias(self, alias: str, tap: str) -> None:
        self.aliases[alias] = self.resolve(tap)

    def set_out_taps(self, out_taps: Iterable[str]) -> None:
        """Choose which taps :meth:`forward` returns (in this order, under the names given)."""
        out_taps = tuple(out_taps)
        if not out_taps:
            raise ValueError("out_taps must name at least one tap")
        plan: dict[str, set[str]] = {}
        for tap in out_taps:
            unit, point = self.resolve(tap).split(".", 1)
            plan.setdefault(unit, set()).add(point)
        order = list(self.units.keys())
        self._stop_unit = max(plan, key=order.index)
        self._plan = {u: frozenset(p) for u, p in plan.items()}
        self.out_taps = out_taps

    def finish_init(
        self,
        out_taps: Iterable[str],
        weights: object = None,
        norm_eval: bool = False,
        frozen_stages: int = -1,
        freeze_norm: bool = False,
    ) -> None:
        """The options every backbone takes, applied after its units are built (weights initialised first):

        ``norm_eval`` — BN layers stay in eval mode while training (fine-tuning with small batches);
        ``freeze_norm`` — also the BN affine parameters get no gradient, i.e. every BN is torchvision's
        ``FrozenBatchNorm2d`` (what its detection builders use with pre-trained backbones); implies ``norm_eval``;
        ``frozen_stages`` — -1: none; n >= 0: the first unit (stem) and the n units after it get no gradient and stay
        in eval mode (torchvision's ``trainable_backbone_layers=3`` on MobileNetV3 = ``features[:7]`` frozen =
        ``frozen_stages=6``); ``weights`` — a torchvision-format or densenets checkpoint, or a torchvision weight name
        such as ``"MobileNet_V3_Large_Weights.IMAGENET1K_V1"`` (:mod:`.torchvision_weights`); the
        :class:`~.torchvision_weights.LoadReport` is kept in ``self.load_report``. A named weight whose file is not
        in torch.hub's cache yet is loaded by :meth:`init_weights` (the Runner calls it before training; it raises
        with the URL to fetch and where to put it if the file is still missing), so that a config naming it can be
        built, counted and benchmarked without the file.
        """
        from ..layers import init_weights

        init_weights(self)
        self.set_out_taps(out_taps)
        if frozen_stages >= len(self.units):
            raise ValueError(f"frozen_stages={frozen_stages} but {type(self).__name__} has only {len(self.units)} units")
        self.norm_eval = norm_eval or freeze_norm
        self.freeze_norm = freeze_norm
        self.frozen_stages = frozen_stages
        for unit in self._frozen_units():
            for p in unit.parameters():
                p.requires_grad_(False)
        if freeze_norm:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    for p in m.parameters():
                        p.requires_grad_(False)
        self.load_report = None
        self.pending_weights = None
        if weights is not None:
            from .torchvision_weights import resolve_weights

            source = resolve_weights(weights, getattr(self, "arch", ""))
            if source.available or source.name is None:
                self._load(source.path)
            else:
                self.pending_weights = source
                warnings.warn(f"{source.missing_message()}. Building {type(self).__name__} without them; "
                              "init_weights() (called by the Runner before training) loads them once the file is "
                              "there and raises otherwise.", stacklevel=3)
        self.train(self.training)

    def _load(self, path: str) -> None:
        from .torchvision_weights import load_backbone_weights

        self.load_report = load_backbone_weights(self, path)

    def init_weights(self) -> None:
        """Load weights named by ``weights=`` that were not in torch.hub's cache at construction (else nothing)."""
        source = getattr(self, "pending_weights", None)
        if source is None:
            return
        if not source.available:
            raise FileNotFoundError(source.missing_message())
        self._load(source.path)
        self.pending_weights = None

    def _frozen_units(self) -> list[nn.Module]:
        frozen = getattr(self, "frozen_stages", -1)
        return list(self.units.values())[: frozen + 1] if frozen >= 0 else []

    def train(self, mode: bool = True) -> "Backbone":
        super().train(mode)
        if mode:
            for unit in self._frozen_units():
                unit.eval()
            if getattr(self, "norm_eval", False):
                for m in self.modules():
                    if isinstance(m, nn.modules.batchnorm._BatchNorm):
                        m.eval()
        return self

    def drop_unused_units(self) -> list[str]:
        """Delete the units after the last returned tap (``forward`` never runs them), with their taps and aliases;
        e.g. the 1280-ch conv of MobileNetV2 when a segmentation head reads ``block17.out``. Returns their names."""
        names = list(self.units.keys())
        dropped = names[names.index(self._stop_unit) + 1 :] if self._stop_unit else []
        for name in dropped:
            del self.units[name]
        gone = {tap for tap in self._specs if tap.split(".", 1)[0] in dropped}
        self._specs = {tap: spec for tap, spec in self._specs.items() if tap not in gone}
        self.aliases = {alias: tap for alias, tap in self.aliases.items() if tap not in gone}
        return dropped

    # -- metadata -----------------------------------------------------------------------------------------------
    def resolve(self, tap: str) -> str:
        """Canonical ``"<unit>.<point>"`` name of ``tap`` (an alias, a unit name, or a canonical name)."""
        name = self.aliases.get(tap, tap)
        if name in self.units:
            name = f"{name}.out"
        if name not in self._specs:
            raise KeyError(
                f"{type(self).__name__} has no tap {tap!r}; available: aliases {sorted(self.aliases)} "
                f"and units.points {list(self._specs)}"
            )
        return name

    @property
    def feature_info(self) -> dict[str, FeatureSpec]:
        """Every tap this backbone can return (aliases and canonical names) with its FeatureSpec."""
        info = {alias: self._specs[canon] for alias, canon in self.aliases.items()}
        info.update(self._specs)
        return info

    def output_shape(self) -> "OrderedDict[str, FeatureSpec]":
        """FeatureSpecs of the taps :meth:`forward` returns, in order."""
        return OrderedDict((tap, self._specs[self.resolve(tap)]) for tap in self.out_taps)

    # -- forward ------------------------------------------------------------------------------------------------
    def forward(self, x: Tensor) -> "OrderedDict[str, Tensor]":
        found: dict[str, Tensor] = {}
        for name, unit in self.units.items():
            points = self._plan.get(name)
            if points is None or points == {"out"} or not isinstance(unit, TappedUnit):
                x = unit(x)
                if points:
                    found[f"{name}.out"] = x
            else:
                x, inner = unit.forward_taps(x, points)
                for point in points:
                    found[f"{name}.{point}"] = x if point == "out" else inner[point]
            if name == self._stop_unit:
                break
        return OrderedDict((tap, found[self.resolve(tap)]) for tap in self.out_taps)

    def forward_from(self, tap: str, x: Tensor, until: str = "C5") -> Tensor:
        """Continue the network from the tensor ``x`` found at ``tap`` and return the tensor at ``until``."""
        start_unit, start_point = self.resolve(tap).split(".", 1)
        end_unit, end_point = self.resolve(until).split(".", 1)
        if end_point != "out":
            raise ValueError(f"forward_from can only stop at a unit output, not {until!r}")
        names = list(self.units.keys())
        i0, i1 = names.index(start_unit), names.index(end_unit)
        if i1 < i0:
            raise ValueError(f"{until!r} comes before {tap!r}")
        if start_point != "out":
            x = self.units[start_unit].forward_from(start_point, x)
        for name in names[i0 + 1 : i1 + 1]:
            x = self.units[name](x)
        return x
