"""Quantization-aware training (QAT) of the graph the ExecuTorch export lowers, with PT2E.

For when int8 post-training quantization (:mod:`densenets.deploy.executorch_export`) loses too much accuracy. The
graph is the export's (:mod:`densenets.deploy.wrappers`: float32 RGB 0..255 in, normalisation + the network, raw
outputs) with BN not folded, captured with ``torch.export.export`` in training mode for the program's input size
(``input_hw``; the batch is dynamic) and prepared with ``torchao.quantization.pt2e.quantize_pt2e.prepare_qat_pt2e``
and ExecuTorch's ``XNNPACKQuantizer``
with ``get_symmetric_quantization_config(is_per_channel=True, is_qat=True)``: the PTQ export's scheme (int8
symmetric per-output-channel weights, int8 per-tensor activations), as fake-quantize steps that observe ranges and
round in the forward pass and pass gradients straight through (Jacob et al. 2018, "Quantization and Training of
Neural Networks for Efficient Integer-Arithmetic-Only Inference", §3), with every conv + BN rewritten by PT2E into
the folded form of §3.2 (batch statistics in training, the folded weights quantized).

The model's own target assignment and losses run on the graph's raw outputs (``SSDLite.loss_from_outputs``,
``EncoderDecoder.loss_from_logits``) and validation runs its post-processing
(:class:`~densenets.deploy.runtimes.GraphModel`), so mmengine's Runner trains, validates, checkpoints and resumes a
:class:`QATModel` like any model. ``train()`` / ``eval()`` switch the graph's BN with torchao's
``move_exported_model_to_train`` / ``move_exported_model_to_eval`` and the observers on / off (fake quantization
stays on): evaluation uses the ranges learned in training and never observes the evaluation images. torchao 0.18
rewrites BN with its default eps / momentum; :func:`restore_bn_constants` puts the model's own back.

The image size is fixed because the graph is: LR-ASPP's gate pools globally or in windows depending on the feature
map's size (``LRASPPHead.pool``), so a graph captured for 256x256 crops is not the 256x512 program. QAT trains at
the size it deploys at (``configs/demo/lraspp_mbv3_large_qat.py`` trains on whole 256x512 images).

The switch is a config field, ``qat = dict(input_hw=(H, W))`` (``configs/demo/*_qat.py``): ``tools/train.py`` then
builds the config's model, loads the float checkpoint ``load_from`` into it (QAT fine-tunes a trained float model)
and trains the prepared graph. Its checkpoints hold the graph's state (keys ``graph.*``: weights, BN statistics, the
learned ranges); ``tools/deploy/export_executorch.py CONFIG CKPT --quantize int8`` recognises one and converts it
with ``convert_pt2e`` (no calibration), the side-car JSON saying ``"int8 QAT"``; ``tools/test.py`` evaluates the
.pte.
"""
from __future__ import annotations

import copy
import os.path as osp
from typing import Any, Mapping, Sequence

import torch
from torch import Tensor, nn

from ..engine.checkpoint import load_checkpoint
from ..engine.state_dict import load_state_checked
from ..registry import MODELS
from .runtimes import GraphModel
from .wrappers import export_wrapper, task_of

#: the prefix of every key of a QAT checkpoint's state_dict (the prepared graph is ``QATModel.graph``)
GRAPH_PREFIX = "graph."
SCHEME = ("int8 PT2E quantization-aware training (prepare_qat_pt2e, convert_pt2e), XNNPACKQuantizer symmetric, "
          "per-channel weights")


def state_dict_of(checkpoint: Any) -> Mapping[str, Any]:
    """The model weights of a checkpoint as mmengine writes it (``state_dict``) or a bare state_dict."""
    if isinstance(checkpoint, Mapping) and isinstance(checkpoint.get("state_dict"), Mapping):
        return checkpoint["state_dict"]
    return checkpoint if isinstance(checkpoint, Mapping) else {}


def is_qat_state(checkpoint: Any) -> bool:
    """Whether a (read) checkpoint holds a :class:`QATModel` (every weight under ``graph.``, fake-quantize state)."""
    keys = [k for k in state_dict_of(checkpoint) if isinstance(k, str)]
    return bool(keys) and all(k.startswith(GRAPH_PREFIX) for k in keys) \
        and any("activation_post_process" in k for k in keys)


