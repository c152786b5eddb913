"""The bijections: every layer of a flow, on flowjax's ``AbstractBijection`` contract.

``coupling``: the generic :class:`Coupling` (split, condition, transform). Transformers
with their couplings: ``affine`` (:class:`LogScaleAffine`, :class:`AffineCoupling`),
``mixture_cdf`` (:class:`MixtureGaussianCDF`, :class:`MixtureGaussianCDFCoupling`),
``deep_sigmoid`` (:class:`DeepSigmoid`, :class:`DeepSigmoidCoupling`), ``rq_spline``
(:class:`RQSpline`, :class:`RQSplineCoupling`). Layers without a conditioner:
``actnorm`` (:class:`ActNorm`), ``marginal`` (:class:`MarginalGaussianization`),
``rotation`` (:class:`Rotation`, :func:`householder_rotation`), ``lu_linear``
(:class:`LULinear`, a learned invertible linear map). ``stacking``: walking
the layers of ``Chain`` and ``Scan`` stacks.

Every bijection here maps data to latent in ``transform`` and accepts float32 and
float64 inputs only (``ValueError`` for any other dtype).
"""

from gauss_flows.bijections.coupling import Coupling
from gauss_flows.bijections.affine import AffineCoupling, LogScaleAffine
from gauss_flows.bijections.mixture_cdf import (
    MixtureGaussianCDF,
    MixtureGaussianCDFCoupling,
)
from gauss_flows.bijections.deep_sigmoid import DeepSigmoid, DeepSigmoidCoupling
from gauss_flows.bijections.rq_spline import RQSpline, RQSplineCoupling
from gauss_flows.bijections.actnorm import ActNorm
from gauss_flows.bijections.lu_linear import LULinear
from gauss_flows.bijections.rotation import Rotation, householder_rotation
from gauss_flows.bijections.stacking import map_layers, unstack
# last: MarginalGaussianization.fit uses gauss_flows.fitting, whose warm start and
# ActNorm initialisation build on the modules above
from gauss_flows.bijections.marginal import MarginalGaussianization

__all__ = [
    "ActNorm",
    "AffineCoupling",
    "Coupling",
    "DeepSigmoid",
    "DeepSigmoidCoupling",
    "LULinear",
    "LogScaleAffine",
    "MarginalGaussianization",
    "MixtureGaussianCDF",
    "MixtureGaussianCDFCoupling",
    "RQSpline",
    "RQSplineCoupling",
    "Rotation",
    "householder_rotation",
    "map_layers",
    "unstack",
]
