"""Config keys checked before training starts: a misspelt key is an error that suggests the closest valid one.

mmengine's ``Runner.from_cfg`` reads the keys it knows and ignores the rest, so ``trian_cfg.max_iters=4`` trains
the config's full schedule, and a hook or loop builds its arguments only when it is built or first used, so
``default_hooks.checkpoint.intervl=1`` fails at the first save — hours in. :func:`check_config` looks, before the
Runner is built, at:

- ``--cfg-options`` keys: the top-level part must be a key the config already has or one ``Runner.from_cfg`` reads;
- the config's top-level keys: one that is not read by the Runner but is within a typo of a Runner key
  (``difflib`` ratio ≥ 0.85, e.g. ``trian_cfg``) is an error; other extra keys are the config's own variables
  (``data_root``, pipelines) and stay;
- ``train_cfg`` / ``val_cfg`` / ``test_cfg``, every ``default_hooks`` / ``custom_hooks`` entry: each argument must be
  a parameter of the registered class's ``__init__`` (following ``**kwargs`` to the base classes that receive them);
- the train loop and its sampler: an epoch-based loop over mmengine's ``InfiniteSampler`` never ends an epoch.

The suggestions come from :func:`difflib.get_close_matches`.
"""
from __future__ import annotations

import difflib
import inspect
from typing import Any, Iterable, Mapping

from .cli import UsageError

#: the keys ``mmengine.runner.Runner.from_cfg`` (0.10.7) reads, plus densenets' own top-level keys
RUNNER_KEYS = frozenset({
    "auto_scale_lr", "custom_hooks", "data_preprocessor", "default_hooks", "default_scope", "env_cfg",
    "experiment_name", "launcher", "load_from", "log_level", "log_processor", "model", "optim_wrapper",
    "param_scheduler", "randomness", "resume", "test_cfg", "test_dataloader", "test_evaluator", "train_cfg",
    "train_dataloader", "val_cfg", "val_dataloader", "val_evaluator", "visualizer", "work_dir",
    # read elsewhere: mmengine (runner_type, custom_imports, model_wrapper_cfg, find_unused_parameters, sync_bn,
    # cfg.gpu_ids on resume), densenets (load_partial: DenseRunner; ema_cfg: tools/train.py --ema; qat:
    # densenets/deploy/qat.py through tools/train.py and tools/test.py)
    "runner_type", "custom_imports", "model_wrapper_cfg", "find_unused_parameters", "sync_bn", "gpu_ids",
    "load_partial", "ema_cfg", "qat",
})
_TYPO_RATIO = 0.85
_LOOP_DEFAULTS = {"train_cfg": None, "val_cfg": "ValLoop", "test_cfg": "TestLoop"}
_LOOP_OWN = {"runner", "dataloader", "evaluator"}  # passed by the Runner, not by the config


def _suggest(key: str, valid: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, sorted(valid), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _closed_kwargs() -> tuple[type, ...]:
    """Classes whose ``**kwargs`` accept nothing that works: mmengine's ``CheckpointHook`` forwards them to
    ``runner.save_checkpoint(...)``, whose every parameter it already passes, so any extra key fails at the first
    save."""
    from mmengine.hooks import CheckpointHook

    return (CheckpointHook,)


def accepted_arguments(cls: type) -> set[str] | None:
    """Parameter names ``cls(...)`` accepts, following ``**kwargs`` up the MRO; ``None`` if any takes anything."""
    names: set[str] = set()
    closed = _closed_kwargs()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        if klass is object:
            break
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            return None
        names |= {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)} - {"self"}
        if klass in closed or not any(p.kind is p.VAR_KEYWORD for p in params):
            return names
    return None  # the chain ended in a **kwargs sink


def _registered(registry: Any, type_name: Any, where: str) -> type | None:
    if not isinstance(type_name, str):
        return type_name if isinstance(type_name, type) else None
    cls = registry.get(type_name)
    if cls is None:
        names = set(registry.module_dict)
        parent = registry.parent
        while parent is not None:
            names |= set(parent.module_dict)
            parent = parent.parent
        raise UsageError(f"config: {where}: type '{type_name}' is not registered{_suggest(type_name, names)}")
    return cls


