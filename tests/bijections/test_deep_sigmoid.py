"""The deep sigmoidal transformer: accuracy, tails, inverse, gradients, coupling."""

from __future__ import annotations

import decimal
from decimal import Decimal

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import paramax
import pytest

import gauss_flows as gf
from gauss_flows.bijections.deep_sigmoid import deep_sigmoid_transform


def random_deep_sigmoid(key, k: int = 6) -> gf.DeepSigmoid:
    """A DeepSigmoid with spread slopes (about 0.1 to 10), shifts and uneven weights."""
    k1, k2, k3 = jr.split(key, 3)
    slopes, shifts = jnp.exp(jr.normal(k1, (k,))), 2 * jr.normal(k2, (k,))
    bij = gf.DeepSigmoid(k, slopes=slopes, shifts=shifts)
    return eqx.tree_at(lambda b: b.logits, bij, 1.5 * jr.normal(k3, (k,)))


@eqx.filter_jit
def apply(bij, method: str, xs):
    """``bij.<method>`` over a batch, jit-compiled (``method`` is static)."""
    return jax.vmap(getattr(bij, method))(xs)


@eqx.filter_jit
def grads(bij, method: str, xs):
    """Gradients of ``sum(<method>(x))`` w.r.t. the parameters and to ``x``, per ``x``."""

    def loss(b, v):
        out, log_det = getattr(b, method)(v)
        return out + log_det

    g_param = jax.vmap(eqx.filter_grad(loss), in_axes=(None, 0))(bij, xs)
    g_x = jax.vmap(jax.grad(loss, argnums=1), in_axes=(None, 0))(bij, xs)
    return g_param, g_x


def params_of(bij: gf.DeepSigmoid):
    return paramax.unwrap(bij)._params()


def reference(params, x: float) -> tuple[float, float]:
    """T(x) and log T'(x) in 60-digit decimal arithmetic, straight from the definition."""
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        ctx.Emax, ctx.Emin = decimal.MAX_EMAX, decimal.MIN_EMIN
        log_w, slopes, shifts = (np.asarray(p, dtype=np.float64) for p in params)
        w = [Decimal(float(v)).exp() for v in log_w]
        s_sum = tail = num = Decimal(0)
        for wk, a, b in zip(w, slopes, shifts):
            u = Decimal(float(a)) * Decimal(float(x)) + Decimal(float(b))
            sig = 1 / (1 + (-u).exp())
            sig_neg = 1 / (1 + u.exp())  # 1 - sig, without cancellation
            s_sum += wk * sig
            tail += wk * sig_neg
            num += wk * Decimal(float(a)) * sig * sig_neg
        y = s_sum.ln() - tail.ln()
        log_slope = num.ln() - s_sum.ln() - tail.ln()
        return float(y), float(log_slope)


XS_WIDE = [-1e6, -300.0, -60.0, -30.0, -7.5, -1.0, -1e-3, 0.0]
XS_WIDE += [1e-3, 0.7, 3.0, 30.0, 60.0, 300.0, 1e6]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_high_precision_reference(x64, seed):
    bij = random_deep_sigmoid(jr.key(seed))
    params = params_of(bij)
    ys, log_slopes = apply(bij, "transform_and_log_det", jnp.asarray(XS_WIDE))
    for x, y, log_slope in zip(XS_WIDE, ys, log_slopes):
        y_ref, ls_ref = reference(params, x)
        assert abs(float(y) - y_ref) <= 1e-13 * max(1.0, abs(y_ref)), (x, float(y), y_ref)
        assert abs(float(log_slope) - ls_ref) <= 1e-12, (x, float(log_slope), ls_ref)


