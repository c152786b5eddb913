r"""The deep sigmoidal flow transformer {cite}`huang2018naf` and its coupling layer.

With weights $w_k$ (softmax), slopes $a_k > 0$ and shifts $b_k$ ($k = 1..K$), the
convex combination $S(x) = \sum_k w_k\,\sigma(a_k x + b_k)$ of logistic sigmoids maps
$\mathbb{R}$ onto $(0, 1)$ and increases strictly; the logit brings it back to
$\mathbb{R}$:

$$T(x) = \log S(x) - \log\big(1 - S(x)\big), \qquad
\log T'(x) = \log \sum_k w_k a_k \sigma(u_k)\sigma(-u_k) - \log S - \log(1 - S),$$

with $u_k = a_k x + b_k$. Both tails are linear, $T(x) \simeq a_{\min} x$ as
$|x| \to \infty$ with $a_{\min} = \min_k a_k$.

Numerics: evaluated literally, $S$ rounds to 1 (or 0) once $|x| \gtrsim 40$ and $T$
saturates to $\pm\infty$. Everything here is in log space instead:
$\log S = \operatorname{logsumexp}_k(\log w_k + \log\sigma(u_k))$ and, using
$\sigma(-u) = e^{-u}\sigma(u)$ and any constant $m$ (we take $m = a_{\min}$),

$$\log(1 - S) = -m x + \operatorname{logsumexp}_k\big(\log w_k - e_k + \log\sigma(u_k)\big),
\qquad e_k = u_k - m x = (a_k - m)x + b_k,$$

so that $T = m x + \log S - \operatorname{logsumexp}_k(\dots)$ with the large term $m x$
pulled out *exactly*, and the $m x$ cancels analytically in $\log T'$. This holds for
$x \ge 0$, where every $e_k \ge b_k$; negative inputs use the symmetry
$T(x; a, b, w) = -T(-x; a, -b, w)$ (because $\sigma(-u) = 1 - \sigma(u)$). No clipping,
no branch: $T$ and $\log T'$ stay finite and accurate for every finite $x$ (short of
$a_{\min} x$ itself overflowing).

Inverse: since $\min_k \sigma(u_k) \le S \le \max_k \sigma(u_k)$ and the logit
increases, $\min_k u_k(x) \le T(x) \le \max_k u_k(x)$. Let $x_k = (z - b_k)/a_k$ solve
$u_k(x_k) = z$. At $\ell = \min_k x_k$ every $u_k(\ell) \le z$, so $T(\ell) \le z$; at
$h = \max_k x_k$ every $u_k(h) \ge z$, so $T(h) \ge z$: the root of $T(x) = z$ lies in
$[\ell, h]$, and the bracketed Newton solver of
:mod:`gauss_flows.numerics.root_finding` finds it.
"""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.nn as jnn
import jax.numpy as jnp
from flowjax.bijections import AbstractBijection
from jax.scipy.special import logsumexp
from jaxtyping import Array, ArrayLike, PRNGKeyArray
from paramax import Parameterize
from paramax.utils import inv_softplus

from gauss_flows._validation import check_float_dtype, check_positive_int
from gauss_flows.bijections.coupling import Coupling
from gauss_flows.numerics.constraints import softplus_with_floor
from gauss_flows.numerics.root_finding import DEFAULT_N_ITER, invert_monotone


@jax.jit
def deep_sigmoid_transform(
    params: tuple[Array, Array, Array], x: Array
) -> tuple[Array, Array]:
    r"""$T(x) = \operatorname{logit}\big(\sum_k w_k \sigma(a_k x + b_k)\big)$, $\log T'(x)$.

    Args:
        params: ``(log_weights, slopes, shifts)``, each of shape ``(K,)``;
            ``log_weights`` must be normalised (``logsumexp == 0``), ``slopes > 0``.
        x: Scalar input.

    Returns:
        ``(T(x), log T'(x))``, two scalars.

    Jitted so that a flow traces it once (per dtype and shape) rather than once per
    coupling layer and transformation; XLA inlines the call.
    """
    log_w, slopes, shifts = params
    sign = jnp.where(x < 0, -jnp.ones_like(x), jnp.ones_like(x))
    x_r = sign * x  # >= 0; the result is reflected back at the end
    b = sign * shifts
    # Any m works (it cancels exactly); the smallest slope keeps every exponent small.
    m = jax.lax.stop_gradient(slopes.min())
    u = slopes * x_r + b
    log_sig = jnn.log_sigmoid(u)
    excess = (slopes - m) * x_r + b  # e_k = u_k - m x >= b_k
    log_s = logsumexp(log_w + log_sig)  # log S
    log_tail = logsumexp(log_w - excess + log_sig)  # log(1 - S) + m x
    y = m * x_r + log_s - log_tail
    # log sum_k w_k a_k sigma(u_k) sigma(-u_k), also shifted by + m x
    log_num = logsumexp(log_w + jnp.log(slopes) - excess + 2 * log_sig)
    return sign * y, log_num - log_tail - log_s


