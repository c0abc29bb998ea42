"""One call for every runtime: eager PyTorch, onnxruntime and ExecuTorch run the exported graph the same way.

A runtime takes the exported graph's input — float32 ``[B, 3, H, W]`` RGB in 0..255 — and returns its outputs as a
tuple of CPU tensors (:mod:`densenets.deploy.wrappers` names them). Exported programs have batch 1 and a fixed
input size; a batch of ``B`` runs image by image.

:class:`ExportedModel` puts a runtime in an mmengine model: the data preprocessor pads like the model's own but
leaves pixels in 0..255 (normalisation is inside the graph), and the post-processing is the PyTorch model's own
(``SSDLite.predict_from_outputs``, ``EncoderDecoder.predict_from_logits``), so ``densenets.apis.Inferencer``,
``tools/infer.py`` and ``tools/test.py`` (mmengine's test loop and evaluator) give the same kind of predictions
whichever runtime computed the network.
"""
from __future__ import annotations

import os.path as osp
from typing import Any, Sequence

import torch
from mmengine.model import BaseModel
from torch import Tensor, nn

from ..registry import MODELS
from .wrappers import export_wrapper, pixel_preprocessor, task_of

BACKENDS = ("torch", "onnxruntime", "executorch")
SUFFIXES = {"onnxruntime": ".onnx", "executorch": ".pte"}


def _as_tuple(outputs: Any) -> tuple[Tensor, ...]:
    if isinstance(outputs, (tuple, list)):
        return tuple(torch.as_tensor(o) for o in outputs)
    return (torch.as_tensor(outputs),)


class Runtime:
    """``runtime(image) -> tuple of output tensors``; ``input_hw``: the fixed input size, ``None`` when any size
    runs (eager PyTorch)."""

    name = "?"
    path: str | None = None  # the exported file, named in errors
    input_hw: tuple[int, int] | None = None
    batch1 = True  # runs one image per call

    def run(self, image: Tensor) -> tuple[Tensor, ...]:
        raise NotImplementedError

    def __call__(self, image: Tensor) -> tuple[Tensor, ...]:
        where = f"{self.name} ({self.path})" if self.path else self.name
        if image.dim() != 4 or image.shape[1] != 3:
            raise ValueError(f"{where}: expected a [B, 3, H, W] batch, got {tuple(image.shape)}")
        if self.input_hw is not None and tuple(image.shape[-2:]) != self.input_hw:
            raise ValueError(
                f"{where}: the program was exported for {self.input_hw[0]}x{self.input_hw[1]} inputs but the "
                f"batch is {image.shape[-2]}x{image.shape[-1]}; export it with --shape {image.shape[-2]} "
                f"{image.shape[-1]} (the size the config's test pipeline produces)")
        image = image.float().contiguous()
        if not self.batch1 or image.shape[0] == 1:
            return self.run(image)
        per_image = [self.run(image[i : i + 1]) for i in range(image.shape[0])]
        return tuple(torch.cat(outs) for outs in zip(*per_image))


class TorchRuntime(Runtime):
    """The export wrapper run eagerly (the reference the exported programs are checked against)."""

    name = "torch"
    batch1 = False

    def __init__(self, wrapper: nn.Module) -> None:
        self.wrapper = wrapper.eval()

    def run(self, image: Tensor) -> tuple[Tensor, ...]:
        with torch.inference_mode():
            return _as_tuple(self.wrapper(image))


class OnnxRuntime(Runtime):
    """onnxruntime's CPU provider on an ``.onnx`` file from ``tools/deploy/export_onnx.py``."""

    name = "onnxruntime"

    def __init__(self, path: str, threads: int = 1) -> None:
        import onnxruntime as ort

        self.path = path
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        shape = self.session.get_inputs()[0].shape
        self.batch1 = shape[0] == 1  # a dynamic-batch export runs the whole batch in one call
        self.input_hw = (shape[2], shape[3]) if all(isinstance(s, int) for s in shape[2:]) else None

    def run(self, image: Tensor) -> tuple[Tensor, ...]:
        return tuple(torch.from_numpy(o) for o in self.session.run(None, {"image": image.numpy()}))


