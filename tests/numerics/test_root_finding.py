"""The batched solver behind ``invert_monotone``: its work queue, its ``vmap`` rule and
its implicit higher derivatives."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import gauss_flows.numerics.root_finding as rf
from gauss_flows.bijections.mixture_cdf import (
    mixture_cdf_bracket,
    mixture_cdf_inverse,
    mixture_cdf_transform,
)

EPS64 = np.finfo(np.float64).eps


def problems(n_mixtures: int, n_points: int, key=jr.key(0)):
    """Random 8-component mixtures (one per ``n_points`` problems) and targets ``z``."""
    k1, k2, k3, k4 = jr.split(key, 4)
    log_w = jax.nn.log_softmax(jr.normal(k1, (n_mixtures, 8)), axis=-1)
    means = 2.0 * jr.normal(k2, (n_mixtures, 8))
    scales = jnp.exp(0.75 * jr.normal(k3, (n_mixtures, 8)))
    params = jax.tree.map(lambda a: jnp.repeat(a, n_points, axis=0), (log_w, means, scales))
    x = jr.uniform(k4, (n_mixtures * n_points,), minval=-30.0, maxval=30.0)
    z, _ = jax.vmap(mixture_cdf_transform)(params, x)
    return params, z, x


@pytest.fixture
def small_queue(monkeypatch):
    """A queue of 64 slots from 65 problems on, so that small batches exercise it."""
    monkeypatch.setattr(rf, "QUEUE_MIN_SLOTS", 64)


@pytest.mark.parametrize("n_iter", [2, rf.DEFAULT_N_ITER])
def test_queue_runs_each_problem_as_alone(x64, small_queue, n_iter):
    """Every problem gets its own iterations and its own cap: the queue's roots agree
    with a plain vmapped loop to rounding, converged (default cap) or stopped early
    (cap 2)."""
    params, z, x = problems(12, 100)
    lower, upper, init = jax.vmap(mixture_cdf_bracket)(params, z)

    def alone(p, zi, lo, hi, x0):
        forward = lambda v: mixture_cdf_transform(p, v)  # noqa: E731
        return rf.bracketed_newton(forward, zi, lo, hi, x0, n_iter, return_iterations=True)

    roots_alone, iterations = jax.jit(jax.vmap(alone))(params, z, lower, upper, init)
    roots = jax.jit(lambda *a: rf.solve_many(mixture_cdf_transform, *a, n_iter))(
        params, z, lower, upper, init
    )
    if n_iter == 2:
        assert int(iterations.min()) == 2
    else:  # a spread of iteration counts, for the queue to even out
        assert int(iterations.max()) > int(np.median(iterations)) + 1
    scale = EPS64 * (1 + np.abs(np.asarray(roots_alone)))
    np.testing.assert_array_less(np.abs(np.asarray(roots - roots_alone)), 16 * scale)
    error = np.abs(np.asarray(roots - x))
    if n_iter == 2:  # the cap held: most problems are still far from their roots
        assert np.mean(error > 1e-6) > 0.5
    else:
        assert error.max() < 1e-12


def test_queue_at_its_real_size(x64):
    """The work queue with its real number of slots (``QUEUE_MIN_SLOTS`` unpatched):
    2500 problems, more than the 1024 slots, through the public batched path
    (``vmap`` of the inverse). References: each problem solved alone by a plain
    vmapped loop (agreement to rounding) and the known roots ``x``."""
    params, z, x = problems(25, 100)
    n = z.shape[0]
    assert max(n // rf.QUEUE_FRACTION, rf.QUEUE_MIN_SLOTS) == rf.QUEUE_MIN_SLOTS < n
    lower, upper, init = jax.vmap(mixture_cdf_bracket)(params, z)

    def alone(p, zi, lo, hi, x0):
        forward = lambda v: mixture_cdf_transform(p, v)  # noqa: E731
        return rf.bracketed_newton(forward, zi, lo, hi, x0, rf.DEFAULT_N_ITER)

    roots_alone = jax.jit(jax.vmap(alone))(params, z, lower, upper, init)
    roots, log_det = jax.jit(jax.vmap(mixture_cdf_inverse))(params, z)
    scale = EPS64 * (1 + np.abs(np.asarray(roots_alone)))
    np.testing.assert_array_less(np.abs(np.asarray(roots - roots_alone)), 16 * scale)
    assert float(jnp.max(jnp.abs(roots - x))) < 1e-12
    _, log_slope = jax.vmap(mixture_cdf_transform)(params, roots)
    np.testing.assert_allclose(log_det, -log_slope, rtol=1e-13, atol=1e-13)


def test_vmap_rule_merges_nested_batches(x64, small_queue):
    """vmap of vmap (any in_axes, unbatched parameters included) gives the same roots
    and log-dets as one flat vmap: all problems go to one queue."""
    params, z, x = problems(4, 50)
    flat_x, flat_log_det = jax.jit(jax.vmap(mixture_cdf_inverse))(params, z)
    assert float(jnp.max(jnp.abs(flat_x - x))) < 1e-12
    nested = jax.jit(jax.vmap(jax.vmap(mixture_cdf_inverse)))
    grid = lambda a: a.reshape(4, 50, *a.shape[1:])  # noqa: E731
    nested_x, nested_log_det = nested(jax.tree.map(grid, params), grid(z))
    np.testing.assert_array_equal(nested_x.reshape(-1), flat_x)
    np.testing.assert_array_equal(nested_log_det.reshape(-1), flat_log_det)
    # one mixture per row, shared by the inner vmap (in_axes None), z along axis 1
    per_row = jax.tree.map(lambda a: a[::50], params)
    shared = jax.jit(jax.vmap(jax.vmap(mixture_cdf_inverse, in_axes=(None, 0)),
                              in_axes=(0, 1)))
    shared_x, _ = shared(per_row, grid(z).T)
    np.testing.assert_array_equal(shared_x.reshape(-1), flat_x)


def test_higher_derivatives_are_implicit(x64):
    """Second derivatives of the inverse (in z and in the parameters) match central
    differences of its first derivatives: the JVP rule differentiates itself rather
    than the solver's loop."""
    params, z, _ = problems(1, 1)
    p = jax.tree.map(lambda a: a[0], params)
    h = 1e-5
    root = lambda zz: mixture_cdf_inverse(p, zz)[0]  # noqa: E731
    d_root, d2_root = jax.jit(jax.grad(root)), jax.jit(jax.hessian(root))
    # the log-det as a function of the means, at a given z
    log_det = lambda m, zz: mixture_cdf_inverse((p[0], m, p[2]), zz)[1]  # noqa: E731
    d_log_det, d2_log_det = jax.jit(jax.grad(log_det)), jax.jit(jax.hessian(log_det))
    step = h * jnp.eye(8)[3]
    for z0 in (float(z[0]), -3.0, 0.4, 6.0):
        fd = (d_root(z0 + h) - d_root(z0 - h)) / (2 * h)
        np.testing.assert_allclose(d2_root(z0), fd, rtol=1e-6)
        fd = (d_log_det(p[1] + step, z0) - d_log_det(p[1] - step, z0)) / (2 * h)
        np.testing.assert_allclose(d2_log_det(p[1], z0)[3], fd, rtol=1e-5, atol=1e-9)


def test_forward_mode_jacobian_of_a_batch(x64, small_queue):
    """jacfwd vmaps over tangents with unbatched primals: the Jacobian of a batch of
    inverses is diagonal with entries 1/T'(x) = exp(log-det)."""
    params, z, _ = problems(1, 100)
    p = jax.tree.map(lambda a: a[0], params)
    inverse = jax.vmap(mixture_cdf_inverse, in_axes=(None, 0))
    jac = jax.jit(jax.jacfwd(lambda zz: inverse(p, zz)[0]))(z)
    _, log_det = inverse(p, z)
    np.testing.assert_allclose(jnp.diag(jac), jnp.exp(log_det), rtol=1e-12)
    np.testing.assert_array_equal(jac - jnp.diag(jnp.diag(jac)), 0.0)
