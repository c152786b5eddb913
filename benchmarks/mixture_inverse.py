"""Mixture-CDF inverse: our bracketed Newton vs flowjax's bisection, float64.

Round trip ``x -> z = T(x) -> x' = T^{-1}(z)`` for random Gaussian-mixture CDF maps
(``K`` components; weights from softmax of N(0, 1) logits, means ~ N(0, 2^2), scales
= exp(N(0, 0.75^2))) at points ``x`` uniform on [-X_MAX, X_MAX] (endpoints included).
Both solvers get the same bracket ``[min_k(mu_k + sigma_k z), max_k(mu_k + sigma_k z)]``
and both return ``x`` and the log-det (bisection: one extra forward call for it).

* Error vs iterations: ``mixture_cdf_inverse(params, z, n_iter)`` for ``n_iter`` in
  1..N, and ``flowjax.root_finding.bisection_search`` stopped after exactly ``n``
  bisection steps (``max_steps=n``, ``atol`` tiny, ``throw=False``), every few ``n``
  (each ``n`` is a separate compile).
  The curves use all problems unless ``--curve-points`` says fewer.
* Time per 100k inversions (all ``--mixtures * --points`` problems), interleaved A/B
  over rounds; the errors reported with the times are measured on all problems.
  The headline: our inverse at its **defaults** (early exit, cap ``DEFAULT_N_ITER``)
  against bisection at **equal accuracy** (the fewest steps whose max error is no
  larger than the default's); also against bisection at the target (1e-12, looser),
  and ours at the smallest iteration cap reaching the target against it. Under
  ``vmap`` our inverse runs as a work queue (``root_finding.solve_many``), so a batch
  costs about the total of the problems' iteration counts, not the largest.
"""

from __future__ import annotations

import argparse
import functools
import json

import jax

jax.config.update("jax_enable_x64", True)

import jax.nn as jnn  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402
from flowjax.root_finding import bisection_search  # noqa: E402

from gauss_flows.numerics.root_finding import bracketed_newton  # noqa: E402
from gauss_flows.bijections.mixture_cdf import (  # noqa: E402
    DEFAULT_N_ITER,
    mixture_cdf_bracket,
    mixture_cdf_inverse,
    mixture_cdf_transform,
)

try:
    from benchmarks._timing import interleaved_ratio
except ImportError:  # pragma: no cover
    from _timing import interleaved_ratio

X_MAX = 30.0
TARGET = 1e-12


def make_problem(n_mixtures: int, n_points: int, k: int, seed: int = 0):
    """Parameters (each ``(n, K)``) and points ``x`` (``(n,)``), with
    ``n = n_mixtures * n_points``."""
    k_logit, k_mean, k_scale, k_x = jr.split(jr.key(seed), 4)
    log_w = jnn.log_softmax(jr.normal(k_logit, (n_mixtures, k)), axis=-1)
    means = 2.0 * jr.normal(k_mean, (n_mixtures, k))
    scales = jnp.exp(0.75 * jr.normal(k_scale, (n_mixtures, k)))
    x = jr.uniform(k_x, (n_mixtures, n_points), minval=-X_MAX, maxval=X_MAX)
    x = x.at[:, :2].set(jnp.array([-X_MAX, X_MAX]))
    rep = lambda a: jnp.repeat(a, n_points, axis=0)  # noqa: E731
    return (rep(log_w), rep(means), rep(scales)), x.reshape(-1)


def newton_inverse(n_iter: int):
    @jax.jit
    def inverse(params, z):
        return jax.vmap(lambda p, zi: mixture_cdf_inverse(p, zi, n_iter))(params, z)

    return inverse


@jax.jit
def newton_inverse_traced(params, z, n_iter):
    """As ``newton_inverse(n_iter)`` but with a traced count: one compile for the curve."""
    return jax.vmap(lambda p, zi: mixture_cdf_inverse(p, zi, n_iter))(params, z)


