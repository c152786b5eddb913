r"""Rotations: orthogonal linear bijections, fixed or trainable.

An orthogonal $Q$ ($Q^\top Q = I$) maps $z = Qx$ with $\lvert\det Q\rvert = 1$, so
$\log\lvert\det J\rvert = 0$, and $\mathcal N(0, I)$ is invariant under it. Between two
diagonal layers a rotation mixes the coordinates, which is what lets a stack of
diagonal layers model dependence (RBIG, :mod:`gauss_flows.flows.rbig`).

- :class:`Rotation` is a *fixed* $Q$ (wrapped in ``paramax.NonTrainable``, so
  ``fit_to_data`` leaves it alone), built from data by PCA
  (:meth:`Rotation.pca`) or drawn uniformly from the rotation group
  (:meth:`Rotation.random`).
- :func:`householder_rotation` is a *trainable* $Q = H_R \cdots H_1$, a product of $R$
  flowjax ``Householder`` reflections $H_r = I - 2 v_r v_r^\top$ in a flowjax
  ``Chain``, with $\det Q = (-1)^R$. By default $R$ is the largest even number
  $\le d$, so $Q$ is a rotation ($\det Q = +1$) and can reach every rotation of
  $SO(d)$ (Cartan-Dieudonné: every element of $SO(d)$ is a product of at most $d$
  reflections, an even number of them). (Not a ``Scan`` over
  stacked reflections: flowjax unwraps the stacked ``Parameterize`` before scanning,
  which normalises all $R$ vectors *together*, and the result is not orthogonal.)
"""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp
import jax.random as jr
import numpy as np
from flowjax.bijections import AbstractBijection, Chain, Householder
from jaxtyping import Array, ArrayLike, PRNGKeyArray
from paramax import NonTrainable

from gauss_flows._validation import check_float_dtype, check_positive_int, check_samples


class Rotation(AbstractBijection):
    r"""Fixed orthogonal map $z = Qx$, $x = Q^\top z$, log-det 0.

    Args:
        matrix: $Q$, shape ``(d, d)``, orthogonal to within $10^{-5}$ (float32) or
            $10^{-10}$ (float64), checked at construction.
    """

    matrix: NonTrainable
    shape: tuple[int, ...]
    cond_shape: ClassVar[None] = None

    def __init__(self, matrix: ArrayLike):
        matrix = jnp.asarray(matrix, dtype=jnp.result_type(float))
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 1:
            raise ValueError(f"matrix must be square, shape (d, d), got {matrix.shape}.")
        tol = 1e-10 if matrix.dtype == jnp.float64 else 1e-5
        gap = jnp.max(jnp.abs(matrix.T @ matrix - jnp.eye(matrix.shape[0])))
        if not bool(gap <= tol):
            raise ValueError(f"matrix must be orthogonal: max |Q^T Q - I| = {gap:.1e}.")
        self.matrix = NonTrainable(matrix)
        self.shape = (matrix.shape[0],)

    @classmethod
    def pca(cls, data: ArrayLike) -> Rotation:
        r"""Rows of $Q$ = principal axes of ``data`` (shape ``(n, d)``), largest first.

        Each axis's sign is fixed (largest entry positive) and $\det Q = +1$
        (the last row is flipped if needed), so the result is deterministic.
        """
        data = np.asarray(check_samples(data, min_samples=2), np.float64)
        _, vectors = np.linalg.eigh(np.cov(data, rowvar=False))
        q = vectors[:, ::-1].T
        q = q * np.sign(q[np.arange(len(q)), np.argmax(np.abs(q), axis=1)])[:, None]
        if np.linalg.det(q) < 0:
            q[-1] = -q[-1]
        return cls(q)

    @classmethod
    def random(cls, key: PRNGKeyArray, dim: int) -> Rotation:
        r"""$Q$ uniform on the rotation group $SO(d)$ (QR of a Gaussian matrix)."""
        check_positive_int(dim, "dim")
        g = np.asarray(jr.normal(key, (dim, dim)), np.float64)
        q, r = np.linalg.qr(g)
        q = q * np.sign(np.diag(r))  # Haar measure on O(d)
        if np.linalg.det(q) < 0:
            q[:, 0] = -q[:, 0]
        return cls(q)

    def transform_and_log_det(self, x, condition=None):
        check_float_dtype(x, "x")
        return self.matrix @ x, jnp.zeros((), x.dtype)

    def inverse_and_log_det(self, y, condition=None):
        check_float_dtype(y, "y")
        return self.matrix.T @ y, jnp.zeros((), y.dtype)


def householder_rotation(
    key: PRNGKeyArray, dim: int, n_reflections: int | None = None
) -> Chain:
    r"""Trainable $Q = H_R \cdots H_1$ from $R$ flowjax ``Householder`` reflections.

    Args:
        key: PRNG key for the reflection vectors $v_r$ (standard normal).
        dim: $d \ge 2$.
        n_reflections: $R \ge 1$; $\det Q = (-1)^R$, so an odd $R$ gives a
            reflection, not a rotation. Defaults to the largest even $R \le d$
            ($d$ or $d - 1$): a rotation, and any rotation of $SO(d)$ is reachable.

    Returns:
        A flowjax ``Chain`` of the reflections (log-det 0).
    """
    dim = check_positive_int(dim, "dim", minimum=2)
    n_reflections = 2 * (dim // 2) if n_reflections is None else n_reflections
    check_positive_int(n_reflections, "n_reflections")
    keys = jr.split(key, n_reflections)
    dtype = jnp.result_type(float)
    return Chain([Householder(jr.normal(k, (dim,), dtype)) for k in keys])
