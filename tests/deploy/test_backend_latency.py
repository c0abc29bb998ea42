"""Benchmark candidates per backend (``densenets/analysis/backends.py``, ``benchmark.py --backend``)."""
from __future__ import annotations

import pytest
import torch

from densenets.apis import build_model, load_config
from densenets.analysis.backends import backend_candidate

SSD_SMALL = "configs/ssdlite_mbv3_small.py"


@pytest.mark.parametrize("backend", ["eager", "fused", "onnxruntime"])
def test_candidates_run_both_parts(backend, tmp_path):
    model = build_model(load_config(SSD_SMALL)).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    cand = backend_candidate(backend, model, (64, 64), (64, 64), str(tmp_path))
    with torch.inference_mode():
        raw = cand.model_only()
        preds = cand.end_to_end()
    assert raw[0].shape[-1] == 80 and raw[1].shape[-1] == 4
    assert "pred_boxes" in preds[0]
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the caller's model is untouched
    if backend == "onnxruntime":
        assert cand.file_bytes and cand.file_bytes > 1e6


def test_unknown_backend_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="backend must be one of"):
        backend_candidate("tflite", torch.nn.Identity(), (8, 8), (8, 8), str(tmp_path))
