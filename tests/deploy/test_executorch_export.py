"""ExecuTorch export (XNNPACK): fp32 programs equal PyTorch eager, int8 programs stay close, side-car JSON.

Programs are exported once per module (lowering a whole SSDLite takes tens of seconds) at small input sizes, from
models with non-degenerate calibrated weights (``tests/realistic_model.py``).
"""
from __future__ import annotations

import copy
import json

import pytest
import torch

pytest.importorskip("executorch", reason="the mobile extra (pip install -e .[mobile]) is not installed")

from densenets.deploy.executorch_export import export_executorch, file_sha256, sidecar_path  # noqa: E402
from densenets.deploy.runtimes import ExecuTorchRuntime, ExportedModel  # noqa: E402

SSD = "configs/ssdlite_mbv3_large.py"
LRASPP = "configs/lraspp_mbv3_large_cityscapes.py"
LRASPP_SMALL = "configs/lraspp_mbv3_small_cityscapes.py"
SSD_HW = (128, 128)
SEG_HW = (128, 256)


def _image(shape: tuple[int, int], seed: int = 1) -> torch.Tensor:
    return torch.rand(1, 3, *shape, generator=torch.Generator().manual_seed(seed)) * 255


def _close(out, ref, tol: float = 1e-4) -> bool:
    """Equal to ``tol`` of each output's scale: ``max |out - ref| <= tol * max |ref|``. XNNPACK sums in another
    order than oneDNN, so float32 rounding (eps 6e-8) differs over the ~60 layers: ~1e-5 of the scale, not 0."""
    return all(o.shape == r.shape and float((o - r).abs().max()) <= tol * float(r.abs().max())
               for o, r in zip(out, ref))


@pytest.fixture(scope="module")
def ssd(make_realistic_model, tmp_path_factory):
    model = make_realistic_model(SSD, SSD_HW)
    path = str(tmp_path_factory.mktemp("et") / "ssd.pte")
    result = export_executorch(copy.deepcopy(model), path, SSD_HW, meta=dict(config=SSD, checkpoint=None))
    return model, result, ExecuTorchRuntime(path)


@pytest.fixture(scope="module")
def seg(make_realistic_model, tmp_path_factory):
    model = make_realistic_model(LRASPP, SEG_HW)
    path = str(tmp_path_factory.mktemp("et") / "seg.pte")
    result = export_executorch(copy.deepcopy(model), path, SEG_HW)
    return model, result, ExecuTorchRuntime(path)


def test_ssdlite_raw_outputs_match_eager(ssd):
    model, result, runtime = ssd
    assert result.names == ["cls_logits", "box_deltas"]
    image = _image(SSD_HW)
    with torch.no_grad():
        ref = result.wrapper(image)
        plain = model(model.data_preprocessor({"inputs": image}, False)["inputs"], mode="tensor")
    out = runtime(image)
    for r, p, o in zip(ref, plain, out):
        assert float(r.std()) > 1e-2  # outputs are not degenerate
        assert _close([o], [r]), float((o - r).abs().max() / r.abs().max())
        torch.testing.assert_close(p, r, atol=1e-3, rtol=1e-3)  # BN folding changes nothing


def test_perturbed_program_is_detected(ssd):
    """The parity check can fail: one weight of the reference changed by 0.1 % is seen."""
    _, result, runtime = ssd
    image = _image(SSD_HW, seed=2)
    out = runtime(image)
    perturbed = copy.deepcopy(result.wrapper)
    conv = next(m for m in perturbed.modules() if isinstance(m, torch.nn.Conv2d))
    with torch.no_grad():
        assert _close(out, result.wrapper(image))
        conv.weight.mul_(1.001)
        assert not _close(out, perturbed(image))


def test_ssdlite_exported_predictions_equal_pytorch(ssd):
    """Decoding + NMS run in the same Python post-processing on the program's outputs."""
    _, result, runtime = ssd
    model = result.wrapper.model  # the folded model the program was made from
    exported = ExportedModel(copy.deepcopy(model), runtime=runtime)
    image = _image(SSD_HW, seed=3).round().to(torch.uint8)[0]
    samples = [dict(ori_shape=(200, 160), img_shape=SSD_HW, scale_factor=(128 / 160, 128 / 200))]
    with torch.no_grad():
        ref = model(model.data_preprocessor({"inputs": [image]}, False)["inputs"], copy.deepcopy(samples),
                    mode="predict")[0]
        got = exported.test_step({"inputs": [image], "data_samples": copy.deepcopy(samples)})[0]
    assert len(ref["pred_scores"]) > 0
    assert len(got["pred_scores"]) == len(ref["pred_scores"])
    # each detection has a twin: same class, corners within 0.01 px (boxes clipped to the border can be empty, so
    # not IoU), score within 1e-4
    twin = ((ref["pred_boxes"][:, None] - got["pred_boxes"][None]).abs().amax(-1) < 1e-2)
    twin &= (ref["pred_labels"][:, None] == got["pred_labels"][None])
    twin &= (ref["pred_scores"][:, None] - got["pred_scores"][None]).abs() < 1e-4
    assert bool(twin.any(1).all())
    shifted = (ref["pred_boxes"][:, None] + 0.05 - got["pred_boxes"][None]).abs().amax(-1) < 1e-2
    assert not bool(shifted.any(1).any())  # the check can fail
    assert float(got["pred_boxes"][:, 2].max()) <= 160 and float(got["pred_boxes"][:, 3].max()) <= 200


