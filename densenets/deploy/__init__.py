"""Deployment: the exported graphs (``wrappers``), ONNX and ExecuTorch export, and the runtimes that run them.

ExecuTorch (``executorch_export``, the ExecuTorch runtime) needs the ``mobile`` extra: ``pip install -e .[mobile]``.
"""
from .onnx_export import export_onnx, run_onnxruntime
from .wrappers import export_wrapper

__all__ = ["export_onnx", "export_wrapper", "run_onnxruntime"]
