"""Fitting without gradients: layers and starting points computed from data.

``mixtures``: :func:`fit_marginal_mixtures`, EM for one Gaussian mixture per coordinate
(behind :meth:`gauss_flows.MarginalGaussianization.fit`). ``warm_start``:
:func:`warm_start`, a coupling flow started at the diagonal flow fitted to the data,
and :func:`diagonal_flow`, that diagonal flow itself. ``actnorm_init``:
:func:`initialize_actnorm`, every ActNorm of a flow set from a batch.
"""

from gauss_flows.fitting.mixtures import DEFAULT_MIN_SCALE_RATIO, fit_marginal_mixtures
from gauss_flows.fitting.warm_start import (
    diagonal_flow,
    diagonal_layer,
    fitted_transformers,
    transformer_parameters,
    warm_start,
)
from gauss_flows.fitting.actnorm_init import initialize_actnorm

__all__ = [
    "DEFAULT_MIN_SCALE_RATIO",
    "diagonal_flow",
    "diagonal_layer",
    "fit_marginal_mixtures",
    "fitted_transformers",
    "initialize_actnorm",
    "transformer_parameters",
    "warm_start",
]
