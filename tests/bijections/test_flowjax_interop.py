"""gauss_flows bijections inside flowjax, and flowjax's own coupling as a reference."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import paramax
import pytest
from flowjax.bijections import Affine, Chain, Coupling, Flip, MaskedAutoregressive, Permute
from flowjax.distributions import StandardNormal, Transformed
from flowjax.train import fit_to_data

import gauss_flows as gf
from bijections import perturb


@pytest.mark.parametrize("dim", [4, 5])
def test_affine_coupling_agrees_with_flowjax_coupling(dim, x64):
    ours = gf.AffineCoupling(jr.key(0), shape=(dim,), nn_width=8, nn_depth=1)
    ours = perturb(ours, jr.key(1))
    # flowjax's Affine has a softplus scale; give it ours: scale = exp(log_scale).
    # Its trainable leaves are (loc, log_scale), the same layout as our (shift, log_scale).
    exp_affine = eqx.tree_at(
        lambda a: a.scale, Affine(), paramax.Parameterize(jnp.exp, jnp.zeros(()))
    )
    theirs = Coupling(
        jr.key(2),
        transformer=exp_affine,
        untransformed_dim=dim // 2,
        dim=dim,
        nn_width=8,
        nn_depth=1,
    )
    theirs = eqx.tree_at(lambda c: c.conditioner, theirs, ours.conditioner)

    @eqx.filter_jit
    def both_ways(layer, x):
        z, log_det = jax.vmap(layer.transform_and_log_det)(x)
        return z, log_det, *jax.vmap(layer.inverse_and_log_det)(z)

    x = jr.normal(jr.key(3), (16, dim)) * 2
    z, log_det, x_back, log_det_inv = both_ways(ours, x)
    z_ref, log_det_ref, _, _ = both_ways(theirs, x)
    inverse = eqx.filter_jit(lambda layer, z: jax.vmap(layer.inverse_and_log_det)(z))
    x_ref, log_det_inv_ref = inverse(theirs, z)  # on our z
    assert np.median(np.abs(log_det)) > 1e-2
    np.testing.assert_allclose(z, z_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(log_det, log_det_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(x_back, x_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(log_det_inv, log_det_inv_ref, rtol=0, atol=1e-12)


def _banana(key, n: int) -> jax.Array:
    """Toy data: x1 ~ N(0, 1), x2 = x1^2 / 2 + 0.3 N(0, 1), scaled to unit-ish spread."""
    k1, k2 = jr.split(key)
    x1 = jr.normal(k1, (n,))
    x2 = 0.5 * x1**2 + 0.3 * jr.normal(k2, (n,)) - 0.5
    return jnp.stack([x1, x2], axis=1)


def test_chain_of_couplings_trains_with_fit_to_data():
    keys = jr.split(jr.key(0), 4)
    dim = 2
    bijection = Chain(
        [
            gf.AffineCoupling(keys[0], shape=(dim,), nn_width=16, nn_depth=1),
            Flip((dim,)),
            gf.MixtureGaussianCDFCoupling(
                keys[1], shape=(dim,), n_components=3, nn_width=16, nn_depth=1
            ),
            Permute(jnp.array([1, 0])),
            gf.AffineCoupling(keys[2], shape=(dim,), nn_width=16, nn_depth=1),
        ]
    )
    flow = Transformed(StandardNormal((dim,)), bijection)
    data = _banana(jr.key(1), 1000)

    nll = eqx.filter_jit(lambda f: -jnp.mean(f.log_prob(data)))
    before = float(nll(flow))
    trained, losses = fit_to_data(
        keys[3],
        flow,
        data,
        learning_rate=5e-3,
        max_epochs=15,
        max_patience=15,
        batch_size=100,
        show_progress=False,
    )
    after = float(nll(trained))
    assert np.all(np.isfinite(losses["train"])) and np.all(np.isfinite(losses["val"]))
    assert after < before - 0.3, (before, after)
    assert min(losses["val"]) < losses["val"][0]
    # Samples from the trained flow invert back through the chain.
    samples = eqx.filter_jit(lambda f: f.sample(jr.key(2), (50,)))(trained)
    assert samples.shape == (50, dim) and np.all(np.isfinite(samples))


@pytest.mark.parametrize("which", ["coupling", "masked_autoregressive"])
def test_mixture_cdf_as_transformer_of_flowjax_layers(which, x64):
    transformer = gf.MixtureGaussianCDF(3)
    if which == "coupling":
        layer = Coupling(
            jr.key(0),
            transformer=transformer,
            untransformed_dim=2,
            dim=4,
            nn_width=8,
            nn_depth=1,
        )
    else:
        layer = MaskedAutoregressive(
            jr.key(0), transformer=transformer, dim=4, nn_width=8, nn_depth=1
        )
    layer = perturb(layer, jr.key(1), scale=0.1)
    x = jr.normal(jr.key(2), (8, 4)) * 2

    @eqx.filter_jit
    def run(layer, x):
        z, log_det = jax.vmap(layer.transform_and_log_det)(x)
        x_back, log_det_inv = jax.vmap(layer.inverse_and_log_det)(z)
        jac = jax.vmap(jax.jacfwd(layer.transform))(x)
        return z, log_det, x_back, log_det_inv, jac

    z, log_det, x_back, log_det_inv, jac = run(layer, x)
    assert np.all(np.isfinite(np.asarray(log_det))) and np.median(np.abs(log_det)) > 1e-2
    np.testing.assert_allclose(x_back, x, rtol=0, atol=1e-10)
    np.testing.assert_allclose(log_det_inv, -log_det, rtol=0, atol=1e-10)
    np.testing.assert_allclose(log_det, np.linalg.slogdet(np.asarray(jac))[1], atol=1e-10)
