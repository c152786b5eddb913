"""coupling_flow: alternating masks, log_prob = base + sum of layer log-dets, scan stacking.

Most tests use the 2-D event of the toy data sets and the default conditioner, so that
jax's compile caches are shared with the training tests (building and compiling
dominates the run time here).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from flowjax.distributions import StandardNormal, Transformed

import gauss_flows as gf
from gauss_flows.flows import COUPLINGS, coupling_layers

D = 2


@eqx.filter_jit
def log_prob(flow, x):
    """One compiled log_prob per flow structure, shared by every test of this file."""
    return flow.log_prob(x)


@eqx.filter_jit
def _perturb(tree, key, scale=0.05):
    """Jitter every float array (moderately: affine scales compound across layers)."""
    leaves, treedef = jax.tree.flatten(tree)
    keys = jr.split(key, len(leaves))
    leaves = [
        leaf + scale * jr.normal(k, leaf.shape, leaf.dtype)
        if eqx.is_inexact_array(leaf) else leaf
        for leaf, k in zip(leaves, keys, strict=True)
    ]
    return jax.tree.unflatten(treedef, leaves)


#: The first mask of the default ("half") schedule, written out: the first d // 2
#: coordinates passive.
HALF = {2: [True, False], 3: [True, False, False], 5: [True, True, False, False, False]}


@pytest.mark.parametrize(("dim", "n_layers"), [(D, 1), (D, 2), (D, 3), (D, 4), (3, 2)])
def test_masks_alternate_and_every_coordinate_is_transformed(dim, n_layers):
    """Reference: the masks written out by hand (HALF and its complement)."""
    flow = gf.coupling_flow(jr.key(0), shape=(dim,), n_layers=n_layers)
    assert isinstance(flow, Transformed)
    assert isinstance(flow.base_dist, StandardNormal)
    assert flow.shape == (dim,)
    layers = coupling_layers(flow)
    assert len(layers) == n_layers
    mask_a = np.array(HALF[dim])  # odd dim: the complement is not a reversed mask
    for i, layer in enumerate(layers):
        assert isinstance(layer, gf.AffineCoupling)
        np.testing.assert_array_equal(layer.mask, mask_a if i % 2 == 0 else ~mask_a)
    transformed = np.zeros(dim, bool)
    for layer in layers:
        transformed |= ~layer.mask
    assert transformed.all() == (n_layers >= 2)


# n_layers 3: Chain(Scan over 1 pair, leftover layer); 4: a bare Scan over 2 pairs
@pytest.mark.parametrize(("n_layers", "x64"), [(3, False), (4, True)])
def test_log_prob_is_base_plus_sum_of_layer_log_dets(n_layers, x64):
    with jax.enable_x64(x64):
        flow = gf.coupling_flow(jr.key(1), shape=(D,), n_layers=n_layers)
        flow = _perturb(flow, jr.key(2))
        x = jr.normal(jr.key(3), (16, D))

        @jax.jit
        @jax.vmap
        def by_hand(xi):
            log_det = 0.0
            for layer in coupling_layers(flow):
                xi, ld = layer.transform_and_log_det(xi)
                log_det += ld
            return jax.scipy.stats.norm.logpdf(xi).sum() + log_det

        got = log_prob(flow, x)
        expected = by_hand(x)
        moved = float(jnp.abs(got - StandardNormal((D,)).log_prob(x)).max())
    assert got.dtype == (jnp.float64 if x64 else jnp.float32)
    tol = 1e-12 if x64 else 1e-5
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
    assert moved > 1e-2  # the layers are not the identity, so the check has teeth


def test_sample_inverts_the_data_to_latent_map(x64):
    flow = gf.coupling_flow(jr.key(4), shape=(D,), n_layers=4)
    x, lp_sample = eqx.filter_jit(flow.sample_and_log_prob)(jr.key(6), (64,))
    assert x.shape == (64, D) and bool(jnp.isfinite(x).all())
    np.testing.assert_allclose(log_prob(flow, x), lp_sample, rtol=1e-10)
    round_trip = eqx.filter_jit(jax.vmap(lambda xi: flow.bijection.transform(
        flow.bijection.inverse(xi))))(x)
    np.testing.assert_allclose(round_trip, x, atol=1e-12)


#: Every coupling name of coupling_flow and the class it must build, written out.
NAMED_COUPLINGS = {
    "affine": gf.AffineCoupling,
    "mixture_cdf": gf.MixtureGaussianCDFCoupling,
    "deep_sigmoid": gf.DeepSigmoidCoupling,
    "rq_spline": gf.RQSplineCoupling,
}


def test_the_coupling_names_are_the_documented_ones():
    assert COUPLINGS == NAMED_COUPLINGS


@pytest.mark.parametrize("name", sorted(set(NAMED_COUPLINGS) - {"affine"}))
def test_every_named_coupling_builds_a_finite_flow(name):
    flow = gf.coupling_flow(jr.key(7), shape=(D,), n_layers=2, coupling=name)
    layers = coupling_layers(flow)
    assert [type(layer) for layer in layers] == [NAMED_COUPLINGS[name]] * 2
    x = 2 * jr.normal(jr.key(8), (32, D))
    log_p = log_prob(flow, x)
    assert log_p.shape == (32,) and bool(jnp.isfinite(log_p).all())


def test_coupling_class_and_kwargs_are_passed_through():
    flow = gf.coupling_flow(jr.key(9), shape=(D,), n_layers=2,
                            coupling=gf.MixtureGaussianCDFCoupling, n_components=3,
                            nn_width=8, nn_depth=1)
    for layer in coupling_layers(flow):
        assert isinstance(layer, gf.MixtureGaussianCDFCoupling)
        assert layer.n_params == 9  # 3 components x (weight, mean, scale)
        assert len(layer.conditioner.layers) == 2  # nn_depth=1: one hidden layer
        assert layer.conditioner.width_size == 8
    zero = gf.coupling_flow(jr.key(9), shape=(D,), n_layers=3, zero_init=True)
    x = jr.normal(jr.key(10), (8, D))
    np.testing.assert_allclose(
        log_prob(zero, x), StandardNormal((D,)).log_prob(x), rtol=1e-6
    )


def test_depth_is_scanned_so_the_traced_program_does_not_grow():
    x = jnp.zeros((4, D))

    def n_eqns(n_layers):
        flow = gf.coupling_flow(jr.key(0), shape=(D,), n_layers=n_layers)
        params, static = eqx.partition(flow, eqx.is_array)
        log_prob = lambda p: eqx.combine(p, static).log_prob(x)  # noqa: E731
        return len(jax.make_jaxpr(log_prob)(params).eqns)

    assert n_eqns(2) == n_eqns(32)
    assert n_eqns(3) == n_eqns(33)


@pytest.mark.parametrize("n_layers", [0, -2, 1.5, True, "4"])
def test_bad_n_layers_raises(n_layers):
    with pytest.raises(ValueError, match="n_layers"):
        gf.coupling_flow(jr.key(0), shape=(D,), n_layers=n_layers)


def test_unknown_coupling_name_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown coupling") as info:
        gf.coupling_flow(jr.key(0), shape=(D,), coupling="realnvp")
    for name in COUPLINGS:
        assert repr(name) in str(info.value)


@pytest.mark.parametrize("coupling", [dict, StandardNormal, 3])
def test_coupling_must_be_a_name_or_coupling_subclass(coupling):
    with pytest.raises(ValueError, match="coupling"):
        gf.coupling_flow(jr.key(0), shape=(D,), coupling=coupling)


@pytest.mark.parametrize("shape", [(1,), (2, 2), 2, ()])
def test_bad_shape_raises(shape):
    with pytest.raises(ValueError, match="shape"):
        gf.coupling_flow(jr.key(0), shape=shape)


def test_mask_is_set_by_the_factory():
    with pytest.raises(ValueError, match="mask"):
        gf.coupling_flow(jr.key(0), shape=(D,), mask=np.array([True, False]))


def test_coupling_layers_rejects_other_distributions():
    with pytest.raises(ValueError, match="coupling_flow"):
        coupling_layers(StandardNormal((D,)))


# ---- mask schedules -------------------------------------------------------------------
#: The first mask of each named schedule for d = 6, written out (True = passive); the
#: schedule then alternates it with its complement. "checkerboard" on a 3 x 2 grid:
#: cell (r, c) is coordinate 2 r + c, passive where r + c is even.
FIRST_MASKS_D6 = {
    "half": [True, True, True, False, False, False],
    "alternating": [True, False, True, False, True, False],
    "checkerboard": [True, False, False, True, True, False],
}


@pytest.mark.parametrize(("name", "grid"), [
    ("half", None), ("alternating", None), ("checkerboard", (3, 2)), ("random", None),
])
def test_named_schedule_equals_its_explicit_list_of_masks(name, grid):
    """Reference: the masks written out by hand (FIRST_MASKS_D6), or for "random" the
    documented draw ``gf.masks.random(jr.fold_in(key, 1), d)``, then the complement,
    then the first again; and a flow built from that explicit list, which must be the
    same pytree (structure, static masks and every array)."""
    key = jr.key(11)
    named = gf.coupling_flow(key, shape=(6,), n_layers=3, masks=name, grid=grid)
    if name == "random":
        first = gf.masks.random(jr.fold_in(key, 1), 6)
        assert first.sum() == 3
    else:
        first = np.array(FIRST_MASKS_D6[name])
    masks = [first, ~first, first]
    explicit = gf.coupling_flow(key, shape=(6,), masks=masks)  # n_layers from the list
    for layer, mask in zip(coupling_layers(named), masks, strict=True):
        np.testing.assert_array_equal(layer.mask, mask)
    assert bool(eqx.tree_equal(named, explicit))


def test_default_schedule_is_half():
    default = gf.coupling_flow(jr.key(14), shape=(5,), n_layers=3)
    half = gf.coupling_flow(jr.key(14), shape=(5,), n_layers=3, masks="half")
    leaves = [jax.tree.leaves(eqx.filter(f, eqx.is_array)) for f in (default, half)]
    assert len(leaves[0]) == len(leaves[1]) > 0
    for a, b in zip(*leaves, strict=True):
        np.testing.assert_array_equal(a, b)
    # ... and "half" means: the first d // 2 passive, then the complement, alternating.
    for i, layer in enumerate(coupling_layers(default)):
        mask = np.array(HALF[5])
        np.testing.assert_array_equal(layer.mask, mask if i % 2 == 0 else ~mask)


def test_non_periodic_masks_fall_back_to_a_chain_of_layers():
    masks = [gf.masks.random(k, 6) for k in jr.split(jr.key(15), 3)]
    flow = gf.coupling_flow(jr.key(16), shape=(6,), masks=masks)
    layers = coupling_layers(flow)
    assert [type(b) for b in flow.bijection.bijection.bijections] == [gf.AffineCoupling] * 3
    for layer, mask in zip(layers, masks, strict=True):
        np.testing.assert_array_equal(layer.mask, mask)
    flow = _perturb(flow, jr.key(17))
    x = jr.normal(jr.key(18), (4, 6))
    by_hand = []
    for xi in x:
        log_det = 0.0
        for layer in coupling_layers(flow):
            xi, ld = layer.transform_and_log_det(xi)
            log_det += ld
        by_hand.append(jax.scipy.stats.norm.logpdf(xi).sum() + log_det)
    np.testing.assert_allclose(flow.log_prob(x), jnp.stack(by_hand), rtol=1e-5)


def test_a_repeating_checkerboard_schedule_is_still_scanned():
    x = jnp.zeros((2, 6))

    def n_eqns(n_layers):
        flow = gf.coupling_flow(jr.key(0), shape=(6,), n_layers=n_layers,
                                masks="checkerboard", grid=(2, 3))
        params, static = eqx.partition(flow, eqx.is_array)
        log_prob = lambda p: eqx.combine(p, static).log_prob(x)  # noqa: E731
        return len(jax.make_jaxpr(log_prob)(params).eqns)

    assert n_eqns(2) == n_eqns(32)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"masks": "stripes"}, "Unknown mask schedule"),
    ({"masks": "checkerboard"}, "grid"),
    ({"masks": "half", "grid": (2, 2)}, "grid"),
    ({"masks": [gf.masks.half(4)] * 3, "n_layers": 2}, "one mask per layer"),
    ({"masks": gf.masks.half(4)}, "wrap it in a list"),
    ({"masks": [gf.masks.half(4), gf.masks.half(5)]}, r"masks\[1\]"),
    ({"masks": [np.ones(4, bool)]}, "passive"),
    ({"masks": 3}, "masks must be a schedule name"),
])
def test_bad_masks_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gf.coupling_flow(jr.key(0), shape=(4,), **kwargs)
