"""Faster R-CNN (Ren et al. 2015) on mobile backbones, assembled from torchvision's detection modules.

Two forms, chosen in the config:

* ``neck=None, roi_head="backbone_tail"`` — the papers' form (MobileNetV1 §4.7 / Table 13, ShuffleNet §4.2 /
  Table 7, both after Huang et al.'s TF Object Detection API setup): the RPN and a 14x14 RoIAlign read the OS-16 tap
  ``C4``; the backbone's own layers after C4 (MobileNetV1 conv 12-13, ShuffleNet stage 4 [+ conv5]) run on every
  RoI, their stride-2 block brings it to 7x7, then global pooling and the box predictor.
* ``neck="fpn", roi_head="two_mlp"`` — torchvision's ``fasterrcnn_mobilenet_v3_large_fpn`` form: FPN (256 ch) over
  two taps plus a max-pooled extra level for the RPN, 7x7 multi-scale RoIAlign, ``TwoMLPHead`` (1024).

What torchvision implements is used as is: ``AnchorGenerator``, ``RPNHead``, ``RegionProposalNetwork``,
``RoIHeads``, ``MultiScaleRoIAlign``, ``FeaturePyramidNetwork``, ``TwoMLPHead``, ``FastRCNNPredictor``. Not used:
``GeneralizedRCNNTransform`` — the data pipeline resizes, and ``ImagePreprocessor`` normalises and pads to the
size divisor. This module only adapts the design.md batch contract to torchvision's (``ImageList`` + target dicts,
label 0 = background) and maps predictions back to original image pixels.
"""
from __future__ import annotations

import contextlib
from collections import OrderedDict
from typing import Any, ClassVar, Iterator, Mapping, Sequence

import torch
from mmengine.model import BaseModel
from torch import Tensor, nn
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.roi_heads import RoIHeads
from torchvision.models.detection.rpn import (AnchorGenerator, RegionProposalNetwork, RPNHead,
                                              concat_box_prediction_layers)
from torchvision.ops import MultiScaleRoIAlign, clip_boxes_to_image

from ...registry import MODELS
from ..backbones.base import Backbone
from ..builder import backbone_from_config
from ..data_preprocessor import ImagePreprocessor  # noqa: F401  (registers the default preprocessor)
from ..heads.rcnn_tail_head import BackboneTailHead
from ..necks.fpn import FPN
from .box_mapping import boxes_to_original
from .ssd_postprocess import rank_within_groups

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


