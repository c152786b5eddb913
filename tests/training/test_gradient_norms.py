"""Per-layer gradient norms: recorded inside fit_to_data, checked against direct grads."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest
from flowjax.distributions import StandardNormal
from flowjax.train.train_utils import train_val_split

import gauss_flows as gf
from gauss_flows.flows import coupling_layers


def direct_layer_norms(flow, x):
    """Per-layer gradient norms of the mean NLL, through the *unstacked* layers.

    An independent path: the loss is written over the list of layers (no Scan), and
    each layer's gradient is flattened and normed on its own.
    """
    grads = _layer_grads(coupling_layers(flow), x)
    return np.array([np.linalg.norm(jax.flatten_util.ravel_pytree(g)[0]) for g in grads])


@eqx.filter_jit
def _layer_grads(layers, x):
    """Gradients of the mean NLL with respect to each layer of the list ``layers``."""
    params, static = eqx.partition(layers, eqx.is_inexact_array)

    def nll(params):
        h, log_det = x, 0.0
        for layer in eqx.combine(params, static):
            h, ld = jax.vmap(layer.transform_and_log_det)(h)
            log_det = log_det + ld
        return -jnp.mean(jax.vmap(StandardNormal(x.shape[1:]).log_prob)(h) + log_det)

    return jax.grad(nll)(params)


@pytest.mark.parametrize(("n_layers", "actnorm"), [(3, False), (4, True)])
def test_train_flow_records_the_gradient_of_each_layer(x32, n_layers, actnorm):
    # float32: under the jax.enable_x64 context manager (the x64 fixture) the callback
    # thread runs with x64 off and receives the norms rounded to float32.
    data = gf.datasets.TOYS["two_moons"].sample(jr.key(1), 200)
    flow = gf.coupling_flow(jr.key(0), shape=(2,), n_layers=n_layers, actnorm=actnorm)
    if actnorm:
        flow = gf.initialize_actnorm(flow, data)
    key = jr.key(5)
    # one batch per epoch (batch_size >= n_train): step 0 sees the whole training split
    _, losses = gf.train_flow(
        key, flow, data, max_epochs=2, batch_size=1000, max_patience=5,
        record_grad_norms=True,
    )
    norms = np.asarray(losses["grad_norms"])
    assert norms.shape == (2, len(coupling_layers(flow)))
    assert np.all(np.isfinite(norms)) and np.all(norms > 0)
    # fit_to_data's split: key, subkey = split(key); train_val_split(subkey, ...)
    (train,), _ = train_val_split(jr.split(key)[1], (data,), val_prop=0.1)
    np.testing.assert_allclose(norms[0], direct_layer_norms(flow, train), rtol=1e-5)
    assert not np.allclose(norms[1], norms[0])  # later steps see updated parameters


def test_the_transformation_passes_gradients_through_and_reports_each_step():
    data = gf.datasets.TOYS["eight_gaussians"].sample(jr.key(1), 256)
    flow = gf.coupling_flow(jr.key(0), shape=(2,), n_layers=2)
    params, static = eqx.partition(flow, eqx.is_inexact_array)
    seen = []
    optimizer = optax.chain(
        gf.record_gradient_norms(lambda i, g: seen.append((i, g))), optax.sgd(0.05)
    )
    state = optimizer.init(params)

    @eqx.filter_jit
    def step(params, state):
        loss = lambda p: -eqx.combine(p, static).log_prob(data).mean()  # noqa: E731
        grads = jax.grad(loss)(params)
        updates, state = optimizer.update(grads, state, params)
        return eqx.apply_updates(params, updates), state, grads, updates

    expected = []
    for _ in range(3):
        expected.append(direct_layer_norms(eqx.combine(params, static), data))
        params, state, grads, updates = step(params, state)
        # the recorder changes nothing: sgd's update is exactly -lr * grad
        for u, g in zip(jax.tree.leaves(updates), jax.tree.leaves(grads), strict=True):
            np.testing.assert_array_equal(u, -0.05 * g)
    jax.effects_barrier()
    assert [i for i, _ in seen] == [0, 1, 2]
    recorded = np.stack([g for _, g in seen])
    np.testing.assert_allclose(recorded, np.stack(expected), rtol=1e-4)


def test_layer_gradient_norms_maps_the_scan_axis_to_layers():
    flow = gf.coupling_flow(jr.key(0), shape=(2,), n_layers=5)  # Scan of 2 pairs + 1
    sizes = [
        jax.flatten_util.ravel_pytree(eqx.filter(layer, eqx.is_inexact_array))[0].size
        for layer in coupling_layers(flow)
    ]
    # A "gradient" of ones, times 1 + 10 p in pair p of the Scan (layers 2p and 2p+1).
    grads = jax.tree.map(jnp.ones_like, eqx.filter(flow, eqx.is_inexact_array))
    where = lambda g: g.bijection.bijection.bijections[0].bijection  # noqa: E731

    def pair_factor(a):
        return a * (1 + 10 * jnp.arange(2).reshape(-1, *[1] * (a.ndim - 1)))

    grads = eqx.tree_at(where, grads, jax.tree.map(pair_factor, where(grads)))
    norms = np.asarray(gf.layer_gradient_norms(grads))
    expected = np.array([1, 1, 11, 11, 1]) * np.sqrt(sizes)
    np.testing.assert_allclose(norms, expected, rtol=1e-6)


def test_bad_arguments_raise():
    data = jnp.zeros((50, 2))
    with pytest.raises(ValueError, match="callable"):
        gf.record_gradient_norms(3)
    with pytest.raises(ValueError, match="coupling_flow"):
        gf.train_flow(jr.key(0), StandardNormal((2,)), data, record_grad_norms=True)
    flow = gf.coupling_flow(jr.key(0), shape=(2,), n_layers=2)
    with pytest.raises(ValueError, match="record_grad_norms"):
        gf.train_flow(jr.key(0), flow, data, record_grad_norms="yes")
