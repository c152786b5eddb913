r"""Inverting a strictly increasing scalar map with a bracketed, safeguarded Newton solver.

To solve $T(x) = z$ on a bracket $[\ell, h]$ with $T(\ell) \le z \le T(h)$, each of a
*fixed* number of iterations (jit-friendly, never hangs):

1. evaluates $g = T(x) - z$ and $T'(x)$, and shrinks the bracket to keep the root
   ($\ell \leftarrow x$ if $g < 0$, $h \leftarrow x$ if $g > 0$);
2. takes the Newton step $x - g / T'(x)$ if it lands inside the bracket and either
   moves less than half the step before last (the classic *rtsafe* rule) or $|g|$ is
   already at rounding level ($\le 64\,\epsilon\,(1 + |z|)$); otherwise bisects.
   The second clause keeps a converged iterate put: without it, once Newton stalls
   at rounding level the rtsafe test fails and a bisection jumps halfway to a stale,
   far bracket end, costing tens of iterations to recover.

Newton converges quadratically near the root; bisection guarantees progress.

Gradients: the solver runs under ``stop_gradient``, then one extra Newton step
$x = x^\* - (T_\theta(x^\*) - z)/T'_\theta(x^\*)$, with the denominator held constant,
carries the implicit-function derivatives $\partial x/\partial z = 1/T'(x)$ and
$\partial x/\partial\theta = -\partial_\theta T / T'(x)$ without differentiating
through the loop.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, PyTree

#: ``forward(x) -> (T(x), log T'(x))`` for a scalar ``x``.
ScalarForward = Callable[[Array], tuple[Array, Array]]


def bracketed_newton(
    forward: ScalarForward,
    z: Array,
    lower: Array,
    upper: Array,
    init: Array,
    n_iter: int,
) -> Array:
    """Solve ``forward(x)[0] == z`` for scalar ``x`` in ``[lower, upper]``.

    Args:
        forward: Strictly increasing map returning ``(T(x), log T'(x))``.
        z: Target value (scalar).
        lower, upper: A bracket with ``T(lower) <= z <= T(upper)``.
        init: Starting point inside the bracket.
        n_iter: Fixed number of iterations.

    Returns:
        The root, with no gradient attached (see :func:`invert_monotone`).
    """

    tol = 64 * jnp.finfo(jnp.result_type(z, init)).eps * (1 + jnp.abs(z))

    def body(_, state):
        x, lo, hi, step_old, step = state
        t, log_dt = forward(x)
        g = t - z
        lo = jnp.where(g < 0, x, lo)
        hi = jnp.where(g > 0, x, hi)
        newton = x - g * jnp.exp(-log_dt)
        in_bracket = jnp.isfinite(newton) & (newton >= lo) & (newton <= hi)
        shrinking = jnp.abs(newton - x) < 0.5 * jnp.abs(step_old)
        accept = in_bracket & (shrinking | (jnp.abs(g) <= tol))
        x_new = jnp.where(accept, newton, lo + 0.5 * (hi - lo))
        x_new = jnp.where(g == 0, x, x_new)
        return x_new, lo, hi, step, x_new - x

    width = upper - lower
    state = (init, lower, upper, 2 * width, width)
    x, *_ = jax.lax.fori_loop(0, n_iter, body, state)
    return x


def invert_monotone(
    forward: Callable[[PyTree, Array], tuple[Array, Array]],
    params: PyTree,
    z: Array,
    lower: Array,
    upper: Array,
    init: Array,
    n_iter: int,
) -> tuple[Array, Array]:
    """Solve ``T_params(x) = z``; return ``(x, -log T'(x))`` with implicit gradients.

    Args:
        forward: ``forward(params, x) -> (T(x), log T'(x))``, strictly increasing in x.
        params: Parameters of ``T`` (any pytree); gradients flow to them.
        z, lower, upper, init, n_iter: As in :func:`bracketed_newton`.
    """
    sg = jax.lax.stop_gradient
    frozen = jax.tree.map(sg, params)
    x_star = bracketed_newton(
        lambda x: forward(frozen, x), sg(z), sg(lower), sg(upper), sg(init), n_iter
    )
    x_star = sg(x_star)
    t, log_dt = forward(params, x_star)
    x = x_star - (t - z) * sg(jnp.exp(-log_dt))
    # Re-evaluate the slope at x so that the log-det carries its own gradient.
    _, log_dt = forward(params, x)
    return x, -log_dt
