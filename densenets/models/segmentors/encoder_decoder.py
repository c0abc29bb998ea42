"""Encoder-decoder semantic segmentor: a mobile backbone with named taps + an R-ASPP / LR-ASPP head.

The network of MobileNetV2 §6.3 (R-ASPP) and MobileNetV3 §6.4 (LR-ASPP): the backbone (built with
``reduced_tail='segmentation'`` and ``output_stride=16`` for the paper's rows) feeds the head, the head's logits are
upsampled bilinearly to the input size. Whole-image inference (the papers evaluate full 1024x2048 images, single
scale).
"""
from __future__ import annotations

from typing import Any, ClassVar, Mapping, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import Tensor, nn

from ...registry import MODELS
from ..backbones.base import Backbone
from ..builder import backbone_from_config
from ..heads.lraspp_head import LRASPPHead
from ..heads.raspp_head import RASPPHead

#: heads the segmentor builds in plain Python from the backbone's FeatureSpecs (not registry entries)
DECODE_HEADS: dict[str, type[nn.Module]] = {"LRASPPHead": LRASPPHead, "RASPPHead": RASPPHead}

#: the taps a head input reads by default: the last feature map and the OS-8 low-level feature (TF DeepLab's LR-ASPP taps; MobileNetV3 §6.4)
DEFAULT_IN_TAPS = {"high": "C5", "low": "OS8"}

#: TF DeepLab's MobileNet preprocessing (``_preprocess_zero_mean_unit_range``): pixels scaled to [-1, 1]; images
#: are padded with the mean pixel (127.5 -> 0 after normalisation), label maps with the ignore label
TF_MOBILENET_PREPROCESSOR = dict(
    type="ImagePreprocessor", mean=(127.5, 127.5, 127.5), std=(127.5, 127.5, 127.5), pad_value=127.5, size_divisor=1
)


def channel_argmax(score: Tensor) -> Tensor:
    """``score.argmax(0)`` of ``[K, H, W]`` scores (int64 ``[H, W]``), as ``score.max(0).indices``: the same index
    (the first maximal value; a NaN counts as the maximum, torch's documented rule for both), but torch 2.14's CPU
    ``argmax`` over the outer dimension of a contiguous NCHW map is ~3x slower than ``max`` (94.7 vs 32.7 ms for
    19x512x1024 on one core): the logits of an exported program (``densenets.deploy.runtimes.ExportedModel``)
    arrive NCHW."""
    return score.max(0).indices


