"""Every backbone exports to ONNX (the deployment path) and onnxruntime reproduces its taps."""
from __future__ import annotations

import io
import warnings

import numpy as np
import onnxruntime as ort
import pytest
import torch

from densenets.models.backbones import BACKBONES, build_backbone

CASES = [(name, {}) for name in BACKBONES] + [("mobilenet_v3_large", {"reduced_tail": "segmentation",
                                                                      "output_stride": 16})]


@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{o or 'default'}" for n, o in CASES])
def test_onnx_export_matches(name: str, options: dict) -> None:
    torch.manual_seed(0)
    backbone = build_backbone(name, out_taps=("OS8", "C4", "C5"), **options).eval()
    x = torch.randn(1, 3, 64, 96)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(backbone, (x,), buffer, input_names=["image"], output_names=list(backbone.out_taps),
                          opset_version=17, dynamo=False)
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    outputs = session.run(None, {"image": x.numpy()})
    with torch.no_grad():
        expected = backbone(x)
    assert len(outputs) == len(expected)
    for got, (tap, ref) in zip(outputs, expected.items()):
        np.testing.assert_allclose(got, ref.numpy(), atol=1e-4, rtol=1e-4, err_msg=f"{name} {tap}")
