"""Wall-clock timing of a callable: warm-up, repeated timed runs, robust statistics.

One timed run = one call of ``fn`` between two ``time.perf_counter()`` readings; on CUDA the device is synchronised
before each reading, so the figure is the time until the GPU has finished. Medians are reported (a shared machine
produces outliers only upwards), with the quartiles as the spread and the minimum as the best case.

>>> stats = time_fn(lambda: model(x, mode="tensor"), runs=50, warmup=10)
>>> print(stats.fmt())          # '12.31 ms (p25 12.10, p75 12.90, min 11.95; 50 runs)'
"""
from __future__ import annotations

import random
import resource
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

import torch


@dataclass(frozen=True)
class Timing:
    """Seconds per call: median, 25th / 75th percentile, minimum, and the number of timed runs."""

    median: float
    p25: float
    p75: float
    min: float
    runs: int

    @property
    def iqr(self) -> float:
        return self.p75 - self.p25

    def as_ms(self) -> dict[str, float | int]:
        """The same figures in milliseconds (``runs`` unchanged), e.g. for ``--json``."""
        return {k: (v if k == "runs" else round(v * 1e3, 4)) for k, v in asdict(self).items()}

    def fmt(self) -> str:
        return (f"{self.median * 1e3:.2f} ms (p25 {self.p25 * 1e3:.2f}, p75 {self.p75 * 1e3:.2f}, "
                f"min {self.min * 1e3:.2f}; {self.runs} runs)")


def summarise(seconds: list[float]) -> Timing:
    """Median, quartiles (``statistics.quantiles``, inclusive method) and minimum of a list of durations."""
    if not seconds:
        raise ValueError("summarise: no timings")
    if len(seconds) == 1:
        q1 = q3 = seconds[0]
    else:
        q1, _, q3 = statistics.quantiles(seconds, n=4, method="inclusive")
    return Timing(statistics.median(seconds), q1, q3, min(seconds), len(seconds))


def _sync(device: torch.device | str | None) -> None:
    if device is not None and torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def time_fn(
    fn: Callable[[], Any],
    runs: int = 50,
    warmup: int = 10,
    device: torch.device | str | None = None,
    max_seconds: float | None = None,
) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then ``runs`` times timed; returns :class:`Timing`.

    ``device``: synchronise CUDA around each timed call when it is a CUDA device. ``max_seconds``: stop timing early
    (after at least one run) once this much time has been spent in timed runs — for the second-long segmentation
    figures; ``Timing.runs`` says how many runs were made.
    """
    if runs < 1 or warmup < 0:
        raise ValueError(f"time_fn: runs must be >= 1 and warmup >= 0, got runs={runs}, warmup={warmup}")
    for _ in range(warmup):
        fn()
    _sync(device)
    seconds: list[float] = []
    spent = 0.0
    for _ in range(runs):
        _sync(device)
        t0 = time.perf_counter()
        fn()
        _sync(device)
        seconds.append(time.perf_counter() - t0)
        spent += seconds[-1]
        if max_seconds is not None and spent >= max_seconds:
            break
    return summarise(seconds)


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of the child processes it has waited for (worker pools)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _interleave(
    fns: dict[str, Callable[[], Any]], runs: int, warmup: int, device: torch.device | str | None,
    order_seed: int | None, what: str,
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU seconds of each call, one call of each candidate per round (see :func:`time_interleaved`)."""
    if runs < 1 or warmup < 0:
        raise ValueError(f"{what}: runs must be >= 1 and warmup >= 0, got runs={runs}, warmup={warmup}")
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    rng = random.Random(order_seed)
    wall: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        order = list(fns)
        if order_seed is not None:
            rng.shuffle(order)
        for name in order:
            _sync(device)
            t0, c0 = time.perf_counter(), cpu_seconds()
            fns[name]()
            _sync(device)
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(cpu_seconds() - c0)
    return wall, cpu


def time_interleaved(
    fns: dict[str, Callable[[], Any]],
    runs: int = 50,
    warmup: int = 10,
    device: torch.device | str | None = None,
    order_seed: int | None = None,
) -> dict[str, Timing]:
    """Time several callables round-robin (one call of each per round), so that load changes on a shared machine
    hit every candidate alike — the fair way to compute ratios between them. Same statistics as :func:`time_fn`.

    ``order_seed``: call the candidates in a new random order every round (seeded), so that the allocator and cache
    state one call leaves behind does not always favour the same next candidate."""
    wall, _ = _interleave(fns, runs, warmup, device, order_seed, "time_interleaved")
    return {name: summarise(s) for name, s in wall.items()}


def time_interleaved_cpu(
    fns: dict[str, Callable[[], Any]],
    runs: int = 50,
    warmup: int = 10,
    device: torch.device | str | None = None,
    order_seed: int | None = None,
) -> dict[str, tuple[Timing, Timing]]:
    """As :func:`time_interleaved`, with the CPU time of each call too: ``{name: (wall, cpu)}``. CPU time is
    :func:`cpu_seconds` (this process + waited-for workers): with one thread, the wall time minus the waits for a
    core — the steadier figure on a busy machine."""
    wall, cpu = _interleave(fns, runs, warmup, device, order_seed, "time_interleaved_cpu")
    return {name: (summarise(wall[name]), summarise(cpu[name])) for name in fns}
