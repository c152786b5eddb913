"""stacking: walking the layers of Chain/Scan stacks in data-to-latent order."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from flowjax.bijections import Chain, Scan

import gauss_flows as gf
from gauss_flows.bijections.stacking import map_layers, push, unstack


def _stack():
    """A Chain of a Scan over 3 steps of (Chain of 2 affine couplings) and one more
    coupling: 7 layers."""
    pair = lambda k: Chain([gf.AffineCoupling(k, shape=(2,)),  # noqa: E731
                            gf.AffineCoupling(k, shape=(2,), mask=np.array([False, True]))])
    scan = Scan(eqx.filter_vmap(pair)(jr.split(jr.key(0), 3)))
    return Chain([scan, gf.AffineCoupling(jr.key(1), shape=(2,))])


def test_unstack_lists_the_layers_in_data_to_latent_order():
    stack = _stack()
    layers = unstack(stack)
    assert len(layers) == 7
    x = jr.normal(jr.key(2), (5, 2))
    z = x
    for layer in layers:
        z = push(layer, z)
    np.testing.assert_allclose(z, jax.vmap(stack.transform)(x), rtol=1e-6, atol=1e-6)


def test_map_layers_visits_in_order_and_restacks():
    stack = _stack()
    calls = [0]

    def shift_bias(layer):  # the i-th layer visited gets its output bias shifted by i
        calls[0] += 1
        out = layer.conditioner.layers[-1]
        return eqx.tree_at(lambda c: c.conditioner.layers[-1].bias, layer,
                           out.bias + calls[0])

    mapped = map_layers(stack, shift_bias)
    assert calls[0] == 7
    assert jax.tree.structure(mapped) == jax.tree.structure(stack)
    biases = [layer.conditioner.layers[-1].bias - old.conditioner.layers[-1].bias
              for layer, old in zip(unstack(mapped), unstack(stack), strict=True)]
    for i, b in enumerate(biases):
        np.testing.assert_allclose(b, jnp.full_like(b, i + 1))
