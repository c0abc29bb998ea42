"""SSDLite parameters and MAdds at 320x320 with TF's 90-class label map against MobileNetV3 paper Table 6."""
from __future__ import annotations

import pytest
import torch

from densenets.analysis import count_complexity
from densenets.models import SSDLite

# (row, backbone, params, MAdds) of MobileNetV3 Table 6
TABLE6 = {
    "V1": (dict(name="mobilenet_v1"), 5.1e6, 1.3e9),
    "V2": (dict(name="mobilenet_v2"), 4.3e6, 0.80e9),
    "V3-Large": (dict(name="mobilenet_v3_large"), 4.97e6, 0.62e9),
    "V3-Large RF2": (dict(name="mobilenet_v3_large", reduced_tail="detection"), 3.22e6, 0.51e9),
    "V3-Small": (dict(name="mobilenet_v3_small"), 2.49e6, 0.21e9),
    "V3-Small RF2": (dict(name="mobilenet_v3_small", reduced_tail="detection"), 1.77e6, 0.16e9),
    "V2 0.5": (dict(name="mobilenet_v2", width_mult=0.5), 1.54e6, 0.27e9),
    "V2 0.35": (dict(name="mobilenet_v2", width_mult=0.35), 0.93e6, 0.16e9),
}
# V2 1.0: 4.48M params (+4.3%) with 90 classes — the paper's 4.3M (carried over from the MobileNetV2 paper) is below
# what the TF construction gives under any counting (without BN parameters 4.43M, +3.1%); its MAdds match (0.80B).
PARAM_TOLERANCE = {"V2": 0.05}
# TF's SSD feature extractor scales MobileNetV2's final 1x1 conv with the width multiplier (448 / 640 channels);
# densenets' mobilenet_v2 keeps it at 1280 for alpha < 1 (the classification paper's rule), which puts 1.7M / 2.1M
# parameters here. With the TF rule the counts are 0.942M / 0.166B (0.35) and 1.554M / 0.272B (0.5).
NEEDS_SCALED_FINAL_CONV = {"V2 0.5", "V2 0.35"}


def _rows():
    for row in TABLE6:
        marks = []
        if row in NEEDS_SCALED_FINAL_CONV:
            marks.append(pytest.mark.xfail(strict=True, reason="mobilenet_v2 keeps the final conv at 1280 for alpha < 1"))
        yield pytest.param(row, marks=marks, id=row)


@pytest.mark.parametrize("row", list(_rows()))
def test_table6_params_and_madds(row: str):
    torch.manual_seed(0)
    backbone, params, madds = TABLE6[row]
    model = SSDLite(backbone=dict(backbone), num_classes=90)
    c = count_complexity(model, (320, 320))
    assert abs(c.params / params - 1) <= PARAM_TOLERANCE.get(row, 0.03), f"{row}: {c.params} params vs {params:.0f}"
    assert abs(c.madds / madds - 1) <= 0.03, f"{row}: {c.madds} MAdds vs {madds:.0f}"


def test_head_counts_match_a_hand_count():
    """V3-Large RF2 head at 320: six maps (672, 480, 512, 256, 256, 128 ch), anchors 3, 6, 6, 6, 6, 6, 90 classes."""
    model = SSDLite(backbone=dict(name="mobilenet_v3_large", reduced_tail="detection"), num_classes=90)
    chans, anchors, sizes = (672, 480, 512, 256, 256, 128), (3, 6, 6, 6, 6, 6), (20, 10, 5, 3, 2, 1)
    per_pred = lambda c, out: c * 9 + 2 * c + c * out + out  # noqa: E731  dw 3x3, BN, 1x1 with bias
    expected_params = sum(per_pred(c, a * 90) + per_pred(c, a * 4) for c, a in zip(chans, anchors))
    expected_madds = sum(s * s * (2 * c * 9 + c * a * 94) for c, a, s in zip(chans, anchors, sizes))
    c = count_complexity(model, (320, 320), parts=["head"])
    assert c.parts["head"] == (expected_params, expected_madds)