def test_single_component_is_affine(x64):
    # logit(sigmoid(a x + b)) = a x + b exactly, for every finite x
    bij = gf.DeepSigmoid(1, slopes=2.5, shifts=jnp.array([-0.75]))
    xs = np.array([-1e300, -1e20, -40.0, 0.0, 3.0, 40.0, 1e20, 1e300 / 2.5])
    ys, log_slopes = apply(bij, "transform_and_log_det", jnp.asarray(xs))
    np.testing.assert_allclose(ys, 2.5 * xs - 0.75, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(log_slopes, np.log(2.5), rtol=0, atol=1e-15)


def test_tails_are_linear_with_the_smallest_slope(dtype):
    bij = random_deep_sigmoid(jr.key(3))
    a_min = float(params_of(bij)[1].min())
    big = 1e6 if dtype == jnp.float32 else 1e12
    xs = jnp.array([-100 * big, -big, -2e4, -1e4, 1e4, 2e4, big, 100 * big], dtype)
    ys, log_slopes = apply(bij, "transform_and_log_det", xs)
    eps = float(jnp.finfo(dtype).eps)
    np.testing.assert_allclose(log_slopes, np.log(a_min), rtol=0, atol=10 * eps)
    # T(x) = a_min x + O(1): the chord slope far out is a_min on both sides
    assert float(ys[3] - ys[2]) / 1e4 == pytest.approx(a_min, rel=1e-3)
    assert float(ys[5] - ys[4]) / 1e4 == pytest.approx(a_min, rel=1e-3)


def test_finite_and_strictly_increasing_no_saturation(dtype):
    bij = random_deep_sigmoid(jr.key(4))
    xs = jnp.linspace(-30, 30, 6001, dtype=dtype)  # step 0.01
    ys, log_slopes = apply(bij, "transform_and_log_det", xs)
    assert bool(jnp.all(jnp.isfinite(ys))) and bool(jnp.all(jnp.isfinite(log_slopes)))
    assert bool(jnp.all(jnp.diff(ys) > 0))
    huge = jnp.array([-jnp.finfo(dtype).max / 1e3, -1e30, 1e30, jnp.finfo(dtype).max / 1e3])
    ys, log_slopes = apply(bij, "transform_and_log_det", huge.astype(dtype))
    assert bool(jnp.all(jnp.isfinite(ys))) and bool(jnp.all(jnp.isfinite(log_slopes)))
    assert bool(jnp.all(jnp.diff(ys) > 0))


def test_log_det_matches_autodiff(x64):
    bij = random_deep_sigmoid(jr.key(5))
    xs = jnp.linspace(-30, 30, 241)
    slopes = eqx.filter_jit(lambda b, v: jax.vmap(jax.grad(b.transform))(v))(bij, xs)
    _, log_slopes = apply(bij, "transform_and_log_det", xs)
    np.testing.assert_allclose(np.log(slopes), log_slopes, rtol=0, atol=1e-12)


def test_inverse_bracket_contains_the_root(x64):
    for seed in range(5):
        log_w, slopes, shifts = params_of(random_deep_sigmoid(jr.key(10 + seed)))
        for z in [-50.0, -3.0, 0.0, 0.4, 8.0, 50.0]:
            candidates = (z - shifts) / slopes
            t_lo, _ = deep_sigmoid_transform((log_w, slopes, shifts), candidates.min())
            t_hi, _ = deep_sigmoid_transform((log_w, slopes, shifts), candidates.max())
            assert float(t_lo) <= z <= float(t_hi)


@pytest.mark.parametrize("seed", [None, 0, 1, 2])
def test_round_trip_float64(x64, seed):
    bij = gf.DeepSigmoid() if seed is None else random_deep_sigmoid(jr.key(seed), 8)
    xs = jnp.linspace(-30, 30, 1201)
    zs, log_det = apply(bij, "transform_and_log_det", xs)
    xs_back, inv_log_det = apply(bij, "inverse_and_log_det", zs)
    assert float(jnp.max(jnp.abs(xs_back - xs))) <= 1e-12
    assert float(jnp.max(jnp.abs(inv_log_det + log_det))) <= 1e-10


def test_round_trip_float32(x32):
    bij = random_deep_sigmoid(jr.key(7), 8)
    xs = 2.0 * jr.normal(jr.key(8), (2000,))
    xs_back = apply(bij, "inverse", apply(bij, "transform", xs))
    assert xs_back.dtype == jnp.float32
    assert float(jnp.max(jnp.abs(xs_back - xs))) <= 1e-4


def test_inverse_gradients_are_implicit(x64):
    bij = random_deep_sigmoid(jr.key(9))
    xs = jnp.array([-20.0, -1.3, 0.0, 2.2, 25.0])

    @eqx.filter_jit
    def derivatives(bij, xs):
        def one(x):
            z, log_slope = bij.transform_and_log_det(x)
            dx_dz = jax.grad(bij.inverse)(z)
            g_inv = eqx.filter_grad(lambda b: b.inverse(z))(bij)
            g_fwd = eqx.filter_grad(lambda b: b.transform(x))(bij)
            return log_slope, dx_dz, g_inv, g_fwd

        return jax.vmap(one)(xs)

    log_slope, dx_dz, g_inv, g_fwd = derivatives(bij, xs)
    np.testing.assert_allclose(dx_dz, jnp.exp(-log_slope), rtol=1e-10)
    # d x / d theta = -(d T / d theta) / T'(x), at fixed z
    for gi, gf_ in zip(jax.tree.leaves(g_inv), jax.tree.leaves(g_fwd)):
        expected = -gf_ * jnp.exp(-log_slope)[:, None]
        np.testing.assert_allclose(gi, expected, rtol=1e-9, atol=1e-12)
        assert float(jnp.abs(gi).max()) > 1e-3  # the check is not vacuous


def test_gradients_finite_far_out(dtype):
    bij = random_deep_sigmoid(jr.key(11))
    xs = jnp.array([-1e30, -1e3, -30.0, 0.0, 30.0, 1e3, 1e30], dtype)
    for method in ("transform_and_log_det", "inverse_and_log_det"):
        g_param, g_x = grads(bij, method, xs)
        assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(g_param))
        assert bool(jnp.all(jnp.isfinite(g_x)))