@MODELS.register_module()
class FasterRCNN(BaseModel):
    """Faster R-CNN (Ren et al., NeurIPS 2015, §3) in the C4 form of MobileNetV1 §4.7 / ShuffleNet §4.2, or the
    FPN form of torchvision's mobile Faster R-CNN.

    Args:
        backbone: ``dict(name=..., **options)`` for ``build_backbone``, or a built :class:`Backbone`.
        num_classes: foreground classes (contiguous labels ``0..num_classes-1``); the predictor has one more.
        neck: ``None`` (RPN on ``rpn_tap``) or ``"fpn"`` (FPN over ``fpn_taps``).
        roi_head: ``"backbone_tail"`` (backbone layers after ``rpn_tap`` up to ``tail_until``) or ``"two_mlp"``.
        anchor_sizes / aspect_ratios: anchors of every RPN level (torchvision ``AnchorGenerator``).
        roi_output_size: RoIAlign size; default 14 for ``backbone_tail`` (7 after the tail), 7 for ``two_mlp``.
        rpn_* / box_*: torchvision's ``RegionProposalNetwork`` / ``RoIHeads`` settings (same names and defaults
            as ``torchvision.models.detection.FasterRCNN``).
        box_detections_per_class: at most this many detections of one class per image, applied before
            ``box_detections_per_img`` (TF OD API ``max_detections_per_class``); ``None``: no such cap (torchvision).
        loss_weights: factors of the four losses by name (``loss_objectness``, ``loss_rpn_box_reg``,
            ``loss_classifier``, ``loss_box_reg``); TF OD API Faster R-CNN configs weigh both localization losses 2.0.
        tensor_num_rois: proposals run through the box head in ``mode="tensor"`` (default
            ``rpn_post_nms_top_n_test``).
        data_preprocessor: an ``ImagePreprocessor`` config (default: ImageNet mean/std, padding with the mean to a
            multiple of 32 — zeros after normalisation, as torchvision pads).
    """

    task: ClassVar[str] = "detection"

    def __init__(
        self,
        backbone: dict | Backbone,
        num_classes: int = 80,
        neck: str | None = None,
        roi_head: str = "backbone_tail",
        rpn_tap: str = "C4",
        tail_until: str = "C5",
        fpn_taps: Sequence[str] = ("C4", "C5"),
        fpn_channels: int = 256,
        anchor_sizes: Sequence[int] = (32, 64, 128, 256, 512),
        aspect_ratios: Sequence[float] = (0.5, 1.0, 2.0),
        roi_output_size: int | None = None,
        roi_sampling_ratio: int = 2,
        representation_size: int = 1024,
        rpn_pre_nms_top_n_train: int = 2000,
        rpn_pre_nms_top_n_test: int = 1000,
        rpn_post_nms_top_n_train: int = 2000,
        rpn_post_nms_top_n_test: int = 1000,
        rpn_nms_thresh: float = 0.7,
        rpn_fg_iou_thresh: float = 0.7,
        rpn_bg_iou_thresh: float = 0.3,
        rpn_batch_size_per_image: int = 256,
        rpn_positive_fraction: float = 0.5,
        rpn_score_thresh: float = 0.0,
        box_score_thresh: float = 0.05,
        box_nms_thresh: float = 0.5,
        box_detections_per_img: int = 100,
        box_fg_iou_thresh: float = 0.5,
        box_bg_iou_thresh: float = 0.5,
        box_batch_size_per_image: int = 512,
        box_positive_fraction: float = 0.25,
        bbox_reg_weights: Sequence[float] | None = None,
        box_detections_per_class: int | None = None,
        loss_weights: dict[str, float] | None = None,
        tensor_num_rois: int | None = None,
        data_preprocessor: dict | nn.Module | None = None,
        init_cfg: dict | None = None,
    ) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type="ImagePreprocessor", mean=IMAGENET_MEAN, std=IMAGENET_STD,
                                     pad_value=IMAGENET_MEAN, size_divisor=32)
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if neck not in (None, "fpn"):
            raise ValueError(f"FasterRCNN: neck must be None or 'fpn', got {neck!r}")
        if roi_head not in ("backbone_tail", "two_mlp"):
            raise ValueError(f"FasterRCNN: roi_head must be 'backbone_tail' or 'two_mlp', got {roi_head!r}")
        if neck == "fpn" and roi_head == "backbone_tail":
            raise ValueError("FasterRCNN: the backbone-tail RoI head reads the C4 tap itself; use neck=None with it")
        if num_classes < 1:
            raise ValueError(f"FasterRCNN: num_classes must be >= 1, got {num_classes}")
        self.num_classes = num_classes
        self.neck_type, self.roi_head_type = neck, roi_head

        self.backbone = backbone_from_config(backbone, tuple(fpn_taps) if neck == "fpn" else (rpn_tap,), "FasterRCNN")
        if neck == "fpn":
            self.neck: FPN | None = FPN(self.backbone.output_shape(), fpn_channels)
            rpn_specs = self.neck.output_shape()
            roi_names = list(self.backbone.out_taps)
        else:
            self.neck = None
            rpn_specs = self.backbone.output_shape()
            roi_names = [rpn_tap]
        rpn_channels = {s.channels for s in rpn_specs.values()}
        if len(rpn_channels) != 1:
            raise ValueError(f"FasterRCNN: the RPN head is shared across levels; channels differ: {dict(rpn_specs)}")

        levels = len(rpn_specs)
        anchor_generator = AnchorGenerator((tuple(anchor_sizes),) * levels, (tuple(aspect_ratios),) * levels)
        self.rpn = RegionProposalNetwork(
            anchor_generator,
            RPNHead(rpn_channels.pop(), anchor_generator.num_anchors_per_location()[0]),
            rpn_fg_iou_thresh,
            rpn_bg_iou_thresh,
            rpn_batch_size_per_image,
            rpn_positive_fraction,
            dict(training=rpn_pre_nms_top_n_train, testing=rpn_pre_nms_top_n_test),
            dict(training=rpn_post_nms_top_n_train, testing=rpn_post_nms_top_n_test),
            rpn_nms_thresh,
            score_thresh=rpn_score_thresh,
        )

        if roi_output_size is None:
            roi_output_size = 14 if roi_head == "backbone_tail" else 7
        roi_pool = MultiScaleRoIAlign(roi_names, output_size=roi_output_size, sampling_ratio=roi_sampling_ratio)
        if roi_head == "backbone_tail":
            box_head: nn.Module = BackboneTailHead(self.backbone, start=rpn_tap, until=tail_until)
            head_out = box_head.out_channels
        else:
            in_channels = rpn_specs[roi_names[0]].channels  # the FeatureSpec of the maps RoIAlign reads
            box_head = TwoMLPHead(in_channels * roi_output_size**2, representation_size)
            head_out = representation_size
        self.roi_heads = RoIHeads(
            roi_pool,
            box_head,
            FastRCNNPredictor(head_out, num_classes + 1),
            box_fg_iou_thresh,
            box_bg_iou_thresh,
            box_batch_size_per_image,
            box_positive_fraction,
            tuple(bbox_reg_weights) if bbox_reg_weights is not None else None,
            box_score_thresh,
            box_nms_thresh,
            # with a per-class cap, RoIHeads keeps every NMS survivor and predict() applies both caps in TF's order
            box_detections_per_img if box_detections_per_class is None else 10**9,
        )
        self.box_detections_per_img, self.box_detections_per_class = box_detections_per_img, box_detections_per_class
        unknown = set(loss_weights or {}) - {"loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg"}
        if unknown:
            raise ValueError(f"FasterRCNN: loss_weights has unknown losses {sorted(unknown)}")
        self.loss_weights = dict(loss_weights or {})
        self.tensor_num_rois = tensor_num_rois if tensor_num_rois is not None else rpn_post_nms_top_n_test

    # -- helpers -----------------------------------------------------------------------------------------------
    def extract_feat(self, inputs: Tensor) -> "OrderedDict[str, Tensor]":
        """Features the RPN reads: the C4 tap, or the FPN levels (tap names + ``"pool"``)."""
        feats = self.backbone(inputs)
        return self.neck(feats) if self.neck is not None else feats

    @contextlib.contextmanager
    def _stage_mode(self, training: bool) -> Iterator[None]:
        """torchvision's RPN / RoIHeads pick losses vs. detections from their own ``training`` flag; set only those
        two flags (BN layers keep the mode the runner chose)."""
        saved = (self.rpn.training, self.roi_heads.training)
        self.rpn.training = self.roi_heads.training = training
        try:
            yield
        finally:
            self.rpn.training, self.roi_heads.training = saved

    @staticmethod
    def _image_sizes(inputs: Tensor, samples: list[dict] | None) -> list[tuple[int, int]]:
        if not samples:
            return [tuple(inputs.shape[-2:])] * inputs.shape[0]
        sizes = []
        for s in samples:
            h, w = (int(v) for v in s.get("img_shape", inputs.shape[-2:]))
            if h > inputs.shape[-2] or w > inputs.shape[-1]:
                raise ValueError(f"{s.get('img_path', '<image>')}: img_shape {(h, w)} is larger than the batch "
                                 f"{tuple(inputs.shape[-2:])}")
            sizes.append((h, w))
        return sizes

    def _targets(self, samples: list[dict], device: torch.device) -> list[dict[str, Tensor]]:
        targets = []
        for s in samples:
            where = s.get("img_path", f"image {s.get('img_id', '?')}")
            boxes = torch.as_tensor(s["gt_boxes"], dtype=torch.float32, device=device).reshape(-1, 4)
            labels = torch.as_tensor(s["gt_labels"], dtype=torch.int64, device=device).reshape(-1)
            if len(labels) != len(boxes):
                raise ValueError(f"{where}: {len(boxes)} gt_boxes but {len(labels)} gt_labels")
            if len(labels) and (labels.min() < 0 or labels.max() >= self.num_classes):
                raise ValueError(f"{where}: gt_labels must lie in 0..{self.num_classes - 1}, got "
                                 f"{labels.min().item()}..{labels.max().item()}")
            if len(boxes) and not bool(((boxes[:, 2:] > boxes[:, :2]).all())):
                bad = boxes[~(boxes[:, 2:] > boxes[:, :2]).all(1)][0].tolist()
                raise ValueError(f"{where}: gt_boxes must be xyxy with positive width and height, got {bad}")
            targets.append({"boxes": boxes, "labels": labels + 1})  # torchvision: 0 is background
        return targets

    # -- mmengine entry point ----------------------------------------------------------------------------------
    def forward(self, inputs: Tensor, data_samples: list[dict] | None = None, mode: str = "tensor") -> Any:
        if mode == "loss":
            return self.loss(inputs, data_samples)
        if mode == "predict":
            return self.predict(inputs, data_samples)
        if mode == "tensor":
            return self._forward_tensor(inputs)
        raise ValueError(f"FasterRCNN: unknown mode {mode!r} (expected 'loss', 'predict' or 'tensor')")

    def loss(self, inputs: Tensor, data_samples: list[dict] | None) -> dict[str, Tensor]:
        """RPN losses (``loss_objectness``, ``loss_rpn_box_reg``) and box-head losses (``loss_classifier``,
        ``loss_box_reg``), as torchvision computes them."""
        if not data_samples:
            raise ValueError("FasterRCNN: mode='loss' needs data_samples with gt_boxes / gt_labels")
        images = ImageList(inputs, self._image_sizes(inputs, data_samples))
        targets = self._targets(data_samples, inputs.device)
        feats = self.extract_feat(inputs)
        with self._stage_mode(True):
            proposals, rpn_losses = self.rpn(images, feats, targets)
            _, roi_losses = self.roi_heads(feats, proposals, images.image_sizes, targets)
        return {k: v * self.loss_weights.get(k, 1.0) for k, v in {**rpn_losses, **roi_losses}.items()}

    def predict(self, inputs: Tensor, data_samples: list[dict] | None = None) -> list[dict]:
        """Detections per image: ``pred_boxes`` (xyxy, original image pixels), ``pred_scores``, ``pred_labels``
        (contiguous, 0-based), added to each input sample dict."""
        images = ImageList(inputs, self._image_sizes(inputs, data_samples))
        feats = self.extract_feat(inputs)
        with self._stage_mode(False):
            proposals, _ = self.rpn(images, feats)
            detections, _ = self.roi_heads(feats, proposals, images.image_sizes)
        samples = data_samples if data_samples else [{} for _ in detections]
        results = []
        for sample, det, hw in zip(samples, detections, images.image_sizes):
            if self.box_detections_per_class is not None:  # sorted by score: per-class cap, then the total cap
                keep = rank_within_groups(det["labels"]) < self.box_detections_per_class
                det = {k: v[keep][: self.box_detections_per_img] for k, v in det.items()}
            boxes = boxes_to_original(det["boxes"], sample, hw)
            out = dict(sample)
            out.update(pred_boxes=boxes.float(), pred_scores=det["scores"], pred_labels=det["labels"] - 1)
            results.append(out)
        return results

    def _forward_tensor(self, inputs: Tensor) -> dict[str, Any]:
        """Raw outputs for complexity counting, benchmarks and export (:func:`fixed_rois_forward` with
        ``tensor_num_rois``), plus the RPN's input ``features``."""
        feats = self.extract_feat(inputs)
        return dict(features=feats, **fixed_rois_forward(self.rpn, self.roi_heads, feats, inputs, self.tensor_num_rois))


