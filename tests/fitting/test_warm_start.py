"""Warm start: a zero-kernel coupling flow equals the fitted diagonal flow."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from flowjax.bijections import Invert
from flowjax.distributions import StandardNormal, Transformed

import gauss_flows as gf
from bijections import TanhResidualConditioner

TOY = gf.datasets.TOYS["two_moons"]


class LinearOutputConditioner(eqx.Module):
    """A custom conditioner with an ``output`` Linear layer (ResidualMLP-like)."""

    hidden: eqx.nn.Linear
    output: eqx.nn.Linear

    def __init__(self, in_size, out_size, key):
        k1, k2 = jr.split(key)
        self.hidden = eqx.nn.Linear(in_size, 8, key=k1)
        self.output = eqx.nn.Linear(8, out_size, key=k2)

    def __call__(self, x):
        return self.output(jnp.tanh(self.hidden(x)))


@eqx.filter_jit
def log_prob(flow, x):
    return flow.log_prob(x)


@eqx.filter_jit
def forward(layer, x):
    return jax.vmap(layer.transform_and_log_det)(x)


@eqx.filter_jit
def inverse(layer, z):
    return jax.vmap(layer.inverse)(z)


@pytest.fixture(scope="module")
def data():
    with jax.enable_x64(True):
        x = TOY.sample(jr.key(0), 1000)
        # Test points: held-out data plus points far into the tails, |x| up to 30.
        tails = 30.0 * jnp.tanh(3.0 * jr.normal(jr.key(2), (64, 2)))
        tails = tails.at[:4].set(jnp.array([[30.0, -30.0], [-30.0, 30.0], [30.0, 30.0],
                                            [-30.0, -30.0]]))
        return x, jnp.concatenate([TOY.sample(jr.key(1), 200), tails])


@pytest.mark.parametrize("coupling", ["mixture_cdf", "affine"])
def test_warm_started_flow_equals_its_diagonal_flow(coupling, data, x64):
    x, x_test = data
    kwargs = {"n_components": 4} if coupling == "mixture_cdf" else {}
    flow = gf.coupling_flow(
        jr.key(0), shape=(2,), n_layers=3, coupling=coupling, nn_width=8, nn_depth=1,
        **kwargs,
    )
    warm = gf.warm_start(flow, x)
    diag = gf.diagonal_flow(warm)
    lp_warm, lp_diag = log_prob(warm, x_test), log_prob(diag, x_test)
    assert bool(jnp.all(jnp.isfinite(lp_warm)))
    # log_prob at |x| up to 30 is about -1e3: 1e-12 relative to (1 + |log q|).
    np.testing.assert_array_less(jnp.abs(lp_warm - lp_diag) / (1 + jnp.abs(lp_diag)), 1e-12)
    pairs = list(zip(
        gf.flows.coupling_layers(warm), diag.bijection.bijection.bijections, strict=True
    ))
    for warm_layer, diag_layer in pairs:
        z_w, ld_w = forward(warm_layer, x_test)
        z_d, ld_d = forward(diag_layer, x_test)
        np.testing.assert_allclose(z_w, z_d, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ld_w, ld_d, rtol=1e-12, atol=1e-12)
    warm_layer, diag_layer = pairs[0]  # the inverse, on one layer (compile time)
    z = forward(warm_layer, x_test)[0]
    np.testing.assert_allclose(inverse(warm_layer, z), inverse(diag_layer, z), atol=1e-12)
    # And it is a fitted flow: the data's marginals come out standard normal, and the
    # held-out gap is near the total correlation (the diagonal family's floor).
    z = forward(warm.bijection.bijection, x)[0]
    np.testing.assert_allclose(z.mean(0), 0.0, atol=0.05)
    sd_tol = 0.05 if coupling == "mixture_cdf" else 1e-9  # affine: standardised exactly
    np.testing.assert_allclose(z.std(0), 1.0, atol=sd_tol)
    if coupling == "mixture_cdf":
        gap = float(-lp_warm[:200].mean() - TOY.entropy)
        assert TOY.total_correlation - 0.1 < gap < TOY.total_correlation + 0.15


def test_transformer_parameters_invert_the_constructor(x64):
    coupling = gf.MixtureGaussianCDFCoupling(jr.key(0), shape=(2,), n_components=3)
    fitted = gf.fitting.fitted_transformers(coupling, TOY.sample(jr.key(0), 500)[:, 1:])
    one = jax.tree.map(lambda a: a[0] if eqx.is_array(a) else a, fitted)
    v = gf.fitting.transformer_parameters(coupling, one)
    back = coupling.transformer_constructor(v)
    arrays = [jax.tree.leaves(eqx.filter(t, eqx.is_array)) for t in (back, one)]
    for a, b in zip(*arrays, strict=True):
        np.testing.assert_allclose(a, b, rtol=4e-16, atol=4e-16)
    with pytest.raises(ValueError, match="structure"):
        gf.fitting.transformer_parameters(coupling, gf.LogScaleAffine())


def test_custom_conditioner_with_output_layer(data, x64):
    x, x_test = data
    layer = gf.MixtureGaussianCDFCoupling(
        jr.key(0), shape=(2,), n_components=3,
        conditioner=LinearOutputConditioner(1, 9, jr.key(1)),
    )
    flow = Transformed(StandardNormal((2,)), Invert(layer))
    warm = gf.warm_start(flow, x)
    assert bool(jnp.all(warm.bijection.bijection.conditioner.output.weight == 0))
    np.testing.assert_allclose(
        log_prob(warm, x_test), log_prob(gf.diagonal_flow(warm), x_test), rtol=1e-12
    )


def test_what_cannot_be_warm_started_raises(data, x64):
    x, _ = data
    flow = gf.coupling_flow(jr.key(0), shape=(2,), n_layers=2, coupling="rq_spline",
                            nn_width=8, nn_depth=1)
    with pytest.raises(ValueError, match="cannot warm-start.*RQSpline"):
        gf.warm_start(flow, x)
    layer = gf.Coupling(
        jr.key(0), shape=(2,), transformer=gf.LogScaleAffine(),
        conditioner=TanhResidualConditioner(1, 2, 4, jr.key(1)),
    )
    custom = Transformed(StandardNormal((2,)), Invert(layer))
    with pytest.raises(ValueError, match="cannot warm-start.*TanhResidualConditioner"):
        gf.warm_start(custom, x)
    bounded = gf.coupling_flow(jr.key(0), shape=(2,), n_layers=1, log_scale_bound=0.1)
    with pytest.raises(ValueError, match="log_scale_bound"):
        gf.warm_start(bounded, 10 * x)
    with pytest.raises(ValueError, match="Transformed"):
        gf.warm_start(layer, x)
    affine = gf.coupling_flow(jr.key(0), shape=(2,), n_layers=2)
    with pytest.raises(ValueError, match="shape"):
        gf.warm_start(affine, x[:, :1])
    with pytest.raises(ValueError, match="non-finite"):
        gf.warm_start(affine, x.at[0, 0].set(jnp.nan))
    with pytest.raises(ValueError, match="not zero"):
        gf.diagonal_flow(affine)


def test_small_scale_data_is_refused_or_fitted_never_clamped(data, x64):
    """Two moons x 1e-4: the default mixture couplings (absolute ``min_scale`` 1e-3,
    far above the fitted scales) refuse with a clear error rather than clamping the
    fitted scales up to the floor; with a small enough ``min_scale`` the warm start
    fits. Reference: a fitted diagonal flow Gaussianizes its marginals, so the data
    pushed through the stack has sd about 1, as the same flow on the data at scale 1
    does (the test above)."""
    x, _ = data
    small = 1e-4 * x
    kwargs = {"shape": (2,), "n_layers": 2, "coupling": "mixture_cdf", "n_components": 4,
              "nn_width": 8, "nn_depth": 1}
    flow = gf.coupling_flow(jr.key(0), **kwargs)
    with pytest.raises(ValueError, match="min_scale"):
        gf.warm_start(flow, small)
    warm = gf.warm_start(gf.coupling_flow(jr.key(0), min_scale=1e-9, **kwargs), small)
    z = forward(warm.bijection.bijection, small)[0]
    np.testing.assert_allclose(z.mean(0), 0.0, atol=0.05)
    np.testing.assert_allclose(z.std(0), 1.0, atol=0.05)
