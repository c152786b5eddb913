"""Rotations: the default Householder product is a rotation, not a reflection."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import gauss_flows as gf


def _matrix(chain, d):
    """The matrix of the chain's linear map, column j = Q e_j."""
    return np.asarray(jax.vmap(chain.transform)(jnp.eye(d)), np.float64).T


@pytest.mark.parametrize("d", [2, 3, 4, 5])
def test_default_householder_product_is_a_rotation(d, x64):
    """Reference: numpy's determinant of the assembled matrix Q, which must be +1 (a
    rotation, in SO(d)) for even and odd d alike, with Q orthogonal; an explicit odd
    number of reflections gives det -1, as documented."""
    q = _matrix(gf.householder_rotation(jr.key(d), d), d)
    np.testing.assert_allclose(q.T @ q, np.eye(d), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(q), 1.0, atol=1e-12)
    odd = _matrix(gf.householder_rotation(jr.key(d), d, n_reflections=3), d)
    np.testing.assert_allclose(np.linalg.det(odd), -1.0, atol=1e-12)


def test_default_uses_the_most_reflections_that_keep_a_rotation():
    """Reference: the count written out: d reflections for even d, d - 1 for odd d."""
    for d, expected in [(2, 2), (3, 2), (4, 4), (5, 4)]:
        assert len(gf.householder_rotation(jr.key(0), d).bijections) == expected
