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
Derivatives of $T$ and $\log T'$ come from a closed-form custom JVP rather than from
differentiating that computation step by step: the same gradients, at a fraction of the
compile time. The inverse is a bracketed Newton solve: since every $\Phi(u_k)$ is
increasing, $T(x) = z$ has its root between $\min_k(\mu_k + \sigma_k z)$ and
$\max_k(\mu_k + \sigma_k z)$.
"""

from __future__ import annotations

import math
from typing import ClassVar, NamedTuple

import jax
import jax.nn as jnn
import jax.numpy as jnp
from flowjax.bijections import AbstractBijection
from jax import lax
from jax.scipy.special import erf, erfinv, logsumexp
from jaxtyping import Array, ArrayLike, PRNGKeyArray
from paramax import Parameterize
from paramax.utils import inv_softplus

from gauss_flows._validation import check_float_dtype, check_positive_int
from gauss_flows.bijections.coupling import Coupling
from gauss_flows.numerics.constraints import softplus_with_floor
from gauss_flows.numerics.root_finding import DEFAULT_N_ITER, invert_monotone

# Python floats (weakly typed): a jnp constant made at import time would be float32
# whenever x64 is switched on after import, costing ~1.6e-8 in every float64 log-pdf.
SQRT_2 = math.sqrt(2.0)
SQRT_HALF = math.sqrt(0.5)
LOG_HALF = math.log(0.5)
LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
LOG_SQRT_PI_OVER_2 = 0.5 * math.log(math.pi / 2)
#: Tail quantiles start from sqrt(2) erfinv(2 p - 1) down to p = e^-6.9 (about 1e-3),
#: below from the asymptotic z0 = -sqrt(2L - log(4 pi L)), L = -log p (relative error
#: under 1.3e-2 there, shrinking like 1/L^2); two Halley steps then reach rounding
#: level from either start, in float32 and float64.
ERFINV_START_MIN_LOG_P = -6.9
TAIL_HALLEY_STEPS = 2

#: Where the Mills ratio switches from erfcx(t) = e^{t^2} erfc(t) to Laplace's continued
#: fraction, and the fraction's depth, per float width: that product (and jax's erfcx,
#: which computes it the same way) is exactly 0 where erfc underflows, for t in
#: [9.19, 9.42] in float32 and [26.54, 26.64] in float64 (jax 0.10.2), i.e. for
#: v = sqrt(2) t in [13.0, 13.3] and [37.5, 37.7], and it loses digits on the way there.
#: From v = 8 (float32) or 20 (float64) on, 6 or 8 levels are exact to rounding
#: (checked against mpmath out to 1e300).
MILLS_CF = {32: (8.0, 6), 64: (20.0, 8)}


def _where(condition: ArrayLike, x: ArrayLike, y: ArrayLike) -> Array:
    """``jnp.where(condition, x, y)`` as one ``lax.select``: without ``jnp.where``'s
    ``jit`` wrapper, each of the many selects below costs less to trace and compile."""
    dtype = jnp.result_type(x, y)
    shape = jnp.broadcast_shapes(jnp.shape(condition), jnp.shape(x), jnp.shape(y))
    def fit(a):
        return jnp.broadcast_to(lax.convert_element_type(a, dtype), shape)

    return lax.select(jnp.broadcast_to(condition, shape), fit(x), fit(y))


def log_mills_nonneg(v: Array) -> Array:
    r"""$\log R(v)$, $R(v) = \Phi(-v)/\varphi(v)$ the Mills ratio, for $v \ge 0$.

    $R(v) = \sqrt{\pi/2}\,\operatorname{erfcx}(v/\sqrt2)$ with
    $\operatorname{erfcx}(t) = e^{t^2}\operatorname{erfc}(t)$: no $e^{-v^2/2}$ is formed,
    so $\log R$ keeps full relative precision out to $v \to \infty$, where
    $R(v) \simeq 1/v - 1/v^3 + \dots$ {cite}`abramowitz1964handbook` (7.1.23, 26.2.12).
    """
    def from_erfcx(v):
        # erfcx(t) = e^{t^2} erfc(t), as jax's erfcx computes it below its own switch to
        # an asymptotic series (t = 26.6 / 9.4), which the fraction takes over before.
        t = SQRT_HALF * v
        return jnp.log(jnp.exp(lax.square(t)) * lax.erfc(t)) + LOG_SQRT_PI_OVER_2

    bits = jnp.finfo(v.dtype).bits
    if bits not in MILLS_CF:  # e.g. float16: no constants were worked out for it
        raise ValueError(
            f"the mixture-CDF numerics are built for float32 and float64, got {v.dtype}."
        )
    start, depth = MILLS_CF[bits]
    # Beyond ``start``, Laplace's continued fraction
    # R(v) = 1/(v + 1/(v + 2/(v + 3/(v + ...)))), evaluated backwards from a fixed depth,
    # replaces erfcx, which has a band of zeros further out (see MILLS_CF).
    large = v >= start
    v_cf = _where(large, v, start)  # double where: no inf/NaN in either branch
    tail = jnp.zeros_like(v_cf)
    for k in range(depth, 0, -1):
        tail = k / (v_cf + tail)
    return _where(large, -jnp.log(v_cf + tail), from_erfcx(_where(large, 1.0, v)))


class _Parts(NamedTuple):
    """Intermediate values of :func:`_mixture_cdf_parts` that the tangents reuse."""

    far: Array  # |x| beyond the fourth root of the largest float
    z: Array  # T(x) computed as if not far (finite there: x is replaced by 0)
    u: Array  # (K,) standardised inputs (x - mu_k) / sigma_k
    gap: Array  # (K,) u_k - z, without cancellation
    slope_terms: Array  # (K,) log w_k - log sigma_k - (u_k^2 - z^2) / 2
    shares: Array  # (K,) pi_k Phi(u_k) / Phi(z), reflected to the smaller tail
    log_mills_z: Array  # log R(|z|) = log Phi(-|z|) - log phi(z)
    reflect: Array  # -1 where z > 0 (the upper tail is the smaller one), else 1
    widest: Array  # argmax_k sigma_k


@jax.custom_jvp
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
      $2\cdot10^{-11}$ relative in float64.) Then $z = b + \delta$ with
      $b = \min(u_m, 0)$ and $\delta$ from two Halley steps on
      $\log\Phi(b + \delta) - \log\Phi(b) = c$ (see :func:`_tail_offset`), so that
      $\log T' = \log\sum_k \tfrac{\pi_k}{\sigma_k}
      e^{-(u_k - z)(u_k + z)/2}$ uses $u_k - z = (u_k - u_m) - \delta$ without
      cancellation (the old loss was $\epsilon x^2$).
    * **Derivatives**: a custom JVP gives the tangents of $T$ and $\log T'$ in closed
      form from the same intermediates (see ``_mixture_cdf_transform_jvp``);
      higher derivatives differentiate that rule.
    * **Far out** ($|x|$ above the fourth root of the largest float, where $u_k^2$
      would overflow), the widest component dominates both tails and
      $T(x) = (x - \mu_{k^*})/\sigma_{k^*}$ to working precision, with
      $k^* = \arg\max_k \sigma_k$.
    """
    z, log_slope, _ = _mixture_cdf_parts(params, x)
    return z, log_slope


