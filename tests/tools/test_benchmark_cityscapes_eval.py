"""tools/analysis/benchmark_cityscapes_eval.py runs end to end on one image and reports agreeing scores."""
from __future__ import annotations

import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "tools", "analysis", "benchmark_cityscapes_eval.py")


def test_benchmark_prints_times_and_the_cpu_ratio(capsys):
    spec = importlib.util.spec_from_file_location("benchmark_cityscapes_eval", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    assert mod.main(["--num-images", "1", "--workers", "1", "--repeat", "1", "--few-instances"]) == 0
    out = capsys.readouterr().out
    assert "official" in out and "ours, 1 worker(s)" in out and "CPU time ratio" in out
    assert "scores agree to 1e-6" in out  # main() asserts the agreement before printing this
