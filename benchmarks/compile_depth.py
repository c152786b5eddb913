"""Compile time vs depth: ``gf.coupling_flow`` (``Scan`` over layer pairs) vs an unrolled
``flowjax.bijections.Chain`` of the same coupling layers, float32.

For each depth L the flow's jitted training gradient (``eqx.filter_value_and_grad`` of
the mean NLL, which contains ``log_prob``) is lowered and compiled from scratch
``--repeats`` times, alternating the two flows; the fastest ``.lower(...).compile()``
(tracing + XLA compile) is reported, since other load on the machine only adds time.
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
from flowjax.bijections import Chain, Invert  # noqa: E402
from flowjax.distributions import StandardNormal, Transformed  # noqa: E402

import gauss_flows as gf  # noqa: E402
from gauss_flows.conditioning.masks import half  # noqa: E402


def unrolled_flow(key, dim: int, n_layers: int, width: int, depth: int) -> Transformed:
    """The same layers as ``gf.coupling_flow`` (alternating masks), in a plain ``Chain``."""
    mask = half(dim)
    layers = [
        gf.AffineCoupling(k, shape=(dim,), mask=mask if i % 2 == 0 else ~mask,
                          nn_width=width, nn_depth=depth)
        for i, k in enumerate(jr.split(key, n_layers))
    ]
    return Transformed(StandardNormal((dim,)), Invert(Chain(layers)))


def grad_compile_seconds(flow: Transformed, x) -> float:
    is_leaf = lambda leaf: isinstance(leaf, paramax.NonTrainable)  # noqa: E731
    params, static = eqx.partition(flow, eqx.is_inexact_array, is_leaf=is_leaf)

    def nll(p, x):
        return -paramax.unwrap(eqx.combine(p, static)).log_prob(x).mean()

    step = jax.jit(jax.value_and_grad(nll))  # a fresh function: nothing cached
    start = time.perf_counter()
    step.lower(params, x).compile()
    return time.perf_counter() - start


def run(depths, dim, width, depth, batch, repeats) -> list[dict]:
    x = jr.normal(jr.key(1), (batch, dim))
    rows = []
    for n_layers in depths:
        scan = gf.coupling_flow(jr.key(0), shape=(dim,), n_layers=n_layers,
                                coupling="affine", nn_width=width, nn_depth=depth)
        chain = unrolled_flow(jr.key(0), dim, n_layers, width, depth)
        times = {"coupling_flow_s": [], "chain_s": []}
        for _ in range(repeats):
            times["coupling_flow_s"].append(grad_compile_seconds(scan, x))
            times["chain_s"].append(grad_compile_seconds(chain, x))
        row = {"layers": n_layers} | {k: min(v) for k, v in times.items()}
        rows.append(row)
        print(f"L={n_layers:3d} coupling_flow {row['coupling_flow_s']:6.2f} s  "
              f"unrolled Chain {row['chain_s']:6.2f} s", flush=True)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--depths", type=int, nargs="+", default=[2, 4, 8, 16, 32])
    parser.add_argument("--dim", type=int, default=8)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    result = {"settings": vars(args),
              "rows": run(args.depths, args.dim, args.width, args.depth, args.batch,
                          args.repeats)}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