def test_template_components_are_spread():
    bij = gf.DeepSigmoid(5)
    _, slopes, shifts = params_of(bij)
    assert len(set(np.asarray(shifts).tolist())) == 5
    np.testing.assert_allclose(slopes, 1.0, rtol=1e-6)


def test_coupling_log_det_and_round_trip(x64):
    layer = gf.DeepSigmoidCoupling(jr.key(0), shape=(5,), n_components=4, nn_width=16)
    x = 3.0 * jr.normal(jr.key(1), (64, 5))
    z, log_det = apply(layer, "transform_and_log_det", x)
    jac = eqx.filter_jit(lambda b, v: jax.vmap(jax.jacfwd(b.transform))(v))(layer, x)
    np.testing.assert_allclose(log_det, jnp.linalg.slogdet(jac)[1], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(z[:, :2], x[:, :2])  # default mask: first d // 2 passive
    x_back, inv_log_det = apply(layer, "inverse_and_log_det", z)
    assert float(jnp.max(jnp.abs(x_back - x))) <= 1e-12
    np.testing.assert_allclose(inv_log_det, -log_det, rtol=0, atol=1e-10)
    assert layer.n_params == 3 * 4


def test_coupling_zero_init_is_the_template(x64):
    layer = gf.DeepSigmoidCoupling(jr.key(0), shape=(4,), n_components=3, zero_init=True)
    template = gf.DeepSigmoid(3)
    x = jnp.array([0.3, -1.0, 2.0, -7.0])
    z = apply(layer, "transform", x[None])[0]
    np.testing.assert_allclose(z[2:], apply(template, "transform", x[2:]), rtol=1e-15)
    np.testing.assert_array_equal(z[:2], x[:2])


@pytest.mark.parametrize(
    "kwargs",
    [{"n_components": 0}, {"n_components": -2}, {"n_components": 2.0}, {"n_iter": 0}],
)
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        gf.DeepSigmoidCoupling(jr.key(0), shape=(4,), **kwargs)


def test_bad_scalar_arguments_raise():
    with pytest.raises(ValueError, match="min_slope"):
        gf.DeepSigmoid(3, min_slope=0.0)
    with pytest.raises(ValueError, match="shifts"):
        gf.DeepSigmoid(3, shifts=jnp.zeros(2))
    with pytest.raises(ValueError, match="slopes"):
        gf.DeepSigmoid(3, slopes=jnp.zeros(3))


def test_works_as_a_flowjax_transformer(x64):
    from flowjax.bijections import Coupling as FlowjaxCoupling

    layer = FlowjaxCoupling(
        jr.key(0), transformer=gf.DeepSigmoid(3), untransformed_dim=2, dim=4, nn_width=8,
        nn_depth=1,
    )
    x = 2.0 * jr.normal(jr.key(1), (16, 4))
    z, log_det = apply(layer, "transform_and_log_det", x)
    assert float(jnp.max(jnp.abs(apply(layer, "inverse", z) - x))) <= 1e-12
    jac = eqx.filter_jit(lambda b, v: jax.vmap(jax.jacfwd(b.transform))(v))(layer, x)
    np.testing.assert_allclose(log_det, jnp.linalg.slogdet(jac)[1], rtol=0, atol=1e-12)
