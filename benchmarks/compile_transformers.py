"""Compile time per transformer: a 4-layer, d = 2, width-32 ``gf.coupling_flow``, float32.

For each transformer (affine, Gaussian-mixture CDF, deep sigmoid, and flowjax's
rational-quadratic spline through ``gf.RQSplineCoupling``) three jitted functions are
lowered and compiled from scratch (a fresh ``jax.jit`` after ``jax.clear_caches()`` each
time, so nothing is cached, as in a fresh process):

* ``log_prob`` of a batch;
* ``value_and_grad`` of the mean NLL with respect to the trainable parameters;
* ``sample`` of a batch (runs every layer's *inverse*: the solvers).

Each is compiled ``--repeats`` times, the transformers taking turns, and the fastest
``.lower(...).compile()`` (tracing + XLA compile) is reported, since other load on the
machine only adds time. The StableHLO op count of each lowered function is reported
alongside (it does not depend on load).
"""

from __future__ import annotations

import argparse
import json
import time

import jax

jax.config.update("jax_enable_x64", False)

import equinox as eqx  # noqa: E402
import jax.random as jr  # noqa: E402
import paramax  # noqa: E402

import gauss_flows as gf  # noqa: E402

TRANSFORMERS = ("affine", "mixture_cdf", "deep_sigmoid", "rq_spline")
OPS = ("log_prob", "value_and_grad", "sample")


def hlo_ops(lowered) -> int:
    """Number of StableHLO operations in a lowered function (lines with ``= stablehlo.``
    or a bare ``stablehlo.`` op)."""
    return sum("stablehlo." in line for line in lowered.as_text().splitlines())


def functions(flow, x):
    """``{op: (jitted function, args)}``, each a fresh ``jax.jit``."""
    is_leaf = lambda leaf: isinstance(leaf, paramax.NonTrainable)  # noqa: E731
    params, static = eqx.partition(flow, eqx.is_inexact_array, is_leaf=is_leaf)

    def log_prob(p, x):
        return paramax.unwrap(eqx.combine(p, static)).log_prob(x)

    def nll(p, x):
        return -log_prob(p, x).mean()

    def sample(p, key):
        return paramax.unwrap(eqx.combine(p, static)).sample(key, (x.shape[0],))

    return {
        "log_prob": (jax.jit(log_prob), (params, x)),
        "value_and_grad": (jax.jit(jax.value_and_grad(nll)), (params, x)),
        "sample": (jax.jit(sample), (params, jr.key(2))),
    }


def compile_once(flow, x, op: str) -> tuple[float, int]:
    fn, args = functions(flow, x)[op]
    # Cold every time: no trace, lowering or jaxpr cached from an earlier compile
    # (jax caches the traces of jitted inner functions, e.g. jnp's own, across outer
    # jits), as in a fresh process.
    jax.clear_caches()
    start = time.perf_counter()
    lowered = fn.lower(*args)
    lowered.compile()
    seconds = time.perf_counter() - start
    return seconds, hlo_ops(lowered)


def run(transformers, n_layers, dim, width, batch, repeats) -> list[dict]:
    x = jr.normal(jr.key(1), (batch, dim))
    flows = {
        name: gf.coupling_flow(jr.key(0), shape=(dim,), n_layers=n_layers, coupling=name,
                               nn_width=width)
        for name in transformers
    }
    best = {(name, op): float("inf") for name in transformers for op in OPS}
    ops = {}
    for _ in range(repeats):
        for op in OPS:
            for name, flow in flows.items():
                seconds, n_ops = compile_once(flow, x, op)
                best[name, op] = min(best[name, op], seconds)
                ops[name, op] = n_ops
    rows = []
    for name in transformers:
        row = {"transformer": name}
        for op in OPS:
            row[f"{op}_s"] = best[name, op]
            row[f"{op}_ops"] = ops[name, op]
        rows.append(row)
        print(name, " ".join(f"{op} {row[op + '_s']:.2f} s ({row[op + '_ops']} ops)"
                             for op in OPS), flush=True)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transformers", nargs="+", default=list(TRANSFORMERS),
                        choices=TRANSFORMERS)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--dim", type=int, default=2)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    rows = run(args.transformers, args.layers, args.dim, args.width, args.batch,
               args.repeats)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "settings": vars(args)}, f, indent=1)


if __name__ == "__main__":
    main()
