r"""One way to report a held-out score: the gap to a floor, over seeds and test points.

A model $q$ scored on $n$ fresh test points has the held-out gap
$\mathrm{NLL} - H(p) = -\frac1n\sum_j \log q(x_j) - H(p)$, an estimate of
$\mathrm{KL}(p\,\|\,q) \ge 0$ when the floor is the entropy $H(p)$. Two kinds of
uncertainty sit on it: the test-sample standard error (which test points were drawn)
and the spread over training seeds (which initialisation and minibatch order).
:class:`Score` keeps both and prints them the same way everywhere;
:func:`paired_difference` compares two models on the same test points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from jaxtyping import ArrayLike


def _per_seed(log_probs: ArrayLike, name: str) -> np.ndarray:
    lp = np.asarray(log_probs, np.float64)
    if lp.ndim == 1:
        lp = lp[None]
    if lp.ndim != 2 or lp.shape[1] < 2:
        raise ValueError(
            f"{name} must have shape (n,) or (seeds, n) with n >= 2, got {lp.shape}."
        )
    if not np.all(np.isfinite(lp)):
        raise ValueError(f"{name} contains non-finite log-densities.")
    return lp


@dataclass(frozen=True)
class Score:
    """Held-out gaps of ``k`` seeds of one model, with their test-sample errors.

    Attributes:
        gaps: Shape ``(k,)``: each seed's mean $-\\log q$ on the test points minus
            the floor.
        test_se: Shape ``(k,)``: each seed's standard error over the test points.
    """

    gaps: np.ndarray
    test_se: np.ndarray

    @property
    def n_seeds(self) -> int:
        return self.gaps.size

    @property
    def mean(self) -> float:
        return float(self.gaps.mean())

    @property
    def sd(self) -> float:
        """Standard deviation over seeds (0 for one seed)."""
        return float(self.gaps.std(ddof=1)) if self.n_seeds > 1 else 0.0

    @property
    def min(self) -> float:
        return float(self.gaps.min())

    @property
    def max(self) -> float:
        return float(self.gaps.max())

    @property
    def se(self) -> float:
        """The test-sample standard error (largest over seeds)."""
        return float(self.test_se.max())

    def __str__(self) -> str:
        if self.n_seeds == 1:
            return f"{self.mean:.3f} (test SE {self.se:.3f}; one fit)"
        return (
            f"{self.mean:.3f} (seed sd {self.sd:.3f}, {self.min:.3f} to {self.max:.3f} "
            f"over {self.n_seeds} seeds; test SE {self.se:.3f})"
        )


def score(log_probs: ArrayLike, floor: float = 0.0) -> Score:
    """The :class:`Score` of log-densities ``(n,)`` or ``(seeds, n)`` against ``floor``.

    ``floor`` is the entropy $H(p)$ of the data (or 0 to score the NLL itself).
    """
    lp = _per_seed(log_probs, "log_probs")
    gaps = -lp.mean(1) - float(floor)
    test_se = lp.std(1, ddof=1) / np.sqrt(lp.shape[1])
    return Score(gaps, test_se)


def paired_difference(log_probs_a: ArrayLike, log_probs_b: ArrayLike) -> Score:
    r"""How much better model a is than b, paired over the same test points.

    Per seed, the mean and standard error of $\log q_a(x_j) - \log q_b(x_j)$ (so
    positive means a is better); the result's ``gaps`` hold these means. Shapes
    ``(n,)`` or ``(seeds, n)``; one model with one row is compared with every seed of
    the other.
    """
    a, b = _per_seed(log_probs_a, "log_probs_a"), _per_seed(log_probs_b, "log_probs_b")
    seeds_match = a.shape[0] == b.shape[0] or 1 in (a.shape[0], b.shape[0])
    if a.shape[1] != b.shape[1] or not seeds_match:
        raise ValueError(
            f"log_probs_a {a.shape} and log_probs_b {b.shape} must score the same test "
            "points with the same number of seeds (or one of them a single row)."
        )
    diff = a - b
    return Score(diff.mean(1), diff.std(1, ddof=1) / np.sqrt(diff.shape[1]))