@jax.jit
def _mixture_cdf_parts(
    params: tuple[Array, Array, Array], x: Array
) -> tuple[Array, Array, _Parts]:
    """``(T(x), log T'(x), parts)``: the computation behind :func:`mixture_cdf_transform`.

    Jitted so that it is traced once per dtype and shape: a flow calls it in every
    coupling layer, in the primal and again in the derivative rule, under ``vmap``;
    reusing one trace (and its batched form) instead of re-running this Python each
    time halves the tracing time of a mixture-CDF flow
    (``benchmarks/compile_transformers.py``). XLA inlines the call.
    """
    log_w, means, scales = params
    dtype = jnp.result_type(x, scales)
    far = jnp.abs(x) > jnp.finfo(dtype).max ** 0.25
    x_core = _where(far, 0.0, x)  # keep the unused branch finite
    u = (x_core - means) / scales
    weights = jnp.exp(log_w)

    # One erfcx per component serves everything below: Phi(-|u|) = R(|u|) phi(u).
    abs_u = jnp.abs(u)
    log_mills = log_mills_nonneg(abs_u)  # log R(|u_k|)
    log_small_tail = log_mills - 0.5 * abs_u * abs_u - LOG_SQRT_2PI  # log Phi(-|u_k|)

    # D = F - 1/2, without rounding the far components' tails away.
    inner = abs_u < 1
    u_inner = _where(inner, u, 0.0)
    side = jnp.sign(u)
    half_sum = jnp.sum(weights * _where(inner, 0.5 * erf(SQRT_HALF * u_inner), 0.5 * side))
    tail_sum = jnp.sum(weights * _where(inner, 0.0, side * jnp.exp(log_small_tail)))
    d_half = half_sum - tail_sum
    centre = jnp.abs(d_half) < 0.25

    # Tails, reflected so that the smaller tail is the lower one: z_r <= 0.
    reflect = _where(d_half > 0, -1.0, 1.0).astype(dtype)
    u_r = reflect * u
    below = u_r <= 0  # log Phi(u_r) is the small tail itself, or log1p of minus it
    log_cdf_r = _where(below, log_small_tail, jnp.log1p(-jnp.exp(log_small_tail)))
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
        pick = lambda a: jnp.sum(_where(one_hot, a, 0.0))  # noqa: E731
        mean_m, scale_m, u_m = pick(means), pick(scales), pick(u_r)
        d_r = reflect * (
            (x_core * (scale_m - scales) + (mean_m * scales - means * scale_m))
            / (scales * scale_m)
        )
        # exactly 0 for k = m and for any copy of it (a fused multiply-add would leave a
        # rounding error there, and identical components would drift apart in training)
        d_r = _where(one_hot | ((means == mean_m) & (scales == scale_m)), 0.0, d_r)
        split = below & (u_m <= 0)
        diff = _where(
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
    # Tails: z_r = b + delta solves log Phi(z_r) = log Phi(b) + c_b, from the base
    # b = min(u_m, 0), whose log Mills ratio is known (log R(0) = log sqrt(pi/2)).
    positive = u_m > 0
    base = jnp.minimum(u_m, 0.0)
    log_mills_b = _where(positive, LOG_SQRT_PI_OVER_2, log_mills_m)
    c_b = _where(positive, log_cdf - LOG_HALF, c)
    # One erfinv serves the centre, z = sqrt(2) erfinv(2 D), and the start of the
    # moderate tails, z_r = sqrt(2) erfinv(2 Phi(z_r) - 1).
    from_erfinv = log_cdf > ERFINV_START_MIN_LOG_P
    p_tail = jnp.exp(jnp.minimum(log_cdf, LOG_HALF))  # Phi(z_r)
    arg = _where(centre, 2 * d_half, _where(from_erfinv, 2 * p_tail - 1, 0.0))
    z_erfinv = SQRT_2 * erfinv(arg)
    big_l = _where(from_erfinv, 10.0, -log_cdf)
    z_start = _where(from_erfinv, z_erfinv,
                     -jnp.sqrt(2 * big_l - jnp.log(4 * jnp.pi * big_l)))
    # The centre's z rides through the loop unchanged: its only reader is then the
    # loop's input, and XLA computes erfinv once instead of inside every consumer of z.
    # So ``delta`` holds z in the centre; every use of it below is for the tails only.
    delta = _tail_offset(base, log_mills_b, c_b,
                         _where(centre, z_erfinv, jnp.minimum(z_start, 0.0) - base), centre)
    z = _where(centre, delta, reflect * (base + delta))

    # log T' = log f(x) - log phi(z) = logsumexp_k(log w_k - log s_k - (u_k^2 - z^2)/2)
    z_r = reflect * z
    # u_k - z, reflected: relative to the dominant component where both are large
    gap = _where(centre | positive, u_r - z_r, d_r - delta)
    slope_terms = log_w - jnp.log(scales) - 0.5 * gap * (u_r + z_r)
    log_slope = logsumexp(slope_terms)
    # log R(-z_r) = log Phi(z_r) - log phi(z): in the tails from delta's equation
    # (no eps z^2 cancellation), in the centre |z| < 0.68.
    log_mills_z = _where(
        centre,
        log_cdf + 0.5 * z * z + LOG_SQRT_2PI,
        log_mills_b + c_b + 0.5 * delta * (z_r + base),
    )

    widest = jnp.argmax(scales)
    z_far = (x - means[widest]) / scales[widest]
    parts = _Parts(
        far=far, z=z, u=u, gap=reflect * gap, slope_terms=slope_terms,
        shares=jnp.exp(log_ratios - c), log_mills_z=log_mills_z, reflect=reflect,
        widest=widest,
    )
    z_out = _where(far, z_far, z)
    return z_out, _where(far, -jnp.log(scales[widest]), log_slope), parts


@mixture_cdf_transform.defjvp
@jax.jit  # traced once, like _mixture_cdf_parts
def _mixture_cdf_transform_jvp(primals, tangents):
    r"""Closed-form tangents of $T$ and $\log T'$, from the forward's own intermediates.

    With $u_k = (x - \mu_k)/\sigma_k$, $du_k = (dx - d\mu_k - u_k\,d\sigma_k)/\sigma_k$,
    responsibilities $r_k = \pi_k\varphi(u_k)/(\sigma_k f(x))$ and weight tangents
    projected onto normalised weights, $e_k = d\log\pi_k - \sum_j \pi_j\,d\log\pi_j$:

    $$dz = T'(x)\sum_k r_k\sigma_k\,du_k + \frac{\sum_k \pi_k\Phi(u_k)\,e_k}{\varphi(z)},
    \qquad d\log T' = \sum_k r_k\big(e_k - d\log\sigma_k - (u_k - z)\,du_k\big)
    + z\Big(dz - \sum_k r_k\,du_k\Big).$$

    The weight term is taken in the smaller tail, as $\pm R(|z|)\sum_k q_k e_k$ with
    shares $q_k = \pi_k\Phi(u_k)/\Phi(z)$ (reflected), so no $1/\varphi(z)$ overflows;
    every factor is bounded, and $u_k - z$ comes without cancellation. Differentiating
    the forward line by line instead (through its Halley steps, Mills ratios and
    branches) cost about twice the operations and three times the compile time of
    ``value_and_grad`` (``benchmarks/compile_transformers.py``).
    """
    params, x = primals
    (dlog_w, dmeans, dscales), dx = tangents
    log_w, means, scales = params
    z, log_slope, p = _mixture_cdf_parts(params, x)
    weights = jnp.exp(log_w)
    e = dlog_w - jnp.sum(weights * dlog_w)  # tangent of the normalised log weights
    du = (_where(p.far, 0.0, dx) - dmeans - p.u * dscales) / scales
    r = jnp.exp(p.slope_terms - log_slope)
    r_slope_scale = jnp.exp(p.slope_terms + jnp.log(scales))  # r_k T' sigma_k
    weight_term = p.reflect * jnp.exp(p.log_mills_z) * jnp.sum(p.shares * e)
    dz_excess = jnp.sum((r_slope_scale - r) * du) + weight_term  # dz - sum_k r_k du_k
    dz = jnp.sum(r * du) + dz_excess
    dlog_slope = jnp.sum(r * (e - dscales / scales - p.gap * du)) + p.z * dz_excess
    # Far out T(x) = (x - mu_w) / sigma_w and log T' = -log sigma_w for the widest w.
    pick = lambda a: a[p.widest]  # noqa: E731
    dz_far = (dx - pick(dmeans) - z * pick(dscales)) / pick(scales)
    dlog_far = -pick(dscales) / pick(scales)
    dz = _where(p.far, dz_far, dz).astype(z.dtype)
    dlog_slope = _where(p.far, dlog_far, dlog_slope).astype(log_slope.dtype)
    return (z, log_slope), (dz, dlog_slope)


@jax.custom_jvp
def _tail_offset(
    base: Array, log_mills_b: Array, c: Array, start: Array, keep: Array
) -> Array:
    r"""$\delta$ with $\log\Phi(b + \delta) - \log\Phi(b) = c$, for $b \le 0$.

    With $v = b + \delta$ the left side is $g(\delta) = -\delta(v + b)/2 + \log R(-v) -
    \log R(-b)$ (no $\epsilon b^2$ cancellation), with $g' = 1/R(-v)$ and
    $g'' = -(v + 1/R(-v))/R(-v)$. From ``start``, ``TAIL_HALLEY_STEPS`` Halley steps
    (a loop, so that the step is compiled once),
    $\delta \leftarrow \delta - gR/\big(1 + \tfrac12 g\,(1 + vR)\big)$ with
    $R = R(-v)$: cubic convergence, one Mills ratio per step. Where ``keep`` is true,
    ``start`` is returned unchanged.
    """

    def step(_, delta):
        v = jnp.minimum(base + delta, 0.0)
        log_mills_v = log_mills_nonneg(-v)
        g = -0.5 * delta * (v + base) + log_mills_v - log_mills_b - c
        mills_v = jnp.exp(log_mills_v)
        # 1 + v R lies in [0, 1]; the floor keeps a wild start (unused lanes) finite.
        update = g * mills_v / jnp.maximum(1 + 0.5 * g * (1 + v * mills_v), 0.5)
        return _where(keep, delta, delta - update)

    return jax.lax.fori_loop(0, TAIL_HALLEY_STEPS, step, start)


@_tail_offset.defjvp
def _tail_offset_jvp(primals, tangents):
    r"""Implicit derivative: $d\delta = R\,(d\log R(-b) + dc) - (1 + bR)\,db$,
    $R = R(-v)$ at the root (from $\partial g/\partial b = 1/R + b$); where ``keep``,
    the tangent of ``start``."""
    base, log_mills_b, c, start, keep = primals
    dbase, dlog_mills_b, dc, dstart, _ = tangents
    delta = _tail_offset(base, log_mills_b, c, start, keep)
    mills_v = jnp.exp(log_mills_nonneg(-jnp.minimum(base + delta, 0.0)))
    ddelta = mills_v * (dlog_mills_b + dc) - (1 + base * mills_v) * dbase
    return delta, _where(keep, dstart, ddelta)


def mixture_cdf_bracket(
    params: tuple[Array, Array, Array], z: Array
) -> tuple[Array, Array, Array]:
    r"""``(lower, upper, init)`` for solving $T(x) = z$.

    Every $\Phi(u_k)$ is increasing, so the root lies between the single-component
    roots $\min_k(\mu_k + \sigma_k z)$ and $\max_k(\mu_k + \sigma_k z)$; the start is
    their $\pi$-weighted mean.
    """
    log_w, means, scales = params
    candidates = means + scales * z
    return candidates.min(), candidates.max(), jnp.sum(jnp.exp(log_w) * candidates)


def mixture_cdf_inverse(
    params: tuple[Array, Array, Array], z: Array, n_iter: int = DEFAULT_N_ITER
) -> tuple[Array, Array]:
    r"""$x = T^{-1}(z)$ and $\log |dx/dz| = -\log T'(x)$, by bracketed Newton."""
    lower, upper, init = mixture_cdf_bracket(params, z)
    return invert_monotone(mixture_cdf_transform, params, z, lower, upper, init, n_iter)


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
                total = float(jnp.sum(weights))
                raise ValueError(f"weights must sum to 1 (within 1e-6), got sum {total}.")
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
        return mixture_cdf_transform(self._params(), check_float_dtype(x, "x"))

    def inverse_and_log_det(self, y, condition=None):
        return mixture_cdf_inverse(self._params(), check_float_dtype(y, "y"), self.n_iter)


class MixtureGaussianCDFCoupling(Coupling):
    r"""Coupling whose transformer is the Gaussian-mixture CDF map.

    $z_B = \Phi^{-1}\big(\sum_k \pi_k \Phi((x_B-\mu_k)/\sigma_k)\big)$ elementwise, with
    $(\pi, \mu, \sigma)$ predicted from $x_A$: $3K$ numbers per active coordinate.

    Args:
        key: PRNG key for the conditioner.
        shape: Event shape ``(d,)``, ``d >= 2``.
        n_components: $K \ge 1$.
        n_iter: Iteration cap of the inverse's solver (it stops once converged).
        min_scale: Floor of every $\sigma_k$ (see :class:`MixtureGaussianCDF`); lower
            it for data on a scale much smaller than 1.
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
        min_scale: float = 1e-3,
        **kwargs,
    ):
        super().__init__(
            key,
            shape=shape,
            transformer=MixtureGaussianCDF(
                n_components, n_iter=n_iter, min_scale=min_scale
            ),
            **kwargs,
        )
