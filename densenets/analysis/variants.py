"""Like-for-like speed against torchvision: our network in its default and in torchvision's form next to the
torchvision model, timed in one interleaved loop (``densenets.analysis.timing``); the torchvision models come from
``densenets.analysis.peers``. One function per task, picked by :func:`run_variants` from what the config builds:

* SSDLite (:func:`ssdlite_variants`), CPU inference at 320x320 with 90 classes: ``rf2`` = the config's network,
  ``tv_form`` = the same network in torchvision's form (torchvision anchors, softmax over 91 with hard-negative
  mining: exactly torchvision's architecture, 3,440,060 parameters), ``rf2_opt`` = ``rf2`` with
  ``optimize_for_inference()`` (BN folded, channels-last). Network alone: ours ``model(x, mode="tensor")`` vs
  torchvision ``head(backbone(x))``; end to end: ours = ImagePreprocessor + network + decoding/NMS, torchvision =
  uint8 -> float + GeneralizedRCNNTransform + network + its post-processing.
* Faster R-CNN FPN (:func:`frcnn_variants`): both models with the same weights (torchvision's freshly initialised
  model loaded into ours with ``load_torchvision_detector``; the backbone's BN statistics first calibrated on the test
  image and the score layers' weights spread, so that ~100 boxes go through the whole postprocess) on the same
  image, already at the resized size, so torchvision's internal resize is an identity. End to end, batch 1:
  torchvision ``model([image])``; ours ``ImagePreprocessor`` + ``mode="predict"``. The detection counts must agree.
* LR-ASPP (:func:`lraspp_variants`), ``model(x, mode="tensor")`` / ``tv(x)["out"]`` (logits at the input size):
  ``ours`` = the config's network; ``ours_tv_form`` = our network in torchvision's exact form (reduced tail
  "detection", low = bneck 4, global sigmoid gate) with ``tv_rf2``'s weights; ``tv_rf2`` = torchvision's LR-ASPP on
  ``mobilenet_v3_large(reduced_tail=True, dilated=True)``; ``tv`` = ``lraspp_mobilenet_v3_large`` (full tail).
  Every round calls the candidates in a new random order; wall and process CPU time are both reported.

Ratios are ours / torchvision (< 1: ours is faster).
"""
from __future__ import annotations

import copy
import tempfile
from typing import Any, Callable

import torch
from mmengine.config import Config
from torch import nn

from .bench_inputs import BenchmarkInputError, eval_image_shape
from .complexity import count_complexity
from .peers import torchvision_frcnn_320_fpn, torchvision_lraspp, torchvision_ssdlite
from .timing import time_interleaved, time_interleaved_cpu

SSD_SIZE = 320
SSD_FORMS = {
    "rf2": "TF form (the config's)",
    "tv_form": "torchvision form (same network as torchvision)",
    "rf2_opt": "TF form, optimize_for_inference (BN folded, channels-last)",
}


def build_ssdlite(cfg: Config, form: str = "rf2", num_classes: int = 90) -> nn.Module:
    """The config's SSDLite with ``num_classes`` (90: torchvision's 91 outputs less background), in TF's form
    (``"rf2"``) or torchvision's (``"tv_form"``: torchvision anchors, softmax with hard-negative mining)."""
    from densenets.registry import MODELS

    model_cfg = copy.deepcopy(cfg.model)
    model_cfg["num_classes"] = num_classes
    if form == "tv_form":
        model_cfg.update(anchor_layout="torchvision", loss="softmax_hnm")
    return MODELS.build(model_cfg)


def ssdlite_variants(cfg: Config, runs: int, warmup: int) -> dict[str, Any]:
    torch.manual_seed(0)
    tv = torchvision_ssdlite().eval()
    image = torch.randint(0, 256, (3, SSD_SIZE, SSD_SIZE), dtype=torch.uint8)
    x = image.float()[None] / 127.5 - 1
    sample = dict(ori_shape=(SSD_SIZE, SSD_SIZE), img_shape=(SSD_SIZE, SSD_SIZE), scale_factor=(1.0, 1.0))
    fns: dict[str, Callable[[], object]] = {
        "tv_net": lambda: tv.head(list(tv.backbone(x).values())),
        "tv_e2e": lambda: tv([image.float() / 255]),
    }
    for form in SSD_FORMS:
        model = build_ssdlite(cfg, form.removesuffix("_opt")).eval()
        inp = x
        if form.endswith("_opt"):
            model.optimize_for_inference(channels_last=True)
            inp = x.contiguous(memory_format=torch.channels_last)

        def e2e(model: nn.Module = model) -> object:
            data = model.data_preprocessor({"inputs": [image], "data_samples": [dict(sample)]}, False)
            return model(**data, mode="predict")

        fns[f"{form}_net"] = lambda model=model, inp=inp: model(inp, mode="tensor")
        fns[f"{form}_e2e"] = e2e
    with torch.inference_mode():
        t = time_interleaved(fns, runs, warmup)
    return {"task": "ssdlite", "shape": [SSD_SIZE, SSD_SIZE], "timings": {k: v.as_ms() for k, v in t.items()}}


