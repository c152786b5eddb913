"""The marginal (diagonal) layer, rotations and RBIG: fits, flowjax interop, bad input."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import paramax
import pytest
from flowjax.bijections import Chain, Invert
from flowjax.distributions import StandardNormal, Transformed
from flowjax.train import fit_to_data

import gauss_flows as gf

TOY = gf.datasets.TOYS["two_moons"]


@pytest.fixture(scope="module")
def moons():
    with jax.enable_x64(True):
        return TOY.sample(jr.key(0), 2000), TOY.sample(jr.key(1), 2000)


def test_em_recovers_a_known_mixture(x64):
    # Two well separated components per coordinate, different in each coordinate.
    k1, k2 = jr.split(jr.key(0))
    n = 20_000
    first = jnp.where(jr.bernoulli(k1, 0.3, (n,)), -2.0, 1.0) + 0.5 * jr.normal(k2, (n,))
    second = 3.0 + 2.0 * jr.normal(jr.key(3), (n,))
    data = jnp.stack([first, second], 1)
    log_w, means, scales = gf.fitting.fit_marginal_mixtures(data, 2)
    assert log_w.shape == means.shape == scales.shape == (2, 2)
    order = jnp.argsort(means[0])
    np.testing.assert_allclose(jnp.exp(log_w[0, order]), [0.3, 0.7], atol=0.02)
    np.testing.assert_allclose(means[0, order], [-2.0, 1.0], atol=0.05)
    np.testing.assert_allclose(scales[0, order], [0.5, 0.5], atol=0.05)
    # One Gaussian fitted with two components: the mixture density is that Gaussian.
    grid = jnp.linspace(-3.0, 9.0, 50)
    dens = jnp.sum(
        jnp.exp(log_w[1]) * jax.scipy.stats.norm.pdf(grid[:, None], means[1], scales[1]), 1
    )
    np.testing.assert_allclose(dens, jax.scipy.stats.norm.pdf(grid, 3.0, 2.0), atol=5e-3)


def test_fitted_layer_gaussianizes_the_marginals(moons, x64):
    x, x_test = moons
    layer = gf.MarginalGaussianization.fit(x, 8)
    z = jax.vmap(layer.transform)(x_test)  # held-out data
    np.testing.assert_allclose(z.mean(0), 0.0, atol=0.06)
    np.testing.assert_allclose(z.std(0), 1.0, atol=0.04)
    assert layer.shape == (2,) and layer.n_components == 8
    # The floor: no fitted scale below 0.05 sd of its coordinate.
    scales = layer.mixture_parameters[2]
    np.testing.assert_array_equal(paramax.unwrap(layer.mixture(1)).scales, scales[1])
    assert bool(jnp.all(scales >= 0.05 * x.std(0)[:, None] * (1 - 1e-9)))


def test_diagonal_flow_gap_is_the_total_correlation(moons, x64):
    # A diagonal flow's density is the product of its marginals: its held-out
    # NLL - H(p) cannot go below TC; fitted well, it comes close to it.
    x, x_test = moons
    flow = Transformed(StandardNormal((2,)), Invert(gf.MarginalGaussianization.fit(x, 8)))
    lp = flow.log_prob(x_test)
    gap = float(-lp.mean() - TOY.entropy)
    se = float(lp.std() / np.sqrt(lp.size))
    assert TOY.total_correlation - 4 * se < gap < TOY.total_correlation + 0.05 + 4 * se


def test_marginal_layer_inside_flowjax(moons, x64):
    x, _ = moons
    layer = gf.MarginalGaussianization.fit(x[:500], 4)
    flow = Transformed(StandardNormal((2,)), Invert(Chain([layer, gf.Rotation.pca(x)])))
    before = float(-flow.log_prob(x[500:]).mean())
    trained, losses = fit_to_data(
        jr.key(0), flow, x[500:1500], max_epochs=2, batch_size=500, show_progress=False
    )
    assert np.all(np.isfinite(losses["train"]))
    assert float(-trained.log_prob(x[500:]).mean()) < before
    # The fixed rotation did not move.
    np.testing.assert_array_equal(
        trained.bijection.bijection.bijections[1].matrix.tree,
        flow.bijection.bijection.bijections[1].matrix.tree,
    )
    assert flow.sample(jr.key(1), (5,)).shape == (5, 2)


@pytest.mark.parametrize("make", ["pca", "random", "householder"])
def test_rotations_are_orthogonal_with_zero_log_det(make, moons, x64):
    x, _ = moons
    rot = {
        "pca": lambda: gf.Rotation.pca(x @ jnp.array([[1.0, 0.5], [0.0, 1.0]])),
        "random": lambda: gf.Rotation.random(jr.key(0), 2),
        "householder": lambda: gf.householder_rotation(jr.key(0), 2),
    }[make]()
    jac = jax.jacfwd(rot.transform)(jnp.array([0.3, -1.2]))
    np.testing.assert_allclose(jac @ jac.T, np.eye(2), atol=1e-12)
    z, log_det = rot.transform_and_log_det(x[0])
    assert float(log_det) == 0.0
    np.testing.assert_allclose(rot.inverse(z), x[0], atol=1e-12)
    if make == "pca":  # the principal axes decorrelate the data, largest variance first
        sheared = x @ jnp.array([[1.0, 0.5], [0.0, 1.0]])
        cov = np.cov(np.asarray(jax.vmap(rot.transform)(sheared)).T)
        assert abs(cov[0, 1]) < 1e-10 and cov[0, 0] > cov[1, 1]
    if make != "householder":
        assert np.linalg.det(np.asarray(jac)) > 0  # a proper rotation


def test_rbig_lowers_held_out_nll_monotonically(moons, x64):
    x, x_test = moons
    flow, history = gf.rbig(jr.key(0), x, n_iterations=5, n_components=8, test_data=x_test)
    test = np.asarray(history["test"])
    assert len(test) == 6 and len(history["train"]) == 6
    # Each iteration lowers the held-out NLL, up to 0.005 nats (test-sample noise of
    # one greedy step on a near-converged flow).
    assert np.all(np.diff(test) < 0.005), test
    assert test[-1] < test[1] - 0.1  # rotations buy more than the first diagonal step
    # The recorded history is the flow's own log_prob.
    np.testing.assert_allclose(-flow.log_prob(x_test).mean(), test[-1], rtol=1e-10)
    # Above the floor, and below the diagonal-only gap TC.
    gap = test[-1] - TOY.entropy
    assert 0 < gap < TOY.total_correlation


def test_random_rotations_rbig_and_sampling(moons, x64):
    x, x_test = moons
    flow, history = gf.rbig(jr.key(1), x[:500], n_iterations=2, rotation="random")
    assert "test" not in history and len(history["train"]) == 3
    samples = flow.sample(jr.key(2), (100,))
    assert samples.shape == (100, 2) and bool(jnp.all(jnp.isfinite(samples)))


BAD_DATA = {
    "1-D": lambda x: x[:, 0],
    "3-D": lambda x: x[None],
    "nan": lambda x: x.at[3, 1].set(jnp.nan),
    "inf": lambda x: x.at[0, 0].set(jnp.inf),
    "one sample": lambda x: x[:1],
}


@pytest.mark.parametrize("case", list(BAD_DATA))
def test_bad_data_raises(case, moons, x64):
    x = BAD_DATA[case](moons[0])
    match = "shape|non-finite|at least 2"
    with pytest.raises(ValueError, match=match):
        gf.MarginalGaussianization.fit(x)
    with pytest.raises(ValueError, match=match):
        gf.rbig(jr.key(0), x)
    with pytest.raises(ValueError, match=match):
        gf.Rotation.pca(x)


def test_bad_arguments_raise(moons, x64):
    x = moons[0]
    with pytest.raises(ValueError, match="test_data"):
        gf.rbig(jr.key(0), x, test_data=x[:, :1])
    with pytest.raises(ValueError, match="rotation"):
        gf.rbig(jr.key(0), x, rotation="ica")
    with pytest.raises(ValueError, match="constant column"):
        gf.fitting.fit_marginal_mixtures(x.at[:, 1].set(1.0))
    with pytest.raises(ValueError, match="min_scale_ratio"):
        gf.fitting.fit_marginal_mixtures(x, min_scale_ratio=0.0)
    with pytest.raises(ValueError, match="orthogonal"):
        gf.Rotation(jnp.array([[1.0, 0.1], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="square"):
        gf.Rotation(jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="scales"):
        gf.MarginalGaussianization(jnp.zeros((2, 3)), jnp.zeros((2, 3)), jnp.zeros((2, 3)))
    with pytest.raises(ValueError, match="shape"):
        gf.MarginalGaussianization(jnp.zeros((2, 3)), jnp.zeros((2, 3)), jnp.ones((3,)))


def test_equal_components_stay_equal_under_gradient_descent(moons):
    # Components that start identical get identical gradients: the mixture stays a
    # single Gaussian per coordinate. Spread means break the symmetry.
    x, x_test = (np.asarray(a, np.float32) for a in moons)
    k = 4
    starts = {
        "equal": jnp.zeros((2, k)),
        "spread": jnp.tile(jnp.linspace(-2.0, 2.0, k), (2, 1)),
    }
    nll = {}
    for name, means in starts.items():
        layer = gf.MarginalGaussianization(jnp.zeros((2, k)), means, jnp.ones((2, k)))
        flow = Transformed(StandardNormal((2,)), Invert(layer))
        trained, _ = gf.train_flow(jr.key(2), flow, x, max_epochs=8, learning_rate=1e-2)
        _, mu, sd = trained.bijection.bijection.mixture_parameters
        spread = np.asarray(jnp.ptp(mu, axis=1)), np.asarray(jnp.ptp(sd, axis=1))
        if name == "equal":
            assert np.all(spread[0] == 0) and np.all(spread[1] == 0)
        else:
            assert np.all(spread[0] > 1.0)
        nll[name] = float(-trained.log_prob(x_test).mean())
    assert nll["spread"] < nll["equal"] - 0.1
