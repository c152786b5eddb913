"""Toy data sets: seeded samplers, true densities (normalised, consistent with the
samplers) and the stored entropies."""

import math

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import gauss_flows as gf
from gauss_flows.datasets import TOYS, NoisyCurve, estimate_entropy, quadrature_entropy

NAMES = ["two_moons", "spiral", "eight_gaussians", "checkerboard", "pinwheel"]
# Compiling dominates the run time: every test draws N points (or pads to N), so that
# each toy compiles one sampler and one log_prob per dtype.
N = 20_000


def test_the_five_toys_are_registered_with_module_level_samplers():
    assert sorted(TOYS) == sorted(NAMES)
    for name in NAMES:
        toy = TOYS[name]
        assert toy.name == name
        np.testing.assert_array_equal(getattr(gf.datasets, name)(jr.key(3), N),
                                      toy.sample(jr.key(3), N))
        assert isinstance(toy.entropy_method, str) and toy.entropy_method
        assert toy.entropy_se >= 0 and math.isfinite(toy.entropy)


@pytest.mark.parametrize("name", NAMES)
def test_samples_shape_dtype_seeds_and_scale(name):
    toy = TOYS[name]
    x = toy.sample(jr.key(0), N)
    assert x.shape == (N, 2) and x.dtype == jnp.float32
    np.testing.assert_array_equal(x, toy.sample(jr.key(0), N))
    assert not np.allclose(x, toy.sample(jr.key(1), N))
    # documented scale: inside [-4, 4]^2 up to rare Gaussian tails, std about 1-2
    assert float(jnp.mean(jnp.any(jnp.abs(x) > 4, axis=-1))) < 1e-3
    std = np.asarray(x.std(axis=0))
    assert np.all((0.8 < std) & (std < 2.0)), std
    # far points (squared distance overflows float32) give -inf or tiny, never nan
    far = jnp.array([[1e3, -1e3], [1e20, 0.0], [-50.0, 3.0]])
    log_p = toy.log_prob(x.at[:3].set(far))
    assert log_p.shape == (N,) and log_p.dtype == jnp.float32
    assert not bool(jnp.isnan(log_p).any()) and bool(jnp.all(log_p[:3] < -100))
    assert bool(jnp.isfinite(log_p[3:]).all())  # every sample lies where p > 0


@pytest.mark.parametrize("name", NAMES)
def test_log_prob_integrates_to_one(name):
    axis = np.arange(-7.0, 7.0, 0.1) + 0.05  # cell midpoints; 15 cells per checker square
    grid = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
    padded = np.concatenate([grid, np.full((N - len(grid), 2), 1e3)])  # p = 0 there
    density = jnp.exp(TOYS[name].log_prob(padded))
    assert abs(float(density.sum()) * 0.1**2 - 1.0) < 1e-3


@pytest.mark.parametrize("name", NAMES)
def test_stored_entropy_matches_a_fresh_monte_carlo_estimate(name, x64):
    toy = TOYS[name]
    assert toy.sample(jr.key(2024), N).dtype == jnp.float64
    h_mc, se = estimate_entropy(toy, jr.key(2024), N)
    assert abs(h_mc - toy.entropy) < 4 * se + toy.entropy_se + 1e-12


@pytest.mark.parametrize("name", ["two_moons", "spiral", "pinwheel"])
def test_latent_quadrature_is_converged(name, x64):
    toy = TOYS[name]
    finer = type(toy)(2 * toy.n_panels)
    x = toy.sample(jr.key(2024), N)
    x = x.at[: N // 2].set(jr.uniform(jr.key(6), (N // 2, 2), minval=-5, maxval=5))
    log_p, log_p_finer = toy.log_prob(x), finer.log_prob(x)
    keep = log_p_finer > -60
    assert int(keep.sum()) > N // 2
    assert float(jnp.abs(log_p - log_p_finer)[keep].max()) < 1e-8


def test_eight_gaussians_entropy_is_just_below_the_separated_limit(x64):
    toy = TOYS["eight_gaussians"]
    separated = math.log(8) + math.log(2 * math.pi * math.e * toy.sigma**2)
    assert separated - 0.01 < toy.entropy < separated  # overlap lowers H a little
    assert abs(quadrature_entropy(toy, half_width=4.5, spacing=0.05) - toy.entropy) < 1e-8


def test_checkerboard_is_uniform_on_the_dark_squares():
    toy = TOYS["checkerboard"]
    x = toy.sample(jr.key(0), N)
    cell = np.floor(np.asarray(x) / 1.5).astype(int)
    assert np.all((cell >= -2) & (cell <= 1))
    assert np.all(cell.sum(axis=-1) % 2 == 0)
    counts = np.unique(cell[:, 0] * 4 + cell[:, 1], return_counts=True)[1]
    assert len(counts) == 8 and counts.min() > 2300  # 2500 expected per square
    light = jnp.array([[0.75, -0.75], [-2.0, -0.5], [5.0, 0.0]])
    assert bool(jnp.all(toy.log_prob(light) == -jnp.inf))
    assert toy.entropy == pytest.approx(math.log(18.0)) and toy.entropy_se == 0.0


def test_log_prob_keeps_leading_shape():
    x = jnp.zeros((3, 4, 2))
    assert TOYS["spiral"].log_prob(x).shape == (3, 4)
    assert TOYS["checkerboard"].log_prob(x).shape == (3, 4)


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_bad_sample_size_raises(n):
    with pytest.raises(ValueError, match="n"):
        TOYS["two_moons"].sample(jr.key(0), n)


@pytest.mark.parametrize("shape", [(5,), (5, 3), ()])
def test_bad_point_shape_raises(shape):
    with pytest.raises(ValueError, match="shape"):
        TOYS["pinwheel"].log_prob(jnp.zeros(shape))


def test_noisy_curve_panels_must_be_positive():
    with pytest.raises(ValueError, match="n_panels"):
        type(TOYS["two_moons"])(0)
    assert isinstance(TOYS["two_moons"], NoisyCurve)
