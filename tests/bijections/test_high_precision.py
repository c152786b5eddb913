"""T and log T' of the solver-based transformers against mpmath references (50+ digits).

The references are evaluated straight from the definitions, at a working precision of
60 digits plus twice the decimal exponent of the largest |u_k| (so that the log-ratios
of numbers near ``exp(-u**2 / 2)`` keep 50+ significant digits even at |x| = 1e300).
Points: |x| from 0 to 1e300 on a log grid (both signs) plus a dense core, on random
8-component mixtures, some with narrow, well-separated components.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import mpmath as mp
import numpy as np
import paramax
import pytest

import gauss_flows as gf
from gauss_flows.bijections.deep_sigmoid import deep_sigmoid_transform
from gauss_flows.bijections.mixture_cdf import mixture_cdf_transform

EPS64 = float(np.finfo(np.float64).eps)
K = 8
#: |x| from 0 to 1e300 (both signs), denser where the branches meet.
X_POINTS = np.concatenate([
    [0.0, 1e-300, 1e-8],
    np.linspace(-30, 30, 13),
    np.geomspace(40.0, 1e4, 6),
    np.geomspace(3e4, 1e300, 12),
])
X_POINTS = np.sort(np.concatenate([X_POINTS, -X_POINTS[X_POINTS > 0]]))
# Bands of |x| for the error report.
BANDS = [(0, 30), (30, 1e4), (1e4, 1e77), (1e77, 1e301)]


def random_mixture_params(seed: int, spread: float, min_scale: float, max_scale: float):
    k1, k2, k3 = jr.split(jr.key(seed), 3)
    mixture = gf.MixtureGaussianCDF(
        K,
        means=spread * jr.normal(k1, (K,)),
        scales=jr.uniform(k2, (K,), minval=min_scale, maxval=max_scale),
    )
    mixture = eqx.tree_at(lambda m: m.logits, mixture, jr.normal(k3, (K,)))
    return paramax.unwrap(mixture)._params()


# ------------------------------------------------------------------ mpmath references
def _mp_log_ncdf(u):
    """log Phi(u) for an mpf u, any size (mpmath's erfc overflows its series test)."""
    if u < -1e4:
        w = 1 / (u * u)
        series = 1 - w + 3 * w**2 - 15 * w**3 + 105 * w**4 - 945 * w**5
        return -u * u / 2 - mp.log(-u) - mp.log(2 * mp.pi) / 2 + mp.log(series)
    if u > 1e4:
        return -mp.exp(_mp_log_ncdf(-u))  # log1p(-p) = -p to far beyond 50 digits
    return mp.log(mp.ncdf(u))


def _digits_for(*values, power: int = 1) -> int:
    """60 significant digits, plus as many as ``max|values| ** power`` has before the
    decimal point (exp(-v) to 60 digits needs v to 60 digits after the point)."""
    big = max(1.0, *(abs(float(v)) for v in values))
    return 60 + power * (int(math.log10(big)) + 1)


def mixture_reference(params, x: float) -> tuple[float, float, float]:
    """``(T(x), log T'(x), cond)`` for the mixture; ``cond`` is the sensitivity of T to
    relative perturbations of the u_k and the weights (the conditioning of T)."""
    log_w, means, scales = (np.asarray(p, np.float64) for p in params)
    u_float = (x - means) / scales
    with mp.workdps(_digits_for(*u_float, power=2)):
        w = [mp.exp(mp.mpf(float(v))) for v in log_w]
        s = [mp.mpf(float(v)) for v in scales]
        u = [(mp.mpf(float(x)) - mp.mpf(float(m))) / sk for m, sk in zip(means, s)]
        # D = F - 1/2 = sum_k w_k sign(u_k) (1/2 - Phi(-|u_k|)), split to keep tiny D
        half = sum(wk * mp.sign(uk) for wk, uk in zip(w, u)) / 2
        tails = sum(
            wk * mp.sign(uk) * mp.exp(_mp_log_ncdf(-abs(uk))) for wk, uk in zip(w, u)
        )
        d = half - tails
        if abs(d) < mp.mpf(1) / 4:
            z = mp.sqrt(2) * mp.erfinv(2 * d)
        else:
            sign = -1 if d > 0 else 1  # reflect so that the smaller tail is the lower one
            log_p = mp.log(
                sum(wk * mp.exp(_mp_log_ncdf(sign * uk)) for wk, uk in zip(w, u))
            )
            zr = -mp.sqrt(max(-2 * log_p - mp.log(-4 * mp.pi * log_p), 1))
            for _ in range(200):
                step = (_mp_log_ncdf(zr) - log_p) * mp.exp(
                    _mp_log_ncdf(zr) + zr * zr / 2 + mp.log(2 * mp.pi) / 2
                )
                zr -= step
                tol = abs(zr) * mp.mpf(10) ** (-mp.mp.dps + 5) + mp.mpf(10) ** -400
                if abs(step) <= tol:
                    break
            z = sign * zr
        log_slope = mp.log(
            sum(wk / sk * mp.exp(-(uk - z) * (uk + z) / 2) for wk, sk, uk in zip(w, s, u))
        )
        log_phi_z = -z * z / 2
        cond = sum(
            wk * mp.exp(-uk * uk / 2 - log_phi_z) * (1 + abs(uk)) for wk, uk in zip(w, u)
        )
        return float(z), float(log_slope), float(cond)


def deep_sigmoid_reference(params, x: float) -> tuple[float, float]:
    log_w, slopes, shifts = (np.asarray(p, np.float64) for p in params)
    # exp(-u) to 60 digits needs u to 60 digits *after* the decimal point
    with mp.workdps(_digits_for(*(slopes * x + shifts))):
        s_sum = tail = num = mp.mpf(0)
        for lw, a, b in zip(log_w, slopes, shifts):
            wk, a = mp.exp(mp.mpf(float(lw))), mp.mpf(float(a))
            u = a * mp.mpf(float(x)) + mp.mpf(float(b))
            sig, sig_neg = 1 / (1 + mp.exp(-u)), 1 / (1 + mp.exp(u))
            s_sum += wk * sig
            tail += wk * sig_neg
            num += wk * a * sig * sig_neg
        return float(mp.log(s_sum) - mp.log(tail)), float(
            mp.log(num) - mp.log(s_sum) - mp.log(tail)
        )


@jax.jit
def _mixture_batch(params, x):
    return jax.vmap(mixture_cdf_transform, in_axes=(None, 0))(params, x)


@jax.jit
def _sigmoid_batch(params, x):
    return jax.vmap(deep_sigmoid_transform, in_axes=(None, 0))(params, x)


def _report(x, err, label):
    for lo, hi in BANDS:
        band = (np.abs(x) >= lo) & (np.abs(x) <= hi)
        if band.any():
            print(f"{label} |x| in [{lo:g}, {hi:g}]: max {np.max(err[band]):.2g}")


MIXTURES = {
    "moderate": (0, 1.5, 0.5, 2.0),
    "broad": (1, 4.0, 0.05, 3.0),
    "narrow_separated": (2, 10.0, 1e-3, 1e-2),
}


@pytest.mark.parametrize("name", list(MIXTURES))
def test_mixture_matches_mpmath(x64, name):
    params = random_mixture_params(*MIXTURES[name])
    z, log_slope = (np.asarray(a) for a in _mixture_batch(params, jnp.asarray(X_POINTS)))
    ref = np.array([mixture_reference(params, float(x)) for x in X_POINTS])
    z_ref, log_slope_ref, cond = ref.T
    # T: a few ulps relative, plus the conditioning of T itself (rounding u_k by half
    # an ulp moves T by eps/2 * cond: no float64 evaluation can do better).
    z_err = np.abs(z - z_ref)
    z_tol = 4 * EPS64 * (np.abs(z_ref) + cond)
    _report(X_POINTS, z_err / (EPS64 * (np.abs(z_ref) + cond)), f"{name} T ulps")
    assert np.all(z_err <= z_tol), np.max(z_err / z_tol)
    # log T': 1e-13 absolute (plus, again, rounding of the u_k: eps * cond * |dlogT'/dT|
    # is tiny except where T' itself underflows towards exp(-700))
    ls_err = np.abs(log_slope - log_slope_ref)
    _report(X_POINTS, ls_err, f"{name} log T' abs")
    ls_tol = 1e-13 + 4 * EPS64 * np.abs(log_slope_ref)
    assert np.all(ls_err <= ls_tol), np.max(ls_err / ls_tol)


@pytest.mark.parametrize("seed", [0, 1])
def test_deep_sigmoid_matches_mpmath(x64, seed):
    k1, k2, k3 = jr.split(jr.key(seed), 3)
    slopes, shifts = jnp.exp(jr.normal(k1, (K,))), 2 * jr.normal(k2, (K,))
    bij = gf.DeepSigmoid(K, slopes=slopes, shifts=shifts)
    bij = eqx.tree_at(lambda b: b.logits, bij, 1.5 * jr.normal(k3, (K,)))
    params = paramax.unwrap(bij)._params()
    y, log_slope = (np.asarray(a) for a in _sigmoid_batch(params, jnp.asarray(X_POINTS)))
    ref = np.array([deep_sigmoid_reference(params, float(x)) for x in X_POINTS])
    y_err = np.abs(y - ref[:, 0])
    ulps = y_err / (EPS64 * np.maximum(np.abs(ref[:, 0]), 1.0))
    _report(X_POINTS, ulps, "sigmoid T ulps")
    assert np.all(y_err <= 8 * EPS64 * np.maximum(np.abs(ref[:, 0]), 1.0))
    ls_err = np.abs(log_slope - ref[:, 1])
    _report(X_POINTS, ls_err, "sigmoid log T' abs")
    assert np.all(ls_err <= 1e-13)


# ------------------------------------------------------------------ the Mills ratio
def _mp_log_mills(v: float) -> float:
    """log R(v) = log Phi(-v) - log phi(v), for v >= 0."""
    with mp.workdps(_digits_for(v, power=2)):
        v = mp.mpf(v)
        return float(_mp_log_ncdf(-v) + v * v / 2 + mp.log(2 * mp.pi) / 2)


def test_log_mills_ratio_matches_mpmath_on_a_dense_grid(dtype):
    """Every 0.01 on [0, 60], then out to the largest floats.

    Regression: jax's erfcx returns exactly 0 on a narrow band of arguments (float32:
    v in [13.0, 13.3]; float64: v in [37.5, 37.7]); a coarse grid missed the float64
    band, and a two-moons flow then inverted to the wrong point.
    """
    from gauss_flows.bijections.mixture_cdf import log_mills_nonneg

    top = 1e300 if dtype == jnp.float64 else 1e30
    v = np.concatenate([np.arange(0.0, 60.0, 0.01), np.geomspace(60.0, top, 200)])
    v_stored = v.astype(np.dtype(dtype)).astype(np.float64)
    got = np.asarray(jax.jit(log_mills_nonneg)(jnp.asarray(v_stored, dtype)), np.float64)
    ref = np.array([_mp_log_mills(float(t)) for t in v_stored])
    eps = float(jnp.finfo(dtype).eps)
    assert np.all(np.isfinite(got))
    np.testing.assert_array_less(np.abs(got - ref), 8 * eps * np.maximum(1.0, np.abs(ref)))


def test_mixture_matches_mpmath_where_erfcx_has_zeros(x64):
    """The dominant component's |u| inside jax's float64 erfcx zero band (37.5..37.7)."""
    params = (jnp.log(jnp.array([0.4, 0.6])), jnp.array([0.0, 3.0]), jnp.array([1.0, 0.5]))
    x = np.concatenate([np.linspace(-37.8, -37.4, 21), np.linspace(37.4, 37.8, 21)])
    z, log_slope = (np.asarray(a) for a in _mixture_batch(params, jnp.asarray(x)))
    ref = np.array([mixture_reference(params, float(v)) for v in x])
    np.testing.assert_allclose(z, ref[:, 0], rtol=4 * EPS64)
    np.testing.assert_allclose(log_slope, ref[:, 1], rtol=0, atol=1e-13)
    assert np.all(np.diff(z) > 0)
