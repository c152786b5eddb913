"""The rational-quadratic spline transformer and coupling: bins, edges, gradients."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import paramax
import pytest

import gauss_flows as gf

B = 3.0  # interval half-width used throughout


@eqx.filter_jit
def apply(bij, method: str, xs):
    """``bij.<method>`` over a batch, jit-compiled (``method`` is static)."""
    return jax.vmap(getattr(bij, method))(xs)


@eqx.filter_jit
def grads(bij, method: str, xs):
    """Gradients of ``sum(<method>(x))`` w.r.t. the parameters and to ``x``."""

    def loss(b, v):
        out, log_det = getattr(b, method)(v)
        return jnp.sum(out) + log_det

    return eqx.filter_grad(loss)(bij, xs), jax.grad(loss, argnums=1)(bij, xs)


@eqx.filter_jit
def batch_grads(bij, method: str, xs):
    """Gradients of the batch sum of ``<method>`` (a NaN or inf anywhere shows up)."""

    def loss(b, v):
        out, log_det = jax.vmap(getattr(b, method))(v)
        return jnp.sum(out) + jnp.sum(log_det)

    return eqx.filter_grad(loss)(bij, xs), jax.grad(loss, argnums=1)(bij, xs)


def random_spline(key, n_bins: int = 6) -> gf.RQSpline:
    """An RQSpline with N(0, 1) unconstrained widths, heights and knot slopes."""
    spline = gf.RQSpline(n_bins, interval=B)
    params, static = eqx.partition(spline, eqx.is_inexact_array)
    leaves, treedef = jax.tree.flatten(params)
    keys = jr.split(key, len(leaves))
    leaves = [jr.normal(k, leaf.shape, leaf.dtype) for k, leaf in zip(keys, leaves)]
    return eqx.combine(jax.tree.unflatten(treedef, leaves), static)


def trained_like_coupling(key, d: int = 4, **kwargs) -> gf.RQSplineCoupling:
    """A coupling whose conditioner outputs O(1) spline parameters (last layer jittered)."""
    layer = gf.RQSplineCoupling(key, shape=(d,), interval=B, nn_width=16, **kwargs)
    last = layer.conditioner.layers[-1]
    k1, k2 = jr.split(jr.fold_in(key, 1))
    return eqx.tree_at(
        lambda c: (c.conditioner.layers[-1].weight, c.conditioner.layers[-1].bias),
        layer,
        (
            last.weight + 0.3 * jr.normal(k1, last.weight.shape, last.weight.dtype),
            last.bias + 0.5 * jr.normal(k2, last.bias.shape, last.bias.dtype),
        ),
    )


def edge_points(dtype, ulp_inside: bool = True) -> jnp.ndarray:
    """Inputs far out, just outside, exactly on and just inside both edges, and inside."""
    inner = float(np.nextafter(np.array(B, dtype), np.array(0, dtype)))
    outer = float(np.nextafter(np.array(B, dtype), np.array(np.inf, dtype)))
    pts = [1e3, 10.0, outer, B, inner if ulp_inside else B - 1e-6, 1.1, 0.0]
    return jnp.array(pts + [-p for p in pts], dtype)


@pytest.mark.parametrize("n_bins", [1, 2, 8])
def test_n_bins_counts_bins(n_bins):
    spline = paramax.unwrap(gf.RQSpline(n_bins, interval=B)).spline
    assert spline.x_pos.shape == spline.y_pos.shape == (n_bins + 1,)  # K + 1 knots
    np.testing.assert_allclose(np.asarray(spline.x_pos)[[0, -1]], [-B, B])
    layer = gf.RQSplineCoupling(jr.key(0), shape=(4,), n_bins=n_bins, interval=B)
    assert layer.n_params == 3 * n_bins + 1
    assert gf.RQSpline(n_bins).n_bins == n_bins


def test_template_is_identity(x64):
    xs = jnp.linspace(-2 * B, 2 * B, 97)
    ys, log_det = apply(gf.RQSpline(5, interval=B), "transform_and_log_det", xs)
    np.testing.assert_allclose(ys, xs, rtol=0, atol=1e-14)
    np.testing.assert_allclose(log_det, 0.0, rtol=0, atol=1e-12)


def test_identity_outside_the_interval(dtype):
    spline = random_spline(jr.key(0))
    xs = jnp.array([-1e3, -10.0, -B, B, 3.5, 1e3], dtype)
    for method in ("transform_and_log_det", "inverse_and_log_det"):
        ys, log_det = apply(spline, method, xs)
        np.testing.assert_array_equal(ys, xs)
        np.testing.assert_array_equal(log_det, 0.0)
    _, log_det = apply(spline, "transform_and_log_det", jnp.array([-1.0, 0.5], dtype))
    assert float(jnp.abs(log_det).min()) > 1e-3  # the random spline is not the identity


@pytest.mark.parametrize("method", ["transform_and_log_det", "inverse_and_log_det"])
def test_gradients_finite_at_edges_and_outside(dtype, method):
    spline = random_spline(jr.key(1))
    for x in edge_points(dtype):
        g_param, g_x = grads(spline, method, x)
        assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(g_param)), x
        assert bool(jnp.isfinite(g_x)), x


def test_edge_gradient_is_consistent_with_log_det(x64):
    # dT/dx from autodiff equals exp(log T') on, outside and inside the edges (flowjax's
    # clipping alone gives delta_0 / 4 on an exact edge while its log-det says delta_0).
    # Not checked one ulp inside an edge: there T(x) may round onto the edge and
    # flowjax's final clip then halves the autodiff slope (finite, see the test above).
    spline = random_spline(jr.key(2))
    xs = edge_points(jnp.float64, ulp_inside=False)
    slopes = eqx.filter_jit(lambda b, v: jax.vmap(jax.grad(b.transform))(v))(spline, xs)
    _, log_det = apply(spline, "transform_and_log_det", xs)
    np.testing.assert_allclose(slopes, jnp.exp(log_det), rtol=1e-10)
    dx_dy = eqx.filter_jit(lambda b, v: jax.vmap(jax.grad(b.inverse))(v))(spline, xs)
    _, inv_log_det = apply(spline, "inverse_and_log_det", xs)
    np.testing.assert_allclose(dx_dy, jnp.exp(inv_log_det), rtol=1e-10)


def test_continuous_at_the_edges(x64):
    spline = random_spline(jr.key(3))
    xs = jnp.array([-B, -B + 1e-9, B - 1e-9, B])
    ys = apply(spline, "transform", xs)
    np.testing.assert_allclose(ys, xs, rtol=0, atol=1e-6)


def test_coupling_gradients_finite_outside(dtype):
    layer = trained_like_coupling(jr.key(4))
    vs = edge_points(dtype)
    x = jnp.stack([jnp.full_like(vs, 0.3), jnp.full_like(vs, -0.2), vs, -vs[::-1]], axis=1)
    for method in ("transform_and_log_det", "inverse_and_log_det"):
        g_param, g_x = batch_grads(layer, method, x)
        assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(g_param))
        assert bool(jnp.all(jnp.isfinite(g_x)))
        assert float(jnp.abs(g_param.conditioner.layers[0].weight).max()) > 0


def test_coupling_round_trip_and_log_det_float64(x64):
    layer = trained_like_coupling(jr.key(5), d=5)
    x = jr.uniform(jr.key(6), (256, 5), minval=-1.5 * B, maxval=1.5 * B)
    z, log_det = apply(layer, "transform_and_log_det", x)
    assert float(jnp.abs(log_det).max()) > 0.1  # not the identity
    x_back, inv_log_det = apply(layer, "inverse_and_log_det", z)
    assert float(jnp.max(jnp.abs(x_back - x))) <= 1e-12
    np.testing.assert_allclose(inv_log_det, -log_det, rtol=0, atol=1e-10)
    jac = eqx.filter_jit(lambda b, v: jax.vmap(jax.jacfwd(b.transform))(v))(layer, x[:64])
    np.testing.assert_allclose(log_det[:64], jnp.linalg.slogdet(jac)[1], rtol=0, atol=1e-12)


def test_coupling_round_trip_float32(x32):
    layer = trained_like_coupling(jr.key(7))
    x = jr.normal(jr.key(8), (1000, 4))
    x_back = apply(layer, "inverse", apply(layer, "transform", x))
    assert x_back.dtype == jnp.float32
    assert float(jnp.max(jnp.abs(x_back - x))) <= 1e-4


def test_coupling_zero_init_is_identity(x64):
    layer = gf.RQSplineCoupling(jr.key(0), shape=(4,), interval=B, zero_init=True)
    x = jr.normal(jr.key(1), (32, 4))
    z, log_det = apply(layer, "transform_and_log_det", x)
    np.testing.assert_allclose(z, x, rtol=0, atol=1e-14)
    np.testing.assert_allclose(log_det, 0.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_bins": 0}, "n_bins"),
        ({"n_bins": 2.5}, "n_bins"),
        ({"interval": 0.0}, "interval"),
        ({"interval": -1.0}, "interval"),
        ({"interval": float("inf")}, "interval"),
        ({"interval": float("nan")}, "interval"),
        ({"interval": "4"}, "interval"),
        ({"interval": 1e-3}, "min_width"),  # 8 bins of width >= 1e-3 do not fit
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gf.RQSplineCoupling(jr.key(0), shape=(4,), **kwargs)


def test_works_as_a_flowjax_transformer(x64):
    from flowjax.bijections import Coupling as FlowjaxCoupling

    layer = FlowjaxCoupling(
        jr.key(0), transformer=gf.RQSpline(4, interval=B), untransformed_dim=2, dim=4,
        nn_width=8, nn_depth=1,
    )
    x = 2.0 * jr.normal(jr.key(1), (16, 4))
    z, log_det = apply(layer, "transform_and_log_det", x)
    assert float(jnp.max(jnp.abs(apply(layer, "inverse", z) - x))) <= 1e-12
    jac = eqx.filter_jit(lambda b, v: jax.vmap(jax.jacfwd(b.transform))(v))(layer, x)
    np.testing.assert_allclose(log_det, jnp.linalg.slogdet(jac)[1], rtol=0, atol=1e-12)
