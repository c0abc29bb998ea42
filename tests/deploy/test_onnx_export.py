"""ONNX export parity: onnxruntime's outputs equal PyTorch's (SSDLite-MBV3-Large, LR-ASPP-MBV3-Large)."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from densenets.deploy import export_onnx, run_onnxruntime
from densenets.deploy.onnx_export import unmatched_detections

SSD = "configs/ssdlite_mbv3_large.py"
LRASPP = "configs/lraspp_mbv3_large_cityscapes.py"


@pytest.fixture(scope="module")
def ssd(make_realistic_model):
    return make_realistic_model(SSD, (320, 320))


def _image(batch: int, shape: tuple[int, int], seed: int = 1) -> torch.Tensor:
    return torch.rand(batch, 3, *shape, generator=torch.Generator().manual_seed(seed)) * 255


def test_ssdlite_raw_outputs_match(ssd, tmp_path):
    path = str(tmp_path / "ssd.onnx")
    wrapper, names = export_onnx(copy.deepcopy(ssd), path, (320, 320), batch=2, dynamic_batch=True)
    assert names == ["cls_logits", "box_deltas"]
    for batch in (1, 3):  # dynamic batch really is dynamic
        image = _image(batch, (320, 320))
        with torch.no_grad():
            ref = wrapper(image)
            plain = ssd(ssd.data_preprocessor({"inputs": image}, False)["inputs"], mode="tensor")
        out = run_onnxruntime(path, image)
        for r, p, o in zip(ref, plain, out):
            assert r.shape == o.shape
            assert float(r.std()) > 1e-2  # outputs are not degenerate
            np.testing.assert_allclose(o, r.numpy(), atol=1e-4, rtol=1e-4)
            np.testing.assert_allclose(p.numpy(), r.numpy(), atol=1e-3, rtol=1e-3)  # BN folding changes nothing


def test_ssdlite_with_nms_matches_predict(ssd, tmp_path):
    path = str(tmp_path / "ssd_nms.onnx")
    wrapper, names = export_onnx(copy.deepcopy(ssd), path, (320, 320), batch=2, with_nms=True)
    image = _image(2, (320, 320), seed=3)
    with torch.no_grad():
        data = ssd.data_preprocessor({"inputs": [im.round().to(torch.uint8) for im in image]}, False)
        preds = ssd(data["inputs"], [{} for _ in range(2)], mode="predict")
        image_u8 = torch.stack([im.round().to(torch.uint8) for im in image]).float()
        boxes, scores, labels, index = run_onnxruntime(path, image_u8)
    assert len(scores) > 0
    ref = (torch.cat([p["pred_boxes"] for p in preds]), torch.cat([p["pred_scores"] for p in preds]),
           torch.cat([p["pred_labels"] for p in preds]),
           torch.cat([torch.full((len(p["pred_scores"]),), i) for i, p in enumerate(preds)]))
    assert len(ref[1]) == len(scores)
    assert unmatched_detections(ref, (boxes, scores, labels, index)) == 0
    assert unmatched_detections(ref, (boxes, scores + 1e-3, labels, index)) == len(scores)  # the check can fail


def test_with_nms_rejects_dynamic_batch(ssd, tmp_path):
    with pytest.raises(ValueError, match="fixed batch"):
        export_onnx(copy.deepcopy(ssd), str(tmp_path / "x.onnx"), (320, 320), dynamic_batch=True, with_nms=True)


def test_lraspp_logits_match(tmp_path, make_realistic_model):
    shape = (128, 256)
    model = make_realistic_model(LRASPP, shape)
    path = str(tmp_path / "lraspp.onnx")
    wrapper, names = export_onnx(model, path, shape, batch=1, with_argmax=True)
    assert names == ["logits", "labels"]
    image = _image(1, shape, seed=5)
    with torch.no_grad():
        logits, labels = wrapper(image)
    out_logits, out_labels = run_onnxruntime(path, image)
    assert out_logits.shape == (1, 19, *shape)
    assert float(logits.std()) > 1e-2
    np.testing.assert_allclose(out_logits, logits.numpy(), atol=1e-4, rtol=1e-4)
    agree = (out_labels == labels.numpy()).mean()
    assert agree > 0.999  # argmax may flip only where two logits tie within float rounding
