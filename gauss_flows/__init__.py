"""gauss_flows: coupling layers for normalizing flows, on flowjax's bijection contract."""

from gauss_flows.affine import AffineCoupling, LogScaleAffine
from gauss_flows import conditioners, datasets, masks
from gauss_flows.conditioners import ResidualMLP
from gauss_flows.coupling import Coupling, default_mask
from gauss_flows.deep_sigmoid import DeepSigmoid, DeepSigmoidCoupling
from gauss_flows.flows import coupling_flow, coupling_layers
from gauss_flows.mixture_cdf import MixtureGaussianCDF, MixtureGaussianCDFCoupling
from gauss_flows.normal_quantile import ndtri_of_log
from gauss_flows.rq_spline import RQSpline, RQSplineCoupling
from gauss_flows.training import train_flow

__all__ = [
    "AffineCoupling",
    "Coupling",
    "DeepSigmoid",
    "DeepSigmoidCoupling",
    "LogScaleAffine",
    "MixtureGaussianCDF",
    "MixtureGaussianCDFCoupling",
    "RQSpline",
    "RQSplineCoupling",
    "ResidualMLP",
    "conditioners",
    "coupling_flow",
    "coupling_layers",
    "datasets",
    "default_mask",
    "masks",
    "ndtri_of_log",
    "train_flow",
]
__version__ = "0.1.0"