def fixed_rois_forward(
    rpn: RegionProposalNetwork, roi_heads: RoIHeads, feats: "OrderedDict[str, Tensor]", inputs: Tensor, num_rois: int
) -> dict[str, Any]:
    """A fixed-work pass of a torchvision RPN + RoI heads (ours, or a torchvision ``FasterRCNN``'s, for benchmarks):
    the RPN's objectness and box deltas on every level, then the ``num_rois`` highest-scoring decoded anchors (no
    NMS, so the count is fixed) through RoIAlign, the box head and the predictor. Returns ``rpn_objectness``,
    ``rpn_box_deltas``, ``rois`` (B x K x 4, input pixels), ``cls_logits`` (B*K x C+1) and ``box_deltas``
    (B*K x 4(C+1))."""
    n, _, h, w = inputs.shape
    levels = list(feats.values())
    objectness, deltas = rpn.head(levels)
    images = ImageList(inputs, [(h, w)] * n)
    anchors = rpn.anchor_generator(images, levels)
    flat_obj, flat_deltas = concat_box_prediction_layers(objectness, deltas)
    proposals = rpn.box_coder.decode(flat_deltas.detach(), anchors).view(n, -1, 4)
    scores = flat_obj.view(n, -1)
    top = scores.topk(min(num_rois, scores.shape[1]), dim=1).indices
    rois = clip_boxes_to_image(proposals.gather(1, top[..., None].expand(-1, -1, 4)), (h, w))
    roi_feats = roi_heads.box_roi_pool(feats, list(rois), images.image_sizes)
    cls_logits, box_deltas = roi_heads.box_predictor(roi_heads.box_head(roi_feats))
    return dict(rpn_objectness=objectness, rpn_box_deltas=deltas, rois=rois, cls_logits=cls_logits,
                box_deltas=box_deltas)

