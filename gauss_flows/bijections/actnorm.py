r"""ActNorm: a per-coordinate affine layer with data-dependent initialisation.

Glow {cite}`kingma2018glow` puts an *activation normalisation* before each coupling:

$$z_i = \frac{x_i - \hat\mu_i}{\hat\sigma_i}, \qquad
\log\lvert\det J\rvert = -\sum_{i=1}^{d} \log \hat\sigma_i ,$$

where $\hat\mu, \hat\sigma \in \mathbb{R}^d$ start as the mean and standard deviation
of each coordinate over a batch of data, so that the batch leaves the layer with zero
mean and unit variance, and are trained like any other parameter afterwards. The map
is flowjax's elementwise ``Affine`` ($z = a \odot x + b$, $a > 0$ kept positive by a
softplus) with $a = 1/\hat\sigma$ and $b = -\hat\mu/\hat\sigma$.

:func:`gauss_flows.initialize_actnorm` (in :mod:`gauss_flows.fitting.actnorm_init`)
sets every ``ActNorm`` of a flow in order: the batch is pushed through the layers from
data to latent, and each ``ActNorm`` is initialised on the batch that reaches it.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import paramax
from flowjax.bijections import AbstractBijection, Affine
from jaxtyping import Array, ArrayLike

from gauss_flows._validation import check_event_shape, check_float_dtype, check_samples


class ActNorm(AbstractBijection):
    r"""Elementwise affine map $z = (x - \hat\mu) / \hat\sigma$, data to latent.

    ``ActNorm(shape)`` starts as the identity ($\hat\mu = 0$, $\hat\sigma = 1$); use
    :meth:`initialized` (one layer) or :func:`gauss_flows.initialize_actnorm` (every
    ActNorm of a flow) to set it from data.

    Args:
        shape: Event shape ``(d,)``, ``d >= 2``.
    """

    affine: Affine
    shape: tuple[int, ...]
    cond_shape: ClassVar[None] = None

    def __init__(self, shape: tuple[int, ...]):
        dim = check_event_shape(shape)
        self.affine = Affine(jnp.zeros(dim), jnp.ones(dim))
        self.shape = (dim,)

    def initialized(self, x: ArrayLike) -> ActNorm:
        r"""A copy whose output on the batch ``x`` has zero mean and unit variance.

        Args:
            x: Batch of shape ``(n, d)``, ``n >= 2``, finite, with no constant
                coordinate. Its dtype sets the dtype of the new parameters.
        """
        x = check_samples(x, "x", shape=self.shape, min_samples=2)
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
        return self.affine.transform_and_log_det(check_float_dtype(x, "x"))

    def inverse_and_log_det(self, y, condition=None):
        return self.affine.inverse_and_log_det(check_float_dtype(y, "y"))
