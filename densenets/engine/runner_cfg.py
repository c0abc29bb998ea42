"""Config glue shared by ``tools/train.py`` and ``tools/test.py`` (plain functions on an mmengine ``Config``).

Each function applies one command-line switch to the config, so the tools stay ~100 lines and the behaviour is
testable without launching them.
"""
from __future__ import annotations

import os
import os.path as osp
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
from mmengine.config import Config, ConfigDict

from . import cfg_check

EPOCH_LOOPS = {"EpochBasedTrainLoop"}
ITER_LOOPS = {"IterBasedTrainLoop"}


def load_config_file(path: str) -> Config:
    """``Config.fromfile`` with a missing file or a config that does not parse named in one line."""
    if not osp.isfile(path):
        raise FileNotFoundError(f"config {path}: no such file")
    try:
        return Config.fromfile(path)
    except (SyntaxError, NameError, ImportError, TypeError, AttributeError, KeyError) as err:
        raise ValueError(f"config {path}: cannot be read ({type(err).__name__}: {err})") from err


def check_work_dir(work_dir: str) -> None:
    """The work dir must be creatable and writable (checked before the Runner starts logging into it)."""
    path = osp.abspath(work_dir)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise PermissionError(f"work dir {work_dir}: cannot be created ({err.strerror})") from err
    if not os.access(path, os.W_OK | os.X_OK):
        raise PermissionError(f"work dir {work_dir}: not writable")


def set_work_dir(cfg: Config, work_dir: str | None, config_path: str) -> None:
    """``--work-dir`` > ``cfg.work_dir`` > ``work_dirs/<config name>``."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get("work_dir") is None:
        cfg.work_dir = osp.join("work_dirs", osp.splitext(osp.basename(config_path))[0])


def config_for_run(path: str, cfg_options: dict, work_dir: str | None, train: bool = True) -> Config:
    """What ``tools/train.py`` and ``tools/test.py`` do first: read the config, check ``--cfg-options`` against its
    keys and merge them, check its keys (:mod:`.cfg_check`; ``train=False``: no training keys needed), set the work
    dir (:func:`set_work_dir`) and check that it is writable."""
    cfg = load_config_file(path)
    cfg_check.check_cfg_options(cfg, cfg_options)
    cfg.merge_from_dict(cfg_options)
    cfg_check.check_config(cfg, train=train)
    set_work_dir(cfg, work_dir, path)
    check_work_dir(cfg.work_dir)
    return cfg


def train_by_epoch(cfg: Config) -> bool:
    """Whether ``cfg.train_cfg`` describes an epoch-based loop (``by_epoch=True`` or ``EpochBasedTrainLoop``)."""
    train_cfg = cfg.get("train_cfg") or {}
    loop = train_cfg.get("type")
    if loop in EPOCH_LOOPS:
        return True
    if loop in ITER_LOOPS:
        return False
    if "by_epoch" in train_cfg:
        return bool(train_cfg["by_epoch"])
    if "max_iters" in train_cfg:
        return False
    return True


def sync_by_epoch(cfg: Config) -> None:
    """Make logging and checkpointing follow the train loop (iteration-based SSDLite schedules, epoch-based others).

    Sets ``log_processor.by_epoch``, ``default_hooks.checkpoint.by_epoch`` and
    ``default_hooks.logger.log_metric_by_epoch`` from :func:`train_by_epoch`.
    """
    if not cfg.get("train_cfg"):
        return
    by_epoch = train_by_epoch(cfg)
    if cfg.get("log_processor") is not None:
        cfg.log_processor.by_epoch = by_epoch
    hooks = cfg.get("default_hooks") or {}
    if hooks.get("checkpoint") is not None:
        hooks["checkpoint"]["by_epoch"] = by_epoch
    if hooks.get("logger") is not None:
        hooks["logger"]["log_metric_by_epoch"] = by_epoch


def apply_launcher(cfg: Config, launcher: str) -> None:
    """Set ``cfg.launcher``; without CUDA, use gloo and CPU DistributedDataParallel (no ``device_ids``)."""
    cfg.launcher = launcher
    if launcher == "none" or torch.cuda.is_available():
        return
    env_cfg = cfg.setdefault("env_cfg", ConfigDict())
    dist_cfg = env_cfg.setdefault("dist_cfg", ConfigDict())
    dist_cfg["backend"] = "gloo"
    wrapper = cfg.get("model_wrapper_cfg") or ConfigDict(type="MMDistributedDataParallel")
    wrapper.setdefault("broadcast_buffers", False)
    wrapper.setdefault("find_unused_parameters", cfg.get("find_unused_parameters", False))
    wrapper["device_ids"] = None  # a CPU module takes no device_ids
    cfg.model_wrapper_cfg = wrapper


def init_cpu_distributed(cfg: Config) -> None:
    """Start the gloo process group for ``--launcher pytorch`` without CUDA.

    mmengine 0.10.7's ``init_dist`` calls ``torch.cuda.set_device(LOCAL_RANK)`` unconditionally, which raises
    "Found no NVIDIA driver" on a CPU machine; the Runner skips ``init_dist`` when a group already exists.
    """
    if cfg.get("launcher", "none") != "pytorch" or torch.cuda.is_available() or dist.is_initialized():
        return
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        if key not in os.environ:
            raise RuntimeError(f"--launcher pytorch: environment variable {key} is not set (start with torchrun)")
    dist_cfg = dict((cfg.get("env_cfg") or {}).get("dist_cfg") or {})
    timeout = dist_cfg.get("timeout")
    kwargs: dict[str, Any] = {} if timeout is None else {"timeout": timedelta(seconds=timeout)}
    dist.init_process_group(backend="gloo", **kwargs)


def apply_amp(cfg: Config, logger: Any = print) -> bool:
    """Switch the optim wrapper to ``AmpOptimWrapper`` (dynamic loss scale) on CUDA. Returns whether it did.

    Without CUDA, mmengine's ``AmpOptimWrapper`` refuses to build; training then runs in float32 and a message says
    so (bfloat16 autocast on CPU is not used: it is slower than float32 on most CPUs).
    """
    if not torch.cuda.is_available():
        logger("--amp: CUDA is not available; mixed precision is CUDA-only here, training in float32.")
        return False
    wrapper = cfg.optim_wrapper
    if wrapper.get("type", "OptimWrapper") == "AmpOptimWrapper":
        return True
    if wrapper.get("type", "OptimWrapper") != "OptimWrapper":
        raise ValueError(f"--amp: cannot turn optim_wrapper type {wrapper['type']!r} into AmpOptimWrapper")
    wrapper["type"] = "AmpOptimWrapper"
    wrapper.setdefault("loss_scale", "dynamic")
    return True


def apply_ema(cfg: Config) -> None:
    """Add mmengine's ``EMAHook`` built from ``cfg.ema_cfg`` (see configs/_base_/default_runtime.py)."""
    ema_cfg = dict(cfg.get("ema_cfg") or dict(ema_type="ExponentialMovingAverage", momentum=0.0002))
    hooks = list(cfg.get("custom_hooks") or [])
    if any(h.get("type") == "EMAHook" for h in hooks):
        return
    hooks.append(dict(type="EMAHook", priority="ABOVE_NORMAL", **ema_cfg))
    cfg.custom_hooks = hooks


