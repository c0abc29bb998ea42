"""The Inferencer API on numpy arrays, and load_model_weights on matching and mismatching checkpoints."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from densenets.apis import CheckpointMismatchError, Inferencer, build_model, load_config, load_model_weights

ROOT = Path(__file__).resolve().parents[2]
SSD_SMALL = str(ROOT / "configs" / "ssdlite_mbv3_small.py")
SSD_LARGE = str(ROOT / "configs" / "ssdlite_mbv3_large.py")
SEG = str(ROOT / "configs" / "lraspp_mbv3_small_cityscapes.py")


def _arrays(*shapes: tuple[int, int], seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in shapes]


def test_detection_on_arrays_uses_the_checkpoint_and_skips_bad_arrays(small_checkpoint) -> None:
    path, _ = small_checkpoint
    inferencer = Inferencer(SSD_SMALL, path, score_thr=0.0)
    good = _arrays((90, 120), (50, 70))
    bad = np.zeros((40, 40), dtype=np.uint8)  # not H x W x 3
    records = inferencer([good[0], bad, good[1]])
    assert inferencer.skipped == ["#1"]
    assert [(r["height"], r["width"]) for r in records] == [(90, 120), (50, 70)]
    for rec, (h, w) in zip(records, [(90, 120), (50, 70)]):
        boxes = np.array([d["box"] for d in rec["detections"]])
        assert len(boxes) > 0
        assert (boxes[:, [0, 2]] <= w).all() and (boxes[:, [1, 3]] <= h).all() and (boxes >= 0).all()
        assert {d["class"] for d in rec["detections"]} <= {f"thing{i}" for i in range(80)}  # names from the meta


def test_detections_equal_the_model_on_the_resized_image(small_checkpoint) -> None:
    """Boxes come back in original pixels: the model's own predictions at 320x320, scaled by (w/320, h/320)."""
    path, _ = small_checkpoint
    inferencer = Inferencer(SSD_SMALL, path, score_thr=0.0)
    (image,) = _arrays((160, 240), seed=1)
    (rec,) = inferencer([image])
    packed = inferencer.preprocess(image, None)
    assert tuple(packed["inputs"].shape) == (3, 320, 320)
    with torch.no_grad():
        data = inferencer.model.data_preprocessor({"inputs": [packed["inputs"]]}, False)
        (pred,) = inferencer.model(data["inputs"], [{}], mode="predict")
    boxes = pred["pred_boxes"] * torch.tensor([240 / 320, 160 / 320] * 2)
    keep = pred["pred_scores"] >= 0.0
    ours = torch.tensor([d["box"] for d in rec["detections"]])
    assert ours.shape == boxes[keep].shape
    torch.testing.assert_close(ours, boxes[keep], atol=0.02, rtol=0)


def test_segmentation_on_an_array_is_the_argmax_of_the_logits() -> None:
    torch.manual_seed(0)
    inferencer = Inferencer(SEG, None)
    (image,) = _arrays((48, 80), seed=2)
    (rec,) = inferencer([image])
    pred = inferencer.predict([image], [None])[0]["pred_sem_seg"]
    assert tuple(pred.shape) == (48, 80)
    with torch.no_grad():
        x = (torch.from_numpy(image).permute(2, 0, 1)[None].float() - 127.5) / 127.5
        logits = inferencer.model(x, mode="tensor")
    assert torch.equal(pred, logits[0].argmax(0))
    assert sum(rec["classes"].values()) == pytest.approx(1.0, abs=1e-3)


def test_matching_checkpoint_loads_exactly(small_checkpoint) -> None:
    path, state = small_checkpoint
    model = build_model(load_config(SSD_SMALL))
    meta = load_model_weights(model, path)
    assert meta["dataset_meta"]["classes"][0] == "thing0"
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k]), k


