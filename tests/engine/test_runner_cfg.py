"""The command-line switches of tools/train.py and tools/test.py, applied to real configs."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from densenets.engine import runner_cfg

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests/engine/tiny_config.py"
CUDA = torch.cuda.is_available()


def test_work_dir_defaults_to_config_name():
    cfg = Config.fromfile(str(TINY))
    runner_cfg.set_work_dir(cfg, None, str(TINY))
    assert cfg.work_dir == "work_dirs/tiny_config"
    runner_cfg.set_work_dir(cfg, "/tmp/x", str(TINY))
    assert cfg.work_dir == "/tmp/x"


def test_by_epoch_follows_the_train_loop():
    cfg = Config.fromfile(str(TINY))  # IterBasedTrainLoop; the runtime base says by_epoch=True
    assert cfg.log_processor.by_epoch and cfg.default_hooks.checkpoint.by_epoch
    runner_cfg.sync_by_epoch(cfg)
    assert not cfg.log_processor.by_epoch
    assert not cfg.default_hooks.checkpoint.by_epoch
    assert not cfg.default_hooks.logger.log_metric_by_epoch

    epoch_cfg = Config.fromfile(str(ROOT / "configs/_base_/schedules/frcnn_1x.py"))
    epoch_cfg.log_processor.by_epoch = False
    runner_cfg.sync_by_epoch(epoch_cfg)
    assert epoch_cfg.log_processor.by_epoch and epoch_cfg.default_hooks.checkpoint.by_epoch


def test_launcher_switches_to_gloo_without_cuda():
    cfg = Config.fromfile(str(TINY))
    runner_cfg.apply_launcher(cfg, "pytorch")
    assert cfg.launcher == "pytorch"
    if CUDA:
        assert cfg.env_cfg.dist_cfg.backend == "nccl" and cfg.get("model_wrapper_cfg") is None
    else:
        assert cfg.env_cfg.dist_cfg.backend == "gloo"
        assert cfg.model_wrapper_cfg.type == "MMDistributedDataParallel"
        assert cfg.model_wrapper_cfg.device_ids is None


def test_amp_sync_bn_and_ema(capsys):
    cfg = Config.fromfile(str(TINY))
    messages: list[str] = []
    used = runner_cfg.apply_amp(cfg, logger=messages.append)
    assert used == CUDA
    if CUDA:
        assert cfg.optim_wrapper.type == "AmpOptimWrapper"
        runner_cfg.apply_sync_bn(cfg)
        assert cfg.sync_bn == "torch"
    else:
        assert cfg.optim_wrapper.get("type", "OptimWrapper") == "OptimWrapper"
        assert "float32" in messages[0]
        with pytest.raises(SystemExit, match="SyncBatchNorm needs CUDA"):
            runner_cfg.apply_sync_bn(cfg)

    cfg.ema_cfg = dict(ema_type="ExponentialMovingAverage", momentum=0.001)
    runner_cfg.apply_ema(cfg)
    runner_cfg.apply_ema(cfg)
    ema = [h for h in cfg.custom_hooks if h["type"] == "EMAHook"]
    assert len(ema) == 1 and ema[0]["momentum"] == 0.001 and ema[0]["ema_type"] == "ExponentialMovingAverage"


def test_resume_argument(tmp_path):
    cfg = Config.fromfile(str(TINY))
    runner_cfg.apply_resume(cfg, None)
    assert cfg.resume is False
    runner_cfg.apply_resume(cfg, "auto")
    assert cfg.resume is True and cfg.load_from is None
    ckpt = tmp_path / "iter_4.pth"
    ckpt.write_bytes(b"")
    runner_cfg.apply_resume(cfg, str(ckpt))
    assert cfg.load_from == str(ckpt)
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        runner_cfg.apply_resume(cfg, str(tmp_path / "missing.pth"))


def test_format_only_sets_each_metrics_output_argument(tmp_path):
    import densenets.evaluation  # noqa: F401  (registers CocoMetric, CityscapesMetric)

    cfg = Config(dict(test_evaluator=[dict(type="CocoMetric", ann_file="x.json"), dict(type="CityscapesMetric")]))
    runner_cfg.apply_format_only(cfg, str(tmp_path / "out"))
    coco, city = cfg.test_evaluator
    assert coco.format_only and coco.outfile_prefix == str(tmp_path / "out" / "results")
    assert city.format_only and city.output_dir == str(tmp_path / "out")

    tiny = Config.fromfile(str(TINY))
    with pytest.raises(ValueError, match="EngineTinyIoU takes no format_only"):
        runner_cfg.apply_format_only(tiny, str(tmp_path / "out"))
