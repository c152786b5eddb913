"""Flows: whole models, as flowjax ``Transformed`` distributions.

``coupling_flows``: :func:`coupling_flow` (a standard-normal base pushed through
stacked couplings, with a mask schedule) and :func:`coupling_layers` (its layers,
unstacked, in data-to-latent order). ``rbig``: :func:`rbig`, rotation-based iterative
Gaussianization, fitted without gradients. ``baselines``: :func:`full_gaussian` and
:func:`gaussian_copula`, the closed-form models a flow must beat.
"""

from gauss_flows.flows.coupling_flows import (
    COUPLINGS,
    coupling_flow,
    coupling_layers,
    resolve_coupling,
    resolve_masks,
)
from gauss_flows.flows.rbig import rbig
from gauss_flows.flows.baselines import full_gaussian, gaussian_copula

__all__ = [
    "COUPLINGS",
    "coupling_flow",
    "coupling_layers",
    "full_gaussian",
    "gaussian_copula",
    "rbig",
    "resolve_coupling",
    "resolve_masks",
]
