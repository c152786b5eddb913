r"""The rational-quadratic spline transformer {cite}`durkan2019nsf` and its coupling layer.

On $[-B, B]$, $K$ bins with knots $(x_k, y_k)$ and knot slopes $\delta_k > 0$; inside
bin $k$, with $s_k = (y_{k+1} - y_k)/(x_{k+1} - x_k)$ and
$\xi = (x - x_k)/(x_{k+1} - x_k) \in [0, 1]$,

$$T(x) = y_k + \frac{(y_{k+1} - y_k)\,\big(s_k \xi^2 + \delta_k \xi(1-\xi)\big)}
{s_k + (\delta_{k+1} + \delta_k - 2 s_k)\,\xi(1-\xi)},$$

a strictly increasing ratio of quadratics whose inverse solves a quadratic in closed
form. Outside $[-B, B]$, $T(x) = x$ and $\log T'(x) = 0$.

The spline itself is flowjax's ``RationalQuadraticSpline`` (whose ``knots`` counts the
*inner* knots, so ``knots = n_bins - 1``); :class:`RQSpline` only guards its
boundary. flowjax clips the input to the interval, and at an input exactly on an
edge its gradient is wrong (the clip's tie rule halves it, twice: $dT/dx$ comes out as
$\delta_0/4$ while its log-det says $\delta_0$). Here the spline is evaluated only
strictly inside the interval (anywhere else it sees a harmless interior point, the
"double ``where``"), and edges count as outside, where $T$ is the identity: $T$,
$\log T'$ and all their gradients are finite and consistent everywhere (except that
one ulp inside an edge, where $T(x)$ can round onto the edge, flowjax's final clip
still halves the autodiff slope: finite, just not exact).

Note: flowjax also trains the slopes $\delta_0, \delta_K$ at the two edges (the
original spline fixes them to 1), so $T'$ may jump there; $T$ stays continuous.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
from flowjax.bijections import AbstractBijection, RationalQuadraticSpline
from jaxtyping import PRNGKeyArray
from paramax import Parameterize

from gauss_flows._validation import check_float_dtype, check_positive_int
from gauss_flows.bijections.coupling import Coupling
from gauss_flows.numerics.constraints import softplus_with_floor


class RQSpline(AbstractBijection):
    r"""Scalar rational-quadratic spline on $[-B, B]$, identity outside.

    Args:
        n_bins: Number of spline bins $K \ge 1$ (flowjax's ``knots`` is ``K - 1``).
        interval: Half-width $B > 0$ of the transformed interval $[-B, B]$.
        min_derivative: Lower bound on the knot slopes $\delta_k$.
        min_width: Lower bound on every bin's width and height.

    With all parameters at their initial values the spline is the identity.
    """

    spline: RationalQuadraticSpline
    interval: float
    shape: ClassVar[tuple[int, ...]] = ()
    cond_shape: ClassVar[None] = None

    def __init__(
        self,
        n_bins: int = 8,
        *,
        interval: float = 4.0,
        min_derivative: float = 1e-3,
        min_width: float = 1e-3,
    ):
        check_positive_int(n_bins, "n_bins")
        if isinstance(interval, bool) or not isinstance(interval, numbers.Real):
            raise ValueError(f"interval must be a real number, got {interval!r}.")
        if not (math.isfinite(interval) and interval > 0):
            raise ValueError(f"interval must be finite and > 0, got {interval}.")
        if not 0 < min_derivative < 1:
            raise ValueError(f"min_derivative must be in (0, 1), got {min_derivative}.")
        if not (min_width > 0 and n_bins * min_width < 2 * interval):
            raise ValueError(
                f"min_width must be > 0 and n_bins * min_width < 2 * interval, got "
                f"min_width={min_width}, n_bins={n_bins}, interval={interval}."
            )
        self.interval = float(interval)
        spline = RationalQuadraticSpline(
            knots=n_bins - 1,
            interval=self.interval,
            min_derivative=min_derivative,
            min_width=min_width,
        )
        # flowjax parametrizes the knot slopes with a lambda made per instance; the same
        # map as a module-level function lets two splines built alike compare equal
        # (so that their coupling layers share compiled programs).
        slopes = Parameterize(
            softplus_with_floor, spline.derivatives.args[0], float(min_derivative)
        )
        self.spline = eqx.tree_at(lambda s: s.derivatives, spline, slopes)

    @property
    def n_bins(self) -> int:
        return self.spline.knots + 1

    def _guarded(self, method: Callable, v):
        inside = jnp.abs(v) < self.interval
        v_safe = jnp.where(inside, v, jnp.zeros_like(v))  # spline never sees an edge
        out, log_det = method(v_safe)
        log_det = jnp.where(inside, log_det, jnp.zeros_like(log_det))
        return jnp.where(inside, out, v), log_det

    def transform_and_log_det(self, x, condition=None):
        return self._guarded(self.spline.transform_and_log_det, check_float_dtype(x, "x"))

    def inverse_and_log_det(self, y, condition=None):
        return self._guarded(self.spline.inverse_and_log_det, check_float_dtype(y, "y"))


class RQSplineCoupling(Coupling):
    r"""Coupling whose transformer is a rational-quadratic spline on $[-B, B]$.

    $z_B = T_\theta(x_B)$ elementwise with a $K$-bin spline, identity outside
    $[-B, B]$; the conditioner predicts $3K + 1$ numbers per active coordinate
    ($K$ widths, $K$ heights, $K + 1$ knot slopes, all unconstrained).

    Args:
        key: PRNG key for the conditioner.
        shape: Event shape ``(d,)``, ``d >= 2``.
        n_bins: Number of bins $K \ge 1$.
        interval: Half-width $B > 0$ of the spline's interval.
        **kwargs: ``nn_width`` (32), ``nn_depth`` (2), ``nn_activation``, ``mask``,
            ``cond_dim``, ``conditioner``, ``zero_init``
            (see :class:`gauss_flows.Coupling`).
    """

    def __init__(
        self,
        key: PRNGKeyArray,
        *,
        shape: tuple[int, ...],
        n_bins: int = 8,
        interval: float = 4.0,
        **kwargs,
    ):
        super().__init__(
            key,
            shape=shape,
            transformer=RQSpline(n_bins, interval=interval),
            **kwargs,
        )
