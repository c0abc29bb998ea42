"""SSDLite (MobileNetV2 §6.2, MobileNetV3 §6.3 and Table 6), as the TF Object Detection API builds it.

backbone taps C4 (the expansion output of the first OS-32 block) and C5 (the last conv before pooling) -> four
extra layers (:class:`~densenets.models.necks.ssdlite_extra.SSDLiteExtraLayers`) -> separable class/box predictors on
the six maps (:class:`~densenets.models.heads.ssdlite_head.SSDLiteHead`) -> anchors, matching, loss and NMS
(``ssd_anchors``, ``ssd_targets``, ``ssd_loss``, ``ssd_postprocess``).

Defaults follow ``ssdlite_mobilenet_v3_large_320x320_coco.config``: inputs scaled to [-1, 1], BN eps 1e-3 and
momentum 0.03 (TF decay 0.97) everywhere, TF anchor layout, sigmoid focal loss (alpha 0.75, gamma 2) with a class-bias
init of -4.6, score threshold 1e-8, NMS IoU 0.6, 100 detections per image. Trained from scratch, the backbone and
extra layers get TF's truncated-normal(0.03) init and the predictors normal(0.03) (torchvision uses normal(0.03)
for all three); a backbone loaded from ``weights=`` keeps its weights.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import ClassVar, Mapping, Sequence

import torch
from mmengine.model import BaseModel
from torch import Tensor, nn

from ...registry import MODELS
from .. import data_preprocessor as _data_preprocessor  # noqa: F401  (registers ImagePreprocessor)
from ..builder import backbone_from_config
from ..fuse import optimize_for_inference
from ..heads.ssdlite_head import SSDLiteHead
from ..necks.ssdlite_extra import SSDLiteExtraLayers
from .box_mapping import boxes_to_original
from .ssd_anchors import SSDAnchorGenerator
from .ssd_loss import build_ssd_loss
from .ssd_postprocess import SSDPostProcessor
from .ssd_targets import SSDTargetAssigner

DEFAULT_PREPROCESSOR = dict(type="ImagePreprocessor", mean=[127.5] * 3, std=[127.5] * 3)

#: the backbone taps the extra layers follow (MobileNetV3 §6.3: C4 = expansion of the first OS-32 block, C5)
DEFAULT_TAPS = ("C4", "C5")


def _trunc_normal_init(module: nn.Module, std: float) -> None:
    """TF ``truncated_normal_initializer(stddev=std)``: convs N(0, std) cut at 2 std, biases 0, BN 1/0."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.trunc_normal_(m.weight, 0.0, std, -2 * std, 2 * std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


