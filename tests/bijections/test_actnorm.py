"""ActNorm: data-dependent initialisation, initialize_actnorm on flows, errors, training."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from flowjax.bijections import Chain, Invert
from flowjax.train import fit_to_data

import gauss_flows as gf
from gauss_flows.flows import coupling_layers

TOL = {jnp.dtype(jnp.float32): 1e-5, jnp.dtype(jnp.float64): 1e-12}


def _batch(dtype, n=500, d=3):
    # Coordinates on very different scales and offsets, one of them skewed.
    u = jr.normal(jr.key(0), (n, d), dtype)
    return jnp.stack([5 + 0.01 * u[:, 0], -3 + 40 * u[:, 1], jnp.exp(u[:, 2])], axis=1)


def test_starts_as_the_identity():
    layer = gf.ActNorm((3,))
    x = jnp.array([0.5, -2.0, 7.0])
    z, log_det = layer.transform_and_log_det(x)
    np.testing.assert_allclose(z, x, rtol=1e-6)
    assert abs(float(log_det)) < 1e-6


def test_initialized_gives_zero_mean_and_unit_variance_on_the_batch(dtype):
    x = _batch(dtype)
    layer = gf.ActNorm((3,)).initialized(x)
    z, log_det = jax.vmap(layer.transform_and_log_det)(x)
    assert z.dtype == dtype and layer.loc.dtype == dtype
    tol = TOL[dtype]
    np.testing.assert_allclose(z.mean(0), 0.0, atol=tol * 10)
    np.testing.assert_allclose(z.std(0), 1.0, rtol=tol * 10)
    np.testing.assert_allclose(layer.loc, x.mean(0), rtol=tol)
    np.testing.assert_allclose(layer.scale, x.std(0), rtol=tol)
    # log|det J| = -sum_i log sigma_i, the same for every point
    expected = -np.sum(np.log(np.asarray(x, np.float64).std(0)))
    np.testing.assert_allclose(log_det, expected, rtol=tol * 10)


@pytest.mark.parametrize("n_layers", [2, 5])
def test_initialize_actnorm_normalises_what_reaches_each_actnorm(n_layers):
    data = gf.datasets.TOYS["two_moons"].sample(jr.key(1), 1000) * 3 + 2
    flow = gf.coupling_flow(jr.key(0), shape=(2,), n_layers=n_layers, actnorm=True)
    flow = eqx.tree_at(  # non-identity couplings, so each ActNorm sees a new batch
        lambda f: f.bijection.bijection,
        flow,
        jax.tree.map(
            lambda a: (
                a + 0.3 * jr.normal(jr.key(2), a.shape) if eqx.is_inexact_array(a) else a
            ),
            flow.bijection.bijection,
        ),
    )
    ready = gf.initialize_actnorm(flow, data)
    before, after = coupling_layers(flow), coupling_layers(ready)
    assert [type(b) for b in before] == [type(a) for a in after]
    assert [type(a).__name__ for a in after[:2]] == ["ActNorm", "AffineCoupling"]
    assert len(after) == 2 * n_layers
    h = data
    for old, new in zip(before, after, strict=True):
        if isinstance(new, gf.ActNorm):
            z = jax.vmap(new.transform)(h)
            np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-4)
            np.testing.assert_allclose(z.std(0), 1.0, rtol=1e-4)
        else:  # every other parameter is unchanged
            assert bool(eqx.tree_equal(old, new))
        h = jax.vmap(new.transform)(h)
    # the flow's density is consistent with its layers after initialisation
    z = h
    log_det = sum(jax.vmap(lambda x, la=la: la.transform_and_log_det(x)[1])(x_in)
                  for la, x_in in _inputs_per_layer(after, data))
    log_q = jax.scipy.stats.norm.logpdf(z).sum(1) + log_det
    np.testing.assert_allclose(ready.log_prob(data), log_q, rtol=1e-4, atol=1e-4)


def _inputs_per_layer(layers, data):
    h = data
    for layer in layers:
        yield layer, h
        h = jax.vmap(layer.transform)(h)


def test_initialize_actnorm_accepts_a_bare_bijection():
    data = _batch(jnp.float32)
    stack = Chain(
        [gf.ActNorm((3,)), gf.AffineCoupling(jr.key(0), shape=(3,)), gf.ActNorm((3,))]
    )
    ready = gf.initialize_actnorm(stack, data)
    z = jax.vmap(ready.transform)(data)
    np.testing.assert_allclose(z.std(0), 1.0, rtol=1e-4)


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (jnp.ones((10, 2)), r"shape \(n, 3\)"),
        (jnp.ones((1, 3)), "n >= 2"),
        (jnp.ones((10, 3), jnp.int32), "floating point"),
        (jnp.ones((10, 3)).at[4, 1].set(jnp.nan), "non-finite"),
        (jnp.ones((10, 3)).at[2, 0].set(jnp.inf), "non-finite"),
        (jr.normal(jr.key(0), (10, 3)).at[:, 2].set(7.0), r"coordinates \[2\]"),
    ],
)
def test_bad_batches_raise(x, match):
    with pytest.raises(ValueError, match=match):
        gf.ActNorm((3,)).initialized(x)


def test_bad_flows_raise():
    data = jr.normal(jr.key(0), (20, 2))
    with pytest.raises(ValueError, match="shape"):
        gf.ActNorm((2, 2))
    with pytest.raises(ValueError, match="no ActNorm"):
        gf.initialize_actnorm(gf.coupling_flow(jr.key(0), shape=(2,), n_layers=2), data)
    with pytest.raises(ValueError, match="Chain and Scan only"):
        gf.initialize_actnorm(Chain([Invert(gf.ActNorm((2,)))]), data)
    flow = gf.coupling_flow(jr.key(0), shape=(2,), n_layers=2, actnorm=True)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        gf.initialize_actnorm(flow, data[:, :1])
    with pytest.raises(ValueError, match="constant"):
        gf.initialize_actnorm(flow, data.at[:, 0].set(1.0))
    with pytest.raises(ValueError, match="actnorm must be True or False"):
        gf.coupling_flow(jr.key(0), shape=(2,), actnorm=1)


def test_trains_with_fit_to_data():
    toy = gf.datasets.TOYS["eight_gaussians"]
    data, test = toy.sample(jr.key(1), 4000) * 5, toy.sample(jr.key(2), 4000) * 5
    flow = gf.coupling_flow(jr.key(0), shape=(2,), n_layers=2, actnorm=True)
    flow = gf.initialize_actnorm(flow, data)
    nll = eqx.filter_jit(lambda f, x: -f.log_prob(x).mean())
    before = float(nll(flow, test))
    trained, losses = fit_to_data(jr.key(3), flow, data, max_epochs=4, show_progress=False)
    after = float(nll(trained, test))
    assert np.isfinite(after) and after < before - 0.1, (before, after)
    # the ActNorm parameters are trainable: fit_to_data moved them
    old, new = coupling_layers(flow)[0], coupling_layers(trained)[0]
    assert isinstance(new, gf.ActNorm)
    assert np.all(np.isfinite(new.loc)) and not np.allclose(old.loc, new.loc)