class ExecuTorchRuntime(Runtime):
    """``executorch.runtime`` on a ``.pte`` program from ``tools/deploy/export_executorch.py``.

    ``threads``: the size of ExecuTorch's thread pool (XNNPACK's kernels use it), shared by the whole process.
    """

    name = "executorch"

    def __init__(self, path: str, threads: int | None = 1) -> None:
        from executorch.runtime import Runtime as ETRuntime

        from .executorch_export import read_sidecar

        if threads is not None:
            set_executorch_threads(threads)
        self.path = path
        self.program = ETRuntime.get().load_program(path)
        self.method = self.program.load_method("forward")
        shape = read_sidecar(path).get("input", {}).get("shape")
        if shape is None:  # no side-car: read the input size from the program's own metadata
            shape = list(self.method.metadata.input_tensor_meta(0).sizes())
        self.input_hw = (int(shape[2]), int(shape[3]))

    def run(self, image: Tensor) -> tuple[Tensor, ...]:
        return tuple(self.method.execute([image]))


def set_executorch_threads(threads: int) -> None:
    """Resize ExecuTorch's (process-wide) thread pool."""
    from executorch.extension.pybindings.portable_lib import _unsafe_reset_threadpool

    _unsafe_reset_threadpool(int(threads))


def open_runtime(backend: str, path: str | None = None, model: nn.Module | None = None,
                 threads: int = 1) -> Runtime:
    """The runtime ``backend`` for an exported file ``path`` (``.onnx`` / ``.pte``), or for ``model`` (torch:
    folded and wrapped in place, like an export)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "torch":
        if model is None:
            raise ValueError("the torch backend runs a model built from the config; pass model=")
        return TorchRuntime(export_wrapper(model)[0])
    if path is None:
        raise ValueError(f"--backend {backend} needs the exported file (--model model{SUFFIXES[backend]})")
    if not osp.isfile(path):
        raise FileNotFoundError(f"{path}: no such exported model file")
    if not path.endswith(SUFFIXES[backend]):
        raise ValueError(f"{path}: the {backend} backend runs {SUFFIXES[backend]} files")
    if backend == "onnxruntime":
        return OnnxRuntime(path, threads)
    return ExecuTorchRuntime(path, threads)


class GraphModel(BaseModel):
    """An mmengine model whose network is the exported graph (float32 RGB 0..255 in, the raw outputs of
    :mod:`densenets.deploy.wrappers` out) and whose post-processing is the PyTorch model's own.

    The data preprocessor pads like the model's but leaves pixels in 0..255 (the graph normalises). Subclasses
    (:class:`ExportedModel`, ``densenets.deploy.qat.QATModel``) say where the graph runs (:meth:`run_graph`) and
    which PyTorch model post-processes (:attr:`float_model`).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__(data_preprocessor=pixel_preprocessor(model))
        self.graph_kind = task_of(model)  # which exported graph: SSDLite raw outputs or segmentation logits
        self.task = model.task  # the task of the model it stands for (read by the tools)
        if self.graph_kind not in ("ssdlite", "segmentation"):
            raise ValueError(f"{type(self).__name__} runs SSDLite detectors and segmentors, not "
                             f"{type(model).__name__}")
        self._anchor_cache: dict[tuple[int, int, str], Tensor] = {}

    @property
    def float_model(self) -> nn.Module:
        raise NotImplementedError

    @property
    def graph_name(self) -> str:
        return "the exported program"

    def run_graph(self, inputs: Tensor) -> tuple[Tensor, ...]:
        raise NotImplementedError

    def _anchors(self, inputs: Tensor) -> Tensor:
        """SSDLite anchors for this input size (the feature-map grid comes from one eager pass, cached)."""
        key = (*inputs.shape[-2:], str(inputs.device))
        if key not in self._anchor_cache:
            model = self.float_model
            with torch.no_grad():
                probe = torch.zeros((1, 3, *inputs.shape[-2:]), device=next(model.parameters()).device)
                self._anchor_cache[key] = model._anchors(model.extract_feat(probe), probe).to(inputs.device)
        return self._anchor_cache[key]

    def _check_outputs(self, outputs: tuple[Tensor, ...], inputs: Tensor) -> None:
        """A program of another model (other classes, another detector layout or task) is an error naming the file,
        never a score computed from outputs the post-processing misreads."""
        m = self.float_model
        if self.graph_kind == "ssdlite":
            columns = m.num_classes + int(m.background_logit)
            anchors = self._anchors(inputs).shape[0]
            ok = len(outputs) >= 2 and outputs[0].dim() == 3 and tuple(outputs[0].shape[1:]) == (anchors, columns) \
                and tuple(outputs[1].shape[1:]) == (anchors, 4)
            want = f"cls_logits [B, {anchors}, {columns}] and box_deltas [B, {anchors}, 4]"
        else:
            ok = outputs[0].dim() == 4 and outputs[0].shape[1] == m.num_classes
            want = f"logits [B, {m.num_classes}, H, W]"
        if not ok:
            got = ", ".join(str(list(o.shape)) for o in outputs)
            raise ValueError(f"{self.graph_name}: outputs {got} do not fit {type(m).__name__} of this config "
                             f"(expects {want}); was it exported from another config?")

    def predict_from_graph(self, outputs: tuple[Tensor, ...], inputs: Tensor,
                           data_samples: Sequence[dict] | None) -> list[dict]:
        """The PyTorch model's post-processing on the graph's outputs (``mode='predict'``)."""
        self._check_outputs(outputs, inputs)
        if self.graph_kind == "ssdlite":
            cls_logits, box_deltas = outputs[:2]
            return self.float_model.predict_from_outputs(cls_logits, box_deltas, self._anchors(inputs), inputs,
                                                         data_samples)
        return self.float_model.predict_from_logits(outputs[0],
                                                    list(data_samples) if data_samples is not None else None)