@MODELS.register_module()
class EncoderDecoder(BaseModel):
    """Backbone -> decode head -> bilinear upsampling to the input (MobileNetV2 §6.3, MobileNetV3 §6.4).

    Args:
        backbone: ``dict(name=..., **options)`` for :func:`densenets.models.build_backbone` (e.g.
            ``reduced_tail='segmentation'``, ``output_stride=16``), or a built :class:`Backbone`. ``out_taps`` is set
            by the segmentor from ``in_taps``.
        decode_head: ``dict(type='LRASPPHead'|'RASPPHead', num_classes=..., channels=F, ...)``; the remaining keys
            go to the head's constructor, the FeatureSpec arguments come from the backbone's ``output_shape()``.
        in_taps: which backbone tap feeds each head input, e.g. ``dict(high='C5', low='OS8')``;
            ``high='block17.out'`` (alias ``C5_pre``) for the V2* form of the MobileNetV2 paper. Defaults:
            ``high='C5'``, ``low='OS8'`` (only the inputs the head reads are used). Units after the last tap read are
            not built (the V2* head leaves the 1280 conv unused).
        data_preprocessor: config or module; default TF DeepLab's [-1, 1] scaling (:data:`TF_MOBILENET_PREPROCESSOR`).
        ignore_index: label excluded from the loss (Cityscapes: 255).
        class_weight: optional per-class weights of the cross-entropy (TF DeepLab ``label_weights``).
        align_corners: of the final bilinear upsampling to the input size.
    """

    task: ClassVar[str] = "segmentation"

    def __init__(
        self,
        backbone: Mapping[str, Any] | Backbone,
        decode_head: Mapping[str, Any],
        in_taps: Mapping[str, str] | None = None,
        data_preprocessor: Mapping[str, Any] | nn.Module | None = None,
        ignore_index: int = 255,
        class_weight: Sequence[float] | None = None,
        align_corners: bool = False,
        init_cfg: Mapping[str, Any] | None = None,
    ) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(TF_MOBILENET_PREPROCESSOR)
        if isinstance(data_preprocessor, Mapping):
            data_preprocessor = MODELS.build(dict(data_preprocessor))
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)

        head_cfg = dict(decode_head)
        head_type = head_cfg.pop("type", None)
        if head_type not in DECODE_HEADS:
            raise ValueError(f"decode_head type must be one of {sorted(DECODE_HEADS)}, got {head_type!r}")
        head_cls = DECODE_HEADS[head_type]
        in_keys: tuple[str, ...] = head_cls.in_keys  # type: ignore[attr-defined]
        taps = dict(DEFAULT_IN_TAPS)
        taps.update(in_taps or {})
        unknown = set(taps) - set(DEFAULT_IN_TAPS)
        if unknown:
            raise ValueError(f"in_taps has unknown head inputs {sorted(unknown)}; {head_type} reads {list(in_keys)}")
        self.in_taps = {key: taps[key] for key in in_keys}

        self.backbone = backbone_from_config(backbone, tuple(dict.fromkeys(self.in_taps.values())), "the segmentor")
        # layers after the head's last input are never run: not built into the model (V2*'s 1280 conv, Table 7)
        self.backbone.drop_unused_units()
        specs = self.backbone.output_shape()
        self.decode_head = head_cls(**{key: specs[tap] for key, tap in self.in_taps.items()}, **head_cfg)

        self.num_classes = int(self.decode_head.num_classes)
        self.ignore_index = ignore_index
        self.align_corners = align_corners
        if class_weight is not None:
            if len(class_weight) != self.num_classes:
                raise ValueError(f"class_weight has {len(class_weight)} entries for {self.num_classes} classes")
            self.register_buffer("class_weight", torch.tensor(class_weight, dtype=torch.float32), persistent=False)
        else:
            self.class_weight = None

    # -- network ------------------------------------------------------------------------------------------------
    def extract_feat(self, inputs: Tensor) -> dict[str, Tensor]:
        """The head's inputs (``high``, ``low``) from the backbone's taps."""
        out = self.backbone(inputs)
        return {key: out[tap] for key, tap in self.in_taps.items()}

    def _logits(self, inputs: Tensor) -> Tensor:
        logits = self.decode_head(self.extract_feat(inputs))
        return F.interpolate(logits, size=inputs.shape[-2:], mode="bilinear", align_corners=self.align_corners)

    def forward(
        self, inputs: Tensor, data_samples: list[dict] | None = None, mode: str = "tensor"
    ) -> Tensor | dict[str, Tensor] | list[dict]:
        if mode == "tensor":
            return self._logits(inputs)
        if mode == "loss":
            return self.loss(inputs, data_samples)
        if mode == "predict":
            return self.predict(inputs, data_samples)
        raise ValueError(f"mode must be 'tensor', 'loss' or 'predict', got {mode!r}")

    # -- training -----------------------------------------------------------------------------------------------
    def loss(self, inputs: Tensor, data_samples: list[dict] | None) -> dict[str, Tensor]:
        """Pixel-wise softmax cross-entropy at the input resolution; ``ignore_index`` pixels excluded."""
        target = self._targets(data_samples, tuple(inputs.shape[-2:]), inputs.device)  # checked before any compute
        return self.loss_from_logits(self._logits(inputs), data_samples, target)

    def _targets(self, data_samples: list[dict] | None, size: tuple[int, int], device: torch.device) -> Tensor:
        if not data_samples or any("gt_sem_seg" not in s for s in data_samples):
            raise ValueError("mode='loss' needs data_samples with a 'gt_sem_seg' label map each")
        maps = [torch.as_tensor(s["gt_sem_seg"]) for s in data_samples]
        for s, seg in zip(data_samples, maps):
            if tuple(seg.shape[-2:]) != tuple(size):
                raise ValueError(
                    f"{s.get('img_path', '<image>')}: gt_sem_seg is {tuple(seg.shape[-2:])} but the batch is "
                    f"{tuple(size)}; label maps must match their images (the data preprocessor pads both)"
                )
        return torch.stack([seg.reshape(seg.shape[-2:]) for seg in maps]).to(device).long()

    def loss_from_logits(self, logits: Tensor, data_samples: list[dict] | None,
                         target: Tensor | None = None) -> dict[str, Tensor]:
        """The loss of :meth:`loss` from input-size logits ``[B, K, H, W]``, shared with quantization-aware training
        of the exported graph (``densenets.deploy.qat.QATModel``)."""
        if target is None:
            target = self._targets(data_samples, tuple(logits.shape[-2:]), logits.device)
        valid = target != self.ignore_index
        bad = valid & ((target < 0) | (target >= self.num_classes))
        if bool(bad.any()):
            i = int(bad.flatten(1).any(1).nonzero()[0])
            labels = sorted(torch.unique(target[i][bad[i]]).tolist())
            raise ValueError(
                f"{data_samples[i].get('img_path', '<image>')}: gt_sem_seg holds labels {labels} outside "
                f"0..{self.num_classes - 1} (ignore_index {self.ignore_index}); are these labelIds instead of trainIds?"
            )
        if bool(valid.any()):
            loss = F.cross_entropy(logits, target, weight=self.class_weight, ignore_index=self.ignore_index)
        else:  # an all-ignore batch: zero loss that still reaches every parameter
            loss = logits.sum() * 0.0
        with torch.no_grad():
            correct = (logits.argmax(1) == target) & valid
            acc = correct.sum().float() / valid.sum().clamp(min=1) * 100.0
        return {"loss_ce": loss, "acc_seg": acc}

    # -- inference ----------------------------------------------------------------------------------------------
    @torch.no_grad()
    def predict(self, inputs: Tensor, data_samples: list[dict] | None = None) -> list[dict]:
        """Argmax trainIds at each image's original size: batch padding is cropped away using ``img_shape``, then
        logits are resized bilinearly to ``ori_shape``. Adds ``pred_sem_seg`` (int64, on the CPU) to each sample."""
        return self.predict_from_logits(self._logits(inputs), data_samples)

    @torch.no_grad()
    def predict_from_logits(self, logits: Tensor, data_samples: list[dict] | None = None) -> list[dict]:
        """The post-processing of :meth:`predict` from input-size logits ``[B, K, H, W]``, shared with exported
        programs (``densenets.deploy.runtimes.ExportedModel``)."""
        batch_h, batch_w = logits.shape[-2:]
        if data_samples is None:
            data_samples = [dict() for _ in range(logits.shape[0])]
        for i, sample in enumerate(data_samples):
            h, w = tuple(sample.get("img_shape", (batch_h, batch_w)))[:2]
            ori = tuple(sample.get("ori_shape", (h, w)))[:2]
            score = logits[i : i + 1, :, :h, :w]
            if (h, w) != ori:
                score = F.interpolate(score, size=ori, mode="bilinear", align_corners=self.align_corners)
            sample["pred_sem_seg"] = channel_argmax(score[0]).cpu()
        return data_samples