def prepare_qat(wrapper: nn.Module, example: Tensor) -> torch.fx.GraphModule:
    """Capture ``wrapper`` in training mode (batch dynamic, image size fixed) and insert the fake quantization."""
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e import allow_exported_model_train_eval
    from torchao.quantization.pt2e.quantize_pt2e import prepare_qat_pt2e

    wrapper.train()  # BN decomposes with training semantics (ExecuTorch's QAT recipe, executorch/export/stages.py)
    batch = torch.export.Dim.AUTO
    captured = torch.export.export(wrapper, (example,), dynamic_shapes=({0: batch},)).module()
    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True, is_qat=True))
    bn = {name: (float(m.eps), m.momentum) for name, m in wrapper.named_modules()
          if isinstance(m, nn.modules.batchnorm._BatchNorm)}
    prepared = prepare_qat_pt2e(captured, quantizer)
    allow_exported_model_train_eval(prepared)  # .train() / .eval() move BN and dropout (see the module docstring)
    prepared.meta["densenets_bn"] = bn
    restore_bn_constants(prepared)
    _observe_weights(prepared, example)
    return prepared


#: the BN eps torchao's QAT rewrites hard-code (``qat_utils``: "TODO: allow setting eps")
TORCHAO_BN_EPS = 1e-5


def restore_bn_constants(graph: torch.fx.GraphModule, eps: float | None = None) -> None:
    """Put each BN's own ``eps`` and ``momentum`` back into the graph.

    torchao 0.18 rewrites conv + BN into its QAT form with ``eps=1e-5`` (``qat_utils._fuse_conv_bn_qat``: "TODO:
    allow setting eps") and ``move_exported_model_to_train`` / ``_eval`` re-create ``batch_norm`` with the default
    ``momentum=0.1, eps=1e-5`` ("fails to support custom momentum and eps value"); densenets' BN use TF's eps 1e-3
    (and SSDLite momentum 0.03), so without this the QAT graph would be another network than the float model (and
    its folded int8 weights another one again). Run after every such rewrite (:meth:`QATModel.train`).
    ``eps``: write this eps instead of each BN's own (:func:`_eps_into_running_var`)."""
    bn = graph.meta.get("densenets_bn", {})
    if eps is not None:
        bn = {name: (eps, momentum) for name, (_, momentum) in bn.items()}

    def owner(node: Any) -> tuple[float, float | None] | None:
        if getattr(node, "op", None) != "get_attr":
            return None
        return bn.get(str(node.target).rsplit(".", 1)[0])

    changed = False
    for node in graph.graph.nodes:
        if node.op != "call_function":
            continue
        if node.target is torch.ops.aten.batch_norm.default and len(node.args) >= 8:
            found = owner(node.args[1]) or owner(node.args[3])
            if found is not None:
                eps, momentum = found
                args = list(node.args)
                args[6] = 0.1 if momentum is None else float(momentum)
                args[7] = eps
                node.args = tuple(args)
                changed = True
        elif node.target is torch.ops.aten.add.Tensor and len(node.args) == 2 and isinstance(node.args[1], float) \
                and str(getattr(node.args[0], "target", "")).endswith("running_var"):
            found = owner(node.args[0])  # sqrt(running_var + eps) of the simulated fold
            if found is not None:
                node.args = (node.args[0], found[0])
                changed = True
    if changed:
        graph.recompile()


def _eps_into_running_var(graph: torch.fx.GraphModule) -> None:
    """Make each BN's eval form use torchao's eps, unchanged in value: ``running_var += eps - 1e-5``, then the graph's
    eps literals 1e-5. ``convert_pt2e`` folds BN into the int8 weights through a pattern with ``eps=1e-5``
    hard-coded (``qat_utils._get_folded_quantized_qat_conv_bn_pattern``); in eval mode BN reads ``running_var + eps``
    only, so the folded weights are then those of the BN the graph was trained with. On a copy, before converting."""
    for name, (eps, _) in graph.meta.get("densenets_bn", {}).items():
        owner: Any = graph
        try:
            for part in name.split("."):
                owner = getattr(owner, part)
            running_var = owner.running_var
        except AttributeError:
            continue
        with torch.no_grad():
            running_var.add_(eps - TORCHAO_BN_EPS)
    restore_bn_constants(graph, eps=TORCHAO_BN_EPS)


