"""The diagonal layer's ``log_prob`` next to the nearest flowjax constructions, float32.

Three diagonal (marginal) flows ``Transformed(StandardNormal((d,)), Invert(layer))``:

- ``ours``: :class:`gauss_flows.MarginalGaussianization`, ``d`` mixture-CDF maps
  (``K`` components) stacked in ONE ``MixtureGaussianCDF`` and applied with flowjax's
  ``Vmap``;
- ``stack``: the same ``d`` maps as ``d`` separate bijections in flowjax's ``Stack``
  (the unvectorised way; same numbers, checked);
- ``spline``: flowjax's native diagonal layer, ``Vmap`` of ``RationalQuadraticSpline``
  with ``K`` bins (a different map with a similar parameter count, ``3K - 1`` per
  coordinate against ``3K``).

Timed: jitted ``log_prob`` of a batch. Reported: median time ratios other / ours.
"""

from __future__ import annotations

import argparse
import json

import jax

jax.config.update("jax_enable_x64", False)  # float32 throughout

import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
from flowjax.bijections import Invert, RationalQuadraticSpline, Stack, Vmap  # noqa: E402
from flowjax.distributions import StandardNormal, Transformed  # noqa: E402

import gauss_flows as gf  # noqa: E402

try:  # timing helpers: importable as a package module or as a script sibling
    from benchmarks._timing import interleaved_ratio
except ImportError:  # pragma: no cover
    from _timing import interleaved_ratio


def flows(dim: int, k: int):
    key_w, key_m, key_s = jr.split(jr.key(0), 3)
    log_w = jr.normal(key_w, (dim, k))
    means = jr.normal(key_m, (dim, k))
    scales = jr.uniform(key_s, (dim, k), minval=0.5, maxval=2.0)
    ours = gf.MarginalGaussianization(log_w, means, scales)
    stack = Stack([ours.mixture(i) for i in range(dim)])
    spline = Vmap(
        eqx.filter_vmap(lambda: RationalQuadraticSpline(knots=k - 1, interval=4.0),
                        axis_size=dim)(),
        in_axes=eqx.if_array(0),
    )
    return {name: Transformed(StandardNormal((dim,)), Invert(layer))
            for name, layer in (("ours", ours), ("stack", stack), ("spline", spline))}


@eqx.filter_jit
def log_prob(flow, x):
    return flow.log_prob(x)


def run(dims, k, batch, rounds, reps) -> list[dict]:
    rows = []
    for dim in dims:
        x = jr.normal(jr.key(1), (batch, dim))
        fl = flows(dim, k)
        ref = log_prob(fl["ours"], x)
        assert bool(jnp.allclose(ref, log_prob(fl["stack"], x), atol=1e-4))
        log_prob(fl["spline"], x).block_until_ready()
        row = {"dim": dim, "K": k, "batch": batch}
        for other in ("stack", "spline"):
            res = interleaved_ratio(lambda: log_prob(fl["ours"], x),
                                    lambda o=other: log_prob(fl[o], x),
                                    rounds=rounds, reps=reps)
            # ours as timed in the rounds the ratios come from (stack's rounds)
            row.setdefault("t_ours", res["t_a"])
            row[f"t_{other}"] = res["t_b"]
            row[f"ratio_{other}"] = res["ratio"]
            row[f"ratio_{other}_range"] = [res["ratio_min"], res["ratio_max"]]
        print(f"d={dim:3d} ours {1e3 * row['t_ours']:.2f} ms"
              f" | stack/ours {row['ratio_stack']:.2f}"
              f" | spline/ours {row['ratio_spline']:.2f}", flush=True)
        rows.append(row)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 8, 32])
    parser.add_argument("--components", type=int, default=8)
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args(argv)
    rows = run(args.dims, args.components, args.batch, args.rounds, args.reps)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"settings": vars(args), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
