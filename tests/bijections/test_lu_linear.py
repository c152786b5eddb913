"""LULinear: the learned linear map z = L U x + b.

References: a dense matrix built by hand from the entries and NumPy's determinant and
inverse; the whitening map of a covariance from its Cholesky factor.
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import gauss_flows as gf


@pytest.fixture(autouse=True)
def float64():
    with jax.enable_x64(True):
        yield


def test_identity_at_init_and_parameter_count():
    layer = gf.LULinear(jr.key(0), (5,))
    x = jr.normal(jr.key(1), (5,))
    z, log_det = layer.transform_and_log_det(x)
    np.testing.assert_array_equal(z, x)
    assert log_det == 0
    assert gf.count_parameters(layer) == 5 * 4 + 5 + 5  # two triangles, s, b


def test_matrix_log_det_and_inverse_against_numpy():
    layer = gf.LULinear(jr.key(2), (6,), init_scale=0.4)
    lower, upper = (np.asarray(m) for m in layer.factors())
    # by hand: unit lower triangle, upper triangle with exp(s) on the diagonal
    assert np.allclose(np.diag(lower), 1) and np.allclose(np.triu(lower, 1), 0)
    assert np.allclose(np.tril(upper, -1), 0)
    np.testing.assert_allclose(np.diag(upper), np.exp(layer.log_diag))
    w = lower @ upper
    x = np.asarray(jr.normal(jr.key(3), (6,)))
    z, log_det = layer.transform_and_log_det(jnp.asarray(x))
    np.testing.assert_allclose(z, w @ x + np.asarray(layer.loc), rtol=1e-12)
    np.testing.assert_allclose(log_det, np.linalg.slogdet(w)[1], rtol=1e-12)
    back, inv_log_det = layer.inverse_and_log_det(z)
    np.testing.assert_allclose(back, np.linalg.solve(w, np.asarray(z)), atol=1e-12)
    np.testing.assert_allclose(inv_log_det, -log_det)


def test_from_lower_is_the_whitening_map():
    a = np.asarray(jr.normal(jr.key(4), (4, 4)))
    cov = a @ a.T + 4 * np.eye(4)
    mean = np.arange(4.0)
    whiten = np.linalg.inv(np.linalg.cholesky(cov))
    layer = gf.LULinear.from_lower(whiten, -whiten @ mean)
    np.testing.assert_allclose(layer.matrix(), whiten, rtol=1e-10, atol=1e-12)
    x = np.asarray(jr.normal(jr.key(5), (4,)))
    z, log_det = layer.transform_and_log_det(jnp.asarray(x))
    np.testing.assert_allclose(z, whiten @ (x - mean), rtol=1e-10)
    np.testing.assert_allclose(log_det, -0.5 * np.linalg.slogdet(cov)[1], rtol=1e-10)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="init_scale"):
        gf.LULinear(jr.key(0), (3,), init_scale=-1.0)
    with pytest.raises(ValueError, match="positive diagonal"):
        gf.LULinear.from_lower(-np.eye(3))
    with pytest.raises(ValueError, match="square"):
        gf.LULinear.from_lower(np.ones((2, 3)))
