"""gf.conditioners: ResidualMLP, the factories, and conditioners inside every coupling."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from flowjax.distributions import StandardNormal

import gauss_flows as gf
from gauss_flows.flows import COUPLINGS, coupling_layers


def test_residual_mlp_shapes_zero_output_and_exposed_output_layer():
    net = gf.ResidualMLP(3, 5, width=8, n_blocks=2, key=jr.key(0))
    assert isinstance(net.output, eqx.nn.Linear)
    assert net.output.weight.shape == (5, 8) and len(net.blocks) == 2
    x = jr.normal(jr.key(1), (3,))
    np.testing.assert_array_equal(net(x), jnp.zeros(5))
    # 3*8+8 (input) + 2 blocks * 2 * (8*8+8) + 8*5+5 (output)
    assert gf.count_parameters(net) == 32 + 288 + 45
    # the course's name for it (gf.conditioners.count_parameters) is the same function
    assert gf.conditioners.count_parameters is gf.count_parameters


def test_residual_blocks_are_pre_activation_identity_skips():
    net = gf.ResidualMLP(2, 3, width=4, n_blocks=1, zero_init=False, key=jr.key(2))
    block = net.blocks[0]
    h = jr.normal(jr.key(3), (4,))
    expected = h + block.second(jax.nn.relu(block.first(jax.nn.relu(h))))
    np.testing.assert_allclose(block(h), expected, rtol=1e-6)
    assert float(jnp.abs(net(h[:2])).max()) > 0  # zero_init=False: not zero
    zeroed = eqx.tree_at(lambda n: n.blocks[0].second.weight, net,
                         jnp.zeros((4, 4)))
    zeroed = eqx.tree_at(lambda n: n.blocks[0].second.bias, zeroed, jnp.zeros(4))
    np.testing.assert_allclose(zeroed(h[:2]), net.output(net.input(h[:2])), rtol=1e-6)


@pytest.mark.parametrize("name", sorted(COUPLINGS))
def test_residual_mlp_in_every_named_coupling_starts_at_the_template(name):
    cls = COUPLINGS[name]
    kwargs = {"n_components": 3} if name in ("mixture_cdf", "deep_sigmoid") else {}
    probe = cls(jr.key(0), shape=(3,), nn_width=4, nn_depth=0, **kwargs)
    net = gf.ResidualMLP(probe.conditioner.in_size, probe.conditioner.out_size,
                         width=8, n_blocks=1, key=jr.key(1))
    layer = cls(jr.key(0), shape=(3,), conditioner=net, **kwargs)
    x = jr.normal(jr.key(2), (3,))
    zero_init = cls(jr.key(0), shape=(3,), nn_width=4, nn_depth=1, zero_init=True, **kwargs)
    z, log_det = layer.transform_and_log_det(x)
    z_ref, log_det_ref = zero_init.transform_and_log_det(x)
    np.testing.assert_allclose(z, z_ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(log_det, log_det_ref, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(("factory", "n_layers"), [
    (gf.conditioners.residual_mlp(width=8, n_blocks=1), 3),  # Scan + leftover layer
    (gf.conditioners.mlp(width=8, depth=1, zero_init=True), 4),  # bare Scan
])
def test_factory_builds_one_conditioner_per_layer_and_zero_output_is_identity(
    factory, n_layers
):
    flow = gf.coupling_flow(jr.key(0), shape=(5,), n_layers=n_layers,
                            conditioner_factory=factory)
    layers = coupling_layers(flow)
    assert len(layers) == n_layers
    for layer in layers:
        assert type(layer.conditioner) is type(factory(jr.key(0), 2, 6))
    x = jr.normal(jr.key(1), (8, 5))
    np.testing.assert_allclose(eqx.filter_jit(flow.log_prob)(x),
                               StandardNormal((5,)).log_prob(x), rtol=1e-6)
    # different keys per layer: the input layers differ
    first = [layer.conditioner.layers[0] if hasattr(layer.conditioner, "layers")
             else layer.conditioner.input for layer in layers]
    assert not np.allclose(first[0].weight, first[2].weight)


def test_factory_with_a_spline_flow_trains_like_any_flow():
    flow = gf.coupling_flow(jr.key(0), shape=(4,), n_layers=2, coupling="rq_spline",
                            conditioner_factory=gf.conditioners.residual_mlp(8, 1))
    params, static = eqx.partition(flow, eqx.is_inexact_array)
    x = jr.normal(jr.key(1), (16, 4))
    grads = jax.jit(jax.grad(lambda p: -eqx.combine(p, static).log_prob(x).mean()))(params)
    norms = [float(jnp.abs(g).max()) for g in jax.tree.leaves(grads)]
    assert all(np.isfinite(norms)) and max(norms) > 0


@pytest.mark.parametrize(("call", "match"), [
    (lambda: gf.ResidualMLP(0, 2, key=jr.key(0)), "in_size"),
    (lambda: gf.ResidualMLP(2, 2, width=0, key=jr.key(0)), "width"),
    (lambda: gf.ResidualMLP(2, 2, n_blocks=-1, key=jr.key(0)), "n_blocks"),
    (lambda: gf.ResidualMLP(2, 2, activation="relu", key=jr.key(0)), "activation"),
    (lambda: gf.conditioners.residual_mlp(width=1.5), "width"),
    (lambda: gf.conditioners.mlp(depth=-1), "depth"),
    (lambda: gf.coupling_flow(jr.key(0), shape=(4,), conditioner_factory=3),
     "conditioner_factory"),
    (lambda: gf.coupling_flow(jr.key(0), shape=(4,), zero_init=True,
                              conditioner_factory=gf.conditioners.residual_mlp()),
     "zero_init"),
    (lambda: gf.coupling_flow(
        jr.key(0), shape=(4,),
        conditioner_factory=lambda key, i, o: gf.ResidualMLP(i, o + 1, key=key)),
     "conditioner must map"),
    (lambda: gf.coupling_flow(jr.key(0), shape=(4,), conditioner=gf.conditioners.mlp(),
                              conditioner_factory=gf.conditioners.mlp()), "once"),
])
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_conditioner_is_still_accepted_as_the_old_name_of_conditioner_factory():
    """Reference: the same flow built with the new keyword (identical arrays)."""
    factory = gf.conditioners.residual_mlp(8, 1)
    old = gf.coupling_flow(jr.key(0), shape=(4,), n_layers=2, conditioner=factory)
    new = gf.coupling_flow(jr.key(0), shape=(4,), n_layers=2, conditioner_factory=factory)
    old_leaves, new_leaves = (
        jax.tree.leaves(eqx.filter(f, eqx.is_array)) for f in (old, new)
    )
    assert len(old_leaves) == len(new_leaves) > 0
    for a, b in zip(old_leaves, new_leaves, strict=True):
        np.testing.assert_array_equal(a, b)
    layers = coupling_layers(old)
    assert all(isinstance(layer.conditioner, gf.ResidualMLP) for layer in layers)


def test_count_parameters_leaves_out_frozen_arrays():
    """Reference: the sizes counted by hand (a fixed rotation is NonTrainable)."""
    layer = gf.Rotation.random(jr.key(0), 3)  # a 3 x 3 NonTrainable matrix only
    assert gf.count_parameters(layer) == 0
    affine = gf.AffineCoupling(jr.key(0), shape=(4,), nn_width=5, nn_depth=1)
    # MLP 2 -> 5 -> 4: (2*5 + 5) + (5*4 + 4); the template's shift and log-scale are
    # not parameters of the coupling (the conditioner predicts them)
    assert gf.count_parameters(affine) == 15 + 24
