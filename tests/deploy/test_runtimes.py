"""The runtime layer: one call for torch / onnxruntime / ExecuTorch, clear errors for wrong files."""
from __future__ import annotations

import copy

import pytest
import torch

from densenets.deploy import export_onnx
from densenets.deploy.runtimes import ExportedModel, OnnxRuntime, TorchRuntime, open_runtime, use_exported_model

LRASPP = "configs/lraspp_mbv3_small_cityscapes.py"


def test_open_runtime_errors(tmp_path):
    with pytest.raises(ValueError, match="backend must be one of"):
        open_runtime("tflite", "m.tflite")
    with pytest.raises(ValueError, match="needs the exported file"):
        open_runtime("executorch")
    with pytest.raises(FileNotFoundError, match="no such exported model file"):
        open_runtime("executorch", str(tmp_path / "missing.pte"))
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"")
    with pytest.raises(ValueError, match="runs .pte files"):
        open_runtime("executorch", str(onnx))
    with pytest.raises(ValueError, match="pass model="):
        open_runtime("torch")


def test_use_exported_model_rewrites_the_config(tmp_path):
    from mmengine.config import Config

    cfg = Config(dict(model=dict(type="SSDLite")))
    with pytest.raises(FileNotFoundError):
        use_exported_model(cfg, "executorch", str(tmp_path / "none.pte"))
    program = tmp_path / "m.pte"
    program.write_bytes(b"")
    use_exported_model(cfg, "executorch", str(program))
    assert cfg.model.type == "ExportedModel" and cfg.model.model.type == "SSDLite"


def test_onnxruntime_and_torch_runtimes_give_the_same_label_maps(make_realistic_model, tmp_path):
    """ExportedModel on onnxruntime == the model's own predict (same pre/post-processing), batch of 2 run one by one."""
    model = make_realistic_model(LRASPP, (64, 128))
    path = str(tmp_path / "seg.onnx")
    wrapper, _ = export_onnx(copy.deepcopy(model), path, (64, 128))
    runtime = OnnxRuntime(path)
    images = [torch.randint(0, 256, (3, 64, 128), dtype=torch.uint8, generator=torch.Generator().manual_seed(i))
              for i in range(2)]
    samples = [dict(ori_shape=(32, 64), img_shape=(64, 128)) for _ in images]
    exported = ExportedModel(copy.deepcopy(wrapper.model), runtime=runtime)
    eager = ExportedModel(copy.deepcopy(wrapper.model), runtime=TorchRuntime(wrapper))
    with torch.no_grad():
        want = wrapper.model.test_step({"inputs": images, "data_samples": copy.deepcopy(samples)})
        got = exported.test_step({"inputs": images, "data_samples": copy.deepcopy(samples)})
        same = eager.test_step({"inputs": images, "data_samples": copy.deepcopy(samples)})
    for w, g, s in zip(want, got, same):
        assert g["pred_sem_seg"].shape == (32, 64)
        assert float((g["pred_sem_seg"] == w["pred_sem_seg"]).float().mean()) > 0.999
        assert torch.equal(s["pred_sem_seg"], w["pred_sem_seg"])
    with pytest.raises(ValueError, match="exported for 64x128 inputs"):
        runtime(torch.zeros(1, 3, 64, 64))
    with pytest.raises(RuntimeError, match="cannot be trained"):
        exported(torch.zeros(1, 3, 64, 128), mode="loss")


def test_a_program_of_another_config_is_refused_by_name(make_realistic_model, tmp_path):
    """LR-ASPP Small exported with 19 classes, run under a 5-class model of the same config: an error naming the
    file, not label maps computed from misread logits."""
    model = make_realistic_model(LRASPP, (64, 128))
    path = str(tmp_path / "seg19.onnx")
    export_onnx(copy.deepcopy(model), path, (64, 128))
    from mmengine.config import Config

    from densenets.apis import build_model

    cfg = Config.fromfile(LRASPP)
    cfg.model.decode_head.num_classes = 5
    other = build_model(cfg).eval()
    exported = ExportedModel(other, runtime=OnnxRuntime(path))
    image = torch.randint(0, 256, (3, 64, 128), dtype=torch.uint8)
    with pytest.raises(ValueError, match=r"seg19\.onnx: outputs .*do not fit EncoderDecoder.*logits \[B, 5, H, W\]"):
        with torch.no_grad():
            exported.test_step({"inputs": [image], "data_samples": [dict(ori_shape=(64, 128), img_shape=(64, 128))]})