def torchvision_fpn_keys(model: FasterRCNN) -> dict[str, str]:
    """Map every state-dict key of an FPN-form MobileNetV3 :class:`FasterRCNN` to its key in torchvision's
    ``fasterrcnn_mobilenet_v3_large[_320]_fpn`` (``backbone.body.*``, ``backbone.fpn.*``, ``rpn.*``, ``roi_heads.*``).
    """
    from ..backbones.mobilenet_v3 import MobileNetV3
    from ..backbones.torchvision_weights import mobilenet_v3_keys

    if not isinstance(model, FasterRCNN) or model.neck is None or not isinstance(model.backbone, MobileNetV3):
        what = ("the C4 form" if isinstance(model, FasterRCNN) and model.neck is None else
                f"a {type(model).__name__}" + (f" on {type(model.backbone).__name__}"
                                               if isinstance(model, FasterRCNN) else ""))
        raise ValueError("torchvision_fpn_keys: only the FPN-form Faster R-CNN on a MobileNetV3 backbone has a "
                         f"torchvision twin, not {what}")
    mapping = {f"backbone.{k}": "backbone.body." + v.removeprefix("features.")
               for k, v in mobilenet_v3_keys(model.backbone).items()}
    for key in model.state_dict():
        if key.startswith("neck.fpn."):
            mapping[key] = "backbone.fpn." + key.removeprefix("neck.fpn.")
        elif key.startswith(("rpn.", "roi_heads.")):
            mapping[key] = key
    return mapping