@jax.jit
def default_iterations(params, z):
    """Iterations the default solver runs per problem (what the work queue sums)."""

    def one(p, zi):
        lower, upper, init = mixture_cdf_bracket(p, zi)
        _, n = bracketed_newton(lambda v: mixture_cdf_transform(p, v), zi, lower, upper,
                                init, DEFAULT_N_ITER, return_iterations=True)
        return n

    return jax.vmap(one)(params, z)


def far_round_trip(params, n_points: int, n_mixtures: int = 20) -> float:
    """Max relative round-trip error at the default, |x| from 30 to 1e300 (both signs),
    on the first ``n_mixtures`` mixtures."""
    x = jnp.geomspace(30.0, 1e300, 50)
    x = jnp.concatenate([x, -x])
    p = jax.tree.map(lambda a: a[::n_points][:n_mixtures], params)

    @jax.jit
    def round_trip(p, x):
        def per_mixture(pi):
            z, _ = jax.vmap(mixture_cdf_transform, in_axes=(None, 0))(pi, x)
            xb, _ = jax.vmap(mixture_cdf_inverse, in_axes=(None, 0))(pi, z)
            return jnp.max(jnp.abs(xb - x) / jnp.abs(x))

        return jax.vmap(per_mixture)(p)

    return float(jnp.max(round_trip(p, x)))


@functools.cache  # one compile per step count, however often the search asks for it
def bisection_inverse(n_steps: int):
    def one(params, z):
        lower, upper, _ = mixture_cdf_bracket(params, z)
        root, _ = bisection_search(
            lambda x: mixture_cdf_transform(params, x)[0] - z,
            lower,
            upper,
            atol=1e-300,  # never met: exactly n_steps bisection steps
            max_steps=n_steps,
            throw=False,
        )
        _, log_dt = mixture_cdf_transform(params, root)
        return root, -log_dt

    return jax.jit(jax.vmap(one))