@MODELS.register_module()
class ExportedModel(GraphModel):
    """An exported program in the place of a densenets model (``mode="predict"`` / ``"tensor"``).

    Args:
        model: the PyTorch model (built from the same config, or its config dict); only its post-processing and
            padding settings are used — its weights are not.
        backend: one of :data:`BACKENDS`; ``path``: the exported file; ``threads``: runtime threads.
        runtime: an already opened :class:`Runtime` (instead of ``backend`` / ``path``).
    """

    def __init__(self, model: nn.Module | dict, backend: str = "executorch", path: str | None = None,
                 threads: int = 1, runtime: Runtime | None = None) -> None:
        if isinstance(model, dict):
            model = MODELS.build(model)
        super().__init__(model)
        self.model = model.eval()
        self.runtime = runtime if runtime is not None else open_runtime(backend, path, model, threads)

    @property
    def float_model(self) -> nn.Module:
        return self.model

    @property
    def graph_name(self) -> str:
        return getattr(self.runtime, "path", "the exported program")

    def train(self, mode: bool = True) -> "ExportedModel":
        return super().train(False)  # an exported program only infers

    def run_graph(self, inputs: Tensor) -> tuple[Tensor, ...]:
        outputs = self.runtime(inputs.cpu())
        return tuple(o.to(inputs.device) for o in outputs)

    def forward(self, inputs: Tensor, data_samples: Sequence[dict] | None = None, mode: str = "predict"):
        if mode == "loss":
            raise RuntimeError("an exported program cannot be trained (mode='loss')")
        if mode not in ("predict", "tensor"):
            raise ValueError(f"mode must be 'predict' or 'tensor', got {mode!r}")
        outputs = self.run_graph(inputs)
        if mode == "tensor":
            return outputs
        return self.predict_from_graph(outputs, inputs, data_samples)


def build_exported_model(model: nn.Module, backend: str, path: str | None, threads: int = 1) -> nn.Module:
    """``model`` itself for ``backend="torch"`` (eager, as trained), else an :class:`ExportedModel` around it."""
    if backend == "torch":
        return model
    return ExportedModel(model, backend, path, threads)



def use_exported_model(cfg: Any, backend: str, path: str | None, threads: int = 1) -> None:
    """Make ``cfg.model`` an :class:`ExportedModel` around the config's own model (``tools/test.py --backend``),
    in place; the Runner then evaluates the exported program with the config's test loop and evaluator."""
    if backend == "torch":
        return
    if path is None:
        raise ValueError(f"--backend {backend} needs --model (the exported {SUFFIXES[backend]} file)")
    if not osp.isfile(path):
        raise FileNotFoundError(f"--model {path}: no such file")
    cfg.model = dict(type="ExportedModel", model=cfg.model, backend=backend, path=path, threads=threads)
