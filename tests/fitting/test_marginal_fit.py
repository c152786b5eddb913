"""MarginalGaussianization.fit: one scale floor, relative to the data."""

import equinox as eqx
import jax
import jax.random as jr
import numpy as np
import pytest

import gauss_flows as gf

TOY = gf.datasets.TOYS["two_moons"]


@eqx.filter_jit
def _push(layer, x):
    return jax.vmap(layer.transform)(x)


def test_small_scale_data_is_gaussianized(dtype):
    """Two moons x 1e-4 (sd about 1e-4): the fitted layer must still Gaussianize each
    coordinate, sd about 1 (an absolute floor of 1e-3 on the scales once left sd 0.09
    and 0.05, silently). Reference: N(0, 1) marginals of a fitted diagonal layer,
    and the layer fitted to the same data at scale 1, whose output it must match
    (EM and the floor are scale-equivariant)."""
    x = TOY.sample(jr.key(0), 2000).astype(dtype)
    small = 1e-4 * x
    z_small = np.asarray(_push(gf.MarginalGaussianization.fit(small), small), np.float64)
    z_unit = np.asarray(_push(gf.MarginalGaussianization.fit(x), x), np.float64)
    np.testing.assert_allclose(z_small.std(0), 1.0, atol=0.05)
    np.testing.assert_allclose(z_small.mean(0), 0.0, atol=0.05)
    tol = 1e-3 if dtype == np.float32 else 1e-7
    np.testing.assert_allclose(z_small, z_unit, atol=tol)


def test_an_explicit_min_scale_above_the_fitted_scales_raises(x64):
    """Reference: the fitted scales of data of sd about 1e-4 lie far below 1e-3."""
    small = 1e-4 * TOY.sample(jr.key(0), 500)
    with pytest.raises(ValueError, match="min_scale=0.001"):
        gf.MarginalGaussianization.fit(small, min_scale=1e-3)
    layer = gf.MarginalGaussianization.fit(small, min_scale=1e-9)
    assert float(layer.mixture_parameters[2].min()) > 1e-9


def test_layers_fitted_to_data_of_similar_scale_share_compiled_code(x64):
    """The floor is a static field: if it followed the data's sd exactly, every RBIG
    iteration's layer would be a new program for jit (5x slower RBIG, measured).
    Reference: equinox's own split of a module into arrays and static parts. The
    two moons' smallest sd is 0.996; the floor 0.025 sd rounds down to 2**-6 for any
    sd in [0.625, 1.25), so data 10% larger gives equal static parts (as RBIG's
    Gaussianized iterations, sd about 1, do), data 1e-4 smaller does not."""
    x = TOY.sample(jr.key(0), 1000)
    static = [eqx.partition(gf.MarginalGaussianization.fit(s * x), eqx.is_array)[1]
              for s in (1.0, 1.1, 1e-4)]
    assert eqx.tree_equal(static[0], static[1])
    assert not eqx.tree_equal(static[0], static[2])
