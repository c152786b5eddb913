"""Seeded data sets with their true log densities and entropies.

``field``: a warped Gaussian Markov random field on a grid (``GaussianField``, d = hw).
``toys``: the 2-D toys (``TOYS``, one sampler function per toy, the entropy tools).
Every data set has the same interface: ``sample(key, n)``, ``log_prob(x)`` and
``entropy`` with its error ``entropy_se`` and ``entropy_method``; the 2-D toys also
carry their ``total_correlation`` (with ``_se`` and ``_method``).
"""

from gauss_flows.datasets.field import GaussianField, grid_neighbours
from gauss_flows.datasets.toys import (
    TOYS,
    Checkerboard,
    EightGaussians,
    IsotropicMixture,
    NoisyCurve,
    Pinwheel,
    Spiral,
    Toy,
    TwoMoons,
    checkerboard,
    eight_gaussians,
    entropy_table,
    estimate_entropy,
    estimate_total_correlation,
    marginal_entropy,
    marginal_log_prob,
    pinwheel,
    quadrature_entropy,
    spiral,
    total_correlation,
    total_correlation_table,
    two_moons,
)

__all__ = [
    "TOYS",
    "Checkerboard",
    "EightGaussians",
    "GaussianField",
    "IsotropicMixture",
    "NoisyCurve",
    "Pinwheel",
    "Spiral",
    "Toy",
    "TwoMoons",
    "checkerboard",
    "eight_gaussians",
    "entropy_table",
    "estimate_entropy",
    "estimate_total_correlation",
    "marginal_entropy",
    "marginal_log_prob",
    "grid_neighbours",
    "pinwheel",
    "quadrature_entropy",
    "spiral",
    "total_correlation",
    "total_correlation_table",
    "two_moons",
]
