"""Scores (gap to a floor over seeds and test points) and the closed-form baselines.

References: NumPy means and standard deviations written out by hand; the full
Gaussian against scipy's multivariate normal; the Gaussian copula against its formula
assembled from the fitted diagonal layer and scipy; RBIG's validation choice against
the recorded validation curve.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from scipy import stats

import gauss_flows as gf


def test_score_of_known_log_densities():
    lp = np.array([[-1.0, -2.0, -3.0, -2.0], [-2.0, -2.0, -2.0, -2.0]])
    s = gf.score(lp, floor=1.5)
    np.testing.assert_allclose(s.gaps, [0.5, 0.5])
    np.testing.assert_allclose(s.test_se, [np.sqrt(2 / 3) / 2, 0.0])
    assert s.n_seeds == 2 and s.sd == 0.0 and s.min == s.max == 0.5
    assert "over 2 seeds" in str(s) and "test SE 0.408" in str(s)
    one = gf.score(lp[0])
    assert one.n_seeds == 1 and "one fit" in str(one) and one.mean == 2.0


def test_paired_difference_is_a_minus_b():
    a = np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]])
    b = np.array([-1.0, 1.0, 0.0])  # one model, compared with both seeds of a
    d = gf.paired_difference(a, b)
    # Score stores mean(-lp) - floor; for a difference it holds mean(a - b)
    np.testing.assert_allclose(d.gaps, [1.0, 1.0])
    with pytest.raises(ValueError, match="same test"):
        gf.paired_difference(a, b[:2])


def test_score_rejects_bad_input():
    with pytest.raises(ValueError, match="log_probs"):
        gf.score(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="non-finite"):
        gf.score(np.array([0.0, np.nan]))


def test_full_gaussian_matches_scipy(x64):
    mixing = jnp.array([[1.0, 0.5, 0.0], [0, 1, 0.3], [0, 0, 2]])
    x = jr.normal(jr.key(0), (500, 3)) @ mixing
    model = gf.full_gaussian(x)
    xn = np.asarray(x)
    want = stats.multivariate_normal(xn.mean(0), np.cov(xn.T, ddof=0)).logpdf(xn[:20])
    np.testing.assert_allclose(model.log_prob(x[:20]), want, rtol=1e-10)


def test_gaussian_copula_matches_its_formula(x64):
    toy = gf.datasets.TOYS["two_moons"]
    x = toy.sample(jr.key(0), 1000)
    copula = gf.gaussian_copula(x, n_components=4)
    marginal = gf.MarginalGaussianization.fit(x, 4)
    u, log_det = jax.vmap(marginal.transform_and_log_det)(x)
    un = np.asarray(u)
    gauss = stats.multivariate_normal(un.mean(0), np.cov(un.T, ddof=0))
    want = gauss.logpdf(un[:20]) + np.asarray(log_det[:20])
    np.testing.assert_allclose(copula.log_prob(x[:20]), want, rtol=1e-8)
    # on the two moons, the copula beats the full Gaussian on fresh data
    test = toy.sample(jr.key(1), 2000)
    assert gf.score(copula.log_prob(test)).mean < gf.score(
        gf.full_gaussian(x).log_prob(test)).mean - 0.1


def test_rbig_stops_at_the_best_validation_iteration(x64):
    toy = gf.datasets.TOYS["two_moons"]
    x, x_val = toy.sample(jr.key(0), 400), toy.sample(jr.key(1), 400)
    flow, history = gf.rbig(jr.key(2), x, n_iterations=12, n_components=4,
                            validation=x_val)
    best = history["best_iteration"]
    assert len(history["validation"]) == 13
    assert best == 1 + int(np.argmin(history["validation"][1:]))
    assert len(flow.bijection.bijection.bijections) == 2 * best
    nll = -float(flow.log_prob(x_val).mean())
    assert abs(nll - history["validation"][best]) < 1e-8
    # with 400 training points RBIG overfits: the training NLL keeps falling after
    # the validation minimum
    assert best < 12 and history["train"][12] < history["train"][best]
    full, h_full = gf.rbig(jr.key(2), x, n_iterations=12, n_components=4)
    assert h_full["best_iteration"] == 12
    assert len(full.bijection.bijection.bijections) == 24
