"""Numerics of the Gaussian-mixture-CDF transformer, its derivatives and its solver."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import paramax
import scipy.special as sps

import gauss_flows as gf
from gauss_flows.bijections.mixture_cdf import mixture_cdf_transform
from gauss_flows.numerics.root_finding import bracketed_newton

EPS64 = np.finfo(np.float64).eps


K = 8  # every mixture below has 8 components, so that the jitted round trip is shared


def random_mixture(key, spread: float, min_scale: float, max_scale: float):
    """A mixture with random logits, means ``spread * N(0, 1)`` and uniform scales."""
    k1, k2, k3 = jr.split(key, 3)
    mixture = gf.MixtureGaussianCDF(
        K,
        means=spread * jr.normal(k1, (K,)),
        scales=jr.uniform(k2, (K,), minval=min_scale, maxval=max_scale),
    )
    return unwrapped(eqx.tree_at(lambda m: m.logits, mixture, jr.normal(k3, (K,))))


def unwrapped(mixture: gf.MixtureGaussianCDF) -> gf.MixtureGaussianCDF:
    """The mixture with its scales as a plain array.

    Each instance's scale parameterization is a fresh closure, which filter_jit treats
    as static: unwrapping lets all K-component mixtures share one compiled round trip.
    """
    return paramax.unwrap(mixture)


@eqx.filter_jit
def round_trip(bijection, x):
    z, log_det = jax.vmap(bijection.transform_and_log_det)(x)
    x_back, log_det_inv = jax.vmap(bijection.inverse_and_log_det)(z)
    return z, log_det, x_back, log_det_inv


def grid(dtype, x_max: float, extremes: tuple[float, ...], n: int = 2001):
    """A dense grid on [-x_max, x_max] plus +-extremes, sorted; same length always."""
    far = np.array(extremes)
    x = np.sort(np.concatenate([np.linspace(-x_max, x_max, n - 2 * far.size), -far, far]))
    return jnp.asarray(x, dtype), np.abs(x) <= x_max


EXTREMES_64 = (1e6, 1e30, 1e300)
EXTREMES_32 = (1e6, 1e30, 3e38)
# Relative round-trip tolerance at those extremes (measured: <= 2.1e-12 and 1.1e-6).
FAR_RTOL_64 = 1e-10
FAR_RTOL_32 = 1e-5


def _np(*arrays):
    return [np.asarray(a, np.float64) for a in arrays]


def _check_finite_increasing_and_far_round_trip(
    x, core, z, log_det, x_back, log_det_inv, rtol
):
    for a in (z, log_det, x_back, log_det_inv):
        assert np.all(np.isfinite(a))  # everywhere, up to |x| = 1e300 (3e38 in float32)
    assert np.all(np.diff(z) > 0)  # strictly increasing
    # Far out (|x| >= 1e6) the round trip holds to relative precision ``rtol``.
    np.testing.assert_allclose(x_back[~core], x[~core], rtol=rtol)


# --------------------------------------------------------------------------- tails
def test_default_mixture_over_wide_range(x64):
    x, core = grid(jnp.float64, 30.0, EXTREMES_64)
    default = unwrapped(gf.MixtureGaussianCDF(K))
    z, log_det, x_back, log_det_inv = _np(*round_trip(default, x))
    x = np.asarray(x)
    _check_finite_increasing_and_far_round_trip(
        x, core, z, log_det, x_back, log_det_inv, FAR_RTOL_64
    )
    assert np.max(np.abs(x_back - x)[core]) <= 1e-12
    assert np.max(np.abs(log_det + log_det_inv)[core]) <= 1e-10
    # Far out the widest (here: last, mean 2) component dominates: T(x) -> x - 2.
    last_core = np.flatnonzero(core)[-1]
    assert abs(z[last_core] - (30.0 - 2.0)) < 0.1


@pytest.mark.parametrize(
    ("spread", "min_scale", "max_scale"),
    [(1.5, 0.5, 2.0), (4.0, 0.05, 3.0)],
    ids=["moderate", "broad"],
)
def test_random_mixtures_round_trip(spread, min_scale, max_scale, x64):
    x, core = grid(jnp.float64, 30.0, EXTREMES_64)
    for seed in range(3):
        mixture = random_mixture(jr.key(seed), spread, min_scale, max_scale)
        z, log_det, x_back, log_det_inv = _np(*round_trip(mixture, x))
        xn = np.asarray(x)
        _check_finite_increasing_and_far_round_trip(
            xn, core, z, log_det, x_back, log_det_inv, FAR_RTOL_64
        )
        err = np.abs(x_back - xn)[core]
        # Conditioning bound: an error of eps*|z| in z costs eps*|z| / T'(x) in x.
        bound = (10 * EPS64 * (np.abs(z) + 1) * np.exp(-log_det) + EPS64 * np.abs(xn))[core]
        assert np.all(err <= bound), np.max(err / bound)
        if spread < 2:
            assert np.max(err) <= 1e-12


def test_float32(x32):
    x, core = grid(jnp.float32, 5.0, EXTREMES_32)
    default = unwrapped(gf.MixtureGaussianCDF(K))
    for mixture in (default, random_mixture(jr.key(1), 1.5, 0.5, 2.0)):
        out = round_trip(mixture, x)
        assert all(a.dtype == jnp.float32 for a in out)
        z, log_det, x_back, log_det_inv = _np(*out)
        xn = np.asarray(x, np.float64)
        _check_finite_increasing_and_far_round_trip(
            xn, core, z, log_det, x_back, log_det_inv, FAR_RTOL_32
        )
        assert np.max(np.abs(x_back - xn)[core]) <= 1e-4


# --------------------------------------------------------------------------- gradients
@eqx.filter_jit
def _gradients(mixture, x):
    """d T / d(logits, means, scales, x) of ours (custom JVP) and, by plain autodiff,
    of :func:`_naive_transform` (T straight from the definition, in jnp)."""
    ours_x = jax.vmap(jax.grad(mixture.transform))(x)
    ours_p = jax.vmap(eqx.filter_grad(lambda m, xi: m.transform(xi)), in_axes=(None, 0))(
        mixture, x
    )
    params = (mixture.logits, mixture.means, mixture.scales)
    naive_t = lambda p, xi: _naive_transform(p, xi)[0]  # noqa: E731
    d_params, d_x = jax.vmap(jax.grad(naive_t, argnums=(0, 1)), in_axes=(None, 0))(
        params, x
    )
    naive = (*d_params, d_x)
    return (ours_p.logits, ours_p.means, ours_p.scales, ours_x), naive


@pytest.mark.parametrize("which", ["K1", "K8_symmetric", "K8_random"])
def test_derivatives_at_the_median_match_autodiff_of_the_definition(which, x64):
    """At the median. Reference: jax autodiff of a plain implementation of T
    (``_naive_transform``), accurate in float64 here, for the tangents in x and in
    every parameter. x = 0 is the median of the two symmetric mixtures: there both
    tails tie (a jnp.minimum of the two tails' derivatives once gave dT/dx = 0), and
    the slope the custom JVP gives must still be the derivative of T, not merely
    exp(log T'), which the rule reproduces by construction for a tangent in x."""
    mixture = {
        "K1": lambda: unwrapped(gf.MixtureGaussianCDF(1)),
        "K8_symmetric": lambda: unwrapped(gf.MixtureGaussianCDF(K)),
        "K8_random": lambda: random_mixture(jr.key(3), 1.5, 0.5, 2.0),
    }[which]()
    x = jnp.array([0.0, 1e-300, -1e-300, 0.5, -1.3, 2.0])
    ours, naive = _gradients(mixture, x)
    for name, got, want in zip(("logits", "means", "scales", "x"), ours, naive,
                               strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, err_msg=name)
    assert float(jnp.min(ours[3])) > 0.1  # the slope, clearly non-zero
    if which == "K1":  # T is the identity: slope exactly 1 (up to rounding)
        np.testing.assert_allclose(ours[3], 1.0, rtol=1e-12)


def test_log_det_between_core_and_far_branch(x64):
    mixture = random_mixture(jr.key(0), 4.0, 0.05, 3.0)
    widest = float(jnp.max(mixture.scales))
    x, _ = grid(jnp.float64, 30.0, (1e8, 1e30))
    _, log_det, *_ = round_trip(mixture, x)
    far = np.abs(np.asarray(x)) >= 1e8
    # (Was a strict xfail: the loss was eps * x**2, ~1e-5 at 1e6 and O(1) at 1e30.)
    np.testing.assert_allclose(np.asarray(log_det)[far], -np.log(widest), atol=1e-13)


@eqx.filter_jit
def _implicit_derivatives(mixture, z, h):
    def inverse(m, z):
        return m.inverse(z)

    def forward(m, x):
        return m.transform(x)

    per_z = lambda f: eqx.filter_vmap(f, in_axes=(None, 0))  # noqa: E731
    x = per_z(inverse)(mixture, z)
    _, log_slope = jax.vmap(mixture.transform_and_log_det)(x)
    shifted = [
        eqx.tree_at(lambda m: m.means, mixture, mixture.means.at[0].add(s)) for s in (h, -h)
    ]
    return {
        "log_slope": log_slope,
        "dx_dz": per_z(jax.grad(inverse, argnums=1))(mixture, z),
        "dx_dmeans": per_z(eqx.filter_grad(inverse))(mixture, z).means,
        "dT_dmeans": per_z(eqx.filter_grad(forward))(mixture, x).means,  # at fixed x
        "fd": (per_z(inverse)(shifted[0], z) - per_z(inverse)(shifted[1], z)) / (2 * h),
    }


def test_gradients_through_the_inverse_are_implicit_function_derivatives(x64):
    mixture = random_mixture(jr.key(2), 1.5, 0.5, 2.0)
    z = jnp.linspace(-4.0, 4.0, 9)
    out = {k: np.asarray(v) for k, v in _implicit_derivatives(mixture, z, 1e-6).items()}
    # d x / d z = 1 / T'(x)
    np.testing.assert_allclose(out["dx_dz"], np.exp(-out["log_slope"]), rtol=1e-12)
    # d x / d means = -(d T / d means) / T'(x)
    expected = -out["dT_dmeans"] * np.exp(-out["log_slope"])[:, None]
    assert np.all(np.isfinite(out["dx_dmeans"])) and np.max(np.abs(out["dx_dmeans"])) > 1e-2
    np.testing.assert_allclose(out["dx_dmeans"], expected, rtol=1e-10, atol=1e-14)
    # ... and both agree with central finite differences of the whole solve.
    np.testing.assert_allclose(out["dx_dmeans"][:, 0], out["fd"], rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------- the solver
def test_fixed_iteration_count_buys_the_accuracy(x64):
    x, _ = grid(jnp.float64, 30.0, ())
    mixture = random_mixture(jr.key(3), 4.0, 0.05, 3.0)
    errors = {}
    for n_iter in (1, 2, 40):
        capped = eqx.tree_at(lambda m: m.n_iter, mixture, n_iter)
        _, _, x_back, log_det_inv = round_trip(capped, x)
        assert np.all(np.isfinite(np.asarray(x_back)))
        assert np.all(np.isfinite(np.asarray(log_det_inv)))
        errors[n_iter] = float(np.max(np.abs(np.asarray(x_back) - np.asarray(x))))
    assert errors[1] > errors[2] > errors[40]
    assert errors[1] > 1e-6 and errors[40] < 1e-10


def test_solver_never_leaves_its_bracket(x64):
    """Record every point the solver evaluates; all lie inside the initial bracket."""
    params = random_mixture(jr.key(4), 4.0, 0.05, 3.0)._params()
    seen = []

    def forward(x):
        jax.debug.callback(lambda v: seen.append(np.asarray(v)), x)
        return mixture_cdf_transform(params, x)

    targets = jnp.array([-8.0, -1.0, 0.3, 2.0, 9.0])
    # A bracket around the root, and one whose root lies outside it (to the right).
    for z in targets:
        candidates = params[1] + params[2] * z
        for lower, upper in ((candidates.min(), candidates.max()), (-50.0, -40.0)):
            seen.clear()
            init = 0.5 * (lower + upper) if upper == -40.0 else lower
            x = jax.jit(bracketed_newton, static_argnums=(0, 5))(
                forward, z, jnp.asarray(lower), jnp.asarray(upper), jnp.asarray(init), 40
            )
            points = np.array(seen)
            # The iteration cap holds; a solvable problem stops early (converged), the
            # one whose root is outside the bracket runs to the cap.
            assert 1 <= len(points) <= 40
            assert (len(points) < 40) == (upper != -40.0)
            assert np.all((points >= lower) & (points <= upper))
            assert lower <= float(x) <= upper and np.isfinite(float(x))


# --------------------------------------------------------------------------- never NaN
def _flat_mixture(case: str) -> gf.MixtureGaussianCDF:
    """Mixtures whose T' underflows between components (T flatter than the dtype)."""
    if case == "issue_example":  # log T'(0) = -797 in float64
        return unwrapped(gf.MixtureGaussianCDF(2, means=[-2.0, 2.0], scales=[0.05, 0.05]))
    if case == "issue_example_wider":  # float32: every z in [-1, 1] rounds to 0 before
        return unwrapped(gf.MixtureGaussianCDF(2, means=[-2.0, 2.0], scales=[0.12, 0.12]))
    k1, k2, k3 = jr.split(jr.key(7), 3)  # narrow, well-separated components
    mixture = gf.MixtureGaussianCDF(
        K, means=10.0 * jr.normal(k1, (K,)), scales=jr.uniform(k2, (K,), minval=2e-3,
                                                                maxval=1e-2),
    )
    return unwrapped(eqx.tree_at(lambda m: m.logits, mixture, jr.normal(k3, (K,))))


@eqx.filter_jit
def _inverse_with_gradients(mixture, z):
    def loss(m, v):
        x, log_det = m.inverse_and_log_det(v)
        return x + log_det

    x, log_det = jax.vmap(mixture.inverse_and_log_det)(z)
    dz = jax.vmap(jax.grad(loss, argnums=1), in_axes=(None, 0))(mixture, z)
    dparams = jax.vmap(eqx.filter_grad(loss), in_axes=(None, 0))(mixture, z)
    t_back, _ = jax.vmap(mixture.transform_and_log_det)(x)
    return x, log_det, dz, dparams, t_back


@pytest.mark.parametrize("case", ["issue_example", "issue_example_wider", "narrow_random"])
def test_inverse_never_nan_where_t_is_flat(dtype, case):
    mixture = _flat_mixture(case)
    big = 1e30
    z = np.concatenate([np.linspace(-8, 8, 33), [0.0, 1e-30, -1e-30, 1e-5, big, -big]])
    z = jnp.asarray(z, dtype)
    x, log_det, dz, dparams, t_back = _inverse_with_gradients(mixture, z)  # default cap
    for a in (x, log_det, dz, *jax.tree.leaves(dparams)):
        assert a.dtype == dtype and bool(jnp.all(jnp.isfinite(a)))
    # The guarantee: T(x) = z to rounding, |T(x) - z| <= 64 eps (1 + |z|), ...
    eps = float(jnp.finfo(dtype).eps)
    residual = np.abs(np.asarray(t_back, np.float64) - np.asarray(z, np.float64))
    ok = residual <= 64 * eps * (1 + np.abs(np.asarray(z, np.float64)))
    # ... or, where T jumps over z between neighbouring floats, x is the jump.
    xs = np.asarray(x, np.float64)
    step = 8 * eps * np.maximum(np.abs(xs), 1e-30)
    lo_hi = jax.vmap(mixture.transform)(jnp.asarray(np.stack([xs - step, xs + step]), dtype)
                                        .reshape(-1)).reshape(2, -1)
    zs = np.asarray(z)
    brackets = (np.asarray(lo_hi[0]) <= zs) & (zs <= np.asarray(lo_hi[1]))
    # (The narrow, well-separated mixture in float64 needs up to 73 iterations: with
    # the old default cap of 64, 4 of these 39 targets stopped short of the root.)
    assert np.all(ok | brackets)
    if case == "issue_example" and dtype == jnp.float64:
        # Before: inverse(0) was NaN. T is odd here, so T^{-1}(0) = 0 up to the flat
        # stretch around it: x maps to z = 0.
        assert float(mixture.transform(mixture.inverse(jnp.asarray(0.0)))) == 0.0


def test_centre_keeps_tiny_z_between_narrow_components(x64):
    """Near F = 1/2, T(x) keeps its relative precision (it was exactly 0 on [0, 1.5])."""
    mixture = _flat_mixture("issue_example")
    x = jnp.array([0.5, 1.0, 1.5])
    z = np.asarray(jax.vmap(mixture.transform)(x))
    # F - 1/2 = (Phi(u_-) - Phi(-u_+)) / 2 with u_+- = (x +- 2) / 0.05, by symmetry
    xs = np.asarray(x)
    d = 0.5 * (sps.ndtr(-(2 - xs) / 0.05) - sps.ndtr(-(2 + xs) / 0.05))
    # rtol 1e-12: exp(-u**2 / 2) at u = 30 inherits eps * u**2 / 2 = 1e-13 from
    # rounding u**2
    np.testing.assert_allclose(z, np.sqrt(2 * np.pi) * d, rtol=1e-12)
    assert np.all(np.diff(z) > 0) and z[0] > 0


# --------------------------------------------------------------------------- weights
def test_weights_argument():
    weights = jnp.array([0.2, 0.3, 0.5])
    mixture = gf.MixtureGaussianCDF(3, weights=weights)
    np.testing.assert_allclose(jnp.exp(jax.nn.log_softmax(mixture.logits)), weights,
                               rtol=1e-6)
    for bad, match in (
        (jnp.array([0.5, 0.5]), "shape"),
        (jnp.array([0.5, 0.6, -0.1]), "> 0"),
        (jnp.array([0.2, 0.3, 0.4]), "sum to 1"),
    ):
        with pytest.raises(ValueError, match=match):
            gf.MixtureGaussianCDF(3, weights=bad)


def test_float32_forward_is_finite_on_random_mixtures(x32):
    # Regression: in float32, jax's erfcx returns 0 for arguments in [9.19, 9.42]
    # (|u| near 13), which made log T' -inf and T NaN, and float32 training diverge.
    k1, k2, k3 = jr.split(jr.key(7), 3)
    n = 200
    log_w = jax.nn.log_softmax(3 * jr.normal(k1, (n, K)))
    means = jr.normal(k2, (n, K))
    scales = jr.uniform(k3, (n, K), minval=0.5, maxval=2.0)
    x = jnp.linspace(-20.0, 20.0, 401, dtype=jnp.float32)
    forward = jax.vmap(jax.vmap(mixture_cdf_transform, (None, 0)), ((0, 0, 0), None))
    z, log_slope = jax.jit(forward)((log_w, means, scales), x)
    assert z.dtype == jnp.float32
    assert np.all(np.isfinite(np.asarray(z))) and np.all(np.isfinite(np.asarray(log_slope)))
    assert np.all(np.diff(np.asarray(z), axis=1) > 0)


# --------------------------------------------------------------------------- derivatives
# ``mixture_cdf_transform`` has a hand-written (custom) JVP, so the contract suite's
# Jacobian-vs-log-det test alone would compare it with itself. These tests check it
# against independent derivatives.
def _naive_transform(params, x):
    """T and log T' straight from the definition: accurate for moderate |x| only.

    The log weights are normalised first, so that their tangents are projected onto
    normalised weights, as the custom JVP does.
    """
    log_w, means, scales = params
    log_w = log_w - jax.scipy.special.logsumexp(log_w)
    u = (x - means) / scales
    z = jax.scipy.special.ndtri(jnp.sum(jnp.exp(log_w) * jax.scipy.special.ndtr(u)))
    log_pdf = jax.scipy.stats.norm.logpdf
    log_f = jax.scipy.special.logsumexp(log_w - jnp.log(scales) + log_pdf(u))
    return z, log_f - log_pdf(z)


def _random_params(key, n: int):
    k1, k2, k3 = jr.split(key, 3)
    return (jax.nn.log_softmax(jr.normal(k1, (n, K)), axis=-1), 1.5 * jr.normal(k2, (n, K)),
            jr.uniform(k3, (n, K), minval=0.3, maxval=2.0))


def _random_like(key, tree):
    """Independent standard normal draws shaped like every leaf of ``tree``."""
    leaves, treedef = jax.tree.flatten(tree)
    keys = jr.split(key, len(leaves))
    return treedef.unflatten([jr.normal(k, jnp.shape(a)) for k, a in zip(keys, leaves)])


def test_custom_jvp_matches_autodiff_of_the_definition(x64):
    n = 64
    params = _random_params(jr.key(10), n)
    x = jnp.linspace(-4.0, 4.0, n)
    tangents = _random_like(jr.key(11), (params, x))

    def jvps(f):
        return jax.jit(jax.vmap(lambda p, x, dp, dx: jax.jvp(f, (p, x), (dp, dx))))(
            params, x, *tangents)

    (z, log_slope), (dz, dlog) = jvps(mixture_cdf_transform)
    (z_ref, log_ref), (dz_ref, dlog_ref) = jvps(_naive_transform)
    np.testing.assert_allclose(z, z_ref, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(log_slope, log_ref, rtol=1e-12, atol=1e-13)
    assert np.max(np.abs(dz_ref)) > 1 and np.max(np.abs(dlog_ref)) > 1
    np.testing.assert_allclose(dz, dz_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dlog, dlog_ref, rtol=1e-10, atol=1e-12)

    # Reverse mode transposes the same rule: gradients of a weighted sum agree too.
    def grads(f):
        def loss(p, x):
            return jnp.sum(jnp.array([1.0, -0.7]) * jnp.stack(f(p, x)))
        return jax.jit(jax.vmap(jax.grad(loss, argnums=(0, 1))))(params, x)

    for got, want in zip(jax.tree.leaves(grads(mixture_cdf_transform)),
                         jax.tree.leaves(grads(_naive_transform))):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("x", [-1e4, -200.0, -40.0, 12.0, 60.0, 3e3])
def test_custom_jvp_matches_finite_differences_in_the_tails(x64, x):
    """Where the definition fails (F rounds to 0 or 1), central differences of T itself."""
    params = jax.tree.map(lambda a: a[0], _random_params(jr.key(12), 1))
    x = jnp.asarray(x)
    direction = _random_like(jr.key(13), (params, x))
    (z, log_slope), (dz, dlog) = jax.jvp(mixture_cdf_transform, (params, x), direction)
    h = 1e-4 * max(1.0, abs(x)) ** 0.5

    def at(s):  # T at the shifted point, its log weights normalised again
        (log_w, means, scales), x_s = jax.tree.map(lambda a, d: a + s * h * d,
                                                   (params, x), direction)
        return mixture_cdf_transform((jax.nn.log_softmax(log_w), means, scales), x_s)

    shifted = [at(1), at(-1)]
    fd_z = (shifted[0][0] - shifted[1][0]) / (2 * h)
    fd_log = (shifted[0][1] - shifted[1][1]) / (2 * h)
    assert abs(float(z)) > 5  # really in a tail
    np.testing.assert_allclose(dz, fd_z, rtol=1e-6)
    np.testing.assert_allclose(dlog, fd_log, rtol=1e-5, atol=1e-8)


def test_derivatives_are_finite_out_to_the_largest_floats(dtype):
    params = jax.tree.map(lambda a: a[0].astype(dtype), _random_params(jr.key(14), 1))
    big = float(jnp.finfo(dtype).max) / 10
    x = jnp.asarray([-big, -1e30, -1e6, -50.0, 0.0, 50.0, 1e6, 1e30, big], dtype)
    loss = lambda p, x: jnp.sum(jnp.stack(mixture_cdf_transform(p, x)))  # noqa: E731
    grads = jax.jit(jax.vmap(jax.grad(loss, argnums=(0, 1)), in_axes=(None, 0)))(params, x)
    for leaf in jax.tree.leaves(grads):
        assert leaf.dtype == dtype and np.all(np.isfinite(np.asarray(leaf)))


def test_value_and_grad_lowers_to_no_more_ops_than_the_spline_flow(x32):
    """The closed-form JVP keeps the mixture CDF's gradient graph small.

    Differentiating the forward line by line lowered to 5061 StableHLO ops (against
    2139 for flowjax's spline); compile *time* is measured in ``make bench``.
    """

    def n_ops(coupling):
        flow = gf.coupling_flow(jr.key(0), shape=(2,), n_layers=4, coupling=coupling,
                                nn_width=32)
        params, static = eqx.partition(
            flow, eqx.is_inexact_array,
            is_leaf=lambda a: isinstance(a, paramax.NonTrainable),
        )

        def nll(p, x):
            return -paramax.unwrap(eqx.combine(p, static)).log_prob(x).mean()

        x = jr.normal(jr.key(1), (64, 2))
        text = jax.jit(jax.value_and_grad(nll)).lower(params, x).as_text()
        return sum("stablehlo." in line for line in text.splitlines())

    assert n_ops("mixture_cdf") <= n_ops("rq_spline")
