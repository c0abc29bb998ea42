"""Quantization-aware training (densenets/deploy/qat.py): the PT2E QAT graph trains with the model's own losses,
its checkpoint round-trips, and it converts to an int8 ExecuTorch program that follows the fake-quantized graph.

References: the float model's own ``mode='loss'`` (the QAT graph with fake quantization switched off is the float
network: PT2E's simulated conv-BN fold is exact in training mode), and the fake-quantized graph the program is
converted from (``convert_pt2e`` must keep what training saw).
"""
from __future__ import annotations

import copy
import json

import pytest
import torch

pytest.importorskip("executorch", reason="the mobile extra (pip install -e .[mobile]) is not installed")

from mmengine.config import Config  # noqa: E402
from mmengine.optim import OptimWrapper  # noqa: E402

from densenets.apis import build_model, load_config  # noqa: E402
from densenets.deploy.executorch_export import export_executorch, sidecar_path  # noqa: E402
from densenets.deploy.qat import QATModel, is_qat_state, use_qat_model  # noqa: E402
from densenets.deploy.runtimes import ExecuTorchRuntime  # noqa: E402
from densenets.engine.state_dict import load_state_checked  # noqa: E402

LRASPP_SMALL = "configs/lraspp_mbv3_small_cityscapes.py"
SSD = "configs/ssdlite_mbv3_large.py"
SEG_HW = (64, 128)
SSD_HW = (96, 96)


def _trained_like(make_realistic_model, config: str, hw: tuple[int, int]):
    """``tests/realistic_model.py`` with BN momentum 0.1 again (its cumulative average, ``momentum=None``, divides by
    a data-dependent batch count that torch.export cannot trace)."""
    model = make_realistic_model(config, hw)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.momentum = 0.1
    return model


def _seg_batch(seed: int, n: int = 2) -> dict:
    g = torch.Generator().manual_seed(seed)
    images = [(torch.rand(3, *SEG_HW, generator=g) * 255).round().to(torch.uint8) for _ in range(n)]
    samples = []
    for img in images:  # labels that follow the image (bright / dark regions), some pixels ignored
        seg = (img.float().mean(0) > 127).long() * 5 + (img[0] > img[2]).long()
        seg[:4] = 255
        samples.append(dict(gt_sem_seg=seg, img_shape=SEG_HW, ori_shape=SEG_HW))
    return dict(inputs=images, data_samples=samples)