def deep_sigmoid_inverse(
    params: tuple[Array, Array, Array], z: Array, n_iter: int = DEFAULT_N_ITER
) -> tuple[Array, Array]:
    r"""$x = T^{-1}(z)$ and $\log|dx/dz| = -\log T'(x)$, by bracketed Newton.

    The bracket $[\min_k x_k, \max_k x_k]$, $x_k = (z - b_k)/a_k$, is proved valid in
    the module docstring.
    """
    log_w, slopes, shifts = params
    candidates = (z - shifts) / slopes
    init = jnp.sum(jnp.exp(log_w) * candidates)
    return invert_monotone(
        deep_sigmoid_transform,
        params,
        z,
        candidates.min(),
        candidates.max(),
        init,
        n_iter,
    )


class DeepSigmoid(AbstractBijection):
    r"""Scalar bijection
    $T(x) = \operatorname{logit}\big(\sum_k w_k\sigma(a_k x + b_k)\big)$.

    The deep sigmoidal flow transformer of {cite}`huang2018naf`, computed in log space
    so that its tails are linear instead of saturating. Usable on its own, inside
    :class:`gauss_flows.Coupling`, or as the ``transformer`` of flowjax's ``Coupling``
    and ``MaskedAutoregressive``.

    Args:
        n_components: $K \ge 1$.
        slopes: Initial $a_k > 0$, scalar or shape ``(K,)``. Defaults to 1.
        shifts: Initial $b_k$, shape ``(K,)``. Defaults to ``linspace(-2, 2, K)``
            (0 for $K=1$), spread so that the components are not interchangeable.
        min_slope: Lower bound on $a_k = \text{min\_slope} + \text{softplus}(\cdot)$.
        n_iter: Iteration cap of the inverse's solver (it stops once converged).
    """

    logits: Array
    slopes: Array | Parameterize
    shifts: Array
    n_iter: int
    shape: ClassVar[tuple[int, ...]] = ()
    cond_shape: ClassVar[None] = None

    def __init__(
        self,
        n_components: int = 8,
        *,
        slopes: ArrayLike = 1.0,
        shifts: ArrayLike | None = None,
        min_slope: float = 1e-3,
        n_iter: int = DEFAULT_N_ITER,
    ):
        check_positive_int(n_components, "n_components")
        check_positive_int(n_iter, "n_iter")
        if not min_slope > 0:
            raise ValueError(f"min_slope must be > 0, got {min_slope}.")
        k = n_components
        if shifts is None:
            shifts = jnp.linspace(-2.0, 2.0, k) if k > 1 else jnp.zeros(1)
        shifts = jnp.asarray(shifts, dtype=float)
        if shifts.shape != (k,):
            raise ValueError(f"shifts must have shape ({k},), got {shifts.shape}.")
        slopes = jnp.asarray(slopes, dtype=float)
        if slopes.shape not in ((), (k,)):
            raise ValueError(
                f"slopes must be a scalar or have shape ({k},), got {slopes.shape}."
            )
        slopes = jnp.broadcast_to(slopes, (k,))
        if not bool(jnp.all(slopes > min_slope)):
            raise ValueError(f"slopes must all exceed min_slope={min_slope}.")
        self.logits = jnp.zeros(k)
        self.slopes = Parameterize(
            softplus_with_floor, inv_softplus(slopes - min_slope), floor=min_slope
        )
        self.shifts = shifts
        self.n_iter = n_iter

    @property
    def n_components(self) -> int:
        return self.logits.shape[-1]

    def _params(self) -> tuple[Array, Array, Array]:
        return jnn.log_softmax(self.logits), self.slopes, self.shifts

    def transform_and_log_det(self, x, condition=None):
        return deep_sigmoid_transform(self._params(), check_float_dtype(x, "x"))

    def inverse_and_log_det(self, y, condition=None):
        return deep_sigmoid_inverse(self._params(), check_float_dtype(y, "y"), self.n_iter)


class DeepSigmoidCoupling(Coupling):
    r"""Coupling whose transformer is the deep sigmoidal flow map.

    $z_B = \operatorname{logit}\big(\sum_k w_k \sigma(a_k x_B + b_k)\big)$ elementwise,
    with $(w, a, b)$ predicted from $x_A$: $3K$ numbers per active coordinate.

    Args:
        key: PRNG key for the conditioner.
        shape: Event shape ``(d,)``, ``d >= 2``.
        n_components: $K \ge 1$.
        n_iter: Iteration cap of the inverse's solver (it stops once converged).
        **kwargs: ``nn_width`` (32), ``nn_depth`` (2), ``nn_activation``, ``mask``,
            ``cond_dim``, ``conditioner``, ``zero_init``
            (see :class:`gauss_flows.Coupling`).
    """

    def __init__(
        self,
        key: PRNGKeyArray,
        *,
        shape: tuple[int, ...],
        n_components: int = 8,
        n_iter: int = DEFAULT_N_ITER,
        **kwargs,
    ):
        super().__init__(
            key,
            shape=shape,
            transformer=DeepSigmoid(n_components, n_iter=n_iter),
            **kwargs,
        )
