"""Params and MAdds of every Table 7 / Table 8 config against the MobileNetV3 paper.

Counting convention. The project counts MAdds of convolutions and fully-connected layers only (the papers'
convention, ``densenets.analysis.count_complexity``). The paper's segmentation figures are reproduced when (a) the
image is TF DeepLab's evaluation crop 1025x2049 (a 16k+1 size; "1024x2048" in the table) and (b) the element-wise
multiplies of MobileNetV3's layers are added: 2 per h-swish output element (x * relu6(x + 3) * 1/6) and 1 per output
element of a squeeze-and-excite scaling. MobileNetV2 rows have neither, and match with (a) alone. The conv-only
figures are in docs/notes/segmentation-models.md.

Shapes only matter, so the models run on the ``meta`` device (no arithmetic, a fraction of a second per model).
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from torch import nn

from densenets.analysis.complexity import count_complexity
from densenets.analysis.paper_figures import SEGMENTATION
from densenets.registry import MODELS

ROOT = Path(__file__).resolve().parents[3]
TF_EVAL_SIZE = (1025, 2049)

# config -> (row, params in millions or None, MAdds in billions): MobileNetV3 paper Table 7 / Table 8
TABLE = {f"{name}.py": (p.source, p.params_m, p.madds_b) for name, p in SEGMENTATION.items()}
# Table 7 row 10 lists 0.16M; the architecture as described (make_divisible(c * 0.35, 8) channels, as rows 9's
# 0.28M and the MAdds of both rows confirm) has 0.169M. TF DeepLab's alternative rounding for alpha < 1
# (divisible_by=1) gives 0.151M params but 1.99B MAdds (-22%), so it is not what the table measured.
KNOWN_PARAM_GAPS = {"lraspp_mbv2_035_cityscapes.py"}


def paper_complexity(model: nn.Module) -> tuple[int, int, int]:
    """(params, conv MAdds, paper-convention MAdds) at TF's 1025x2049 evaluation size."""
    model.to("meta")
    conv = count_complexity(model, TF_EVAL_SIZE)
    paper = count_complexity(model, TF_EVAL_SIZE, elementwise=True)
    return conv.params, conv.madds, paper.madds


@pytest.fixture(scope="module")
def measured() -> dict[str, tuple[int, int, int]]:
    out = {}
    for name in TABLE:
        cfg = Config.fromfile(str(ROOT / "configs" / name))
        with torch.device("meta"):  # no weight initialisation arithmetic either
            model = MODELS.build(cfg.model)
        out[name] = paper_complexity(model)
    return out


@pytest.mark.parametrize("name", sorted(TABLE))
def test_madds_match_the_paper(name: str, measured) -> None:
    row, _, madds = TABLE[name]
    _, conv, paper_convention = measured[name]
    assert paper_convention / 1e9 == pytest.approx(madds, rel=0.03), f"{row}: {paper_convention / 1e9:.3f}B"
    assert conv <= paper_convention  # the conv-only count is the lower bound of the same network


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="Table 7 row 10: 0.169M vs 0.16M, see comment"))
        if n in KNOWN_PARAM_GAPS else n
        for n in sorted(n for n, v in TABLE.items() if v[1] is not None)
    ],
)
def test_params_match_the_paper(name: str, measured) -> None:
    row, params, _ = TABLE[name]
    assert measured[name][0] / 1e6 == pytest.approx(params, rel=0.03), f"{row}: {measured[name][0] / 1e6:.4f}M"