def _ssd_batch(seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    images = [(torch.rand(3, *SSD_HW, generator=g) * 255).round().to(torch.uint8) for _ in range(2)]
    samples = [dict(gt_boxes=torch.tensor([[8.0, 10.0, 60.0, 70.0], [40.0, 30.0, 90.0, 88.0]]),
                    gt_labels=torch.tensor([3, 17]), img_shape=SSD_HW, ori_shape=SSD_HW) for _ in images]
    return dict(inputs=images, data_samples=samples)


@pytest.fixture(scope="module")
def seg_qat(make_realistic_model):
    """A QAT LR-ASPP trained for 3 iterations (the model's SGD, mmengine's train_step), and its float start."""
    float_model = _trained_like(make_realistic_model, LRASPP_SMALL, SEG_HW)
    qat = QATModel(copy.deepcopy(float_model), input_hw=SEG_HW)
    start = {k: v.detach().clone() for k, v in qat.graph.named_parameters()}
    wrapper = OptimWrapper(torch.optim.SGD(qat.parameters(), lr=0.02, momentum=0.9))
    qat.train()
    losses = [qat.train_step(_seg_batch(i), wrapper) for i in range(3)]
    qat.eval()
    return float_model, qat, start, losses


def test_qat_training_changes_the_graph_weights_with_finite_losses(seg_qat):
    float_model, qat, start, losses = seg_qat
    assert all(torch.isfinite(v).all() for log in losses for v in log.values())
    assert set(losses[0]) >= {"loss_ce", "acc_seg"}
    changed = [k for k, v in qat.graph.named_parameters() if not torch.equal(v, start[k])]
    assert len(changed) > 0.9 * len(start), (len(changed), len(start))
    # the graph started from the float weights (names: the export wrapper's "model." + the float model's)
    floats = dict(float_model.named_parameters())
    assert all(torch.equal(start[k], floats[k[len("model."):]]) for k in start if k.startswith("model."))
    # only the graph is trained and saved: the float model (loss and post-processing) is not a submodule
    assert all(k.startswith("graph.") for k in qat.state_dict()) and is_qat_state(qat.state_dict())
    assert sum(p.numel() for p in qat.parameters()) == sum(p.numel() for p in qat.graph.parameters())


def test_eval_does_not_observe_the_evaluated_images(seg_qat):
    """Evaluation uses the ranges learned in training: a batch 10x brighter than any training batch changes no
    scale in eval mode, and does in training mode (the check can fail)."""
    _, qat, _, _ = seg_qat
    scales = lambda: {k: v.clone() for k, v in qat.state_dict().items() if k.endswith(".scale")}  # noqa: E731
    before = scales()
    bright = torch.full((1, 3, *SEG_HW), 255.0) * 10
    with torch.no_grad():
        qat(bright, mode="tensor")
        assert all(torch.equal(before[k], v) for k, v in scales().items())
        trained = copy.deepcopy(qat).train()
        trained(bright, mode="tensor")
    after = {k: v for k, v in trained.state_dict().items() if k.endswith(".scale")}
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_checkpoint_round_trip_and_int8_program_follows_the_fake_quantized_graph(seg_qat, tmp_path):
    float_model, qat, _, _ = seg_qat
    path = tmp_path / "qat.pth"
    torch.save(dict(state_dict=qat.state_dict(), meta=dict()), path)
    fresh = QATModel(build_model(load_config(LRASPP_SMALL)), input_hw=SEG_HW)  # random weights, then the file
    load_state_checked(fresh, torch.load(path, weights_only=True), str(path))
    fresh.eval()
    image = _seg_batch(7, n=1)["inputs"][0][None].float()
    with torch.no_grad():
        (fake,) = qat(image, mode="tensor")
        (reloaded,) = fresh(image, mode="tensor")
    torch.testing.assert_close(reloaded, fake, rtol=0, atol=0)

    pte = str(tmp_path / "qat_int8.pte")
    result = export_executorch(fresh, pte, SEG_HW, quantize="int8")
    (program,) = ExecuTorchRuntime(pte)(image)
    with torch.no_grad():
        fp32 = float_model(float_model.data_preprocessor({"inputs": image}, False)["inputs"], mode="tensor")
    scale = float(fake.abs().mean())
    err_fake = float((program - fake).abs().mean()) / scale
    err_fp32 = float((program - fp32).abs().mean()) / scale
    # XNNPACK's int8 kernels requantize with their own rounding, layer after layer: a few percent from the
    # simulation, the size of the PTQ export's tolerance (test_executorch_export.py), never a broken conversion
    assert err_fake < 0.15, err_fake
    assert err_fake < err_fp32, (err_fake, err_fp32)  # it is the trained QAT graph, not the float start
    assert float((program.argmax(1) == fake.argmax(1)).float().mean()) > 0.8  # random weights: near-tied logits
    with open(sidecar_path(pte)) as f:
        info = json.load(f)
    assert info["quantization"]["mode"] == "int8 QAT" and "prepare_qat_pt2e" in info["quantization"]["scheme"]
    assert info["model"] == "EncoderDecoder" and info["task"] == "segmentation"
    assert result.info["bytes"] < sum(p.numel() for p in float_model.parameters()) * 4 / 2  # int8 weights
    with pytest.raises(ValueError, match="exports as int8"):
        export_executorch(fresh, str(tmp_path / "x.pte"), SEG_HW)


def test_ssdlite_qat_loss_is_the_float_models_loss_without_fake_quantization(make_realistic_model):
    """The graph's raw outputs go through the float model's matching and loss (``loss_from_outputs``): with fake
    quantization off, the QAT graph in training mode (PT2E's simulated conv-BN fold, batch statistics) gives the
    float model's own training loss; with it on, the loss differs (the check can fail)."""
    from torchao.quantization.pt2e import disable_fake_quant

    float_model = _trained_like(make_realistic_model, SSD, SSD_HW)
    qat = QATModel(copy.deepcopy(float_model), input_hw=SSD_HW).train()
    batch = _ssd_batch(0)
    reference = copy.deepcopy(float_model).train()
    with torch.no_grad():
        data = reference.data_preprocessor(copy.deepcopy(batch), True)
        want = reference(data["inputs"], data["data_samples"], mode="loss")
        fake_quant = qat(**qat.data_preprocessor(copy.deepcopy(batch), True), mode="loss")
        qat.graph.apply(disable_fake_quant)
        got = qat(**qat.data_preprocessor(copy.deepcopy(batch), True), mode="loss")
    assert set(got) == set(want)
    for key in want:
        torch.testing.assert_close(got[key], want[key], rtol=2e-4, atol=1e-5)
    assert any(abs(float(fake_quant[k] - want[k])) > 1e-4 * abs(float(want[k])) for k in want)
    with pytest.raises(ValueError, match="captured for 96x96 inputs"):
        qat(torch.zeros(1, 3, 64, 64), mode="tensor")


def test_bad_qat_setups_are_one_line_errors(tmp_path, seg_qat):
    _, qat, _, _ = seg_qat
    with pytest.raises(ValueError, match="FasterRCNN does not export"):
        QATModel(load_config("configs/faster_rcnn_mbv3_large_320_fpn.py").model, input_hw=(320, 320))
    qat_ckpt = tmp_path / "qat.pth"
    torch.save(dict(state_dict=qat.state_dict()), qat_ckpt)
    with pytest.raises(ValueError, match="is a quantization-aware-training checkpoint, not a float one"):
        QATModel(load_config(LRASPP_SMALL).model, input_hw=SEG_HW, float_checkpoint=str(qat_ckpt))
    cfg = Config(dict(model=dict(type="EncoderDecoder"), qat=dict(input_hw=SEG_HW), load_from=None))
    with pytest.raises(ValueError, match="fine-tunes a trained float model; give its checkpoint"):
        use_qat_model(cfg)
    cfg = Config(dict(model=dict(type="EncoderDecoder"), qat=dict(input_hw=SEG_HW, lr=1), load_from="x.pth"))
    with pytest.raises(ValueError, match="unknown keys"):
        use_qat_model(cfg)
    cfg = Config(dict(model=dict(type="EncoderDecoder"), qat=dict(input_hw=SEG_HW), load_from="f.pth"))
    use_qat_model(cfg)
    assert cfg.model.type == "QATModel" and cfg.model.float_checkpoint == "f.pth" and cfg.load_from is None