@MODELS.register_module()
class SSDLite(BaseModel):
    """SSDLite detector (MobileNetV2 §6.2 / MobileNetV3 §6.3), an mmengine ``BaseModel``.

    Args:
        backbone: ``dict(name=..., **options)`` for :func:`densenets.models.build_backbone`; ``out_taps`` (the maps
            the predictors read before the extra layers) defaults to :data:`DEFAULT_TAPS`, ``bn_eps``/``bn_momentum``
            to the model's; ``weights=PATH`` loads a torchvision-format checkpoint for transfer learning.
        num_classes: object classes (80 for contiguous COCO labels; Table 6 counts use TF's 90-id label map).
        neck: options of :class:`SSDLiteExtraLayers` (``depths``, ``min_depth``, ``width_mult``; the width multiplier
            defaults to the backbone's, as in TF).
        anchor_layout: ``"tf"`` (default) or ``"torchvision"``; ``anchors`` adds generator options.
        loss: ``"focal"`` (default, TF) or ``"softmax_hnm"`` (torchvision), or a dict with options.
        test_cfg: ``score_thr``, ``nms_iou``, ``max_per_class``, ``max_per_img``, ``topk`` of :class:`SSDPostProcessor`.
    """

    task: ClassVar[str] = "detection"

    def __init__(
        self,
        backbone: dict,
        num_classes: int = 80,
        neck: dict | None = None,
        anchor_layout: str = "tf",
        anchors: dict | None = None,
        loss: str | dict = "focal",
        iou_threshold: float = 0.5,
        cls_bias_init: float | None = None,
        init_std: float = 0.03,
        test_cfg: dict | None = None,
        bn_eps: float = 1e-3,
        bn_momentum: float = 0.03,
        data_preprocessor: dict | nn.Module | None = None,
        init_cfg: dict | None = None,
    ) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(DEFAULT_PREPROCESSOR)
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        self.num_classes = num_classes
        self.init_std = init_std

        backbone = dict(backbone)
        taps = backbone.pop("out_taps", DEFAULT_TAPS)
        self.backbone_pretrained = backbone.get("weights") is not None
        self.backbone = backbone_from_config(backbone, taps, "SSDLite", dict(bn_eps=bn_eps, bn_momentum=bn_momentum))

        neck = dict(neck or {})
        name = str(backbone.get("name") or backbone.get("type"))
        neck.setdefault("width_mult", backbone.get("width_mult", 1.0) if name.startswith("mobilenet") else 1.0)
        self.neck = SSDLiteExtraLayers(self.backbone.output_shape(), bn_eps=bn_eps, bn_momentum=bn_momentum, **neck)
        specs = list(self.neck.output_shape().values())  # the backbone's taps, then the extra maps

        self.anchor_generator = SSDAnchorGenerator(anchor_layout, num_layers=len(specs), **(anchors or {}))
        self.loss_fn = build_ssd_loss(loss)
        self.background_logit = self.loss_fn.background_logit
        if cls_bias_init is None:
            cls_bias_init = 0.0 if self.background_logit else -4.6
        self.head = SSDLiteHead(
            specs,
            self.anchor_generator.num_anchors_per_location(),
            num_classes + int(self.background_logit),
            cls_bias_init=cls_bias_init,
            init_std=init_std,
            bn_eps=bn_eps,
            bn_momentum=bn_momentum,
        )
        self.assigner = SSDTargetAssigner(iou_threshold)
        self.postprocessor = SSDPostProcessor(**(test_cfg or {}))
        self.init_weights()

    def optimize_for_inference(self, channels_last: bool = True) -> "SSDLite":
        """Fold BN into the convs and switch to channels-last, in place (:func:`..fuse.optimize_for_inference`)."""
        return optimize_for_inference(self, channels_last)

    # -- weights ------------------------------------------------------------------------------------------------
    def init_weights(self) -> None:
        """TF init (see module docstring); the backbone is left alone when it was loaded from ``weights``."""
        if not self.backbone_pretrained:
            _trunc_normal_init(self.backbone, self.init_std)
        _trunc_normal_init(self.neck, self.init_std)
        self.head.init_weights()

    # -- network ------------------------------------------------------------------------------------------------
    def extract_feat(self, inputs: Tensor) -> "OrderedDict[str, Tensor]":
        """The maps the predictors read, named as ``self.neck.output_shape()``: the backbone taps, then ``extra*``."""
        return self.neck(self.backbone(inputs))

    def _forward(self, inputs: Tensor) -> tuple[Tensor, Tensor]:
        return self.head(list(self.extract_feat(inputs).values()))

    def _anchors(self, features: Mapping[str, Tensor], inputs: Tensor) -> Tensor:
        grid = [tuple(f.shape[-2:]) for f in features.values()]
        return self.anchor_generator.pixel_anchors(grid, tuple(inputs.shape[-2:]), inputs.device)

    def forward(
        self, inputs: Tensor, data_samples: list[dict] | None = None, mode: str = "tensor"
    ) -> tuple[Tensor, Tensor] | dict[str, Tensor] | list[dict]:
        """mmengine modes: ``"tensor"`` -> ``(cls_logits [B, A, K], box_deltas [B, A, 4])``, ``"loss"`` -> dict of
        losses, ``"predict"`` -> the samples updated with ``pred_boxes`` (original pixels), ``pred_scores``,
        ``pred_labels``."""
        if mode == "tensor":
            return self._forward(inputs)
        if mode == "loss":
            if getattr(self, "inference_only", False):
                raise RuntimeError("this SSDLite was optimised for inference (BN folded into convs); it cannot train")
            if data_samples is None:
                raise ValueError("SSDLite mode='loss' needs data_samples with gt_boxes and gt_labels")
            return self.loss(inputs, data_samples)
        if mode == "predict":
            return self.predict(inputs, data_samples)
        raise ValueError(f"SSDLite.forward: unknown mode {mode!r} (use 'loss', 'predict' or 'tensor')")

    # -- training -----------------------------------------------------------------------------------------------
    def loss(self, inputs: Tensor, data_samples: Sequence[dict]) -> dict[str, Tensor]:
        ground_truth = self._ground_truth(data_samples, inputs.device)  # checked before any compute
        features = self.extract_feat(inputs)
        cls_logits, box_deltas = self.head(list(features.values()))
        anchors = self._anchors(features, inputs)
        return self.loss_from_outputs(cls_logits, box_deltas, anchors, data_samples, ground_truth)

    def loss_from_outputs(
        self, cls_logits: Tensor, box_deltas: Tensor, anchors: Tensor, data_samples: Sequence[dict],
        ground_truth: tuple[list[Tensor], list[Tensor]] | None = None,
    ) -> dict[str, Tensor]:
        """Matching and the loss of :meth:`loss` from the head's raw outputs, shared with quantization-aware
        training of the exported graph (``densenets.deploy.qat.QATModel``)."""
        if ground_truth is None:
            ground_truth = self._ground_truth(data_samples, cls_logits.device)
        labels, box_targets = self.assigner(*ground_truth, anchors)
        return self.loss_fn(cls_logits, box_deltas, labels, box_targets)

    def _ground_truth(self, data_samples: Sequence[dict], device: torch.device) -> tuple[list[Tensor], list[Tensor]]:
        boxes, labels = [], []
        for s in data_samples:
            if "gt_boxes" not in s or "gt_labels" not in s:
                raise ValueError(f"{s.get('img_path', '?')}: training sample without gt_boxes / gt_labels")
            b = torch.as_tensor(s["gt_boxes"], dtype=torch.float32, device=device).reshape(-1, 4)
            lab = torch.as_tensor(s["gt_labels"], dtype=torch.int64, device=device).reshape(-1)
            if b.shape[0] != lab.shape[0]:
                raise ValueError(f"{s.get('img_path', '?')}: {b.shape[0]} gt_boxes but {lab.shape[0]} gt_labels")
            boxes.append(b)
            labels.append(lab)
        all_b, all_l = torch.cat(boxes), torch.cat(labels)
        if all_b.numel():
            bad_box = (all_b[:, 2:] <= all_b[:, :2]).any(dim=1)
            bad_label = (all_l < 0) | (all_l >= self.num_classes)
            if bool((bad_box | bad_label).any()):  # one host sync for the whole batch; only then look for the file
                self._raise_bad_gt(data_samples, boxes, labels)
        return boxes, labels

    def _raise_bad_gt(self, data_samples: Sequence[dict], boxes: list[Tensor], labels: list[Tensor]) -> None:
        for s, b, lab in zip(data_samples, boxes, labels):
            where = s.get("img_path", f"image id {s.get('img_id', '?')}")
            degenerate = (b[:, 2:] <= b[:, :2]).any(dim=1)
            if bool(degenerate.any()):
                raise ValueError(f"{where}: degenerate gt box (x2 <= x1 or y2 <= y1): {b[degenerate][0].tolist()}")
            out = (lab < 0) | (lab >= self.num_classes)
            if bool(out.any()):
                raise ValueError(
                    f"{where}: gt label {int(lab[out][0])} outside 0..{self.num_classes - 1} "
                    f"(num_classes={self.num_classes})"
                )

    # -- inference ----------------------------------------------------------------------------------------------
    def predict(self, inputs: Tensor, data_samples: Sequence[dict] | None = None) -> list[dict]:
        features = self.extract_feat(inputs)
        cls_logits, box_deltas = self.head(list(features.values()))
        anchors = self._anchors(features, inputs)
        return self.predict_from_outputs(cls_logits, box_deltas, anchors, inputs, data_samples)

    def predict_from_outputs(
        self, cls_logits: Tensor, box_deltas: Tensor, anchors: Tensor, inputs: Tensor,
        data_samples: Sequence[dict] | None = None,
    ) -> list[dict]:
        """Scores, decoding, NMS and boxes in original pixels from the head's raw outputs — the post-processing of
        :meth:`predict`, shared with exported programs (``densenets.deploy.runtimes.ExportedModel``); ``inputs`` is
        the batch (its shape and device are read)."""
        if self.background_logit:
            scores = cls_logits.softmax(dim=-1)[..., 1:]
        else:
            scores = cls_logits.sigmoid()
        batch = inputs.shape[0]
        if data_samples is None:
            data_samples = [{} for _ in range(batch)]
        in_h, in_w = inputs.shape[-2:]
        img_hw = inputs.new_tensor([tuple(s.get("img_shape", (in_h, in_w)))[:2] for s in data_samples])  # [B, 2]
        boxes = self.assigner.decode(box_deltas, anchors)
        wh = img_hw.flip(-1)
        limits = torch.cat((wh, wh), 1)[:, None, :]  # [B, 1, 4] = (w, h, w, h)
        boxes = torch.minimum(boxes.clamp(min=0), limits)
        dets = self.postprocessor(scores, boxes)
        out = []
        counts = dets.counts
        per_image = zip(data_samples, dets.boxes.split(counts), dets.scores.split(counts), dets.labels.split(counts))
        for s, b, sc, lab in per_image:
            b = boxes_to_original(b, s, (in_h, in_w))
            out.append({**s, "pred_boxes": b, "pred_scores": sc, "pred_labels": lab})
        return out