def apply_sync_bn(cfg: Config) -> None:
    """``cfg.sync_bn = 'torch'`` (mmengine converts BN to ``torch.nn.SyncBatchNorm`` when distributed).

    torch 2.14's ``SyncBatchNorm`` only runs on GPU/XPU tensors ("SyncBatchNorm expected input tensor to be on GPU"),
    so on a machine without CUDA this raises instead of training with silently different statistics.
    """
    if not torch.cuda.is_available():
        raise SystemExit(
            "--sync-bn: torch.nn.SyncBatchNorm needs CUDA tensors (torch 2.14 rejects CPU input); "
            "drop --sync-bn for CPU runs (each process then normalises with its own batch statistics)."
        )
    cfg.sync_bn = "torch"


def apply_load_from(cfg: Config, load_from: str | None, only: list[str] | None = None,
                    skip: list[str] | None = None) -> None:
    """``--load-from CKPT``: start from these weights (checked, see :mod:`densenets.engine.runner`);
    ``--load-only PREFIX ...`` / ``--load-skip PREFIX ...``: a deliberate partial load (``cfg.load_partial``)."""
    if load_from is not None:
        if not osp.isfile(load_from):
            raise FileNotFoundError(f"--load-from {load_from}: no such checkpoint file")
        cfg.load_from = load_from
    if only or skip:
        if not cfg.get("load_from"):
            raise ValueError("--load-only / --load-skip: no checkpoint to load (give --load-from CKPT)")
        cfg.load_partial = dict(only=list(only or []), skip=list(skip or []))


def build_runner(cfg: Config) -> Any:
    """The Runner of ``cfg``: :class:`~densenets.engine.runner.DenseRunner` unless the config names a
    ``runner_type`` (then built from the registry as mmengine does)."""
    from ..registry import RUNNERS
    from .runner import DenseRunner

    if "runner_type" in cfg:
        return RUNNERS.build(cfg)
    return DenseRunner.from_cfg(cfg)


def apply_resume(cfg: Config, resume: str | None) -> None:
    """``--resume`` (no value): the newest checkpoint in the work dir; ``--resume PATH``: that checkpoint."""
    if resume is None:
        return
    cfg.resume = True
    if resume != "auto":
        if not osp.isfile(resume):
            raise FileNotFoundError(f"--resume {resume}: no such checkpoint file")
        cfg.load_from = resume
    else:
        cfg.load_from = None


OUT_DIR_KEYS = ("output_dir", "out_dir", "outfile_prefix")


def apply_format_only(cfg: Config, out_dir: str) -> None:
    """Put every test metric into format-only mode (write results for a server; no scores), generically.

    Each metric in ``test_evaluator`` gets ``format_only=True`` and its output-location argument set to ``out_dir``:
    whichever of ``output_dir`` / ``out_dir`` / ``outfile_prefix`` (a path prefix: ``out_dir/results``) its
    ``__init__`` takes. A metric without ``format_only`` or without any of these is an error naming it.
    """
    import inspect

    from ..registry import METRICS

    evaluator = cfg.get("test_evaluator")
    if evaluator is None:
        raise ValueError("--format-only: the config has no test_evaluator")
    if isinstance(evaluator, dict) and "metrics" in evaluator:
        evaluator = evaluator["metrics"]
    metrics = evaluator if isinstance(evaluator, list) else [evaluator]
    os.makedirs(out_dir, exist_ok=True)
    for metric in metrics:
        cls = METRICS.get(metric["type"]) if isinstance(metric["type"], str) else metric["type"]
        if cls is None:
            raise KeyError(f"--format-only: metric type {metric['type']!r} is not registered")
        params = inspect.signature(cls.__init__).parameters
        key = next((k for k in OUT_DIR_KEYS if k in params), None)
        if "format_only" not in params or key is None:
            raise ValueError(
                f"--format-only: metric {cls.__name__} takes no format_only/{'/'.join(OUT_DIR_KEYS)} argument"
            )
        metric["format_only"] = True
        metric[key] = osp.join(out_dir, "results") if key == "outfile_prefix" else out_dir