def _frcnn_pair(cfg: Config, hw: tuple[int, int], seed: int = 0) -> tuple[nn.Module, nn.Module, torch.Tensor]:
    """Our FPN Faster R-CNN from ``cfg`` (with torchvision's 91 outputs) and torchvision's, sharing weights."""
    from densenets.models.detectors.faster_rcnn import load_torchvision_detector
    from densenets.registry import MODELS

    torch.manual_seed(seed)
    model_cfg = dict(cfg.model, num_classes=90)
    short, long = min(hw), max(hw)
    tv = torchvision_frcnn_320_fpn(
        min_size=short, max_size=long, rpn_pre_nms_top_n_test=model_cfg["rpn_pre_nms_top_n_test"],
        rpn_post_nms_top_n_test=model_cfg["rpn_post_nms_top_n_test"], rpn_score_thresh=model_cfg["rpn_score_thresh"],
        box_score_thresh=model_cfg["box_score_thresh"],
    )
    image = torch.randint(0, 256, (3, *hw), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():  # calibrate BN statistics on the image (fresh statistics give ~1e-8 features)
        for m in tv.backbone.body.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = 1.0
        tv.backbone.body.train()
        tv.backbone.body(tv.transform([image.float() / 255])[0].tensors)
        # spread the fresh heads' scores, so that both models keep ~100 detections and run the full postprocess
        for layer in (tv.rpn.head.cls_logits, tv.roi_heads.box_predictor.cls_score):
            layer.weight.normal_(0, 0.5)
    tv.eval()
    ours = MODELS.build(model_cfg).eval()
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/tv.pth"
        torch.save(tv.state_dict(), path)
        load_torchvision_detector(ours, path)
    return ours, tv, image


def frcnn_variants(cfg: Config, runs: int, warmup: int, hw: tuple[int, int] | None = None) -> dict[str, Any]:
    if cfg.model.get("neck") != "fpn":
        raise BenchmarkInputError("variants: the shared-weights comparison needs an FPN-form Faster R-CNN config "
                         "(torchvision has no C4 form), e.g. configs/faster_rcnn_mbv3_large_320_fpn.py")
    hw = hw or eval_image_shape(cfg)
    ours, tv, image = _frcnn_pair(cfg, hw)
    sample = dict(img_shape=hw, ori_shape=hw, scale_factor=(1.0, 1.0))
    boxes: dict[str, int] = {}

    def run_ours() -> None:
        data = ours.data_preprocessor(dict(inputs=[image], data_samples=[dict(sample)]))
        boxes["ours"] = len(ours(**data, mode="predict")[0]["pred_boxes"])

    def run_tv() -> None:
        boxes["torchvision"] = len(tv([image.float() / 255])[0]["boxes"])

    with torch.inference_mode():
        t = time_interleaved({"tv_e2e": run_tv, "ours_e2e": run_ours}, runs, warmup)
    return {"task": "faster_rcnn", "shape": list(hw), "detections": boxes,
            "timings": {k: v.as_ms() for k, v in t.items()}}


def _share_torchvision_weights(ours: nn.Module, tv: nn.Module) -> None:
    """Give our torchvision-form LR-ASPP torchvision's weights: both then compute exactly the same numbers (same
    activations, same denormals), so any time difference is framework overhead."""
    from densenets.models.backbones.torchvision_weights import mobilenet_v3_keys

    tv_backbone = tv.backbone.state_dict()  # IntermediateLayerGetter over `features`: keys "0.0.weight", ...
    key_map = mobilenet_v3_keys(ours.backbone)
    ours.backbone.load_state_dict({k: tv_backbone[v[len("features."):]] for k, v in key_map.items()})
    ours.decode_head.load_torchvision_state_dict(tv.classifier.state_dict())


def _lraspp_models(cfg: Config) -> dict[str, tuple[nn.Module, Callable[[nn.Module, torch.Tensor], object]]]:
    from densenets.models.segmentors import EncoderDecoder
    from densenets.registry import MODELS

    torch.manual_seed(0)
    ours = MODELS.build(cfg.model)
    ours_tv_form = EncoderDecoder(
        dict(name="mobilenet_v3_large", reduced_tail="detection", output_stride=16, atrous_rule="torchvision",
             os8_tap="block4.out"),
        dict(type="LRASPPHead", num_classes=19, channels=128, pool_kernel=None, gate_act="sigmoid", gate_bias=False),
    )
    tv_rf2 = torchvision_lraspp(reduced_tail=True)
    _share_torchvision_weights(ours_tv_form, tv_rf2)
    tv = torchvision_lraspp()

    def run_ours(m: nn.Module, x: torch.Tensor) -> object:
        return m(x, mode="tensor")

    def run_tv(m: nn.Module, x: torch.Tensor) -> object:
        return m(x)["out"]

    return {"ours": (ours.eval(), run_ours), "ours_tv_form": (ours_tv_form.eval(), run_ours),
            "tv_rf2": (tv_rf2.eval(), run_tv), "tv": (tv.eval(), run_tv)}


def lraspp_variants(cfg: Config, runs: int, warmup: int,
                    sizes: list[tuple[int, int]] = ((1024, 2048), (512, 1024))) -> dict[str, Any]:
    models = _lraspp_models(cfg)
    out: dict[str, Any] = {"task": "segmentation", "sizes": {}}
    for h, w in sizes:
        x = torch.randn(1, 3, h, w)
        fns = {name: (lambda m=m, run=run: run(m, x)) for name, (m, run) in models.items()}
        with torch.inference_mode():
            t = time_interleaved_cpu(fns, runs, warmup, order_seed=0)
        rows = {}
        for name, (m, run) in models.items():
            c = count_complexity(m, (h, w), forward=run)
            rows[name] = dict(wall=t[name][0].as_ms(), cpu=t[name][1].as_ms(), params=c.params, madds=c.madds)
        out["sizes"][f"{h}x{w}"] = rows
    return out


def run_variants(cfg: Config, runs: int, warmup: int, sizes: list[tuple[int, int]] | None = None) -> dict[str, Any]:
    """The like-for-like comparison for ``cfg``'s task (see the module docstring)."""
    kind = cfg.model.get("type")
    if kind == "SSDLite":
        return ssdlite_variants(cfg, runs, warmup)
    if kind == "FasterRCNN":
        return frcnn_variants(cfg, runs, warmup, sizes[0] if sizes else None)
    if kind == "EncoderDecoder" and (cfg.model.get("decode_head") or {}).get("type") == "LRASPPHead":
        return lraspp_variants(cfg, runs, warmup, sizes or [(1024, 2048), (512, 1024)])
    raise BenchmarkInputError(f"variants: no torchvision variants for a {kind} model with this head")


def _ms(t: dict) -> str:
    return f"{t['median']:8.2f} ms"


def format_variants(r: dict[str, Any]) -> str:
    """The human-readable report of :func:`run_variants`' result."""
    lines = []
    if r["task"] == "ssdlite":
        t = r["timings"]
        lines.append(f"SSDLite {r['shape'][0]}x{r['shape'][1]}, batch 1, median (ms); ratio = ours / torchvision")
        for part, label in (("net", "network alone"), ("e2e", "end to end")):
            tv = t[f"tv_{part}"]["median"]
            lines.append(f"  {label}: torchvision {tv:.2f}")
            for form, name in SSD_FORMS.items():
                ours = t[f"{form}_{part}"]["median"]
                lines.append(f"    ours {name}: {ours:.2f}  ratio {ours / tv:.3f}")
    elif r["task"] == "faster_rcnn":
        t, d = r["timings"], r["detections"]
        tv, ours = t["tv_e2e"]["median"], t["ours_e2e"]["median"]
        lines += [f"Faster R-CNN FPN, input {r['shape'][0]}x{r['shape'][1]} (padded to 32), batch 1, end to end",
                  f"  torchvision fasterrcnn_mobilenet_v3_large_320_fpn: {tv:8.1f} ms  ({d['torchvision']} detections)",
                  f"  ours (same weights):                              {ours:8.1f} ms  ({d['ours']} detections)",
                  f"  ours / torchvision = {ours / tv:.3f}"]
        if d["torchvision"] != d["ours"]:
            lines.append("  WARNING: the two models disagree on the number of detections")
    else:
        for size, rows in r["sizes"].items():
            ref_wall, ref_cpu = rows["tv_rf2"]["wall"]["median"], rows["tv_rf2"]["cpu"]["median"]
            lines.append(f"{size}:                wall ms (ratio to tv_rf2)   CPU ms (ratio)")
            for name, row in rows.items():
                wall, cpu = row["wall"]["median"], row["cpu"]["median"]
                lines.append(f"  {name:13s} {wall:8.1f} ({wall / ref_wall:.3f})  {cpu:8.1f} ({cpu / ref_cpu:.3f})  "
                             f"params {row['params'] / 1e6:.3f}M  conv MAdds {row['madds'] / 1e9:.2f}B")
    return "\n".join(lines)

