"""Seeded data sets with their true log densities and entropies.

``field``: a warped Gaussian Markov random field on a grid (``GaussianField``, d = hw).
``toys``: the 2-D toys (``TOYS``, one sampler function per toy, the entropy tools).
``digits``: scikit-learn's 8x8 digits (``load_digits``, a fixed train/validation/test
split of pixel counts) and uniform ``dequantize``; real data, so no true density.
Every data set has the same interface: ``sample(key, n)``, ``log_prob(x)`` and
``entropy`` with its error ``entropy_se`` and ``entropy_method``; the 2-D toys also
carry their ``total_correlation`` (with ``_se`` and ``_method``).
"""

from gauss_flows.datasets.digits import dequantize, load_digits
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
    "dequantize",
    "eight_gaussians",
    "entropy_table",
    "estimate_entropy",
    "estimate_total_correlation",
    "marginal_entropy",
    "marginal_log_prob",
    "grid_neighbours",
    "load_digits",
    "pinwheel",
    "quadrature_entropy",
    "spiral",
    "total_correlation",
    "total_correlation_table",
    "two_moons",
]
