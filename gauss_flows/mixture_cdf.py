r"""The Gaussian-mixture-CDF transformer and its coupling layer.

For weights $\pi_k$, means $\mu_k$ and scales $\sigma_k$ ($k = 1..K$), the mixture CDF
$F(x) = \sum_k \pi_k \Phi\big((x-\mu_k)/\sigma_k\big)$ maps $\mathbb{R}$ to $(0, 1)$;
composing it with $\Phi^{-1}$ gives a strictly increasing bijection of $\mathbb{R}$,

$$T(x) = \Phi^{-1}\big(F(x)\big), \qquad
\log T'(x) = \log f(x) - \log\varphi\big(T(x)\big),$$

with $f(x) = \sum_k \pi_k \varphi\big((x-\mu_k)/\sigma_k\big)/\sigma_k$ the mixture density.

Numerics (see :func:`mixture_cdf_transform`): $T$ is computed from $F - \tfrac12$ near
the median and from the smaller tail, relative to its dominant component, elsewhere, so
$T$ and $\log T'$ are accurate to a few ulps for every finite $x$, with no clipping of
$F$ to $[\epsilon, 1-\epsilon]$.
The inverse is a bracketed Newton solve: since every $\Phi(u_k)$ is increasing,
$T(x) = z$ has its root between $\min_k(\mu_k + \sigma_k z)$ and
$\max_k(\mu_k + \sigma_k z)$.
"""

from __future__ import annotations

import math
from typing import ClassVar

import jax
import jax.nn as jnn
import jax.numpy as jnp
from flowjax.bijections import AbstractBijection
from jax.scipy.special import erf, erfcx, erfinv, logsumexp, ndtri
from jaxtyping import Array, ArrayLike, PRNGKeyArray
from paramax import Parameterize
from paramax.utils import inv_softplus

from gauss_flows.constraints import softplus_with_floor
from gauss_flows.coupling import Coupling, check_positive_int
from gauss_flows.normal_quantile import LOG_SQRT_2PI, LOG_SQRT_PI_OVER_2, SQRT_HALF
from gauss_flows.root_finding import invert_monotone

#: Default iteration *cap* of the inverse's solver, which stops as soon as it has
#: converged (typically 4-7 iterations, at most 13 over 100k random 8-component
#: mixtures with |x| <= 30 in float64). The cap only binds where Newton keeps failing
#: and the solver bisects, e.g. across flat stretches between narrow components:
#: 64 bisections shrink a bracket of width 1e3 to the ulp of 1.
DEFAULT_N_ITER = 64

#: Below ``u_m = -DEEP_TAIL`` (dominant component, reflected) T is taken as u_m + delta.
DEEP_TAIL = 5.0
SQRT_2 = math.sqrt(2.0)
#: Newton steps for delta: from Phi^{-1} (|z| < 37) one suffices; from the asymptotic
#: start (relative error below 1e-3) three reach full precision.
TAIL_NEWTON_STEPS = 3

#: Where the Mills ratio switches from erfcx to its continued fraction, and the
#: fraction's depth (20 levels reach float64 rounding for v >= 6).
MILLS_CF_START = 8.0
MILLS_CF_TERMS = 20


def _log_mills_nonneg(v: Array) -> Array:
    r"""$\log R(v)$, $R(v) = \Phi(-v)/\varphi(v)$ the Mills ratio, for $v \ge 0$.

    $R(v) = \sqrt{\pi/2}\,\operatorname{erfcx}(v/\sqrt2)$ with
    $\operatorname{erfcx}(t) = e^{t^2}\operatorname{erfc}(t)$: no $e^{-v^2/2}$ is formed,
    so $\log R$ keeps full relative precision out to $v \to \infty$, where
    $R(v) \simeq 1/v - 1/v^3 + \dots$ {cite}`abramowitz1964handbook` (7.1.23, 26.2.12).
    """
    # Beyond MILLS_CF_START, Laplace's continued fraction
    # R(v) = 1/(v + 1/(v + 2/(v + 3/(v + ...)))), evaluated backwards from a fixed depth,
    # is exact to rounding in float64 (checked against mpmath from v = 6 on) and avoids
    # jax's float32 erfcx, which returns 0 for arguments in [9.19, 9.42] (jax 0.10.2).
    large = v >= MILLS_CF_START
    v_erfcx = jnp.where(large, 1.0, v)  # double where: no inf/NaN in either branch
    v_cf = jnp.where(large, v, MILLS_CF_START)
    tail = jnp.zeros_like(v_cf)
    for k in range(MILLS_CF_TERMS, 0, -1):
        tail = k / (v_cf + tail)
    from_cf = -jnp.log(v_cf + tail)
    from_erfcx = jnp.log(erfcx(SQRT_HALF * v_erfcx)) + LOG_SQRT_PI_OVER_2
    return jnp.where(large, from_cf, from_erfcx)


