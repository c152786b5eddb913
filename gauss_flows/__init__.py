"""gauss_flows: coupling layers for normalizing flows, on flowjax's bijection contract."""

from gauss_flows.affine import AffineCoupling, LogScaleAffine
from gauss_flows.coupling import Coupling, default_mask
from gauss_flows.mixture_cdf import MixtureGaussianCDF, MixtureGaussianCDFCoupling
from gauss_flows.normal_quantile import ndtri_of_log

__all__ = [
    "AffineCoupling",
    "Coupling",
    "LogScaleAffine",
    "MixtureGaussianCDF",
    "MixtureGaussianCDFCoupling",
    "default_mask",
    "ndtri_of_log",
]
__version__ = "0.1.0"
