r"""ActNorm: a per-coordinate affine layer with data-dependent initialisation.

Glow {cite}`kingma2018glow` puts an *activation normalisation* before each coupling:

$$z_i = \frac{x_i - \hat\mu_i}{\hat\sigma_i}, \qquad
\log\lvert\det J\rvert = -\sum_{i=1}^{d} \log \hat\sigma_i ,$$

where $\hat\mu, \hat\sigma \in \mathbb{R}^d$ start as the mean and standard deviation
of each coordinate over a batch of data, so that the batch leaves the layer with zero
mean and unit variance, and are trained like any other parameter afterwards. The map
is flowjax's elementwise ``Affine`` ($z = a \odot x + b$, $a > 0$ kept positive by a
softplus) with $a = 1/\hat\sigma$ and $b = -\hat\mu/\hat\sigma$.

:func:`initialize_actnorm` sets every ``ActNorm`` of a flow in order: the batch is
pushed through the layers from data to latent, and each ``ActNorm`` is initialised on
the batch that reaches it.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import paramax
from flowjax.bijections import AbstractBijection, Affine, Invert
from flowjax.distributions import Transformed
from jaxtyping import Array, ArrayLike

from gauss_flows.coupling import _check_shape, check_samples
from gauss_flows.stacking import map_layers, push


class ActNorm(AbstractBijection):
    r"""Elementwise affine map $z = (x - \hat\mu) / \hat\sigma$, data to latent.

    ``ActNorm(shape)`` starts as the identity ($\hat\mu = 0$, $\hat\sigma = 1$); use
    :meth:`initialized` (one layer) or :func:`initialize_actnorm` (every ActNorm of a
    flow) to set it from data.

    Args:
        shape: Event shape ``(d,)``, ``d >= 2``.
    """

    affine: Affine
    shape: tuple[int, ...]
    cond_shape: ClassVar[None] = None

    def __init__(self, shape: tuple[int, ...]):
        dim = _check_shape(shape)
        self.affine = Affine(jnp.zeros(dim), jnp.ones(dim))
        self.shape = (dim,)

    def initialized(self, x: ArrayLike) -> ActNorm:
        r"""A copy whose output on the batch ``x`` has zero mean and unit variance.

        Args:
            x: Batch of shape ``(n, d)``, ``n >= 2``, finite, with no constant
                coordinate. Its dtype sets the dtype of the new parameters.
        """
        x = check_samples(x, self.shape, name="x", min_samples=2)
        mean, std = jnp.mean(x, axis=0), jnp.std(x, axis=0)
        # A coordinate is constant if its spread is at rounding level of its size.
        tiny = 16 * jnp.finfo(x.dtype).eps * jnp.abs(mean)
        constant = np.flatnonzero(np.asarray((std == 0) | (std <= tiny)))
        if constant.size:
            raise ValueError(
                f"coordinates {constant.tolist()} of x are constant over the batch; "
                "ActNorm cannot scale them to unit variance."
            )
        return eqx.tree_at(lambda a: a.affine, self, Affine(-mean / std, 1 / std))

    @property
    def loc(self) -> Array:
        r"""$\hat\mu$, shape ``(d,)``."""
        return -self.affine.loc * self.scale

    @property
    def scale(self) -> Array:
        r"""$\hat\sigma$, shape ``(d,)``."""
        return 1 / paramax.unwrap(self.affine.scale)

    def transform_and_log_det(self, x, condition=None):
        return self.affine.transform_and_log_det(x)

    def inverse_and_log_det(self, y, condition=None):
        return self.affine.inverse_and_log_det(y)


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
    r"""Set every :class:`ActNorm` of ``flow`` from ``data``, in data-to-latent order.

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
        if not isinstance(flow.bijection, Invert):
            raise ValueError(
                "flow must be a Transformed whose bijection is Invert(stack), as "
                "coupling_flow builds it, so that stack.transform maps data to latent."
            )
        stack = initialize_actnorm(flow.bijection.bijection, data)
        return eqx.tree_at(lambda f: f.bijection.bijection, flow, stack)
    if not isinstance(flow, AbstractBijection):
        raise ValueError(
            f"flow must be a flowjax Transformed or bijection, got {type(flow).__name__}."
        )
    if not _count_actnorms(flow):
        raise ValueError("flow contains no ActNorm layer to initialise.")
    data = check_samples(data, flow.shape, min_samples=2)
    return _initialize(flow, data)[0]
