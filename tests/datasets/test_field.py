"""gf.datasets.GaussianField: samples, exact log density and entropy, Markov structure."""

import math

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import gauss_flows as gf
from gauss_flows.datasets import GaussianField, estimate_entropy

N = 20_000
FIELD = GaussianField()  # 6 x 6


def test_structure_unit_marginals_and_markov_precision():
    assert FIELD.grid == (6, 6) and FIELD.dim == 36
    np.testing.assert_allclose(np.diag(FIELD.correlation), 1.0, rtol=1e-12)
    neighbours = gf.datasets.grid_neighbours(6, 6)
    off_grid = ~neighbours & ~np.eye(36, dtype=bool)
    assert np.all(FIELD.precision[off_grid] == 0)
    assert np.all(FIELD.precision[neighbours] < 0)  # positive neighbour correlation
    assert neighbours.sum() == 2 * (2 * 6 * 5)  # 60 edges, both directions
    # dense correlation: distant cells are still (weakly) correlated
    assert 0 < FIELD.correlation[0, 35] < FIELD.correlation[0, 1]
    np.testing.assert_allclose(FIELD.total_correlation,
                               -0.5 * np.linalg.slogdet(FIELD.correlation)[1], rtol=1e-12)


def test_samples_shape_seed_and_warp_roundtrip(x64):
    y = FIELD.sample(jr.key(0), N)
    assert y.shape == (N, 36) and y.dtype == jnp.float64
    np.testing.assert_array_equal(y, FIELD.sample(jr.key(0), N))
    x = FIELD.sample_gaussian(jr.key(0), N)
    np.testing.assert_allclose(FIELD.warp(x), y, rtol=1e-15)
    np.testing.assert_allclose(FIELD.inverse_warp(y), x, atol=1e-12)
    emp = np.corrcoef(np.asarray(x[:, :8]).T)
    np.testing.assert_allclose(emp, FIELD.correlation[:8, :8], atol=0.05)


def test_log_prob_is_the_change_of_variables_of_the_gaussian(x64):
    x = FIELD.sample_gaussian(jr.key(1), 64)
    gauss = jax.scipy.stats.multivariate_normal.logpdf(x, jnp.zeros(36), FIELD.correlation)
    jac = jax.vmap(jax.jacobian(FIELD.warp))(x)
    log_det = jnp.linalg.slogdet(jac)[1]
    np.testing.assert_allclose(FIELD.log_prob(FIELD.warp(x)), gauss - log_det, rtol=1e-10)


def test_marginal_density_is_normalised_and_bimodal(x64):
    y = jnp.linspace(-12, 12, 24_001)
    p = jnp.exp(FIELD.marginal_log_prob(y))
    assert abs(float(p.sum()) * float(y[1] - y[0]) - 1.0) < 1e-8
    centre, mode = float(p[12_000]), float(p.max())
    assert mode > 1.5 * centre  # a dip at 0: bimodal
    h_marginal = -float(jnp.sum(p * jnp.log(p)) * (y[1] - y[0]))
    assert abs(h_marginal - FIELD.marginal_entropies[0]) < 1e-8


@pytest.mark.parametrize("field", [FIELD, GaussianField(4, 5, rho=0.5, warp_amplitude=0.0)])
def test_entropy_matches_a_fresh_monte_carlo_estimate(field, x64):
    h_mc, se = estimate_entropy(field, jr.key(2024), N)
    assert abs(h_mc - field.entropy) < 4 * se + field.entropy_se
    assert field.entropy_se < 1e-9


def test_unwarped_field_has_the_gaussian_entropy():
    field = GaussianField(4, 5, rho=0.5, warp_amplitude=0.0)
    expected = 0.5 * np.linalg.slogdet(2 * math.pi * math.e * field.correlation)[1]
    assert abs(field.entropy - expected) < 1e-10
    assert abs(field.marginal_entropies.sum() - field.entropy
               - field.total_correlation) < 1e-10


def test_float32_log_prob_is_finite_and_close_to_float64():
    y = FIELD.sample(jr.key(3), 256)
    assert y.dtype == jnp.float32
    lp32 = FIELD.log_prob(y)
    with jax.enable_x64(True):
        lp64 = FIELD.log_prob(np.asarray(y, np.float64))
    assert lp32.dtype == jnp.float32 and bool(jnp.isfinite(lp32).all())
    np.testing.assert_allclose(lp32, lp64, atol=2e-3)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: GaussianField(0, 4), "height"),
    (lambda: GaussianField(1, 1), "d = height \\* width >= 2"),
    (lambda: GaussianField(rho=1.0), "rho"),
    (lambda: GaussianField(rho=-0.1), "rho"),
    (lambda: GaussianField(warp_amplitude=-1.0), "warp_amplitude"),
    (lambda: GaussianField(warp_scale=0.0), "warp_scale"),
    (lambda: GaussianField(warp_scale="1"), "warp_scale"),
    (lambda: FIELD.sample(jr.key(0), 0), "n"),
    (lambda: FIELD.log_prob(jnp.zeros((3, 35))), "shape"),
    (lambda: FIELD.log_prob(jnp.zeros(())), "shape"),
])
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