def load_torchvision_detector(model: FasterRCNN, path: str, state: Mapping[str, Tensor] | None = None) -> None:
    """Load a torchvision ``fasterrcnn_mobilenet_v3_large[_320]_fpn`` checkpoint (e.g. its COCO weights) into an
    FPN-form model built with ``fpn_taps=("block13.out", "C5")`` and ``num_classes=90`` (torchvision's 91 outputs
    index COCO category ids directly). Every key must match in name and shape; otherwise a ``ValueError`` names
    the file and the offending keys. torchvision's trained detectors (its COCO weights) freeze the backbone's BN
    as ``FrozenBatchNorm2d``, which has no ``num_batches_tracked`` buffer: those counters keep the model's values.
    ``state``: the file's state dict when the caller has already read it (``path`` then only names it in errors)."""
    from ..backbones.torchvision_weights import read_checkpoint

    from ...engine.state_dict import compare_state_dicts  # the one key-mismatch reporter

    state = read_checkpoint(path) if state is None else state
    mapping = torchvision_fpn_keys(model)
    frozen = {ours for ours, theirs in mapping.items()
              if theirs.endswith(".num_batches_tracked") and theirs not in state}
    mapping = {ours: theirs for ours, theirs in mapping.items() if ours not in frozen}
    own = {k: v for k, v in model.state_dict().items() if k not in frozen}
    mismatch = compare_state_dicts(own, state, mapping)
    if mismatch:
        raise ValueError(f"{path}: not a matching torchvision Faster R-CNN checkpoint — {mismatch}")
    loaded = model.state_dict()
    loaded.update({ours: state[theirs] for ours, theirs in mapping.items()})
    model.load_state_dict(loaded)
