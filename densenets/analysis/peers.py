"""torchvision's counterparts of densenets configs, and how to time them the way densenets models are timed.

A peer is looked up by what the config builds — model type, backbone name and the options that matter — not by file
name. Each peer is built with ``weights=None, weights_backbone=None`` (no download; random weights, like ours).

What each figure includes (``PeerRunner``):

* **model only** — the network on a normalised float batch of the benchmark size, no resizing, no post-processing:

  - SSDLite: ``head(backbone(x))`` (torchvision) vs ``model(x, mode="tensor")`` (ours): backbone, extra layers,
    box/class predictors.
  - Faster R-CNN: backbone (+FPN), RPN head, anchors, decoding of all anchors, the ``K`` highest-objectness boxes
    (no NMS) through RoIAlign, box head and predictor; ``K`` = the peer's post-NMS proposal count at test time,
    exactly what our ``mode="tensor"`` does with ``tensor_num_rois``.
  - LR-ASPP: ``model(x)["out"]`` vs ``model(x, mode="tensor")``: logits upsampled to the input size.

* **end to end** — from a uint8 RGB image of the benchmark size to final predictions in that image's pixels:

  - torchvision detectors: ``model([image.float() / 255])``, i.e. its ``GeneralizedRCNNTransform`` (normalise,
    resize to its own ``min_size``/``max_size`` — a no-op-sized interpolation when the image already has that size —
    batch), network, anchors, decoding, NMS, rescaling of boxes. Ours: ``data_preprocessor`` (float conversion,
    normalise, pad) + ``mode="predict"`` (network, decoding, NMS, rescaling). Our host-side pipeline resize is not
    included on either side.
  - LR-ASPP: normalisation (ImageNet mean/std) + ``model(x)["out"].argmax(1)`` vs our ``data_preprocessor`` +
    ``mode="predict"`` (logits resized to the original size, argmax).

* **post-processing alone** (SSDLite) — from the head's outputs on the random image, computed once, to final boxes:
  torchvision's ``postprocess_detections`` (softmax, decoding, per-class score threshold and top-k, ``batched_nms``)
  + ``transform.postprocess`` (boxes to the image's size), the two calls its ``forward`` makes, vs our
  ``predict_from_outputs`` (sigmoid, decoding, clipping, the lossless class-wise NMS, boxes in original pixels).

Besides the peers of :data:`PEERS` (found from a config), this module builds the torchvision models and pipelines
that ``tools/analysis/benchmark.py``'s like-for-like modes need: SSDLite for a training step
(:func:`torchvision_ssdlite`), the 320 FPN Faster R-CNN at a given resize (:func:`torchvision_frcnn_320_fpn`),
LR-ASPP with the full or the reduced dilated tail (:func:`torchvision_lraspp`), and the detection reference's SSD
training transforms (:func:`torchvision_ssd_pipeline`).

Like-for-like notes (what differs besides the code):

* SSDLite-MobileNetV3-Large: torchvision builds the reduced tail (RF2) when ``weights_backbone=None``, the same
  network family as ``configs/ssdlite_mbv3_large.py``; it predicts 91 softmax classes with 6 anchors on every map,
  ours 80 sigmoid classes with TF's 3 anchors on the first map (fewer predictor channels, fewer boxes to decode).
* Faster R-CNN MobileNetV3-Large FPN / 320 FPN: ``configs/faster_rcnn_mbv3_large*_fpn.py`` rebuild torchvision's
  architecture from the same modules (80 + 1 vs 91 classes); the figures should agree closely.
* LR-ASPP MobileNetV3-Large: torchvision uses the full tail (960-ch C5, no RF2), a global-pool gate and the 40-ch
  bneck-4 output as the low-level feature; ``configs/lraspp_mbv3_large_cityscapes.py`` is the paper's RF2 form
  (480-ch C5), a 49x49 stride-(4, 5) pooled gate and the 120-ch bneck-6 depthwise output. Same head idea, a
  different (lighter) network.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from mmengine.config import Config
from torch import Tensor, nn

from .bench_inputs import eval_image_shape


@dataclass(frozen=True)
class Peer:
    """A torchvision model comparable to a config: how to build it and what differs."""

    name: str
    task: str  # "ssdlite" | "faster_rcnn" | "segmentation"
    build: Callable[[], nn.Module]
    notes: str


def torchvision_ssdlite() -> nn.Module:
    """``ssdlite320_mobilenet_v3_large`` with random weights (torchvision builds the reduced tail without weights)."""
    from torchvision.models.detection import ssdlite320_mobilenet_v3_large

    return ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None)


def torchvision_frcnn_320_fpn(**options: Any) -> nn.Module:
    """``fasterrcnn_mobilenet_v3_large_320_fpn`` with random weights and torchvision's keyword ``options``
    (``min_size``, ``max_size``, ``rpn_*_test``, ``box_score_thresh``...)."""
    from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn

    return fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None, **options)


def torchvision_lraspp(reduced_tail: bool = False, num_classes: int = 19) -> nn.Module:
    """torchvision's LR-ASPP MobileNetV3-Large: ``lraspp_mobilenet_v3_large`` (full 960-ch tail, dilated), or with
    ``reduced_tail=True`` the same head on ``mobilenet_v3_large(reduced_tail=True, dilated=True)`` (like for like
    with the paper's RF2 network)."""
    if not reduced_tail:
        from torchvision.models.segmentation import lraspp_mobilenet_v3_large

        return lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=num_classes)
    from torchvision.models.mobilenetv3 import mobilenet_v3_large
    from torchvision.models.segmentation.lraspp import _lraspp_mobilenetv3

    return _lraspp_mobilenetv3(mobilenet_v3_large(reduced_tail=True, dilated=True), num_classes=num_classes)