def _observe_weights(graph: torch.fx.GraphModule, example: Tensor) -> None:
    """Give the per-channel (weight) fake quantizers their ranges and buffer sizes (one per output channel; empty
    until the first forward pass), so that the graph's state_dict has the shapes of a trained one and a QAT
    checkpoint loads through the checked loader. One eval-mode pass with only those observers on: BN statistics
    and activation ranges are left untouched (activations are observed from the first training batch on)."""
    from torchao.quantization.pt2e import FakeQuantizeBase

    quantizers = [m for m in graph.modules() if isinstance(m, FakeQuantizeBase)]
    graph.eval()
    restore_bn_constants(graph)
    for m in quantizers:
        m.enable_observer(bool(getattr(m, "is_per_channel", False)))
    with torch.no_grad():
        graph(example[:1])
    for m in quantizers:
        m.enable_observer(True)
    graph.train()
    restore_bn_constants(graph)


def _float_model(model: nn.Module | Mapping, checkpoint: str | None) -> nn.Module:
    if isinstance(model, Mapping):
        model = MODELS.build(dict(model))
    task = task_of(model)
    if task not in ("ssdlite", "segmentation"):
        raise ValueError(
            f"qat: quantization-aware training trains the graph the ExecuTorch export lowers (SSDLite detectors and "
            f"segmentors); {type(model).__name__} does not export (its {task} graph needs torchvision::roi_align "
            "and nms, which ExecuTorch has no kernels for)")
    if checkpoint is not None:
        ckpt = load_checkpoint(checkpoint)
        if is_qat_state(ckpt):
            raise ValueError(
                f"qat: load_from {checkpoint} is a quantization-aware-training checkpoint, not a float one; QAT "
                "starts from a float checkpoint (continue a QAT run with --resume)")
        load_state_checked(model, ckpt, str(checkpoint))
    return model


@MODELS.register_module()
class QATModel(GraphModel):
    """The prepared QAT graph of ``model`` as an mmengine model (``mode='loss' | 'predict' | 'tensor'``).

    Args:
        model: the float model or its config dict; only its loss, post-processing and padding are used after the
            capture (its weights are copied into the graph).
        input_hw: the (padded) input size of the graph, the program's ``--shape`` (every batch must have it).
        float_checkpoint: the float checkpoint to start from (``tools/train.py`` passes ``load_from``); ``None``
            when the weights come from a QAT checkpoint loaded afterwards (resume, export, test).
    """

    def __init__(self, model: nn.Module | Mapping, input_hw: Sequence[int], float_checkpoint: str | None = None,
                 init_cfg: Mapping | None = None) -> None:
        model = _float_model(model, float_checkpoint)
        super().__init__(model)
        if len(input_hw) != 2 or min(int(v) for v in input_hw) < 1:
            raise ValueError(f"qat.input_hw must be (height, width), got {input_hw!r}")
        self.input_hw = (int(input_hw[0]), int(input_hw[1]))
        self.float_checkpoint = float_checkpoint
        # the float model is not a submodule: its weights are not trained, saved or handed to the optimizer
        self.__dict__["_float"] = model.eval()
        wrapper, self.names, _ = export_wrapper(copy.deepcopy(model).train(), fold=False)
        example = torch.rand(2, 3, *self.input_hw, generator=torch.Generator().manual_seed(0)) * 255
        self.graph = prepare_qat(wrapper, example)  # batch 2: BN sees batch statistics
        self.train()

    @property
    def float_model(self) -> nn.Module:
        return self.__dict__["_float"]

    @property
    def graph_name(self) -> str:
        return "the QAT graph"

    def _apply(self, fn, recurse: bool = True):  # .to(device) / .cuda() move the float model's loss buffers too
        self.float_model._apply(fn)
        return super()._apply(fn, recurse)

    def train(self, mode: bool = True) -> "QATModel":
        from torchao.quantization.pt2e import disable_observer, enable_observer

        super().train(mode)  # the graph's .train() is torchao's move_exported_model_to_train / _to_eval
        restore_bn_constants(self.graph)
        self.graph.apply(enable_observer if mode else disable_observer)
        self.float_model.eval()
        return self

    def run_graph(self, inputs: Tensor) -> tuple[Tensor, ...]:
        if tuple(inputs.shape[-2:]) != self.input_hw:
            raise ValueError(
                f"the QAT graph was captured for {self.input_hw[0]}x{self.input_hw[1]} inputs (qat.input_hw) but the "
                f"batch is {inputs.shape[-2]}x{inputs.shape[-1]}; train and evaluate at the program's input size")
        outputs = self.graph(inputs)
        return tuple(outputs) if isinstance(outputs, (tuple, list)) else (outputs,)

    def forward(self, inputs: Tensor, data_samples: Sequence[dict] | None = None, mode: str = "tensor"):
        if mode not in ("loss", "predict", "tensor"):
            raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")
        if mode == "loss" and data_samples is None:
            raise ValueError("QATModel mode='loss' needs data_samples with the ground truth")
        outputs = self.run_graph(inputs)
        if mode == "tensor":
            return outputs
        if mode == "predict":
            return self.predict_from_graph(outputs, inputs, data_samples)
        m = self.float_model
        if self.graph_kind == "ssdlite":
            return m.loss_from_outputs(outputs[0], outputs[1], self._anchors(inputs), data_samples)
        return m.loss_from_logits(outputs[0], list(data_samples))

    def convert(self) -> torch.fx.GraphModule:
        """The int8 graph (``convert_pt2e`` of an eval-mode copy): quantize / dequantize around the fp32 ops, which
        the XNNPACK partitioner lowers to int8 kernels."""
        from torchao.quantization.pt2e import disable_observer, move_exported_model_to_eval
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e

        graph = copy.deepcopy(self.graph)
        move_exported_model_to_eval(graph)
        _eps_into_running_var(graph)
        graph.apply(disable_observer)
        return convert_pt2e(graph)


