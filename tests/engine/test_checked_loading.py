"""One checked checkpoint load for load_from / resume (DenseRunner), explicit partial loads, config key checks,
stale temporary checkpoint files."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from engine_tiny_task import EngineTinySeg as _EngineTinySeg
from mmengine.registry import DefaultScope

from densenets.engine import CheckpointMismatchError, DenseRunner, KeyMismatch
from densenets.engine.cfg_check import check_cfg_options, check_config
from densenets.engine.checkpoint_hook import remove_stale_temp_files
from densenets.engine.cli import UsageError
from densenets.engine.state_dict import compare_state_dicts, load_state_checked


def EngineTinySeg(**kwargs) -> _EngineTinySeg:  # noqa: N802  (the tiny model, built in densenets' scope)
    with DefaultScope.overwrite_default_scope("densenets"):
        return _EngineTinySeg(**kwargs)


def _dense_runner(cfg, build_runner):
    import os

    cfg = cfg.copy()
    cfg.experiment_name = f"checked_{os.getpid()}_{id(cfg)}"
    cfg.visualizer["name"] = cfg.experiment_name
    return DenseRunner.from_cfg(cfg)


def _other_model_checkpoint(tmp_path: Path, **kwargs) -> str:
    path = tmp_path / "other.pth"
    torch.save({"state_dict": EngineTinySeg(**kwargs).state_dict(), "meta": {}, "message_hub": {}}, path)
    return str(path)


def test_load_from_another_model_is_refused_naming_the_file(tiny_cfg, build_runner, tmp_path) -> None:
    ckpt = _other_model_checkpoint(tmp_path, width=4)
    cfg = tiny_cfg.copy()
    cfg.load_from = ckpt
    runner = _dense_runner(cfg, build_runner)
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    with pytest.raises(CheckpointMismatchError, match=rf"{ckpt} does not match.*body.0.weight \(8, 3, 3, 3\) vs "
                                                      r"checkpoint \(4, 3, 3, 3\)"):
        runner.load_or_resume()
    assert all(torch.equal(v, before[k]) for k, v in runner.model.state_dict().items())  # nothing half-loaded


def test_resume_from_another_model_names_the_file(tiny_cfg, build_runner, tmp_path) -> None:
    ckpt = _other_model_checkpoint(tmp_path, width=4)
    cfg = tiny_cfg.copy()
    cfg.load_from, cfg.resume = ckpt, True
    runner = _dense_runner(cfg, build_runner)
    with pytest.raises(CheckpointMismatchError, match=f"{ckpt} does not match"):
        runner.load_or_resume()


def test_resume_from_bare_weights_says_there_is_no_training_state(tiny_cfg, build_runner, tmp_path) -> None:
    path = tmp_path / "weights.pth"
    torch.save(EngineTinySeg().state_dict(), path)
    cfg = tiny_cfg.copy()
    cfg.load_from, cfg.resume = str(path), True
    with pytest.raises(CheckpointMismatchError, match="no training state"):
        _dense_runner(cfg, build_runner).load_or_resume()


def test_head_swap_is_an_explicit_partial_load(tiny_cfg, build_runner, tmp_path) -> None:
    source = EngineTinySeg(num_classes=5)  # another label set: the classifier does not fit
    path = tmp_path / "five_classes.pth"
    torch.save({"state_dict": source.state_dict()}, path)
    cfg = tiny_cfg.copy()
    cfg.load_from = str(path)
    with pytest.raises(CheckpointMismatchError, match=r"cls.weight \(3, 8, 1, 1\) vs checkpoint \(5, 8, 1, 1\)"):
        _dense_runner(cfg, build_runner).load_or_resume()
    cfg.load_partial = dict(skip=["cls."])
    runner = _dense_runner(cfg, build_runner)
    cls_before = runner.model.cls.weight.detach().clone()
    runner.load_or_resume()
    assert torch.equal(runner.model.body[0].weight, source.body[0].weight)
    assert torch.equal(runner.model.cls.weight, cls_before)  # left at its initialisation


def test_only_prefix_loads_just_that_part_and_still_checks_it() -> None:
    source, target = EngineTinySeg(num_classes=5), EngineTinySeg()
    left = load_state_checked(target, {"state_dict": source.state_dict()}, "x.pth", dict(only=["body."]))
    assert torch.equal(target.body[0].weight, source.body[0].weight)
    assert left.missing == ["cls.weight", "cls.bias"] and left.unexpected == ["cls.weight", "cls.bias"]
    with pytest.raises(CheckpointMismatchError, match="selects no model key"):
        load_state_checked(target, {"state_dict": source.state_dict()}, "x.pth", dict(only=["backbone."]))
    narrow = EngineTinySeg(width=4)
    with pytest.raises(CheckpointMismatchError, match=r"partial load: only body\."):
        load_state_checked(target, {"state_dict": narrow.state_dict()}, "x.pth", dict(only=["body."]))


def test_mismatch_reporter_names_each_kind() -> None:
    own = {"a": torch.zeros(2), "b": torch.zeros(3)}
    report = compare_state_dicts(own, {"a": torch.zeros(4), "c": torch.zeros(1)})
    assert isinstance(report, KeyMismatch) and report
    assert str(report) == "shape mismatch: a (2,) vs checkpoint (4,); missing in checkpoint: b; not in model: c"


def test_misspelt_cfg_option_and_top_level_key_suggest_the_right_one(tiny_cfg) -> None:
    with pytest.raises(UsageError, match=r"trian_cfg.*did you mean 'train_cfg'"):
        check_cfg_options(tiny_cfg, {"trian_cfg.max_iters": 4})
    check_cfg_options(tiny_cfg, {"train_cfg.max_iters": 4, "load_from": "x.pth"})
    cfg = tiny_cfg.copy()
    cfg.trian_cfg = dict(max_iters=4)
    with pytest.raises(UsageError, match=r"'trian_cfg'.*did you mean 'train_cfg'"):
        check_config(cfg)


@pytest.mark.parametrize("key, value, message", [
    ("default_hooks.checkpoint.intervl", 1, r"default_hooks.checkpoint.intervl.*did you mean 'interval'"),
    ("train_cfg.max_iter", 4, r"train_cfg.max_iter: IterBasedTrainLoop .*did you mean 'max_iters'"),
    ("val_cfg.fp17", True, r"val_cfg.fp17: ValLoop takes no argument 'fp17'; did you mean 'fp16'"),
    ("default_hooks.logger.type", "LogerHook", r"'LogerHook' is not registered; did you mean 'LoggerHook'"),
])
def test_misspelt_hook_and_loop_arguments_fail_before_training(tiny_cfg, key, value, message) -> None:
    cfg = tiny_cfg.copy()
    cfg.merge_from_dict({key: value})
    with pytest.raises(UsageError, match=message):
        check_config(cfg)


def test_every_config_passes_the_key_checks() -> None:
    from mmengine.config import Config

    root = Path(__file__).resolve().parents[2]
    configs = [p for p in sorted((root / "configs").rglob("*.py")) if "_base_" not in p.parts]
    assert len(configs) > 20
    for path in configs:
        check_config(Config.fromfile(str(path)))


def test_epoch_loop_over_an_infinite_sampler_is_refused(tiny_cfg) -> None:
    cfg = tiny_cfg.copy()
    cfg.train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=1)
    cfg.train_dataloader.sampler = dict(type="InfiniteSampler", shuffle=True)
    with pytest.raises(UsageError, match="never ends an epoch"):
        check_config(cfg)


def test_temporary_files_of_a_killed_save_are_removed_on_the_next_start(tiny_cfg, build_runner) -> None:
    work = Path(tiny_cfg.work_dir)
    work.mkdir(parents=True)
    stale = [work / ".iter_4.pth.k2j_x9ab.tmp", work / ".last_checkpoint.q1w2e3r4.tmp"]
    keep = [work / "notes.tmp", work / ".hidden", work / "iter_4.pth.tmp"]
    for p in stale + keep:
        p.write_bytes(b"partial")
    assert remove_stale_temp_files(str(work)) == sorted(str(p) for p in stale)
    assert all(not p.exists() for p in stale) and all(p.exists() for p in keep)
    for p in stale:
        p.write_bytes(b"partial")
    cfg = tiny_cfg.copy()
    cfg.train_cfg = dict(type="IterBasedTrainLoop", max_iters=1, val_interval=100)
    build_runner(cfg).train()  # AtomicCheckpointHook.before_train cleans up
    assert all(not p.exists() for p in stale) and all(p.exists() for p in keep)