def test_runtime_refuses_another_input_size(ssd):
    _, _, runtime = ssd
    with pytest.raises(ValueError, match="exported for 128x128 inputs but the batch is 96x128"):
        runtime(torch.zeros(1, 3, 96, 128))


def test_sidecar_records_what_the_program_was_made_from(ssd):
    _, result, _ = ssd
    with open(sidecar_path(result.path)) as f:
        info = json.load(f)
    assert info["config"] == SSD and info["task"] == "ssdlite" and info["quantization"] is None
    assert info["input"]["shape"] == [1, 3, *SSD_HW] and info["input"]["range"] == "0..255"
    assert info["outputs"] == ["cls_logits", "box_deltas"]
    assert info["sha256"] == file_sha256(result.path)
    assert set(info["versions"]) >= {"torch", "executorch", "torchao", "densenets"}


def test_lraspp_logits_and_predictions_match_eager(seg):
    _, result, runtime = seg
    model = result.wrapper.model  # the folded model the program was made from
    image = _image(SEG_HW, seed=4)
    with torch.no_grad():
        ref = result.wrapper(image)
    (out,) = runtime(image)
    assert float(ref.std()) > 1e-2
    assert _close([out], [ref])
    exported = ExportedModel(copy.deepcopy(model), runtime=runtime)
    u8 = image.round().to(torch.uint8)[0]
    samples = [dict(ori_shape=(64, 128), img_shape=SEG_HW)]
    with torch.no_grad():
        want = model.test_step({"inputs": [u8], "data_samples": copy.deepcopy(samples)})[0]["pred_sem_seg"]
        got = exported.test_step({"inputs": [u8], "data_samples": copy.deepcopy(samples)})[0]["pred_sem_seg"]
    assert got.shape == (64, 128)
    assert float((got == want).float().mean()) > 0.999  # argmax ties at 1e-5 may flip a pixel or two


def test_int8_program_is_close_to_fp32(make_realistic_model, tmp_path):
    """int8 PTQ (per-channel weights, per-tensor activations) on a calibration image: the program follows the fp32
    logits to within a few percent (a quantization step per layer, not a broken graph) and agrees with the
    fake-quantized PyTorch graph it was lowered from more closely than with fp32."""
    model = make_realistic_model(LRASPP_SMALL, (64, 128))
    calib = [_image((64, 128), seed=10 + i) for i in range(4)]
    path = str(tmp_path / "seg_int8.pte")
    result = export_executorch(copy.deepcopy(model), path, (64, 128), quantize="int8", calib=calib)
    with torch.no_grad():
        fp32 = result.wrapper(calib[0])
        fake = result.quantized(calib[0])
    (int8,) = ExecuTorchRuntime(path)(calib[0])
    err = float((int8 - fp32).abs().mean() / fp32.abs().mean())
    err_fake = float((int8 - fake).abs().mean() / fp32.abs().mean())
    assert err < 0.15, err
    assert err_fake < err
    assert float((int8.argmax(1) == fp32.argmax(1)).float().mean()) > 0.8
    with open(sidecar_path(path)) as f:
        info = json.load(f)
    assert info["quantization"]["calibration_images"] == 4
    fp32_size = sum(p.numel() for p in result.wrapper.parameters()) * 4
    assert result.info["bytes"] < fp32_size / 2  # int8 weights on disk


def test_int8_needs_calibration_images(make_realistic_model, tmp_path):
    model = make_realistic_model(LRASPP_SMALL, (64, 128))
    with pytest.raises(ValueError, match="calibration"):
        export_executorch(model, str(tmp_path / "x.pte"), (64, 128), quantize="int8")
    with pytest.raises(ValueError, match="no images"):
        export_executorch(model, str(tmp_path / "x.pte"), (64, 128), quantize="int8", calib=[])


def test_classifier_form_exports(tmp_path):
    from densenets.models.classifier import ImageClassifier

    torch.manual_seed(0)
    model = ImageClassifier("mobilenet_v3_small", num_classes=10).eval()
    path = str(tmp_path / "cls.pte")
    result = export_executorch(copy.deepcopy(model), path, (64, 64))
    image = _image((64, 64), seed=5)
    with torch.no_grad():
        ref = result.wrapper(image)
    (out,) = ExecuTorchRuntime(path)(image)
    assert result.task == "classification" and out.shape == (1, 10)
    assert _close([out], [ref])
