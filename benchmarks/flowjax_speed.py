"""gauss_flows couplings vs flowjax's ``Coupling``, side by side, float32 on CPU.

Both flows are built the same way: ``n_layers`` coupling layers, each followed by
``Flip`` (``Chain([coupling, Flip, coupling, Flip, ...])``, unrolled), the passive
half being the first ``d // 2`` coordinates in both libraries (our default mask =
flowjax's ``untransformed_dim = d // 2``), the same MLP conditioner (width, depth,
ReLU), wrapped in ``Transformed(StandardNormal)``. Timed: jitted ``log_prob`` of a
batch, jitted ``sample`` of a batch, and one jitted Adam step on the mean NLL.
"""

from __future__ import annotations

import argparse
import collections
import json
import re

import jax

jax.config.update("jax_enable_x64", False)  # float32 throughout

import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import optax  # noqa: E402
import paramax  # noqa: E402
from flowjax.bijections import (  # noqa: E402
    Affine,
    Chain,
    Coupling,
    Flip,
    RationalQuadraticSpline,
)
from flowjax.distributions import StandardNormal, Transformed  # noqa: E402

import gauss_flows as gf  # noqa: E402

try:  # timing helpers: importable as a package module or as a script sibling
    from benchmarks._timing import interleaved_ratio, time_call
except ImportError:  # pragma: no cover
    from _timing import interleaved_ratio, time_call

#: Aim for at least this many seconds per timed block (fewer reps for slow ops).
BLOCK_S = 0.2
#: StableHLO ops counted in the profile of ``log_prob``.
PROFILED_OPS = ("gather", "scatter", "slice", "concatenate", "dot_general", "select")

#: Spline settings shared by both libraries: ``N_BINS`` bins on ``[-INTERVAL, INTERVAL]``
#: (flowjax counts inner knots: ``knots = N_BINS - 1``).
N_BINS, INTERVAL = 8, 4.0


def has_rq_spline() -> bool:
    return hasattr(gf, "RQSplineCoupling")


def make_layers(lib: str, kind: str, key, dim: int, n_layers: int, width: int, depth: int):
    """``n_layers`` couplings of ``kind`` ("affine" | "spline") from ``lib``, with Flips."""
    layers = []
    for k in jr.split(key, n_layers):
        if lib == "flowjax":
            transformer = (
                Affine() if kind == "affine"
                else RationalQuadraticSpline(knots=N_BINS - 1, interval=INTERVAL)
            )
            layer = Coupling(
                k, transformer=transformer, untransformed_dim=dim // 2, dim=dim,
                nn_width=width, nn_depth=depth,
            )
        elif kind == "affine":
            layer = gf.AffineCoupling(k, shape=(dim,), nn_width=width, nn_depth=depth)
        else:
            layer = gf.RQSplineCoupling(
                k, shape=(dim,), n_bins=N_BINS, interval=INTERVAL,
                nn_width=width, nn_depth=depth,
            )
        layers += [layer, Flip((dim,))]
    return layers


def make_flow(lib, kind, key, dim, n_layers, width, depth) -> Transformed:
    bijection = Chain(make_layers(lib, kind, key, dim, n_layers, width, depth))
    return Transformed(StandardNormal((dim,)), bijection)


def make_ops(flow: Transformed, x, key):
    """Zero-argument callables for the three timed operations (compiled on first call)."""
    is_leaf = lambda leaf: isinstance(leaf, paramax.NonTrainable)  # noqa: E731
    params, static = eqx.partition(flow, eqx.is_inexact_array, is_leaf=is_leaf)
    optimizer = optax.adam(1e-3)
    opt_state = optimizer.init(params)

    @eqx.filter_jit
    def log_prob(flow, x):
        return flow.log_prob(x)

    @eqx.filter_jit
    def sample(flow, key):
        return flow.sample(key, (x.shape[0],))

    @eqx.filter_jit
    def train_step(params, opt_state, x):
        def nll(p):
            return -paramax.unwrap(eqx.combine(p, static)).log_prob(x).mean()

        loss, grads = eqx.filter_value_and_grad(nll)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return eqx.apply_updates(params, updates), opt_state, loss

    return {
        "log_prob": lambda: log_prob(flow, x),
        "sample": lambda: sample(flow, key),
        "train_step": lambda: train_step(params, opt_state, x),
    }


def hlo_profile(flow: Transformed, x) -> dict[str, int]:
    """Op counts of the lowered (StableHLO) ``log_prob``: total and a few telling ops."""
    params, static = eqx.partition(flow, eqx.is_array)
    lowered = jax.jit(lambda p, x: eqx.combine(p, static).log_prob(x)).lower(params, x)
    counts = collections.Counter(re.findall(r"stablehlo\.([a-z_]+)", lowered.as_text()))
    return {"total": sum(counts.values())} | {op: counts[op] for op in PROFILED_OPS}


def run(dims, n_layers, width, depth, batch, rounds, reps) -> list[dict]:
    kinds = ["affine"] + (["spline"] if has_rq_spline() else [])
    rows = []
    for kind in kinds:
        for dim in dims:
            key_x, key_s = jr.split(jr.key(dim))
            x = 1.5 * jr.normal(key_x, (batch, dim))  # a bit wider than the base
            ops, profile = {}, {}
            for lib in ("gauss_flows", "flowjax"):
                flow = make_flow(lib, kind, jr.key(0), dim, n_layers, width, depth)
                ops[lib] = make_ops(flow, x, key_s)
                profile[lib] = hlo_profile(flow, x)
            print(f"{kind} d={dim} log_prob StableHLO ops: {profile}", flush=True)
            for op in ("log_prob", "sample", "train_step"):
                a, b = ops["gauss_flows"][op], ops["flowjax"][op]
                jax.block_until_ready((a(), b()))  # compile both first
                n_reps = max(1, min(reps, round(BLOCK_S / time_call(a, 1))))
                res = interleaved_ratio(a, b, rounds=rounds, reps=n_reps)
                row = {
                    "transformer": kind, "d": dim, "op": op,
                    "gauss_flows_ms": 1e3 * res["t_a"], "flowjax_ms": 1e3 * res["t_b"],
                    "ratio": res["ratio"], "ratio_min": res["ratio_min"],
                    "ratio_max": res["ratio_max"], "reps": n_reps,
                    "hlo_gauss_flows": profile["gauss_flows"],
                    "hlo_flowjax": profile["flowjax"],
                }
                rows.append(row)
                print(
                    f"{kind:7s} d={dim:3d} {op:10s} gf {row['gauss_flows_ms']:8.2f} ms  "
                    f"fj {row['flowjax_ms']:8.2f} ms  ratio {row['ratio']:.2f} "
                    f"[{row['ratio_min']:.2f}, {row['ratio_max']:.2f}]",
                    flush=True,
                )
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 8, 32])
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args(argv)
    rows = run(args.dims, args.layers, args.width, args.depth, args.batch,
               args.rounds, args.reps)
    result = {"settings": vars(args) | {"n_bins": N_BINS, "interval": INTERVAL,
                                        "rq_spline": has_rq_spline()},
              "rows": rows}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
