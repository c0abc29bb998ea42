"""The papers' published figures: one copy, imported by the tools and the tests.

Per config (keyed by config name, the file name without ``.py``) and per backbone classification form:

* SSDLite — MobileNetV3 paper Table 6: COCO test-dev mAP, Pixel-1 single-core latency, params, MAdds at 320x320
  with TF's 90-id label map.
* Backbones — classification form at 224x224, 1000 classes: MobileNetV1 paper (Table 8: 4.2M, 569M),
  MobileNetV2 Table 4, MobileNetV3 Table 3 / Appendix A, ShuffleNet Table 1 (MFLOPs per group count) and ShuffleNet
  V2 Table 5, as (low, high) ranges where the paper's versions differ.
* Faster R-CNN — ShuffleNet paper Table 7: COCO minival mAP at shorter side 300 / 600 (no latency, no complexity);
  MobileNet paper Table 13 adds MobileNetV1's MAdds and params (300 proposals).
  The MobileNetV3 FPN configs are torchvision's models; their reference figure is torchvision's published val2017
  box mAP (trained from ImageNet weights), not a paper's.
* Segmentation — MobileNetV3 paper Table 7: Cityscapes val mIoU, params, MAdds at 1024x2048, Pixel-3 single-core
  CPU time at 1024x2048 (full) and 512x1024 (half). The OS-32 rows come from Table 8 (test set mIoU, MAdds only).

Note: the paper's segmentation MAdds count TF DeepLab's 1025x2049 evaluation crop and also the element-wise
multiplies of h-swish and SE (see tests/models/segmentors/test_table7_complexity.py); densenets' own MAdds are
convolutions and fully-connected layers only, at 1024x2048, so they come out a few percent lower.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple


@dataclass(frozen=True)
class PaperFigures:
    """Published figures of one configuration; ``None`` where the source does not give the figure."""

    source: str
    metric: float | None = None  # mAP (detection) or mIoU (segmentation), in %
    params_m: float | None = None
    madds_b: float | None = None
    latency_ms: float | None = None  # detection: Pixel-1; segmentation: Pixel-3 at 1024x2048
    latency_half_ms: float | None = None  # segmentation: Pixel-3 at 512x1024
    note: str = ""


_T6 = "MobileNetV3 Table 6"
_S7 = "ShuffleNet Table 7"
_T7 = "MobileNetV3 Table 7"

SSDLITE: dict[str, PaperFigures] = {
    "ssdlite_mbv1": PaperFigures(f"{_T6} V1", 22.2, 5.1, 1.3, 228),
    "ssdlite_mbv2": PaperFigures(f"{_T6} V2", 22.1, 4.3, 0.80, 162),
    "ssdlite_mbv3_large_full": PaperFigures(f"{_T6} V3-Large", 22.0, 4.97, 0.62, 137),
    "ssdlite_mbv3_large": PaperFigures(f"{_T6} V3-Large RF2", 22.0, 3.22, 0.51, 119),
    "ssdlite_mbv2_w035": PaperFigures(f"{_T6} V2 0.35", 13.7, 0.93, 0.16, 66),
    "ssdlite_mbv2_w050": PaperFigures(f"{_T6} V2 0.5", 16.6, 1.54, 0.27, 79),
    "ssdlite_mbv3_small_full": PaperFigures(f"{_T6} V3-Small", 16.0, 2.49, 0.21, 52),
    "ssdlite_mbv3_small": PaperFigures(f"{_T6} V3-Small RF2", 16.1, 1.77, 0.16, 43),
}

FASTER_RCNN: dict[str, PaperFigures] = {
    "faster_rcnn_shufflenet_v1_2x_g3_300": PaperFigures(f"{_S7} 2x g3, 300", 18.7),
    "faster_rcnn_shufflenet_v1_2x_g3_600": PaperFigures(f"{_S7} 2x g3, 600", 25.0),
    "faster_rcnn_shufflenet_v1_1x_g3_300": PaperFigures(f"{_S7} 1x g3, 300", 14.5),
    "faster_rcnn_shufflenet_v1_1x_g3_600": PaperFigures(f"{_S7} 1x g3, 600", 19.8),
    "faster_rcnn_mobilenet_v1_300": PaperFigures(f"{_S7} MobileNet 1.0, 300", 16.4, 6.1, 25.2,
                                                 note="params / MAdds: MobileNet Table 13"),
    "faster_rcnn_mobilenet_v1_600": PaperFigures(f"{_S7} MobileNet 1.0, 600", 19.8, 6.1, 30.5,
                                                 note="params / MAdds: MobileNet Table 13"),
    "faster_rcnn_mbv3_large_fpn": PaperFigures(
        "torchvision (val2017, ImageNet backbone)", 32.8, 19.39, note="not a paper figure"),
    "faster_rcnn_mbv3_large_320_fpn": PaperFigures(
        "torchvision (val2017, ImageNet backbone)", 22.8, 19.39, note="not a paper figure"),
}

SEGMENTATION: dict[str, PaperFigures] = {
    "raspp_mbv2_cityscapes": PaperFigures(f"{_T7} row 1", 72.84, 2.11, 21.29, 3900, 1020),
    "raspp_mbv2_rf2_cityscapes": PaperFigures(f"{_T7} row 2", 72.56, 1.15, 13.68, 3030, 793),
    "lraspp_mbv2_rf2_f256_cityscapes": PaperFigures(f"{_T7} row 3", 72.97, 1.02, 12.83, 2980, 786),
    "lraspp_mbv2_rf2_cityscapes": PaperFigures(f"{_T7} row 4", 72.74, 0.98, 12.57, 2890, 766),
    "raspp_mbv3_large_cityscapes": PaperFigures(f"{_T7} row 5", 72.64, 3.60, 18.43, 3550, 906),
    "raspp_mbv3_large_rf2_cityscapes": PaperFigures(f"{_T7} row 6", 71.91, 1.76, 11.24, 2600, 668),
    "lraspp_mbv3_large_f256_cityscapes": PaperFigures(f"{_T7} row 7", 72.37, 1.63, 10.33, 2550, 659),
    "lraspp_mbv3_large_cityscapes": PaperFigures(f"{_T7} row 8", 72.36, 1.51, 9.74, 2470, 657),
    "lraspp_mbv2_050_cityscapes": PaperFigures(f"{_T7} row 9", 68.57, 0.28, 4.00, 1590, 415),
    "lraspp_mbv2_035_cityscapes": PaperFigures(f"{_T7} row 10", 66.83, 0.16, 2.54, 1270, 354),
    "lraspp_mbv3_small_cityscapes": PaperFigures(f"{_T7} row 11", 68.38, 0.47, 2.90, 1210, 327),
    "lraspp_mbv3_large_os32_cityscapes": PaperFigures(
        "MobileNetV3 Table 8 (test set)", 72.0, None, 7.74, note="mIoU on the test set"),
    "lraspp_mbv3_small_os32_cityscapes": PaperFigures(
        "MobileNetV3 Table 8 (test set)", 68.3, None, 2.06, note="mIoU on the test set"),
}

ALL: dict[str, PaperFigures] = {**SSDLITE, **FASTER_RCNN, **SEGMENTATION}

_M = 1e6


class BackboneFigures(NamedTuple):
    """A backbone's classification form as a paper reports it: ``(low, high)`` params and MAdds (``None`` where the
    paper gives no figure for these options)."""

    name: str
    options: dict[str, Any]
    params: tuple[float, float] | None
    madds: tuple[float, float] | None
    source: str


# every backbone at its main variants, in the README's backbone-table order
BACKBONES: list[BackboneFigures] = [
    BackboneFigures("mobilenet_v1", {}, (4.2 * _M, 4.2 * _M), (569 * _M, 569 * _M), "MobileNetV1 paper"),
    BackboneFigures("mobilenet_v2", {}, (3.4 * _M, 3.4 * _M), (300 * _M, 300 * _M), "MobileNetV2 Table 4"),
    BackboneFigures("mobilenet_v2", {"width_mult": 0.5}, None, None, ""),
    BackboneFigures("mobilenet_v2", {"width_mult": 0.35}, None, None, ""),
    BackboneFigures("mobilenet_v2", {"reduced_tail": "segmentation"}, None, None, ""),
    BackboneFigures("mobilenet_v3_large", {}, (5.4 * _M, 5.4 * _M), (217 * _M, 219 * _M),
                    "MobileNetV3 Table 3 / App. A"),
    BackboneFigures("mobilenet_v3_large", {"reduced_tail": "detection"}, None, None, ""),
    BackboneFigures("mobilenet_v3_large", {"reduced_tail": "segmentation"}, None, None, ""),
    BackboneFigures("mobilenet_v3_small", {}, (2.5 * _M, 2.9 * _M), (56 * _M, 66 * _M),
                    "MobileNetV3 (versions differ)"),
    BackboneFigures("mobilenet_v3_small", {"reduced_tail": "detection"}, None, None, ""),
    BackboneFigures("mobilenet_v3_small", {"reduced_tail": "segmentation"}, None, None, ""),
    *[BackboneFigures("shufflenet_v1", {"groups": g}, None, (f * _M, f * _M), "ShuffleNet Table 1")
      for g, f in ((1, 143), (2, 140), (3, 137), (4, 133), (8, 137))],
    *[BackboneFigures("shufflenet_v2", {"width_mult": w}, (p * _M, p * _M), (f * _M, f * _M), "ShuffleNet V2 Table 5")
      for w, p, f in ((0.5, 1.4, 41), (1.0, 2.3, 146), (1.5, 3.5, 299), (2.0, 7.4, 591))],
]


def paper_figures(config_name: str) -> PaperFigures | None:
    """Figures for ``config_name`` (``"ssdlite_mbv3_large"``, ``"configs/ssdlite_mbv3_large.py"`` both work)."""
    stem = config_name.rsplit("/", 1)[-1].removesuffix(".py")
    return ALL.get(stem)