def use_qat_model(cfg: Any) -> None:
    """``qat = dict(input_hw=(H, W))`` in a training config: make ``cfg.model`` a :class:`QATModel` started from
    the float checkpoint ``cfg.load_from`` (in place; ``load_from`` is then cleared so that the Runner does not load
    the float weights into the QAT graph). Resuming (``cfg.resume``) restores the QAT state from the QAT checkpoint
    instead."""
    options = qat_options(cfg)
    if options is None:
        return
    if cfg.get("load_partial"):
        raise ValueError("qat: a partial load (--load-only / --load-skip) is not a float model to fine-tune")
    resuming = bool(cfg.get("resume"))
    float_checkpoint = None if resuming else cfg.get("load_from")
    if not resuming and not float_checkpoint:
        raise ValueError("qat: quantization-aware training fine-tunes a trained float model; give its checkpoint "
                         "(--load-from CKPT or load_from= in the config)")
    cfg.model = dict(type="QATModel", model=cfg.model, float_checkpoint=float_checkpoint, **options)
    if not resuming:
        cfg.load_from = None


def qat_options(cfg: Any) -> dict | None:
    """The config's ``qat`` field, checked (``None`` when the config does not train with QAT)."""
    qat = cfg.get("qat")
    if qat is None:
        return None
    options = dict(qat)
    unknown = set(options) - {"input_hw"}
    if unknown or "input_hw" not in options:
        raise ValueError(f"qat = {options}: takes exactly input_hw=(H, W) (the program's input size)"
                         + (f"; unknown keys {sorted(unknown)}" if unknown else ""))
    return dict(input_hw=tuple(options["input_hw"]))


def qat_options_for_checkpoint(cfg: Any, checkpoint: str, action: str) -> dict:
    """:func:`qat_options` of the config a QAT checkpoint is used with (to ``action`` it: evaluate, export); a
    config without a ``qat`` field is an error, since the graph's input size and recipe are the QAT config's."""
    options = qat_options(cfg)
    if options is None:
        config = getattr(cfg, "filename", None) or "the config"
        raise ValueError(f"checkpoint {checkpoint} is a quantization-aware-training checkpoint but {config} has no "
                         f"qat field; {action} it with the config it was trained with (e.g. configs/demo/*_qat.py)")
    return options


def use_qat_for_test(cfg: Any, checkpoint: str | None) -> bool:
    """``tools/test.py CONFIG CKPT`` with a QAT checkpoint: evaluate the fake-quantized graph in PyTorch (the Runner
    loads the checkpoint); the config must be the one it was trained with (its ``qat`` field). Returns whether it
    did."""
    if checkpoint is None or not osp.isfile(checkpoint) or not is_qat_checkpoint(checkpoint):
        return False
    options = qat_options_for_checkpoint(cfg, checkpoint, "evaluate")
    cfg.model = dict(type="QATModel", model=cfg.model, float_checkpoint=None, **options)
    return True


def is_qat_checkpoint(path: str) -> bool:
    """Whether the checkpoint file ``path`` holds a :class:`QATModel` (read with the one checkpoint reader)."""
    return is_qat_state(load_checkpoint(path))