def mixture_cdf_transform(
    params: tuple[Array, Array, Array], x: Array
) -> tuple[Array, Array]:
    r"""$T(x) = \Phi^{-1}(F(x))$ and $\log T'(x)$ for scalar ``x``.

    Args:
        params: ``(log_weights, means, scales)``, each of shape ``(K,)``;
            ``log_weights`` must be normalised (``logsumexp == 0``).
        x: Scalar input.

    Accuracy: a few ulps for $T$ (relative, wherever $T$ is well conditioned) and
    about $10^{-14}$ absolute for $\log T'$ in float64, for every finite $x$. How:

    * **Centre** ($|F - \tfrac12| < \tfrac14$): $z = \sqrt2\operatorname{erfinv}(2D)$ with
      $D = F - \tfrac12 = \sum_k \pi_k(\Phi(u_k) - \tfrac12)$ summed as
      $\tfrac12\sum_k \pi_k \operatorname{erf}(u_k/\sqrt2)$ for $|u_k| < 1$ and
      $\pm\tfrac12\sum_k \pi_k \mp \sum_k \pi_k\Phi(-|u_k|)$ otherwise, so that tiny
      $z$ (e.g. between two narrow, distant components) is not lost to
      $\log F \approx \log\tfrac12$: $T$ stays strictly increasing wherever the true
      $z$ is representable.
    * **Tails**: reflect ($u \to -u$) so that the smaller tail is the lower one and
      take the dominant component $m = \arg\max_k \log\pi_k + \log\Phi(u_k)$. Then
      $\log\Phi(z) = \log\Phi(u_m) + c$, $c = \log\sum_k \pi_k
      e^{\log\Phi(u_k) - \log\Phi(u_m)}$, and each log ratio is computed from
      $u_k - u_m$ and the log Mills ratio (Mills ratio $R$,
      asymptotically $\Phi(-v) \simeq \varphi(v)/v$ {cite}`abramowitz1964handbook`)
      rather than as a difference of two $-u^2/2$. (jax's ``log_ndtr`` is not used:
      below $u = -20$ it switches to a 3-term asymptotic series, off by up to
      $2\cdot10^{-11}$ relative in float64.) Moderately far out
      ($u_m \ge -5$), $z = \Phi^{-1}(e^{\log\Phi(z)})$. Beyond, $z = u_m + \delta$ with
      $\delta$ from three Newton steps on
      $\log\Phi(u_m + \delta) - \log\Phi(u_m) = c$, so that
      $\log T' = \log\sum_k \tfrac{\pi_k}{\sigma_k}
      e^{-(u_k - z)(u_k + z)/2}$ uses $u_k - z = (u_k - u_m) - \delta$ without
      cancellation (the old loss was $\epsilon x^2$).
    * **Far out** ($|x|$ above the fourth root of the largest float, where $u_k^2$
      would overflow), the widest component dominates both tails and
      $T(x) = (x - \mu_{k^*})/\sigma_{k^*}$ to working precision, with
      $k^* = \arg\max_k \sigma_k$.
    """
    log_w, means, scales = params
    dtype = jnp.result_type(x, scales)
    far = jnp.abs(x) > jnp.finfo(dtype).max ** 0.25
    x_core = jnp.where(far, 0.0, x)  # keep the unused branch finite (and its grads)
    u = (x_core - means) / scales
    weights = jnp.exp(log_w)

    # One erfcx per component serves everything below: Phi(-|u|) = R(|u|) phi(u).
    abs_u = jnp.abs(u)
    log_mills = _log_mills_nonneg(abs_u)  # log R(|u_k|)
    log_small_tail = log_mills - 0.5 * abs_u * abs_u - LOG_SQRT_2PI  # log Phi(-|u_k|)

    # D = F - 1/2, without rounding the far components' tails away.
    inner = abs_u < 1
    u_inner = jnp.where(inner, u, 0.0)
    side = jnp.sign(u)
    half_sum = jnp.sum(weights * jnp.where(inner, 0.5 * erf(SQRT_HALF * u_inner), 0.5 * side))
    tail_sum = jnp.sum(weights * jnp.where(inner, 0.0, side * jnp.exp(log_small_tail)))
    d_half = half_sum - tail_sum
    centre = jnp.abs(d_half) < 0.25
    z_centre = SQRT_2 * erfinv(2 * jnp.where(centre, d_half, 0.0))

    # Tails, reflected so that the smaller tail is the lower one: z_r <= 0.
    reflect = jnp.where(d_half > 0, -1.0, 1.0).astype(dtype)
    u_r = reflect * u
    below = u_r <= 0  # log Phi(u_r) is the small tail itself, or log1p of minus it
    log_cdf_r = jnp.where(below, log_small_tail, jnp.log1p(-jnp.exp(log_small_tail)))
    log_terms = log_w + log_cdf_r
    log_cdf = logsumexp(log_terms)
    index = jnp.arange(scales.shape[-1])

    def relative_to(m):
        """``(u_m, u_k - u_m, log w_k + log Phi(u_k) - log Phi(u_m))``, reflected.

        For u_k, u_m <= 0 both logs are about -u^2/2 and subtracting them would cost
        eps u^2: use log Phi(u_k) - log Phi(u_m) = -(u_k - u_m)(u_k + u_m)/2
        + log R(-u_k) - log R(-u_m) instead, with u_k - u_m computed directly.
        """
        one_hot = index == m
        pick = lambda a: jnp.sum(jnp.where(one_hot, a, 0.0))  # noqa: E731
        mean_m, scale_m, u_m = pick(means), pick(scales), pick(u_r)
        d_r = reflect * (
            (x_core * (scale_m - scales) + (mean_m * scales - means * scale_m))
            / (scales * scale_m)
        )
        # exactly 0 for k = m (a fused multiply-add would leave a rounding error there)
        d_r = jnp.where(one_hot, 0.0, d_r)
        split = below & (u_m <= 0)
        diff = jnp.where(
            split,
            -0.5 * d_r * (u_r + u_m) + log_mills - pick(log_mills),
            log_cdf_r - pick(log_cdf_r),
        )
        return u_m, pick(log_mills), d_r, log_w + diff

    # Far out the log Phi(u_k) agree to every digit although their differences are
    # huge, so the argmax of log_terms may miss the dominant component: pick it again
    # from the accurate differences.
    m = jnp.argmax(relative_to(jnp.argmax(log_terms))[3])
    u_m, log_mills_m, d_r, log_ratios = relative_to(m)
    c = logsumexp(log_ratios)
    representable = log_cdf > jnp.log(jnp.finfo(dtype).tiny) + 10
    deep = (u_m < -DEEP_TAIL) | ~representable
    z_nd = ndtri(jnp.exp(jnp.where(representable, log_cdf, -1.0)))  # Phi^{-1}(F)
    deep_u_m = jnp.where(deep, jnp.minimum(u_m, 0.0), -2 * DEEP_TAIL)
    delta = _tail_offset(deep_u_m, jnp.where(deep, log_mills_m, 0.0),
                         jnp.where(deep, c, 0.0), jnp.where(deep, log_cdf, -1e3), z_nd)
    z_r = jnp.where(deep, u_m + delta, z_nd)
    z = jnp.where(centre, z_centre, reflect * z_r)

    # log T' = log f(x) - log phi(z) = logsumexp_k(log w_k - log s_k - (u_k^2 - z^2)/2)
    z_r = reflect * z
    gap = jnp.where(deep, d_r - delta, u_r - z_r)  # u_k - z, reflected
    log_slope = logsumexp(log_w - jnp.log(scales) - 0.5 * gap * (u_r + z_r))

    widest = jnp.argmax(scales)
    z_far = (x - means[widest]) / scales[widest]
    return jnp.where(far, z_far, z), jnp.where(far, -jnp.log(scales[widest]), log_slope)


