"""Bad input gives a clear ValueError that names the offending argument."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from flowjax.bijections import Affine

import gauss_flows as gf

KEY = jr.key(0)


# --------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("shape", [(1,), (0,)])
def test_fewer_than_two_coordinates(shape):
    with pytest.raises(ValueError, match=r"d >= 2"):
        gf.AffineCoupling(KEY, shape=shape)


@pytest.mark.parametrize("shape", [(2, 2), (), 4, [4], (4.0,)])
def test_shape_must_be_a_one_tuple_of_int(shape):
    with pytest.raises(ValueError, match=r"shape"):
        gf.AffineCoupling(KEY, shape=shape)


@pytest.mark.parametrize(
    "cls", [gf.AffineCoupling, gf.MixtureGaussianCDFCoupling], ids=lambda c: c.__name__
)
def test_wrong_input_shapes_raise(cls):
    layer = cls(KEY, shape=(4,), nn_width=4, nn_depth=1)
    for bad in (jnp.zeros(3), jnp.zeros(5), jnp.zeros((2, 4)), jnp.zeros(())):
        with pytest.raises(ValueError, match=r"shape \(4,\)"):
            layer.transform(bad)
        with pytest.raises(ValueError, match=r"shape \(4,\)"):
            layer.inverse(bad)


def test_conditional_layer_needs_a_condition_of_the_right_shape():
    layer = gf.AffineCoupling(KEY, shape=(4,), cond_dim=2, nn_width=4, nn_depth=1)
    with pytest.raises(ValueError, match=r"condition"):
        layer.transform(jnp.zeros(4))
    with pytest.raises(ValueError, match=r"condition.shape \(2,\)"):
        layer.transform(jnp.zeros(4), jnp.zeros(3))


@pytest.mark.parametrize("cond_dim", [0, -1, 1.5])
def test_cond_dim_must_be_a_positive_int(cond_dim):
    with pytest.raises(ValueError, match=r"cond_dim"):
        gf.AffineCoupling(KEY, shape=(4,), cond_dim=cond_dim)


# --------------------------------------------------------------------------- masks
@pytest.mark.parametrize(
    "mask",
    [np.ones(4, bool), np.zeros(4, bool)],
    ids=["all_passive", "all_active"],
)
def test_mask_needs_one_passive_and_one_active_coordinate(mask):
    with pytest.raises(ValueError, match=r"mask must mark at least one passive"):
        gf.AffineCoupling(KEY, shape=(4,), mask=mask)


@pytest.mark.parametrize("mask", [np.array([True, False, True]), np.ones((2, 2), bool)])
def test_mask_of_wrong_shape(mask):
    with pytest.raises(ValueError, match=r"mask must have shape \(4,\)"):
        gf.AffineCoupling(KEY, shape=(4,), mask=mask)


@pytest.mark.parametrize("mask", [np.array([1, 0, 1, 0]), np.array([1.0, 0.0, 0.0, 1.0])])
def test_mask_must_be_boolean(mask):
    with pytest.raises(ValueError, match=r"mask must be boolean"):
        gf.AffineCoupling(KEY, shape=(4,), mask=mask)


# --------------------------------------------------------------------------- sizes
@pytest.mark.parametrize("n_components", [0, -2, 2.0])
def test_n_components(n_components):
    with pytest.raises(ValueError, match=r"n_components"):
        gf.MixtureGaussianCDF(n_components)
    with pytest.raises(ValueError, match=r"n_components"):
        gf.MixtureGaussianCDFCoupling(KEY, shape=(4,), n_components=n_components)


@pytest.mark.parametrize("n_iter", [0, -1])
def test_n_iter(n_iter):
    with pytest.raises(ValueError, match=r"n_iter"):
        gf.MixtureGaussianCDF(3, n_iter=n_iter)


@pytest.mark.parametrize("nn_width", [0, -1, 3.0])
def test_nn_width(nn_width):
    with pytest.raises(ValueError, match=r"nn_width"):
        gf.AffineCoupling(KEY, shape=(4,), nn_width=nn_width)


@pytest.mark.parametrize("nn_depth", [-1, 1.0])
def test_nn_depth(nn_depth):
    with pytest.raises(ValueError, match=r"nn_depth"):
        gf.MixtureGaussianCDFCoupling(KEY, shape=(4,), nn_depth=nn_depth)


def test_nn_depth_zero_is_a_linear_conditioner():
    layer = gf.AffineCoupling(KEY, shape=(4,), nn_width=8, nn_depth=0)
    assert len(layer.conditioner.layers) == 1


# --------------------------------------------------------------------------- scalars
@pytest.mark.parametrize("bound", [0.0, -1.0])
def test_log_scale_bound_must_be_positive(bound):
    with pytest.raises(ValueError, match=r"log_scale_bound"):
        gf.LogScaleAffine(log_scale_bound=bound)
    with pytest.raises(ValueError, match=r"log_scale_bound"):
        gf.AffineCoupling(KEY, shape=(4,), log_scale_bound=bound)


def test_mixture_parameters():
    with pytest.raises(ValueError, match=r"means must have shape \(3,\)"):
        gf.MixtureGaussianCDF(3, means=jnp.zeros(2))
    with pytest.raises(ValueError, match=r"min_scale"):
        gf.MixtureGaussianCDF(3, min_scale=0.0)
    with pytest.raises(ValueError, match=r"scales must all exceed min_scale"):
        gf.MixtureGaussianCDF(3, scales=jnp.array([1.0, 1e-4, 1.0]))


# --------------------------------------------------------------------------- transformers
def test_transformer_must_be_a_scalar_bijection():
    with pytest.raises(ValueError, match=r"transformer must be a scalar"):
        gf.Coupling(KEY, shape=(4,), transformer=Affine(jnp.zeros(2)))
    with pytest.raises(ValueError, match=r"transformer must be a scalar"):
        gf.Coupling(KEY, shape=(4,), transformer=jnp.exp)


# --------------------------------------------------------------------------- conditioners
def test_custom_conditioner_of_wrong_output_size():
    # d = 4, default mask: 2 passive in, 2 active * 2 affine params = 4 out.
    wrong = eqx.nn.Linear(2, 3, key=KEY)
    with pytest.raises(ValueError, match=r"conditioner must map shape \(2,\) to \(4,\)"):
        gf.Coupling(KEY, shape=(4,), transformer=gf.LogScaleAffine(), conditioner=wrong)


def test_custom_conditioner_of_wrong_input_size():
    wrong = eqx.nn.Linear(3, 4, key=KEY)
    message = r"conditioner must accept an input of shape \(2,\)"
    with pytest.raises(ValueError, match=message):
        gf.Coupling(KEY, shape=(4,), transformer=gf.LogScaleAffine(), conditioner=wrong)


def test_zero_init_with_custom_conditioner():
    conditioner = eqx.nn.Linear(2, 4, key=KEY)
    with pytest.raises(ValueError, match=r"zero_init"):
        gf.Coupling(
            KEY,
            shape=(4,),
            transformer=gf.LogScaleAffine(),
            conditioner=conditioner,
            zero_init=True,
        )


# --------------------------------------------------------------------------- zero_init
@pytest.mark.parametrize("mask", [None, np.array([False, True, True, False])])
def test_zero_init_affine_is_exactly_the_identity(mask, x64):
    layer = gf.AffineCoupling(KEY, shape=(4,), mask=mask, zero_init=True)
    x = jr.normal(jr.key(1), (4,)) * 3
    z, log_det = layer.transform_and_log_det(x)
    x_back, log_det_inv = layer.inverse_and_log_det(x)
    np.testing.assert_array_equal(z, x)
    np.testing.assert_array_equal(x_back, x)
    assert log_det == 0.0 and log_det_inv == 0.0


def test_zero_init_mixture_is_the_template(x64):
    layer = gf.MixtureGaussianCDFCoupling(KEY, shape=(4,), n_components=3, zero_init=True)
    template = gf.MixtureGaussianCDF(3)
    x = jnp.array([0.3, -1.2, 2.5, -0.7])
    z, log_det = eqx.filter_jit(layer.transform_and_log_det)(x)
    elementwise = eqx.filter_jit(lambda t, x: jax.vmap(t.transform_and_log_det)(x))
    z_b, log_det_b = elementwise(template, x[2:])
    np.testing.assert_array_equal(z[:2], x[:2])
    np.testing.assert_allclose(z[2:], z_b, rtol=1e-14, atol=0)
    np.testing.assert_allclose(log_det, log_det_b.sum(), rtol=1e-14, atol=0)
    # The template with spread means is not the identity.
    assert np.max(np.abs(z[2:] - x[2:])) > 0.1


# --------------------------------------------------------------------------- data
def _stacked(key):
    return gf.stack_seeds([gf.coupling_flow(key, shape=(2,), n_layers=1, nn_width=4,
                                            nn_depth=1)])


#: Every function that takes samples, as ``(call(data), name of the argument)``.
DATA_TAKERS = {
    "MarginalGaussianization.fit": (lambda d: gf.MarginalGaussianization.fit(d, 2), "data"),
    "fit_marginal_mixtures": (lambda d: gf.fitting.fit_marginal_mixtures(d, 2), "data"),
    "rbig": (lambda d: gf.rbig(KEY, d, n_iterations=1, n_components=2), "data"),
    "rbig_validation": (
        lambda d: gf.rbig(KEY, np.asarray(d, np.float32), n_iterations=1,
                          n_components=2, validation=d),
        "validation",
    ),
    "full_gaussian": (gf.full_gaussian, "data"),
    "gaussian_copula": (lambda d: gf.gaussian_copula(d, 2), "data"),
    "Rotation.pca": (gf.Rotation.pca, "data"),
    "warm_start": (
        lambda d: gf.warm_start(gf.coupling_flow(KEY, shape=(2,), n_layers=1), d), "data"
    ),
    "fitted_transformers": (
        lambda d: gf.fitting.fitted_transformers(
            gf.MixtureGaussianCDFCoupling(KEY, shape=(3,), n_components=2), d
        ),
        "x_active",
    ),
    "initialize_actnorm": (
        lambda d: gf.initialize_actnorm(
            gf.coupling_flow(KEY, shape=(2,), n_layers=1, actnorm=True), d
        ),
        "data",
    ),
    "ActNorm.initialized": (lambda d: gf.ActNorm((2,)).initialized(d), "x"),
    "train_flow": (
        lambda d: gf.train_flow(KEY, gf.coupling_flow(KEY, shape=(2,), n_layers=1), d),
        "data",
    ),
    "train_flows": (
        lambda d: gf.train_flows(KEY, _stacked(KEY), d, np.zeros((4, 2), np.float32)),
        "data",
    ),
    "train_flows_validation": (
        lambda d: gf.train_flows(KEY, _stacked(KEY), np.zeros((4, 2), np.float32), d),
        "validation",
    ),
    "seed_log_probs": (lambda d: gf.seed_log_probs(_stacked(KEY), d), "x"),
}


@pytest.mark.parametrize("taker", sorted(DATA_TAKERS))
@pytest.mark.parametrize("bad", ["float16", "bfloat16", "int32"])
def test_samples_of_other_dtypes_are_rejected_not_cast(taker, bad, x32):
    """One rule for every function that takes samples (the documented one: float32 or
    float64, anything else rejected, never cast). Integer data once went through
    ``check_data``'s cast and float16 through float32 constants, silently. Reference:
    the message names the argument, the dtypes accepted and the dtype given."""
    call, name = DATA_TAKERS[taker]
    rng = np.random.default_rng(0)
    data = jnp.asarray(rng.normal(size=(64, 2)) * 3, jnp.float32)
    with pytest.raises(ValueError, match=rf"{name} must .*float32, float64.*{bad}"):
        call(data.astype(bad))
