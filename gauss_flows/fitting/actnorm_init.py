r"""Data-dependent initialisation of every :class:`~gauss_flows.ActNorm` of a flow.

The batch is pushed through the layers from data to latent; each ``ActNorm`` is set
(:meth:`gauss_flows.ActNorm.initialized`) on the batch that reaches it, so its output
has zero mean and unit variance on the batch.
"""

from __future__ import annotations

import equinox as eqx
import jax
from flowjax.bijections import AbstractBijection
from flowjax.distributions import Transformed
from jaxtyping import Array, ArrayLike

from gauss_flows._validation import check_flow, check_samples
from gauss_flows.bijections.actnorm import ActNorm
from gauss_flows.bijections.stacking import map_layers, push


def _count_actnorms(tree) -> int:
    is_actnorm = lambda leaf: isinstance(leaf, ActNorm)  # noqa: E731
    return sum(is_actnorm(leaf) for leaf in jax.tree.leaves(tree, is_leaf=is_actnorm))


def _initialize(bijection: AbstractBijection, x: Array) -> tuple[AbstractBijection, Array]:
    """``(bijection with its ActNorms set from x, bijection.transform of x)``."""

    def init(layer: AbstractBijection) -> AbstractBijection:
        nonlocal x
        if isinstance(layer, ActNorm):
            layer = layer.initialized(x)
        elif _count_actnorms(layer):
            raise ValueError(
                f"initialize_actnorm cannot reach the ActNorm inside a "
                f"{type(layer).__name__}; it follows Chain and Scan only."
            )
        x = push(layer, x)
        return layer

    return map_layers(bijection, init), x


def initialize_actnorm(flow, data: ArrayLike):
    r"""Set every :class:`~gauss_flows.ActNorm` of ``flow`` from ``data``, data to latent.

    The batch goes through the layers in order; each ActNorm is initialised on what
    reaches it, so its output has zero mean and unit variance on the batch.

    Args:
        flow: A ``Transformed`` whose bijection is ``Invert(stack)`` (as built by
            :func:`gauss_flows.coupling_flow`, where ``stack.transform`` maps data to
            latent), or a bijection ``stack`` itself. ActNorms may sit inside
            ``Chain`` and ``Scan``.
        data: Batch of shape ``(n, d)``, ``n >= 2``, finite.

    Returns:
        ``flow`` with its ActNorms set; every other parameter is unchanged.
    """
    if isinstance(flow, Transformed):
        stack = initialize_actnorm(check_flow(flow), data)
        return eqx.tree_at(lambda f: f.bijection.bijection, flow, stack)
    if not isinstance(flow, AbstractBijection):
        raise ValueError(
            f"flow must be a flowjax Transformed or bijection, got {type(flow).__name__}."
        )
    if not _count_actnorms(flow):
        raise ValueError("flow contains no ActNorm layer to initialise.")
    data = check_samples(data, shape=flow.shape, min_samples=2)
    return _initialize(flow, data)[0]