def _tail_offset(
    u_m: Array, log_mills_m: Array, c: Array, log_cdf: Array, z_nd: Array
) -> Array:
    r"""$\delta$ with $\log\Phi(u_m + \delta) - \log\Phi(u_m) = c$, for $u_m \le 0$.

    With $v = u_m + \delta$ the left side is $-\delta(v + u_m)/2 + \log R(-v) -
    \log R(-u_m)$ (no $\epsilon u^2$ cancellation). Start from
    ``z_nd`` $= \Phi^{-1}(e^{\log\Phi})$ where that is representable, else from the
    asymptotic $z_0 = -\sqrt{2L - \log(4\pi L)}$, $L = -\log\Phi(z)$; then Newton, whose
    slope is $\varphi(v)/\Phi(v) = 1/R(-v)$. The last step carries the implicit derivative.
    """
    sg = jax.lax.stop_gradient
    dtype = u_m.dtype
    representable = log_cdf > jnp.log(jnp.finfo(dtype).tiny) + 10
    big_l = jnp.where(representable, 10.0, -log_cdf)
    z0 = jnp.where(representable, z_nd, -jnp.sqrt(2 * big_l - jnp.log(4 * jnp.pi * big_l)))

    def step(delta, u_m, log_mills_m, c):
        v = jnp.minimum(u_m + delta, 0.0)
        log_mills_v = _log_mills_nonneg(-v)
        h = -0.5 * delta * (v + u_m) + log_mills_v - log_mills_m - c
        return delta - h * jnp.exp(log_mills_v)

    delta = sg(jnp.minimum(z0, 0.0) - u_m)
    for _ in range(TAIL_NEWTON_STEPS - 1):
        delta = step(delta, sg(u_m), sg(log_mills_m), sg(c))
    return step(sg(delta), u_m, log_mills_m, c)


