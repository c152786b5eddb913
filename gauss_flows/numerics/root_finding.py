r"""Inverting a strictly increasing scalar map with a bracketed, safeguarded Newton solver.

To solve $T(x) = z$ on a bracket $[\ell, h]$ with $T(\ell) \le z \le T(h)$, each
iteration (a ``lax.while_loop`` with a convergence test and an iteration cap:
jit- and vmap-friendly, never hangs):

1. evaluates $g = T(x) - z$ and $T'(x)$, and shrinks the bracket to keep the root
   ($\ell \leftarrow x$ if $g < 0$, $h \leftarrow x$ if $g > 0$);
2. takes the Newton step $x - g / T'(x)$ if it lands inside the bracket and either
   moves less than half the step before last (the classic *rtsafe* rule) or $|g|$ is
   already at rounding level ($\le 64\,\epsilon\,(1 + |z|)$); otherwise bisects.
   The second clause keeps a converged iterate put: without it, once Newton stalls
   at rounding level the rtsafe test fails and a bisection jumps halfway to a stale,
   far bracket end, costing tens of iterations to recover.

Newton converges quadratically near the root; bisection guarantees progress.

Batches: ``jax.vmap`` of a ``while_loop`` runs every lane until the slowest one
stops, so a batch would cost its *largest* iteration count. :func:`invert_monotone`
has its own batching rule (``jax.custom_batching.custom_vmap``) that hands the whole
batch, however deeply vmapped, to :func:`solve_many`: a work queue whose slots take
the next problem as soon as theirs has converged, so that the batch costs about the
*total* iteration count, with every problem going through the same iterations as
alone.

Gradients: a custom JVP gives the implicit-function derivatives
$\partial x/\partial z = 1/T'(x)$ and
$\partial x/\partial\theta = -\partial_\theta T / T'(x)$ from one linearisation of $T$
at the root, without differentiating through the loop.
(An actual extra Newton step there would multiply $T(x^\*) - z = 0$ by
$1/T' = \infty$ where $T'$ underflows: NaN.)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, PyTree

#: Default iteration *cap* of the solver, which stops as soon as it has converged
#: (for the mixture CDF typically 4-7 iterations, at most 13 over 100k random
#: 8-component mixtures with |x| <= 30 in float64). The cap only binds where Newton
#: keeps failing and the solver bisects, e.g. across flat stretches between narrow,
#: well-separated components, where up to 73 iterations were needed (scales 2e-3 to
#: 1e-2, means spread 10: ``tests/bijections/test_mixture_cdf_numerics.py``). Under
#: ``vmap`` the work queue of :func:`solve_many` makes a generous cap cost only the
#: problems that need it.
DEFAULT_N_ITER = 128

#: ``forward(x) -> (T(x), log T'(x))`` for a scalar ``x``.
ScalarForward = Callable[[Array], tuple[Array, Array]]


def bracketed_newton(
    forward: ScalarForward,
    z: Array,
    lower: Array,
    upper: Array,
    init: Array,
    n_iter: int,
    *,
    return_iterations: bool = False,
) -> Array | tuple[Array, Array]:
    """Solve ``forward(x)[0] == z`` for scalar ``x`` in ``[lower, upper]``.

    Args:
        forward: Strictly increasing map returning ``(T(x), log T'(x))``.
        z: Target value (scalar).
        lower, upper: A bracket with ``T(lower) <= z <= T(upper)``.
        init: Starting point inside the bracket.
        n_iter: Iteration cap. The loop (a ``lax.while_loop``) stops earlier, once
            converged: when $T(x) = z$ exactly, when the bracket has shrunk to a few
            ulps, or right after a Newton step taken from a point where $|T(x) - z|$
            was already at rounding level (that step's result is then as accurate as
            the dtype allows). Under ``vmap`` all lanes run until the slowest stops
            (:func:`invert_monotone` avoids that, see :func:`solve_many`).

    Returns:
        The root, with no gradient attached (see :func:`invert_monotone`); with
        ``return_iterations``, also the number of iterations run.
    """
    state = jax.lax.while_loop(
        lambda s: (s.i < n_iter) & ~s.done,
        lambda s: newton_step(forward, z, s),
        start_state(lower, upper, init),
    )
    return (state.x, state.i) if return_iterations else state.x


class SolverState(NamedTuple):
    """One problem's solver state: iterations run, iterate, bracket, last two steps."""

    i: Array
    x: Array
    lo: Array
    hi: Array
    step_old: Array
    step: Array
    done: Array


def start_state(lower: Array, upper: Array, init: Array) -> SolverState:
    """The state before the first iteration (no step taken yet: both steps ~ bracket)."""
    width = upper - lower
    return SolverState(jnp.zeros((), jnp.int32), init, lower, upper, 2 * width, width,
                       jnp.zeros((), bool))


def newton_step(forward: ScalarForward, z: Array, state: SolverState) -> SolverState:
    """One iteration of :func:`bracketed_newton` (see the module docstring)."""
    i, x, lo, hi, step_old, step, _ = state
    eps = jnp.finfo(jnp.result_type(z, x)).eps
    tol = 64 * eps * (1 + jnp.abs(z))
    t, log_dt = forward(x)
    g = t - z
    lo = jnp.where(g < 0, x, lo)
    hi = jnp.where(g > 0, x, hi)
    # g / T' in log space: finite wherever the step is, even if T' underflows.
    newton = x - jnp.sign(g) * jnp.exp(jnp.log(jnp.abs(g)) - log_dt)
    in_bracket = jnp.isfinite(newton) & (newton >= lo) & (newton <= hi)
    shrinking = jnp.abs(newton - x) < 0.5 * jnp.abs(step_old)
    at_rounding_level = jnp.abs(g) <= tol
    accept = in_bracket & (shrinking | at_rounding_level)
    x_new = jnp.where(accept, newton, lo + 0.5 * (hi - lo))
    x_new = jnp.where(g == 0, x, x_new)
    collapsed = hi - lo <= 4 * eps * jnp.maximum(jnp.abs(lo), jnp.abs(hi))
    done = (g == 0) | collapsed | (accept & at_rounding_level)
    return SolverState(i + 1, x_new, lo, hi, step, x_new - x, done)


def invert_monotone(
    forward: Callable[[PyTree, Array], tuple[Array, Array]],
    params: PyTree,
    z: Array,
    lower: Array,
    upper: Array,
    init: Array,
    n_iter: int,
) -> tuple[Array, Array]:
    r"""Solve ``T_params(x) = z``; return ``(x, -log T'(x))`` with implicit gradients.

    Args:
        forward: ``forward(params, x) -> (T(x), log T'(x))``, strictly increasing in x;
            a function defined at module level (it is a static argument).
        params: Parameters of ``T`` (any pytree); gradients flow to them.
        z, lower, upper, init, n_iter: As in :func:`bracketed_newton` (no gradients
            flow through the bracket or the starting point).

    The value is the solver's root $x^*$ and $-\log T'(x^*)$. The derivatives are the
    implicit-function ones, from a single linearisation of ``forward`` at $x^*$ (never
    through the loop): $dx = s\,(dz - \partial_\theta T\,d\theta)$ with
    $s = 1/T'(x^*)$, and $d\log T' = \partial_\theta\log T'\,d\theta +
    \partial_x\log T'\,dx$. Where $T'$ underflows (or $1/T'$ would overflow), $s$ is
    capped at the square root of the largest float ($e^{354}$ in float64, $e^{44}$ in
    float32): the derivatives stay finite, and the value, which never goes through
    $s$, is unaffected. Higher derivatives are implicit too (the rule calls itself).

    Under ``jax.vmap`` (nested or not) the problems are solved together by
    :func:`solve_many`, each as it would be alone.
    """
    sg = jax.lax.stop_gradient
    return _invert(forward, n_iter, params, z, sg(lower), sg(upper), sg(init))


#: Batches of at most this many problems are solved by one ``while_loop`` over all of
#: them; larger ones by a work queue of ``max(n // QUEUE_FRACTION, QUEUE_MIN_SLOTS)``
#: slots (see :func:`solve_many`).
QUEUE_MIN_SLOTS = 1024
QUEUE_FRACTION = 16


def solve_many(
    forward: Callable[[PyTree, Array], tuple[Array, Array]],
    params: PyTree,
    z: Array,
    lower: Array,
    upper: Array,
    init: Array,
    n_iter: int,
) -> Array:
    r""":func:`bracketed_newton` for ``n`` problems at once (leading axis of every leaf).

    ``jax.vmap`` of the solver's ``while_loop`` would run every lane until the slowest
    stops: the batch costs the *largest* iteration count (13 where the median is 5 on
    ``benchmarks/mixture_inverse.py``). Instead, ``m`` slots work through a queue:
    each iteration advances the ``m`` problems in the slots by one Newton step, and a
    slot whose problem has converged (or hit ``n_iter``) stores its root and takes the
    next problem. The batch then costs about the *total* iteration count, and every
    problem goes through the iterations it would go through alone (same start, same
    steps, same stopping rule, same cap; the roots agree to a few ulps, since XLA may
    fuse the forward differently in the two loops). Small batches (``n`` up to
    ``QUEUE_MIN_SLOTS``) run as one ``vmap``-ed loop.

    Args:
        forward: ``forward(params, x) -> (T(x), log T'(x))`` for one problem.
        params: Pytree whose leaves have leading axis ``n``.
        z, lower, upper, init: Shape ``(n,)``, as in :func:`bracketed_newton`.
        n_iter: Iteration cap per problem.

    Returns:
        The roots, shape ``(n,)``.
    """
    n = z.shape[0]
    n_slots = max(n // QUEUE_FRACTION, QUEUE_MIN_SLOTS)
    one = lambda p, zi, lo, hi, x0: bracketed_newton(  # noqa: E731
        lambda v: forward(p, v), zi, lo, hi, x0, n_iter
    )
    if n_slots >= n:
        return jax.vmap(one)(params, z, lower, upper, init)

    def take(a, lanes):  # lanes past the end (idle slots) read the last problem
        return jnp.take(a, lanes, axis=0, mode="clip")

    def fresh(lanes):
        return jax.vmap(start_state)(take(lower, lanes), take(upper, lanes),
                                     take(init, lanes))

    def body(carry):
        lanes, state, queued, roots = carry
        p = jax.tree.map(lambda a: take(a, lanes), params)
        state = jax.vmap(lambda pi, zi, s: newton_step(lambda v: forward(pi, v), zi, s))(
            p, take(z, lanes), state
        )
        free = state.done | (state.i >= n_iter) | (lanes >= n)
        roots = roots.at[jnp.where(free, lanes, n)].set(state.x, mode="drop")
        # the k-th free slot (in slot order) takes queued problem number k
        lanes = jnp.where(free, queued + jnp.cumsum(free, dtype=jnp.int32) - 1, lanes)
        queued = queued + jnp.sum(free, dtype=jnp.int32)
        state = jax.tree.map(partial(jnp.where, free), fresh(lanes), state)
        return lanes, state, queued, roots

    lanes = jnp.arange(n_slots, dtype=jnp.int32)
    carry = (lanes, fresh(lanes), jnp.int32(n_slots), jnp.zeros_like(init))
    carry = jax.lax.while_loop(lambda c: jnp.any(c[0] < n), body, carry)
    return carry[3]


@cache
def _batched_solver(forward):
    """``solve(n_iter, params, z, lower, upper, init)`` for problems of batch shape
    ``z.shape`` (``()`` for one; every leaf of ``params`` leads with that shape): one
    :func:`bracketed_newton`, or one :func:`solve_many` for all of them. Under ``vmap``
    the batch gains an axis and is solved again, so vmaps at any depth end in a single
    queue. (``n_iter`` is an operand, so that it may be traced.)"""

    @jax.custom_batching.custom_vmap
    def solve(n_iter, params, z, lower, upper, init):
        if z.ndim == 0:
            forward_one = lambda v: forward(params, v)  # noqa: E731
            return bracketed_newton(forward_one, z, lower, upper, init, n_iter)
        flat = lambda a: a.reshape(z.size, *a.shape[z.ndim:])  # noqa: E731
        args = jax.tree.map(flat, (params, z, lower, upper, init))
        return solve_many(forward, *args, n_iter).reshape(z.shape)

    @solve.def_vmap
    def _solve_vmap(axis_size, in_batched, n_iter, *args):
        if in_batched[0]:
            raise NotImplementedError("n_iter must be the same for every problem.")
        tile = lambda a: jnp.broadcast_to(a, (axis_size, *jnp.shape(a)))  # noqa: E731
        args = jax.tree.map(lambda a, b: a if b else tile(a), args, tuple(in_batched[1:]))
        return solve(n_iter, *args), True

    return solve


@partial(jax.custom_jvp, nondiff_argnums=(0, 1))
def _invert(forward, n_iter, params, z, lower, upper, init):
    x = _batched_solver(forward)(n_iter, params, z, lower, upper, init)
    _, log_dt = forward(params, x)
    return x, -log_dt


@_invert.defjvp
def _invert_jvp(forward, n_iter, primals, tangents):
    params, z, lower, upper, init = primals
    dparams, dz, *_ = tangents
    x, _ = _invert(forward, n_iter, *primals)  # so higher derivatives are implicit too
    (_, log_dt), linear = jax.linearize(forward, params, x)
    dt_params, dlog_params = linear(dparams, jnp.zeros_like(x))
    cap = 0.5 * jnp.log(jnp.finfo(log_dt.dtype).max)
    dx = jnp.exp(jnp.minimum(-log_dt, cap)) * (dz - dt_params)
    no_params = jax.tree.map(jnp.zeros_like, params)
    _, dlog_x = linear(no_params, dx)
    return (x, -log_dt), (dx.astype(x.dtype), -(dlog_params + dlog_x))
