r"""A learned invertible linear map in LU form: Glow's 1x1 convolution for one channel.

Glow {cite}`kingma2018glow` mixes the channels between couplings with a learned
invertible matrix $W$, parametrised as $W = L\,U$ so that its log-determinant is a sum.
For an image with one channel the "1x1 convolution" is a map of all $d$ pixels:

$$z = L\,U\,x + b, \qquad \log\lvert\det J\rvert = \sum_{i=1}^{d} s_i ,$$

with $L$ unit lower-triangular (ones on the diagonal, $d(d-1)/2$ free entries below),
$U$ upper-triangular with diagonal $e^{s_i} > 0$ ($d(d-1)/2$ free entries above it
and the $d$ log-scales $s$), and a shift $b$. The inverse solves two triangular
systems, so it is exact and costs $O(d^2)$. Glow also fixes a permutation $P$ in
$W = PLU$; a generic $W$ with non-zero leading minors needs none, and with $P = I$ the
layer starts as the identity ($L = U = I$, $b = 0$): a flow that is already fitted
keeps its density when such a layer is inserted.

flowjax's ``TriangularAffine`` is one triangular factor with a softplus diagonal stored
as a full $d \times d$ array; here $L$ needs a fixed unit diagonal, and storing only
the free entries keeps the parameter count ($d^2 + d$) what ``count_parameters`` reports.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from flowjax.bijections import AbstractBijection
from jax.scipy.linalg import solve_triangular
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from gauss_flows._validation import check_event_shape, check_float_dtype


class LULinear(AbstractBijection):
    r"""$z = L U x + b$, data to latent, with $\log\lvert\det J\rvert = \sum_i s_i$.

    Args:
        key: PRNG key for the off-diagonal entries when ``init_scale > 0``.
        shape: Event shape ``(d,)``, ``d >= 2``.
        init_scale: Standard deviation of the initial off-diagonal entries and
            log-scales; ``0`` (default) starts at the identity.

    Attributes:
        lower: The $d(d-1)/2$ entries of $L$ below the diagonal (row-major).
        upper: The $d(d-1)/2$ entries of $U$ above the diagonal (row-major).
        log_diag: $s$, shape ``(d,)``: $U_{ii} = e^{s_i}$.
        loc: $b$, shape ``(d,)``.
    """

    lower: Array
    upper: Array
    log_diag: Array
    loc: Array
    shape: tuple[int, ...]
    cond_shape: ClassVar[None] = None

    def __init__(
        self, key: PRNGKeyArray, shape: tuple[int, ...], *, init_scale: float = 0.0
    ):
        dim = check_event_shape(shape)
        if not (isinstance(init_scale, (int, float)) and init_scale >= 0):
            raise ValueError(f"init_scale must be a number >= 0, got {init_scale!r}.")
        n = dim * (dim - 1) // 2
        k_lower, k_upper, k_diag = jr.split(key, 3)
        self.lower = init_scale * jr.normal(k_lower, (n,))
        self.upper = init_scale * jr.normal(k_upper, (n,))
        self.log_diag = init_scale * jr.normal(k_diag, (dim,))
        self.loc = jnp.zeros(dim)
        self.shape = (dim,)

    @classmethod
    def from_lower(cls, matrix: ArrayLike, loc: ArrayLike | None = None) -> LULinear:
        r"""The layer $z = A x + b$ for a lower-triangular $A$ with positive diagonal.

        $A = L\,\mathrm{diag}(a_{ii})$ with $L = A\,\mathrm{diag}(a_{ii})^{-1}$ unit
        lower-triangular, so $U = \mathrm{diag}(a_{ii})$; e.g. $A = C^{-1}$ for the
        Cholesky factor $C$ of a covariance: the whitening map.

        Args:
            matrix: Lower-triangular ``(d, d)``, positive diagonal (upper part ignored).
            loc: $b$, shape ``(d,)`` (default zeros).
        """
        matrix = jnp.asarray(matrix)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"matrix must be square (d, d), got {matrix.shape}.")
        dim = matrix.shape[0]
        diag = jnp.diag(matrix)
        if not bool(jnp.all(diag > 0)):
            raise ValueError("matrix must have a positive diagonal.")
        unit = jnp.tril(matrix, -1) / diag[None, :]
        rows, cols = jnp.tril_indices(dim, -1)
        loc = jnp.zeros(dim, matrix.dtype) if loc is None else jnp.asarray(loc)
        if loc.shape != (dim,):
            raise ValueError(f"loc must have shape ({dim},), got {loc.shape}.")
        identity = cls(jr.key(0), (dim,))
        return eqx.tree_at(
            lambda m: (m.lower, m.upper, m.log_diag, m.loc),
            identity,
            (unit[rows, cols], jnp.zeros_like(identity.upper, matrix.dtype),
             jnp.log(diag), loc),
        )

    def factors(self) -> tuple[Array, Array]:
        """$(L, U)$ as ``(d, d)`` matrices."""
        dim = self.shape[0]
        rows, cols = jnp.tril_indices(dim, -1)
        lower = jnp.eye(dim, dtype=self.lower.dtype).at[rows, cols].set(self.lower)
        upper = jnp.diag(jnp.exp(self.log_diag)).at[cols, rows].set(self.upper)
        return lower, upper

    def matrix(self) -> Array:
        """$W = L U$, shape ``(d, d)``."""
        lower, upper = self.factors()
        return lower @ upper

    def transform_and_log_det(self, x, condition=None):
        x = check_float_dtype(x, "x")
        lower, upper = self.factors()
        return lower @ (upper @ x) + self.loc, jnp.sum(self.log_diag)

    def inverse_and_log_det(self, y, condition=None):
        y = check_float_dtype(y, "y")
        lower, upper = self.factors()
        v = solve_triangular(lower, y - self.loc, lower=True, unit_diagonal=True)
        return solve_triangular(upper, v, lower=False), -jnp.sum(self.log_diag)

