"""Total correlation of the 2-D toys: stored values against quadrature and Monte Carlo."""

from __future__ import annotations

import math

import jax.random as jr
import numpy as np
import pytest

import gauss_flows as gf

TOYS = gf.datasets.TOYS


@pytest.mark.parametrize("name", list(TOYS))
def test_stored_total_correlation_against_monte_carlo(name, x64):
    toy = TOYS[name]
    assert 0 < toy.total_correlation < 1 and toy.total_correlation_method
    mc, se = gf.datasets.estimate_total_correlation(toy, jr.key(0), 20_000)
    # 4 standard errors of the Monte-Carlo estimate, plus the stored bound.
    assert abs(mc - toy.total_correlation) <= 4 * se + toy.total_correlation_se + 1e-12


def test_checkerboard_total_correlation_is_log_2(x64):
    toy = TOYS["checkerboard"]
    assert toy.total_correlation == math.log(2.0) and toy.total_correlation_se == 0.0
    assert gf.datasets.total_correlation(toy) == (math.log(2.0), 0.0)
    x = toy.sample(jr.key(0), 100)
    np.testing.assert_array_equal(
        gf.datasets.marginal_log_prob(toy, x[:, 0], 0), -math.log(6.0)
    )


def test_recomputed_total_correlation_matches_the_stored_value(x64):
    toy = TOYS["eight_gaussians"]  # the cheapest mixture: 8 centres
    value, bound = gf.datasets.total_correlation(toy)
    assert bound < 1e-9
    assert abs(value - toy.total_correlation) <= 1e-10 + bound


def test_marginal_density_integrates_to_one(x64):
    toy = TOYS["two_moons"]
    grid = np.linspace(-8.0, 8.0, 4001)
    for axis in (0, 1):
        p = np.exp(np.asarray(gf.datasets.marginal_log_prob(toy, grid, axis)))
        assert abs(p.sum() * (grid[1] - grid[0]) - 1.0) < 1e-10


def test_marginal_log_prob_bad_axis():
    with pytest.raises(ValueError, match="axis"):
        gf.datasets.marginal_log_prob(TOYS["two_moons"], np.zeros(3), 2)
