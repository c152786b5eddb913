"""The bijection contract, parametrized over every entry of the registry
``tests/bijections/bijections.py``.

For each bijection and each dtype (float32, float64) ONE jitted function computes
everything the contract needs on a small batch (forward, inverse, both Jacobians,
parameter gradients); it is cached, and each test below asserts one property of it.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import paramax
from bijections import BIJECTIONS, DENSE, passive_mask, perturb

N_POINTS = 8
X_MAX = 5.0

# Tolerances of the contract, per dtype: (round trip, log-det) — absolute for the
# round trip (|x| <= 5), relative-ish |a - b| <= tol * (1 + |b|) for log-dets.
TOLS = {
    jnp.dtype(jnp.float64): {"round_trip": 1e-12, "log_det": 1e-10},
    jnp.dtype(jnp.float32): {"round_trip": 1e-4, "log_det": 1e-4},
}

_CACHE: dict[tuple[str, str], tuple] = {}


def _inputs(bijection, dtype):
    """A batch with |x| <= 5 (one row on the edge) and, if needed, conditions."""
    (dim,) = bijection.shape
    x = jr.uniform(jr.key(3), (N_POINTS, dim), dtype, -X_MAX, X_MAX)
    x = x.at[0].set(X_MAX * (-1.0) ** np.arange(dim))
    cond = None
    if bijection.cond_shape is not None:
        cond = jr.normal(jr.key(4), (N_POINTS, *bijection.cond_shape), dtype)
    return x, cond


@eqx.filter_jit
def _contract(bijection, x, cond):
    # Written to trace each pass once (compile time dominates the suite): the primal
    # outputs come out of the same traces as the Jacobian and the gradients.
    # Fixed parts (paramax.NonTrainable, e.g. a fixed rotation) are not parameters.
    is_fixed = lambda leaf: isinstance(leaf, paramax.NonTrainable)  # noqa: E731
    params, static = eqx.partition(bijection, eqx.is_inexact_array, is_leaf=is_fixed)

    def forward(p, x, c):
        z, log_det = eqx.combine(p, static).transform_and_log_det(x, c)
        return z, (z, log_det)

    def inverse(p, z, c):
        return eqx.combine(p, static).inverse_and_log_det(z, c)

    jacobian = jax.jacfwd(forward, argnums=1, has_aux=True)
    jac, (z, log_det) = jax.vmap(jacobian, (None, 0, 0))(params, x, cond)

    def nll_forward(p):  # maximum-likelihood loss through the forward pass
        z, log_det = jax.vmap(lambda x, c: forward(p, x, c)[1])(x, cond)
        return 0.5 * jnp.sum(z**2) - jnp.sum(log_det)

    def loss_inverse(p):  # loss through the inverse pass (flowjax's log_prob direction)
        x_back, log_det_inv = jax.vmap(lambda z, c: inverse(p, z, c))(z, cond)
        return 0.5 * jnp.sum(x_back**2) + jnp.sum(log_det_inv), (x_back, log_det_inv)

    grad_inverse, (x_back, log_det_inv) = jax.grad(loss_inverse, has_aux=True)(params)
    c0 = None if cond is None else cond[0]
    z0, log_det0 = bijection.transform_and_log_det(x[0], c0)  # one sample, no vmap
    return {
        "z": z,
        "log_det": log_det,
        "jac": jac,
        "x_back": x_back,
        "log_det_inv": log_det_inv,
        "grad_forward": jax.grad(nll_forward)(params),
        "grad_inverse": grad_inverse,
        "z0": z0,
        "log_det0": log_det0,
    }


def contract(name: str, dtype) -> tuple:
    """``(bijection, x, cond, results)`` for one entry, built and run in ``dtype``."""
    cache_key = (name, jnp.dtype(dtype).name)
    if cache_key not in _CACHE:
        bijection = perturb(BIJECTIONS[name](jr.key(1)), jr.key(2), scale=0.1)
        x, cond = _inputs(bijection, dtype)
        _CACHE[cache_key] = (bijection, x, cond, _contract(bijection, x, cond))
    return _CACHE[cache_key]


names = pytest.mark.parametrize("name", list(BIJECTIONS))


def _close(a, b, tol):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.max(np.abs(a - b) / (1 + np.abs(b))) <= tol


@names
def test_parameters_and_outputs_have_the_dtype_under_test(name, dtype):
    bijection, x, _, out = contract(name, dtype)
    leaves = jax.tree.leaves(eqx.filter(bijection, eqx.is_inexact_array))
    assert leaves and all(leaf.dtype == dtype for leaf in leaves)
    for key in ("z", "log_det", "x_back", "log_det_inv", "jac"):
        assert out[key].dtype == dtype, key
    assert out["z"].shape == x.shape and out["log_det"].shape == (N_POINTS,)


@names
def test_outputs_are_finite(name, dtype):
    *_, out = contract(name, dtype)
    for key in ("z", "log_det", "x_back", "log_det_inv", "jac"):
        assert np.all(np.isfinite(out[key])), key


@names
def test_log_dets_are_nontrivial(name, dtype):
    # Guards the comparisons below against passing vacuously (identity layers).
    *_, out = contract(name, dtype)
    assert np.median(np.abs(out["log_det"])) > 1e-2


@names
def test_round_trip(name, dtype):
    _, x, _, out = contract(name, dtype)
    err = np.max(np.abs(np.asarray(out["x_back"], np.float64) - np.asarray(x, np.float64)))
    assert err <= TOLS[dtype]["round_trip"], err


@names
def test_log_det_matches_slogdet_of_jacobian(name, dtype):
    *_, out = contract(name, dtype)
    sign, log_abs_det = np.linalg.slogdet(np.asarray(out["jac"], np.float64))
    assert np.all(sign > 0)  # every layer is orientation-preserving
    assert _close(out["log_det"], log_abs_det, TOLS[dtype]["log_det"])


@names
def test_log_det_is_sum_of_log_diagonal(name, dtype):
    if name in DENSE:
        pytest.skip("dense Jacobian (rotation): the log-det is not a diagonal sum")
    *_, out = contract(name, dtype)
    diagonal = np.diagonal(np.asarray(out["jac"], np.float64), axis1=1, axis2=2)
    assert np.all(diagonal > 0)
    assert _close(out["log_det"], np.log(diagonal).sum(-1), TOLS[dtype]["log_det"])


@names
def test_inverse_log_det_is_minus_forward(name, dtype):
    *_, out = contract(name, dtype)
    assert _close(out["log_det_inv"], -np.asarray(out["log_det"]), TOLS[dtype]["log_det"])


@names
def test_jacobian_is_triangular_under_the_mask(name, dtype):
    if name in DENSE:
        pytest.skip("dense Jacobian (rotation): no triangular structure to check")
    bijection, _, _, out = contract(name, dtype)
    passive = passive_mask(bijection)
    active = ~passive
    for jac in (np.asarray(out["jac"]),):
        # z_A = x_A: passive rows are exactly identity rows.
        eye = np.broadcast_to(np.eye(len(passive))[passive], jac[:, passive].shape)
        np.testing.assert_array_equal(jac[:, passive], eye)
        # z_B depends on x_B elementwise: dz_B/dx_B is exactly diagonal.
        jac_bb = jac[:, active][:, :, active]
        off_diagonal = jac_bb * (1 - np.eye(active.sum()))
        np.testing.assert_array_equal(off_diagonal, 0.0)
        if passive.any():
            # ... and z_B really is conditioned on x_A (dz_B/dx_A is not zero).
            assert np.any(np.abs(jac[:, active][:, :, passive]) > 1e-6)


@names
def test_vmap_agrees_with_a_single_sample_call(name, dtype):
    *_, out = contract(name, dtype)
    tol = TOLS[dtype]["log_det"]
    assert _close(out["z"][0], out["z0"], tol)
    assert _close(out["log_det"][0], out["log_det0"], tol)


@names
@pytest.mark.parametrize("direction", ["grad_forward", "grad_inverse"])
def test_parameter_gradients_are_finite_and_nonzero(name, dtype, direction):
    bijection, *_, out = contract(name, dtype)
    grads = out[direction]
    trainable = getattr(bijection, "conditioner", None)
    if trainable is not None:  # couplings: what matters is the conditioner's weights
        grads = grads.conditioner
    leaves = [np.asarray(leaf) for leaf in jax.tree.leaves(grads)]
    assert leaves
    for leaf in leaves:
        assert np.all(np.isfinite(leaf))
        assert np.any(leaf != 0), "a parameter array receives no gradient at all"


@names
def test_wrong_input_shape_raises(name, dtype):
    bijection, x, cond, _ = contract(name, dtype)
    c0 = None if cond is None else cond[0]
    wrong = jnp.zeros((x.shape[1] + 1,), dtype)
    for method in (bijection.transform_and_log_det, bijection.inverse_and_log_det):
        with pytest.raises(ValueError, match="shape"):
            method(wrong, c0)
        with pytest.raises(ValueError, match="shape"):
            method(x, c0)  # a batch needs vmap; it is not silently broadcast
    if cond is not None:
        with pytest.raises(ValueError, match="condition"):
            bijection.transform(x[0])
        with pytest.raises(ValueError, match="condition"):
            bijection.transform(x[0], jnp.zeros(cond.shape[1] + 1, dtype))


#: Entries whose inverse starts with a flowjax bijection (a Householder chain), which
#: casts its input itself before any gauss_flows layer sees it.
FOREIGN_INVERSE: set[str] = {"rotation_householder_d3"}


@names
@pytest.mark.parametrize("bad", ["float16", "bfloat16", "int32"])
def test_inputs_of_other_dtypes_are_rejected(name, bad, x32):
    """Reference: the documented rule (the numerics are built for float32 and float64
    only; anything else is rejected, never cast): both methods raise a ValueError
    naming the argument, the accepted dtypes and the dtype given."""
    bijection = BIJECTIONS[name](jr.key(0))
    wrong = jnp.ones(bijection.shape, bad)
    cond = None if bijection.cond_shape is None else jnp.ones(bijection.cond_shape)
    methods = [(bijection.transform_and_log_det, "x")]
    if name not in FOREIGN_INVERSE:
        methods.append((bijection.inverse_and_log_det, "y"))
    for method, arg in methods:
        with pytest.raises(ValueError, match=rf"{arg} must .*float32, float64.*{bad}"):
            method(wrong, cond)


# Large float32 batches: jaxlib 0.10.2's XLA:CPU silently miscompiled fused kernels
# with more than 2**15 outputs (gauss_flows.xla_guard). A nested vmap over a batch far
# past that size must agree with lax.map, which runs the bijection one row at a time
# (kernels of d outputs, far below the threshold) and is the independent reference.
LARGE_BATCH = (48, 256)  # 12288 rows: 36864 to 61440 outputs for d = 3 to 5


@eqx.filter_jit
def _nested_vmap_and_row_by_row(bijection, x, cond):
    def one(x, c):
        return bijection.transform_and_log_det(x, c)

    batched = jax.vmap(jax.vmap(one))(x, cond)
    rows = x.reshape(-1, x.shape[-1])
    conds = None if cond is None else cond.reshape(-1, cond.shape[-1])
    row_by_row = jax.lax.map(lambda xc: one(*xc), (rows, conds))
    return batched, row_by_row


@names
def test_large_float32_batch_nested_vmap_matches_row_by_row(name, x32):
    bijection = perturb(BIJECTIONS[name](jr.key(1)), jr.key(2), scale=0.1)
    (dim,) = bijection.shape
    x = jr.uniform(jr.key(5), (*LARGE_BATCH, dim), jnp.float32, -X_MAX, X_MAX)
    cond = None
    if bijection.cond_shape is not None:
        cond = jr.normal(jr.key(6), (*LARGE_BATCH, *bijection.cond_shape), jnp.float32)
    (z, log_det), (z_rows, log_det_rows) = _nested_vmap_and_row_by_row(bijection, x, cond)
    assert x.size > 2**15 and z.dtype == jnp.float32
    # float32 rounding differs between a fused and a row-by-row program (up to 5e-5
    # in a spline's log-det near its interval's edge); the defect's errors were O(1).
    tol = TOLS[jnp.dtype(jnp.float32)]["log_det"]
    assert _close(z.reshape(-1, dim), z_rows, tol)
    assert _close(log_det.reshape(-1), log_det_rows, tol)
