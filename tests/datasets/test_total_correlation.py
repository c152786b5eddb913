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
    """Reference: an independent Monte-Carlo estimate of H(X_1) + H(X_2) - H(X) from
    samples and the toy's log densities (not the quadrature that stored the value)."""
    toy = TOYS[name]
    assert 0 < toy.total_correlation < 1 and toy.total_correlation_method
    mc, se = gf.datasets.estimate_total_correlation(toy, jr.key(0), 20_000)
    # 4 standard errors of the Monte-Carlo estimate, plus the stored bound.
    assert abs(mc - toy.total_correlation) <= 4 * se + toy.total_correlation_se + 1e-12


def test_checkerboard_marginals_are_uniform(x64):
    """Reference: the checkerboard's definition (uniform on [-3, 3] in each coordinate,
    so each marginal density is 1/6 wherever a sample lands)."""
    toy = TOYS["checkerboard"]
    x = toy.sample(jr.key(0), 100)
    for axis in (0, 1):
        assert float(np.abs(x[:, axis]).max()) <= 3.0
        np.testing.assert_allclose(
            gf.datasets.marginal_log_prob(toy, x[:, axis], axis), -math.log(6.0),
            rtol=1e-15,
        )


def test_marginal_density_integrates_to_one(x64):
    toy = TOYS["two_moons"]
    grid = np.linspace(-8.0, 8.0, 4001)
    for axis in (0, 1):
        p = np.exp(np.asarray(gf.datasets.marginal_log_prob(toy, grid, axis)))
        assert abs(p.sum() * (grid[1] - grid[0]) - 1.0) < 1e-10


def test_marginal_log_prob_bad_axis():
    with pytest.raises(ValueError, match="axis"):
        gf.datasets.marginal_log_prob(TOYS["two_moons"], np.zeros(3), 2)