def torchvision_ssd_pipeline(data_root: str, size: int = 320) -> tuple[Callable[[int], Any], int]:
    """torchvision's detection-reference SSD training transforms (``torchvision.transforms.v2``) on the COCO-format
    train split under ``data_root``: Pillow decode, ``ToImage``, ``RandomPhotometricDistort``, ``RandomZoomOut``
    (mean fill), ``RandomIoUCrop``, ``RandomHorizontalFlip``, ``Resize``, ``SanitizeBoundingBoxes``,
    ``ToDtype(float32, scale=True)``. Returns ``(sample(i), number of images with a non-crowd box)``."""
    import contextlib
    import io
    import os

    from PIL import Image
    from pycocotools.coco import COCO
    from torchvision import tv_tensors
    from torchvision.transforms import v2 as T

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(os.path.join(data_root, "annotations", "instances_train2017.json"))
    ids = [i for i in sorted(coco.imgs) if any(not a["iscrowd"] for a in coco.imgToAnns.get(i, []))]
    cat_ids = sorted(coco.cats)
    tf = T.Compose([
        T.ToImage(),
        T.RandomPhotometricDistort(p=1.0),
        T.RandomZoomOut(fill={tv_tensors.Image: (123, 117, 104), "others": 0}),
        T.RandomIoUCrop(),
        T.RandomHorizontalFlip(p=0.5),
        T.Resize((size, size), antialias=True),
        T.SanitizeBoundingBoxes(),
        T.ToDtype(torch.float32, scale=True),
    ])

    def sample(i: int) -> Any:
        img_id = ids[i]
        info = coco.imgs[img_id]
        img = Image.open(os.path.join(data_root, "train2017", info["file_name"])).convert("RGB")
        anns = [a for a in coco.imgToAnns[img_id] if not a["iscrowd"]]
        boxes = torch.tensor([a["bbox"] for a in anns], dtype=torch.float32).reshape(-1, 4)
        boxes[:, 2:] += boxes[:, :2]
        target = {
            "boxes": tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=(info["height"], info["width"])),
            "labels": torch.tensor([cat_ids.index(a["category_id"]) for a in anns], dtype=torch.int64),
        }
        return tf(img, target)

    return sample, len(ids)


def _frcnn_mbv3_large_fpn() -> nn.Module:
    from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_fpn

    return fasterrcnn_mobilenet_v3_large_fpn(weights=None, weights_backbone=None)




# (model type, backbone name, distinguishing option) -> peer
PEERS: dict[tuple[str, str, str], Peer] = {
    ("SSDLite", "mobilenet_v3_large", "reduced_tail=detection"): Peer(
        "torchvision ssdlite320_mobilenet_v3_large", "ssdlite", torchvision_ssdlite,
        "same RF2 network; torchvision: 91 softmax classes, 6 anchors on every map (ours: 80 sigmoid, 3 on the first)"),
    ("FasterRCNN", "mobilenet_v3_large", "fpn, short side 800"): Peer(
        "torchvision fasterrcnn_mobilenet_v3_large_fpn", "faster_rcnn", _frcnn_mbv3_large_fpn,
        "same architecture rebuilt from torchvision's modules (81 vs 91 classes)"),
    ("FasterRCNN", "mobilenet_v3_large", "fpn, short side 320"): Peer(
        "torchvision fasterrcnn_mobilenet_v3_large_320_fpn", "faster_rcnn", torchvision_frcnn_320_fpn,
        "same architecture rebuilt from torchvision's modules (81 vs 91 classes)"),
    ("EncoderDecoder", "mobilenet_v3_large", "LRASPPHead, OS 16, RF2"): Peer(
        "torchvision lraspp_mobilenet_v3_large(num_classes=19)", "segmentation", torchvision_lraspp,
        "torchvision: full tail (960-ch C5), global-pool gate, 40-ch low-level tap; ours: RF2 (480), 49x49/(4,5) "
        "gate, 120-ch tap"),
}