def _check_arguments(cfg_entry: Mapping, cls: type, where: str, exclude: set[str] = frozenset()) -> None:
    accepted = accepted_arguments(cls)
    if accepted is None:
        return
    for key in cfg_entry:
        if key == "type" or key in exclude:
            continue
        if key not in accepted:
            raise UsageError(f"config: {where}.{key}: {cls.__name__} takes no argument '{key}'"
                             f"{_suggest(key, accepted - exclude)}")


def check_cfg_options(cfg_before: Mapping, options: Mapping[str, Any]) -> None:
    """``--cfg-options`` keys whose top-level part is neither in the config nor a Runner key are errors."""
    for key in options:
        top = key.split(".", 1)[0]
        if top not in cfg_before and top not in RUNNER_KEYS:
            raise UsageError(f"--cfg-options {key}: the config has no key '{top}'"
                             f"{_suggest(top, set(cfg_before) | RUNNER_KEYS)}")


def check_top_level(cfg: Mapping) -> None:
    for key in cfg:
        if key in RUNNER_KEYS or key.startswith("_"):
            continue
        close = difflib.get_close_matches(key, sorted(RUNNER_KEYS), n=1, cutoff=_TYPO_RATIO)
        if close:
            raise UsageError(f"config: top-level key '{key}' is not read by the Runner; did you mean '{close[0]}'?")


def _train_loop_type(train_cfg: Mapping) -> str:
    from .runner_cfg import train_by_epoch

    if train_cfg.get("type"):
        return train_cfg["type"]
    return "EpochBasedTrainLoop" if train_by_epoch({"train_cfg": train_cfg}) else "IterBasedTrainLoop"


def check_loops(cfg: Mapping) -> None:
    from ..registry import LOOPS

    for key, default in _LOOP_DEFAULTS.items():
        loop = cfg.get(key)
        if not isinstance(loop, Mapping):
            continue
        loop_type = loop.get("type") or (default if key != "train_cfg" else _train_loop_type(loop))
        cls = _registered(LOOPS, loop_type, key)
        if cls is not None:
            _check_arguments(loop, cls, key, exclude={"by_epoch"} | _LOOP_OWN)


def check_hooks(cfg: Mapping) -> None:
    from ..registry import HOOKS

    for name, hook in (cfg.get("default_hooks") or {}).items():
        if isinstance(hook, Mapping) and "type" in hook:
            cls = _registered(HOOKS, hook["type"], f"default_hooks.{name}")
            if cls is not None:
                _check_arguments(hook, cls, f"default_hooks.{name}")
        elif isinstance(hook, Mapping):
            raise UsageError(f"config: default_hooks.{name} has no 'type'")
    for i, hook in enumerate(cfg.get("custom_hooks") or []):
        if isinstance(hook, Mapping) and "type" in hook:
            cls = _registered(HOOKS, hook["type"], f"custom_hooks[{i}]")
            if cls is not None:
                _check_arguments(hook, cls, f"custom_hooks[{i}] ({hook['type']})", exclude={"priority"})


def check_train_sampler(cfg: Mapping) -> None:
    """An epoch-based loop over an infinite sampler would never finish its first epoch."""
    train_cfg, loader = cfg.get("train_cfg"), cfg.get("train_dataloader")
    if not isinstance(train_cfg, Mapping) or not isinstance(loader, Mapping):
        return
    sampler = (loader.get("sampler") or {}).get("type")
    if _train_loop_type(train_cfg) == "EpochBasedTrainLoop" and sampler == "InfiniteSampler":
        raise UsageError("config: train_dataloader.sampler InfiniteSampler with an epoch-based train loop never "
                         "ends an epoch; use DefaultSampler with drop_last=True (or an IterBasedTrainLoop)")


def check_config(cfg: Mapping, train: bool = True) -> None:
    """All checks of the module docstring (``train=False``: no train-loop checks, for ``tools/test.py``)."""
    check_top_level(cfg)
    check_hooks(cfg)
    check_loops(cfg if train else {k: v for k, v in cfg.items() if k != "train_cfg"})
    if train:
        check_train_sampler(cfg)
