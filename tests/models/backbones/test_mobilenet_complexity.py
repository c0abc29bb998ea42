"""Classification figures at 224² (the papers' classification tables): params and MAdds of the paper's classification form."""
from __future__ import annotations

import pytest

from densenets.analysis import count_complexity
from densenets.models.classifier import ImageClassifier

# (name, options): (exact params or None, params target, MAdds range in millions)
# Sources: MobileNetV1 paper Table 8, MobileNetV2 Table 4, MobileNetV3 Table 3 / App. A, torchvision's exact counts
# (densenets/analysis/paper_figures.py BACKBONES holds the same figures with their sources); the α = 0.75
# rows are the MobileNetV3 paper's Table 3 (Large 0.75: 4.0M, 155M; Small 0.75: 2.0M, 44M).
FIGURES = {
    ("mobilenet_v1", ()): (None, 4.2e6, (569, 569)),
    ("mobilenet_v2", ()): (3_504_872, 3.5e6, (300, 300)),
    ("mobilenet_v3_large", ()): (5_483_032, 5.4e6, (217, 219)),
    ("mobilenet_v3_small", ()): (2_542_856, 2.5e6, (56, 66)),
    ("mobilenet_v3_large", (("width_mult", 0.75),)): (None, 4.0e6, (155, 155)),
    ("mobilenet_v3_small", (("width_mult", 0.75),)): (None, 2.0e6, (44, 44)),
}


@pytest.mark.parametrize("key", sorted(FIGURES), ids=[f"{n}{dict(o) or ''}" for n, o in sorted(FIGURES)])
def test_classification_figures(key: tuple) -> None:
    name, options = key
    exact, params_target, (lo, hi) = FIGURES[key]
    figures = count_complexity(ImageClassifier(name, **dict(options)), (224, 224))
    if exact is not None:
        assert figures.params == exact
    # within 2%, or within the paper's rounding to 0.1M
    assert abs(figures.params - params_target) <= max(0.02 * params_target, 0.05e6), f"{name}: {figures.params}"
    madds = figures.madds / 1e6
    assert lo * 0.98 <= madds <= hi * 1.02, f"{name}: {madds:.1f}M MAdds, paper {lo}–{hi}M"