def run(n_mixtures, n_points, k, curve_points, max_newton, max_bisect, bisect_every,
        rounds, reps) -> dict:
    params, x = make_problem(n_mixtures, n_points, k)
    z, _ = jax.jit(jax.vmap(mixture_cdf_transform))(params, x)
    assert bool(jnp.all(jnp.isfinite(z)))
    # The error curves use the first ``curve_points`` problems (cheaper, same mixtures).
    first = lambda a: a[: curve_points or None]  # noqa: E731
    curve_params, curve_x, curve_z = jax.tree.map(first, params), first(x), first(z)

    def max_err(inverse, *args, full=False):
        p, xs, zs = (params, x, z) if full else (curve_params, curve_x, curve_z)
        x_back, log_det = inverse(p, zs, *args)
        assert bool(jnp.all(jnp.isfinite(x_back)) & jnp.all(jnp.isfinite(log_det)))
        return float(jnp.max(jnp.abs(x_back - xs)))

    curves = {"newton": [], "bisection": []}
    for n in range(1, max_newton + 1):
        curves["newton"].append([n, max_err(newton_inverse_traced, n)])
    for n in range(bisect_every, max_bisect + 1, bisect_every):
        curves["bisection"].append([n, max_err(bisection_inverse(n))])
    for name, curve in curves.items():
        print(name, " ".join(f"{n}:{e:.1e}" for n, e in curve), flush=True)

    def first_reaching(curve):
        best = min(e for _, e in curve)
        goal = max(TARGET, best)
        n, err = next((n, e) for n, e in curve if e <= goal)
        return n, err

    n_newton, err_newton = first_reaching(curves["newton"])
    n_bisect, err_bisect = first_reaching(curves["bisection"])
    goal = max(TARGET, err_bisect)
    for n in range(max(1, n_bisect - bisect_every + 1), n_bisect):  # refine the coarse grid
        err = max_err(bisection_inverse(n))
        curves["bisection"].append([n, err])
        if err <= goal:
            n_bisect, err_bisect = n, err
            break
    curves["bisection"].sort()
    newton = newton_inverse(n_newton)
    bisect = bisection_inverse(n_bisect)
    default = newton_inverse(DEFAULT_N_ITER)
    default_err = max_err(default, full=True)
    # Equal accuracy: the fewest bisection steps whose error on ALL problems is no
    # larger than the default's (coarse curve first, then step by step).
    n_equal = next((n for n, e in curves["bisection"] if e <= default_err), max_bisect)
    while n_equal > 1 and max_err(bisection_inverse(n_equal - 1), full=True) <= default_err:
        n_equal -= 1
    while max_err(bisection_inverse(n_equal), full=True) > default_err and n_equal < 200:
        n_equal += 1
    bisect_equal = bisection_inverse(n_equal)
    for f in (newton, bisect, default, bisect_equal):
        jax.block_until_ready(f(params, z))
    run_default = lambda: default(params, z)  # noqa: E731
    run_bisect = lambda: bisect(params, z)  # noqa: E731
    # The headline: the DEFAULT (early exit, cap DEFAULT_N_ITER) vs bisection at equal
    # accuracy; then vs bisection at the target, and fixed-count Newton vs that.
    timing_default = interleaved_ratio(run_default, lambda: bisect_equal(params, z),
                                       rounds=rounds, reps=reps)
    timing_default_target = interleaved_ratio(run_default, run_bisect, rounds=rounds,
                                              reps=reps)
    timing = interleaved_ratio(lambda: newton(params, z), run_bisect, rounds=rounds,
                               reps=reps)
    iterations = np.asarray(default_iterations(params, z))
    far_rel = far_round_trip(params, n_points)
    per_100k = 1e5 / x.size
    summary = {
        "n": int(x.size), "curve_n": int(curve_x.size), "k": k, "x_max": X_MAX,
        "target": TARGET,
        "newton_iters": n_newton, "newton_err": max_err(newton, full=True),
        "bisection_iters": n_bisect, "bisection_err": max_err(bisect, full=True),
        "newton_ms_per_100k": 1e3 * timing["t_a"] * per_100k,
        "bisection_ms_per_100k": 1e3 * timing["t_b"] * per_100k,
        "ratio": timing["ratio"], "ratio_min": timing["ratio_min"],
        "ratio_max": timing["ratio_max"],
        "default_iters": DEFAULT_N_ITER,
        "default_err": default_err,
        "default_ms_per_100k": 1e3 * timing_default["t_a"] * per_100k,
        "bisection_equal_iters": n_equal,
        "bisection_equal_err": max_err(bisect_equal, full=True),
        "bisection_equal_ms_per_100k": 1e3 * timing_default["t_b"] * per_100k,
        "default_ratio": timing_default["ratio"],
        "default_ratio_min": timing_default["ratio_min"],
        "default_ratio_max": timing_default["ratio_max"],
        "default_ratio_target": timing_default_target["ratio"],
        "default_ratio_target_min": timing_default_target["ratio_min"],
        "default_ratio_target_max": timing_default_target["ratio_max"],
        "default_iterations_median": float(np.median(iterations)),
        "default_iterations_max": int(iterations.max()),
        "default_far_rel_err": far_rel,
    }
    print(summary, flush=True)
    return {"curves": curves, "summary": summary}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mixtures", type=int, default=100)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--components", type=int, default=8)
    parser.add_argument("--curve-points", type=int, default=0,
                        help="error curves on the first this many problems (0: all)")
    parser.add_argument("--max-newton", type=int, default=20)
    parser.add_argument("--max-bisect", type=int, default=64)
    parser.add_argument("--bisect-every", type=int, default=8,
                        help="bisection curve at every this many steps (one compile each)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    result = run(args.mixtures, args.points, args.components, args.curve_points,
                 args.max_newton,
                 args.max_bisect, args.bisect_every, args.rounds, args.reps)
    result["settings"] = vars(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
