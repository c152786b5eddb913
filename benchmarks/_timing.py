"""Timing helpers shared by the benchmarks: interleaved A/B rounds, median ratios."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import jax


def time_call(fn: Callable[[], object], reps: int) -> float:
    """Fastest wall time (s) of ``reps`` calls of ``fn``, each blocked until ready.

    The minimum, not the mean: on a shared machine other processes only ever add time,
    so the fastest call is the best estimate of the call's own cost.
    """
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return min(times)


def interleaved_ratio(
    fn_a: Callable[[], object],
    fn_b: Callable[[], object],
    *,
    rounds: int,
    reps: int,
) -> dict[str, float]:
    """Time ``fn_a`` and ``fn_b`` alternately (A B A B ...) over ``rounds`` rounds.

    Both must already be compiled (call each once first). Returns the medians of the
    per-round times and of the per-round ratios ``t_b / t_a`` (so machine drift, which
    hits both halves of a round alike, cancels), plus the spread of the ratios.
    """
    t_a, t_b, ratios = [], [], []
    for _ in range(rounds):
        a = time_call(fn_a, reps)
        b = time_call(fn_b, reps)
        t_a.append(a)
        t_b.append(b)
        ratios.append(b / a)
    return {
        "t_a": statistics.median(t_a),
        "t_b": statistics.median(t_b),
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
    }


def compile_seconds(jitted, *args) -> float:
    """Seconds to lower and compile ``jitted`` (a ``jax.jit`` or ``eqx.filter_jit``) for
    ``args``."""
    start = time.perf_counter()
    jitted.lower(*args).compile()
    return time.perf_counter() - start