def mixture_cdf_inverse(
    params: tuple[Array, Array, Array], z: Array, n_iter: int = DEFAULT_N_ITER
) -> tuple[Array, Array]:
    r"""$x = T^{-1}(z)$ and $\log |dx/dz| = -\log T'(x)$, by bracketed Newton."""
    log_w, means, scales = params
    candidates = means + scales * z
    init = jnp.sum(jnp.exp(log_w) * candidates)
    return invert_monotone(
        mixture_cdf_transform,
        params,
        z,
        candidates.min(),
        candidates.max(),
        init,
        n_iter,
    )


class MixtureGaussianCDF(AbstractBijection):
    r"""Scalar bijection $T(x) = \Phi^{-1}\big(\sum_k \pi_k \Phi((x-\mu_k)/\sigma_k)\big)$.

    Usable on its own, inside :class:`gauss_flows.Coupling`, or as the
    ``transformer`` of flowjax's ``Coupling`` and ``MaskedAutoregressive``.

    Args:
        n_components: $K \ge 1$.
        means: Initial $\mu_k$, shape ``(K,)``. Defaults to ``linspace(-2, 2, K)``
            (0 for $K=1$), spread so that the components are not interchangeable.
        scales: Initial $\sigma_k > 0$. Defaults to 1.
        min_scale: Lower bound on $\sigma_k = \text{min\_scale} + \text{softplus}(\cdot)$.
        n_iter: Iteration cap of the inverse's solver (it stops once converged).
        weights: Initial mixture weights $\pi_k > 0$, shape ``(K,)``, summing to 1
            (within 1e-6); stored as ``logits = log(weights)``. Defaults to uniform.

    Once its solver has converged (within ``n_iter``), the inverse returns $x$ with
    $|T(x) - z| \le 64\,\epsilon\,(1 + |z|)$ (or, where $T$ jumps over $z$ between
    neighbouring floats, that jump), so its error is about
    $\epsilon(1 + |z|)/T'(x)$: where $T$ is flatter than the dtype resolves, any $x$ of
    the flat stretch that maps to $z$ may come back, but never NaN, and the inverse's
    log-det and gradients stay finite (its derivative $1/T'$ is capped at the square
    root of the largest float).
    """

    logits: Array
    means: Array
    scales: Array | Parameterize
    n_iter: int
    shape: ClassVar[tuple[int, ...]] = ()
    cond_shape: ClassVar[None] = None

    def __init__(
        self,
        n_components: int = 8,
        *,
        means: ArrayLike | None = None,
        scales: ArrayLike = 1.0,
        min_scale: float = 1e-3,
        n_iter: int = DEFAULT_N_ITER,
        weights: ArrayLike | None = None,
    ):
        check_positive_int(n_components, "n_components")
        check_positive_int(n_iter, "n_iter")
        if not min_scale > 0:
            raise ValueError(f"min_scale must be > 0, got {min_scale}.")
        k = n_components
        if means is None:
            means = jnp.linspace(-2.0, 2.0, k) if k > 1 else jnp.zeros(1)
        means = jnp.asarray(means, dtype=float)
        scales = jnp.broadcast_to(jnp.asarray(scales, dtype=float), (k,))
        if means.shape != (k,):
            raise ValueError(f"means must have shape ({k},), got {means.shape}.")
        if not bool(jnp.all(scales > min_scale)):
            raise ValueError(f"scales must all exceed min_scale={min_scale}.")
        if weights is None:
            self.logits = jnp.zeros(k)
        else:
            weights = jnp.asarray(weights, dtype=float)
            if weights.shape != (k,):
                raise ValueError(f"weights must have shape ({k},), got {weights.shape}.")
            if not bool(jnp.all(weights > 0)):
                raise ValueError(f"weights must all be > 0, got {weights}.")
            if not abs(float(jnp.sum(weights)) - 1.0) <= 1e-6:
                raise ValueError(
                    f"weights must sum to 1 (within 1e-6), got sum {float(jnp.sum(weights))}."
                )
            self.logits = jnp.log(weights)
        self.means = means
        self.scales = Parameterize(
            softplus_with_floor, inv_softplus(scales - min_scale), floor=min_scale
        )
        self.n_iter = n_iter

    @property
    def n_components(self) -> int:
        return self.logits.shape[-1]

    def _params(self) -> tuple[Array, Array, Array]:
        return jnn.log_softmax(self.logits), self.means, self.scales

    def transform_and_log_det(self, x, condition=None):
        return mixture_cdf_transform(self._params(), x)

    def inverse_and_log_det(self, y, condition=None):
        return mixture_cdf_inverse(self._params(), y, self.n_iter)


class MixtureGaussianCDFCoupling(Coupling):
    r"""Coupling whose transformer is the Gaussian-mixture CDF map.

    $z_B = \Phi^{-1}\big(\sum_k \pi_k \Phi((x_B-\mu_k)/\sigma_k)\big)$ elementwise, with
    $(\pi, \mu, \sigma)$ predicted from $x_A$: $3K$ numbers per active coordinate.

    Args:
        key: PRNG key for the conditioner.
        shape: Event shape ``(d,)``, ``d >= 2``.
        n_components: $K \ge 1$.
        n_iter: Iteration cap of the inverse's solver (it stops once converged).
        **kwargs: ``nn_width`` (32), ``nn_depth`` (2), ``nn_activation``, ``mask``,
            ``cond_dim``, ``conditioner``, ``zero_init`` (see :class:`gauss_flows.Coupling`).
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
            transformer=MixtureGaussianCDF(n_components, n_iter=n_iter),
            **kwargs,
        )