def peer_key(cfg: Config) -> tuple[str, str, str] | None:
    """The :data:`PEERS` key describing ``cfg.model``, or ``None`` when it is not a kind torchvision has."""
    model = cfg.model
    kind = model.get("type")
    backbone = model.get("backbone", {}) or {}
    name = backbone.get("name")
    if kind == "SSDLite" and backbone.get("reduced_tail") == "detection" and backbone.get("width_mult", 1.0) == 1.0:
        return (kind, name, "reduced_tail=detection")
    if kind == "FasterRCNN" and model.get("neck") == "fpn":
        short = min(eval_image_shape(cfg))
        return (kind, name, f"fpn, short side {800 if short > 320 else 320}")
    if kind == "EncoderDecoder":
        head = (model.get("decode_head") or {}).get("type")
        if head == "LRASPPHead" and backbone.get("reduced_tail") == "segmentation" and \
                backbone.get("output_stride") == 16 and backbone.get("width_mult", 1.0) == 1.0:
            return (kind, name, "LRASPPHead, OS 16, RF2")
    return None


def find_peer(cfg: Config) -> Peer | None:
    """torchvision's counterpart of ``cfg``'s model (see :data:`PEERS`), or ``None``."""
    key = peer_key(cfg)
    return PEERS.get(key) if key is not None else None


class PeerRunner:
    """Callables timing a torchvision peer on an ``hw`` input: :attr:`model_only` and :attr:`end_to_end` (see the
    module docstring for exactly what each includes)."""

    def __init__(self, peer: Peer, hw: tuple[int, int], device: str | torch.device = "cpu", seed: int = 0) -> None:
        self.peer = peer
        self.device = torch.device(device)
        torch.manual_seed(seed)
        self.model = peer.build().eval().to(self.device)
        g = torch.Generator().manual_seed(seed)
        self.image = torch.randint(0, 256, (3, *hw), dtype=torch.uint8, generator=g).to(self.device)
        self.hw = hw
        self.x = self._normalise(self.image)[None]

    def _normalise(self, image: Tensor) -> Tensor:
        m = self.model
        if self.peer.task == "segmentation":
            mean = torch.tensor([0.485, 0.456, 0.406], device=image.device).view(3, 1, 1)
            std = torch.tensor([0.229, 0.224, 0.225], device=image.device).view(3, 1, 1)
        else:
            mean = torch.tensor(m.transform.image_mean, device=image.device).view(3, 1, 1)
            std = torch.tensor(m.transform.image_std, device=image.device).view(3, 1, 1)
        return (image.float() / 255 - mean) / std

    def to_channels_last(self) -> None:
        self.model.to(memory_format=torch.channels_last)
        self.x = self.x.contiguous(memory_format=torch.channels_last)

    # -- model only ----------------------------------------------------------------------------------------------
    def model_only(self) -> Any:
        m = self.model
        if self.peer.task == "ssdlite":
            return m.head(list(m.backbone(self.x).values()))
        if self.peer.task == "segmentation":
            return m(self.x)["out"]
        return self._frcnn_tensor()

    def _frcnn_tensor(self) -> Any:
        from densenets.models.detectors.faster_rcnn import fixed_rois_forward

        m, x = self.model, self.x
        k = int(m.rpn._post_nms_top_n["testing"])
        out = fixed_rois_forward(m.rpn, m.roi_heads, m.backbone(x), x, k)
        return out["cls_logits"], out["box_deltas"]

    # -- post-processing alone -----------------------------------------------------------------------------------
    def post_processing(self) -> Callable[[], Any] | None:
        """SSDLite: a callable running torchvision's post-processing on fixed head outputs of the image (module
        docstring); ``None`` for the other tasks."""
        if self.peer.task != "ssdlite":
            return None
        m = self.model
        with torch.inference_mode():
            images, _ = m.transform([self.image.float() / 255])
            features = list(m.backbone(images.tensors).values())
            head_outputs = m.head(features)
            anchors = m.anchor_generator(images, features)
        original_sizes = [tuple(self.image.shape[-2:])]

        def run() -> Any:
            detections = m.postprocess_detections(head_outputs, anchors, images.image_sizes)
            return m.transform.postprocess(detections, images.image_sizes, original_sizes)

        return run

    # -- end to end ----------------------------------------------------------------------------------------------
    def end_to_end(self) -> Any:
        if self.peer.task == "segmentation":
            return self.model(self._normalise(self.image)[None])["out"].argmax(1)
        return self.model([self.image.float() / 255])
