r"""Affine transformer and the RealNVP affine coupling {cite}`dinh2017density`.

The scalar map is $z = e^{s} x + t$ with $\log T'(x) = s$. With a bound $b$ the
log-scale is squashed smoothly, $s = b \tanh(\tilde s / b)$, so $|s| < b$.
"""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp
from flowjax.bijections import AbstractBijection
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from gauss_flows._validation import check_float_dtype
from gauss_flows.bijections.coupling import Coupling


class LogScaleAffine(AbstractBijection):
    r"""Scalar affine bijection $z = e^{s} x + t$.

    Args:
        shift: $t$. Defaults to 0.
        log_scale: Unconstrained log-scale $\tilde s$. Defaults to 0 (identity).
        log_scale_bound: If given, $s = b \tanh(\tilde s / b)$; else $s = \tilde s$.
    """

    shift: Array
    log_scale: Array
    log_scale_bound: float | None
    shape: ClassVar[tuple[int, ...]] = ()
    cond_shape: ClassVar[None] = None

    def __init__(
        self,
        shift: ArrayLike = 0.0,
        log_scale: ArrayLike = 0.0,
        log_scale_bound: float | None = None,
    ):
        if log_scale_bound is not None and not log_scale_bound > 0:
            raise ValueError(f"log_scale_bound must be > 0, got {log_scale_bound}.")
        self.shift = jnp.asarray(shift, dtype=float)
        self.log_scale = jnp.asarray(log_scale, dtype=float)
        self.log_scale_bound = None if log_scale_bound is None else float(log_scale_bound)

    def _s(self) -> Array:
        b = self.log_scale_bound
        return self.log_scale if b is None else b * jnp.tanh(self.log_scale / b)

    def transform_and_log_det(self, x, condition=None):
        check_float_dtype(x, "x")
        s = self._s()
        return jnp.exp(s) * x + self.shift, s

    def inverse_and_log_det(self, y, condition=None):
        check_float_dtype(y, "y")
        s = self._s()
        return (y - self.shift) * jnp.exp(-s), -s


class AffineCoupling(Coupling):
    r"""Affine (RealNVP) coupling: $z_B = e^{s(x_A)} \odot x_B + t(x_A)$.

    $\log\lvert\det J\rvert = \sum_{i\in B} s_i(x_A)$. The conditioner emits
    $(t_i, \tilde s_i)$ for each active coordinate.

    Args:
        key: PRNG key for the conditioner.
        shape: Event shape ``(d,)``, ``d >= 2``.
        log_scale_bound: Optional smooth bound $b$ on $|s|$ (``None``: unbounded).
        **kwargs: ``nn_width`` (32), ``nn_depth`` (2), ``nn_activation``, ``mask``,
            ``cond_dim``, ``conditioner``, ``zero_init``
            (see :class:`gauss_flows.Coupling`).
    """

    def __init__(
        self,
        key: PRNGKeyArray,
        *,
        shape: tuple[int, ...],
        log_scale_bound: float | None = None,
        **kwargs,
    ):
        super().__init__(
            key,
            shape=shape,
            transformer=LogScaleAffine(log_scale_bound=log_scale_bound),
            **kwargs,
        )
