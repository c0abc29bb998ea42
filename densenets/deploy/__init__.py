"""Deployment: ONNX export and onnxruntime execution."""
from .onnx_export import export_onnx, prepare_for_export, run_onnxruntime

__all__ = ["export_onnx", "prepare_for_export", "run_onnxruntime"]
