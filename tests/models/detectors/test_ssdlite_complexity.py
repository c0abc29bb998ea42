"""SSDLite parameters and MAdds at 320x320 with TF's 90-class label map against MobileNetV3 paper Table 6."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from densenets.analysis import count_complexity
from densenets.analysis.paper_figures import SSDLITE
from densenets.models import SSDLite
from densenets.registry import MODELS

ROOT = Path(__file__).resolve().parents[3]

# row of MobileNetV3 Table 6 -> (config, params, MAdds); every config is counted as built, with 90 classes
TABLE6 = {p.source.removeprefix("MobileNetV3 Table 6 "): (f"{name}.py", p.params_m * 1e6, p.madds_b * 1e9)
          for name, p in SSDLITE.items()}
# V2 1.0: 4.48M params (+4.3%) with 90 classes — the paper's 4.3M (carried over from the MobileNetV2 paper) is below
# what the TF construction gives under any counting (without BN parameters 4.43M, +3.1%); its MAdds match (0.80B).
PARAM_TOLERANCE = {"V2": 0.05}
# V2 0.35: 0.166B MAdds (+3.9%) with TF's construction (final conv scaled to 448, extra layers max(int(d * 0.35), 16));
# the table prints two digits, and 0.166 truncated is its 0.16. Params (0.942M) are within 1.3%.
MADDS_TOLERANCE = {"V2 0.35": 0.04}


@pytest.mark.parametrize("row", list(TABLE6))
def test_table6_params_and_madds(row: str):
    torch.manual_seed(0)
    config, params, madds = TABLE6[row]
    cfg = Config.fromfile(str(ROOT / "configs" / config))
    cfg.model.num_classes = 90
    model = MODELS.build(cfg.model)
    assert model.head.num_columns == 90  # counted with one sigmoid column per class (see the test below)
    c = count_complexity(model, (320, 320))
    assert abs(c.params / params - 1) <= PARAM_TOLERANCE.get(row, 0.03), f"{row}: {c.params} params vs {params:.0f}"
    assert abs(c.madds / madds - 1) <= MADDS_TOLERANCE.get(row, 0.03), f"{row}: {c.madds} MAdds vs {madds:.0f}"


def test_head_counts_match_a_hand_count():
    """V3-Large RF2 head at 320: six maps (672, 480, 512, 256, 256, 128 ch), anchors 3, 6, 6, 6, 6, 6, 90 classes."""
    model = SSDLite(backbone=dict(name="mobilenet_v3_large", reduced_tail="detection"), num_classes=90)
    chans, anchors, sizes = (672, 480, 512, 256, 256, 128), (3, 6, 6, 6, 6, 6), (20, 10, 5, 3, 2, 1)
    per_pred = lambda c, out: c * 9 + 2 * c + c * out + out  # noqa: E731  dw 3x3, BN, 1x1 with bias
    expected_params = sum(per_pred(c, a * 90) + per_pred(c, a * 4) for c, a in zip(chans, anchors))
    expected_madds = sum(s * s * (2 * c * 9 + c * a * 94) for c, a, s in zip(chans, anchors, sizes))
    c = count_complexity(model, (320, 320), parts=["head"])
    assert c.parts["head"] == (expected_params, expected_madds)


def test_tf_background_column_is_not_built_and_what_it_would_add():
    """TF OD API ssd_meta_arch.py builds num_classes + 1 class columns (add_background_class) and, with
    encode_background_as_zeros, trains the background column towards 0 and slices it off in postprocess. densenets
    builds only the num_classes columns (the Table 6 counts above use them); TF's construction adds one 1x1-conv
    output (weights + bias) per anchor on every map: +11,841 params for V3-Large RF2 (3,248,255 instead of 3,236,414).
    With the softmax loss (torchvision's form) the background column is real and is built."""
    focal = SSDLite(backbone=dict(name="mobilenet_v3_large", reduced_tail="detection"), num_classes=90)
    chans, anchors = (672, 480, 512, 256, 256, 128), (3, 6, 6, 6, 6, 6)
    assert focal.head.num_columns == 90
    assert [p[-1].out_channels for p in focal.head.cls_preds] == [a * 90 for a in anchors]
    assert sum(a * (c + 1) for c, a in zip(chans, anchors)) == 11_841
    softmax = SSDLite(backbone=dict(name="mobilenet_v3_large", reduced_tail="detection"), num_classes=90,
                      loss="softmax_hnm")
    assert softmax.head.num_columns == 91
