"""gauss_flows: coupling layers for normalizing flows, on flowjax's bijection contract."""

from gauss_flows import xla_guard

xla_guard.protect()  # before any other module can start jax's backend

# ruff: noqa: E402

from gauss_flows.actnorm import ActNorm, initialize_actnorm
from gauss_flows.affine import AffineCoupling, LogScaleAffine
from gauss_flows import baselines, conditioners, datasets, masks, scores, xla_guard
from gauss_flows.conditioners import ResidualMLP
from gauss_flows.coupling import Coupling, default_mask
from gauss_flows.deep_sigmoid import DeepSigmoid, DeepSigmoidCoupling
from gauss_flows.flows import coupling_flow, coupling_layers
from gauss_flows.gradient_norms import layer_gradient_norms, record_gradient_norms
from gauss_flows.marginal import MarginalGaussianization, fit_marginal_mixtures
from gauss_flows.mixture_cdf import MixtureGaussianCDF, MixtureGaussianCDFCoupling
from gauss_flows.normal_quantile import ndtri_of_log
from gauss_flows.baselines import full_gaussian, gaussian_copula
from gauss_flows.rbig import rbig
from gauss_flows.rotation import Rotation, householder_rotation
from gauss_flows.rq_spline import RQSpline, RQSplineCoupling
from gauss_flows.scores import Score, paired_difference, score
from gauss_flows.seeds import (
    n_seeds,
    seed_log_probs,
    stack_seeds,
    train_flows,
    unstack_seeds,
)
from gauss_flows.training import default_show_progress, train_flow
from gauss_flows.warm_start import (
    diagonal_flow,
    diagonal_layer,
    fitted_transformers,
    transformer_parameters,
    warm_start,
)

__all__ = [
    "ActNorm",
    "AffineCoupling",
    "Coupling",
    "DeepSigmoid",
    "DeepSigmoidCoupling",
    "LogScaleAffine",
    "MarginalGaussianization",
    "MixtureGaussianCDF",
    "MixtureGaussianCDFCoupling",
    "RQSpline",
    "RQSplineCoupling",
    "ResidualMLP",
    "Rotation",
    "Score",
    "baselines",
    "conditioners",
    "coupling_flow",
    "coupling_layers",
    "datasets",
    "default_mask",
    "default_show_progress",
    "diagonal_flow",
    "diagonal_layer",
    "fit_marginal_mixtures",
    "fitted_transformers",
    "full_gaussian",
    "gaussian_copula",
    "householder_rotation",
    "initialize_actnorm",
    "layer_gradient_norms",
    "masks",
    "n_seeds",
    "ndtri_of_log",
    "paired_difference",
    "rbig",
    "record_gradient_norms",
    "score",
    "scores",
    "seed_log_probs",
    "stack_seeds",
    "train_flow",
    "train_flows",
    "transformer_parameters",
    "unstack_seeds",
    "warm_start",
    "xla_guard",
]
__version__ = "0.1.0"