def test_ema_checkpoint_gives_the_averaged_weights(small_checkpoint, tmp_path) -> None:
    """mmengine's EMAHook swaps the averaged weights into ``state_dict`` before saving (the raw ones go to
    ``ema_state_dict``): the averaged ones are what every entry point must load, as Runner.load_checkpoint does."""
    from mmengine.hooks import EMAHook
    from mmengine.model import ExponentialMovingAverage

    path, state = small_checkpoint
    model = build_model(load_config(SSD_SMALL))
    model.load_state_dict(state)
    hook = EMAHook()
    hook.ema_model = ExponentialMovingAverage(model)
    with torch.no_grad():
        for p in hook.ema_model.module.parameters():
            p.add_(1.0)
    averaged = {k: v.clone() for k, v in hook.ema_model.module.state_dict().items()}
    checkpoint = {"state_dict": {k: v.clone() for k, v in model.state_dict().items()}}
    hook.before_save_checkpoint(None, checkpoint)  # what the Runner does when it saves
    ema_path = tmp_path / "ema.pth"
    torch.save(checkpoint, ema_path)
    fresh = build_model(load_config(SSD_SMALL))
    load_model_weights(fresh, str(ema_path))
    key = next(k for k, v in state.items() if v.is_floating_point())
    assert torch.equal(fresh.state_dict()[key], averaged[key]) and not torch.equal(averaged[key], state[key])


def test_checkpoint_of_another_config_names_the_first_mismatching_keys(small_checkpoint) -> None:
    path, small_state = small_checkpoint
    model = build_model(load_config(SSD_LARGE))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    own = model.state_dict()
    first_shape = next(k for k in own if k in small_state and own[k].shape != small_state[k].shape)
    first_missing = next(k for k in own if k not in small_state)
    with pytest.raises(CheckpointMismatchError) as err:
        load_model_weights(model, path)
    msg = str(err.value)
    assert path in msg and "does not match" in msg
    assert first_shape in msg and f"{tuple(small_state[first_shape].shape)}" in msg
    assert f"missing in checkpoint: {first_missing}" in msg
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # nothing was half-loaded


def test_not_a_state_dict_is_reported(tmp_path) -> None:
    path = tmp_path / "junk.pth"
    torch.save({"state_dict": {"a": 1}}, path)
    with pytest.raises(CheckpointMismatchError, match="no state_dict of tensors"):
        load_model_weights(build_model(load_config(SSD_SMALL)), str(path))


def test_segmentation_preprocess_is_the_datasets_test_pipeline(tmp_path) -> None:
    """One pipeline convention: the Inferencer packs a Cityscapes image exactly as the val dataset does (minus the
    labels), through the config's own test pipeline, at full and at half resolution."""
    from densenets.datasets.demo.cityscapes_demo import make_tiny_cityscapes_demo
    from densenets.datasets.image_io import load_rgb
    from densenets.registry import DATASETS

    root = make_tiny_cityscapes_demo(str(tmp_path / "demo"), num_train=0, num_val=1)
    half = [dict(type="LoadImageFromFile"), dict(type="LoadCityscapesAnnotations"), dict(type="SegResize", size=(32, 64)),
            dict(type="PackSegInputs")]
    for opts in ({}, {"test_dataloader.dataset.pipeline": half}):
        inferencer = Inferencer(SEG, None, cfg_options=opts)
        ds_cfg = dict(inferencer.cfg.test_dataloader.dataset, data_root=root, split="val")
        item = DATASETS.build(ds_cfg)[0]
        packed = inferencer.preprocess(load_rgb(item["data_samples"]["img_path"]), item["data_samples"]["img_path"])
        assert torch.equal(packed["inputs"], item["inputs"])
        labels = {"gt_sem_seg", "gt_instance", "seg_map_path"}
        assert packed["data_samples"] == {k: v for k, v in item["data_samples"].items() if k not in labels}


def test_a_test_pipeline_without_a_packing_step_is_named() -> None:
    inferencer = Inferencer(SEG, None, cfg_options={"test_dataloader.dataset.pipeline": [dict(type="SegResize")]})
    with pytest.raises(ValueError, match="must end with a packing step"):
        inferencer.preprocess(_arrays((48, 80))[0], None)
