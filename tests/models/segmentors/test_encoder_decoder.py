"""EncoderDecoder on a tiny stand-in backbone: head built from FeatureSpecs, loss with ignore label, predict sizes."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from densenets.models.segmentors.encoder_decoder import EncoderDecoder, channel_argmax

NUM_CLASSES = 5


def _model(backbone, head: str = "LRASPPHead", **kw) -> EncoderDecoder:
    torch.manual_seed(0)
    return EncoderDecoder(backbone, dict(type=head, num_classes=NUM_CLASSES, channels=8), **kw)


def test_head_is_built_from_feature_specs(tiny_backbone) -> None:
    model = _model(tiny_backbone)
    assert model.backbone.out_taps == ("C5", "OS8")
    assert model.decode_head.branch[0].in_channels == 32  # C5
    assert model.decode_head.low_classifier.in_channels == 16  # OS8
    assert "unused" not in model.backbone.units  # never run, so never built into the model
    assert torch.allclose(model.data_preprocessor.mean, torch.full((3, 1, 1), 127.5))  # TF's [-1, 1] scaling


def test_raspp_reads_only_the_high_feature(tiny_backbone) -> None:
    model = _model(tiny_backbone, "RASPPHead", in_taps=dict(high="s16"))
    assert model.backbone.out_taps == ("s16",)
    assert list(model.backbone.units) == ["stem", "s4", "s8", "s16"]
    assert model.decode_head.branch[0].in_channels == 24


def test_tensor_mode_gives_logits_at_input_size(tiny_backbone) -> None:
    model = _model(tiny_backbone).eval()
    out = model(torch.randn(2, 3, 37, 53), mode="tensor")
    assert out.shape == (2, NUM_CLASSES, 37, 53)


def test_loss_is_cross_entropy_over_labelled_pixels_only(tiny_backbone, seg_batch) -> None:
    model = _model(tiny_backbone).eval()  # eval: the same BN statistics in both forward passes
    data = model.data_preprocessor(seg_batch(), training=True)
    inputs, samples = data["inputs"], data["data_samples"]
    target = torch.stack([s["gt_sem_seg"] for s in samples])
    assert (target[1, :, -5:] == 255).all()  # the smaller image's padding is ignored
    losses = model(inputs, samples, mode="loss")
    logits = model(inputs, mode="tensor")
    valid = target != 255
    per_pixel = F.cross_entropy(logits, target.clamp(max=NUM_CLASSES - 1), reduction="none")
    torch.testing.assert_close(losses["loss_ce"], per_pixel[valid].mean())
    acc = (logits.argmax(1) == target)[valid].float().mean() * 100
    torch.testing.assert_close(losses["acc_seg"], acc)


def test_ignored_pixels_get_no_gradient(tiny_backbone, seg_batch, monkeypatch) -> None:
    model = _model(tiny_backbone).eval()
    data = model.data_preprocessor(seg_batch(), training=True)
    inputs, samples = data["inputs"], data["data_samples"]
    logits = model(inputs, mode="tensor").detach().requires_grad_()
    monkeypatch.setattr(model, "_logits", lambda x: logits)
    model(inputs, samples, mode="loss")["loss_ce"].backward()
    ignored = torch.stack([s["gt_sem_seg"] == 255 for s in samples]).unsqueeze(1).expand_as(logits)
    assert logits.grad[ignored].abs().max() == 0
    assert logits.grad[~ignored].abs().min() > 0


def test_all_ignored_batch_gives_zero_loss(tiny_backbone, seg_batch) -> None:
    model = _model(tiny_backbone).train()
    data = model.data_preprocessor(seg_batch(), training=True)
    for s in data["data_samples"]:
        s["gt_sem_seg"].fill_(255)
    loss = model(data["inputs"], data["data_samples"], mode="loss")["loss_ce"]
    assert float(loss.detach()) == 0.0
    loss.backward()  # still connected to the graph (no NaN from an empty mean)
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_class_weight(tiny_backbone, seg_batch) -> None:
    weight = [1.0, 2.0, 0.5, 1.0, 3.0]
    model = _model(tiny_backbone, class_weight=weight).eval()
    data = model.data_preprocessor(seg_batch(), training=True)
    inputs, samples = data["inputs"], data["data_samples"]
    target = torch.stack([s["gt_sem_seg"] for s in samples])
    expected = F.cross_entropy(model(inputs, mode="tensor"), target, weight=torch.tensor(weight), ignore_index=255)
    torch.testing.assert_close(model(inputs, samples, mode="loss")["loss_ce"], expected)
    with pytest.raises(ValueError, match="class_weight has 2 entries"):
        _model(tiny_backbone, class_weight=[1.0, 2.0])


def test_bad_labels_are_reported(tiny_backbone, seg_batch) -> None:
    model = _model(tiny_backbone)
    data = model.data_preprocessor(seg_batch(), training=True)
    data["data_samples"][0]["gt_sem_seg"][-1, -1] = 7
    with pytest.raises(ValueError, match=r"img0.png: gt_sem_seg holds labels \[7\] outside 0..4"):
        model(data["inputs"], data["data_samples"], mode="loss")
    data["data_samples"][0]["gt_sem_seg"] = data["data_samples"][0]["gt_sem_seg"][:-2]
    with pytest.raises(ValueError, match="label maps must match"):
        model(data["inputs"], data["data_samples"], mode="loss")
    with pytest.raises(ValueError, match="gt_sem_seg"):
        model(data["inputs"], [dict()], mode="loss")


def test_predict_removes_padding_and_restores_original_size(tiny_backbone, seg_batch) -> None:
    model = _model(tiny_backbone).eval()
    batch = seg_batch()
    batch["data_samples"][1]["ori_shape"] = (68, 96)  # as if a test pipeline had resized 68x96 to 34x48
    data = model.data_preprocessor(batch, training=False)
    inputs, samples = data["inputs"], data["data_samples"]
    logits = model(inputs, mode="tensor")
    out = model(inputs, [dict(s) for s in samples], mode="predict")
    assert out[0]["pred_sem_seg"].shape == (37, 53) and out[0]["pred_sem_seg"].dtype == torch.int64
    torch.testing.assert_close(out[0]["pred_sem_seg"], logits[0].argmax(0))
    h, w = samples[1]["img_shape"]
    expected = F.interpolate(logits[1:2, :, :h, :w], size=(68, 96), mode="bilinear", align_corners=False)[0].argmax(0)
    assert out[1]["pred_sem_seg"].shape == (68, 96)
    torch.testing.assert_close(out[1]["pred_sem_seg"], expected)
    assert out[1]["img_path"] == "img1.png"  # the sample dict is kept and updated


@pytest.mark.parametrize("channels_last", [False, True])
def test_channel_argmax_is_torch_argmax_with_ties_and_nan(channels_last) -> None:
    """The label map of the post-processing equals ``argmax(0)`` exactly: ties pick the first class, NaN wins."""
    g = torch.Generator().manual_seed(0)
    score = (torch.randn(19, 33, 47, generator=g) * 4).round() / 4  # quarter steps: many exact ties
    score[:, 0, :5] = 1.0  # all classes tied
    score[7, 1, 1] = float("nan")
    score[3, 1, 2] = float("nan")
    score[9, 1, 2] = float("nan")  # two NaN: the first
    if channels_last:
        score = score[None].contiguous(memory_format=torch.channels_last)[0]
    want = score.argmax(0)
    got = channel_argmax(score)
    assert got.dtype == torch.int64 and torch.equal(got, want)
    assert bool((score.max(0).values == score.amax(0)).logical_or(score.isnan().any(0)).all())
    assert int(got[1, 1]) == 7 and int(got[1, 2]) == 3 and bool((got[0, :5] == 0).all())


def test_config_errors(tiny_backbone) -> None:
    with pytest.raises(ValueError, match="decode_head type"):
        _model(tiny_backbone, "FCNHead")
    with pytest.raises(ValueError, match="in_taps has unknown"):
        _model(tiny_backbone, in_taps=dict(mid="s8"))
    with pytest.raises(ValueError, match="out_taps is set by the segmentor"):
        EncoderDecoder(dict(name="mobilenet_v3_small", out_taps=("C5",)), dict(type="LRASPPHead", num_classes=3))
    with pytest.raises(KeyError, match="no tap 'block99'"):
        _model(tiny_backbone, in_taps=dict(high="block99"))


def test_half_resolution_inference_keeps_full_resolution_labels(tiny_backbone, seg_batch) -> None:
    """The "h" columns of Table 7: the image is resized to half size, labels stay at full size for the metric."""
    model = _model(tiny_backbone).eval()
    batch = seg_batch(n=2, h=40, w=64)
    for img_i, s in zip(batch["inputs"], batch["data_samples"]):
        full = s["gt_sem_seg"]
        s["ori_shape"] = tuple(full.shape)
        s["img_shape"] = (img_i.shape[1] // 2, img_i.shape[2] // 2)
    batch["inputs"] = [img[:, ::2, ::2].contiguous() for img in batch["inputs"]]  # a stand-in resize
    labels = [s["gt_sem_seg"].clone() for s in batch["data_samples"]]
    data = model.data_preprocessor(batch, training=False)
    for s, label in zip(data["data_samples"], labels):
        torch.testing.assert_close(s["gt_sem_seg"], label)  # not padded or cropped to the half-size batch
    out = model(data["inputs"], data["data_samples"], mode="predict")
    assert [tuple(o["pred_sem_seg"].shape) for o in out] == [tuple(label.shape) for label in labels]
