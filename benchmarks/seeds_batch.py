"""Several training seeds as one vmapped program vs one seed (``make bench``, part
``seeds``).

A notebook-sized run: an 8-layer affine ``coupling_flow`` (width 32, depth 2) on
2000 two-moons points, ``gf.train_flows`` for a fixed number of epochs (early stopping
off), so that both runs take the same Adam steps. Timed two ways, in one process,
the two seed counts taking turns:

* **cold**, compile included, as a notebook cell pays it: ``jax.clear_caches()`` and a
  fresh flow before every timed call;
* **steady state**: the same call again, compiled.

The ratio is time(k seeds) / time(1 seed), median over rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import jax
import jax.random as jr

import gauss_flows as gf


def build(n_seeds: int):
    return gf.stack_seeds(
        [gf.coupling_flow(k, shape=(2,), n_layers=8, coupling="affine", nn_width=32,
                          nn_depth=2) for k in jr.split(jr.key(0), n_seeds)]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", required=True)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    toy = gf.datasets.TOYS["two_moons"]
    x, x_val = toy.sample(jr.key(1), 2000), toy.sample(jr.key(2), 500)
    batch = 256
    steps = args.epochs * (len(x) // batch)

    def train(flows):
        trained, _ = gf.train_flows(jr.key(3), flows, x, x_val, max_epochs=args.epochs,
                                    batch_size=batch, max_patience=0)
        return trained

    times = {1: {"cold": [], "warm": []}, args.seeds: {"cold": [], "warm": []}}
    for _ in range(args.rounds):
        for k in times:
            flows = build(k)
            jax.block_until_ready(flows)
            jax.clear_caches()
            start = time.perf_counter()
            jax.block_until_ready(train(flows))
            times[k]["cold"].append(time.perf_counter() - start)
            start = time.perf_counter()
            jax.block_until_ready(train(flows))
            times[k]["warm"].append(time.perf_counter() - start)
    one, many = times[1], times[args.seeds]
    ratio = {kind: statistics.median(m / o for m, o in zip(many[kind], one[kind]))
             for kind in ("cold", "warm")}
    result = {
        "settings": {"seeds": args.seeds, "epochs": args.epochs, "steps": steps,
                     "rounds": args.rounds, "layers": 8, "width": 32, "n": len(x),
                     "batch": batch},
        "times": {str(k): v for k, v in times.items()},
        "ratio_cold": ratio["cold"],
        "ratio_warm": ratio["warm"],
        "median": {str(k): {kind: statistics.median(v[kind]) for kind in v}
                   for k, v in times.items()},
    }
    with open(args.json, "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result["median"]), f"ratios cold {ratio['cold']:.2f} "
          f"warm {ratio['warm']:.2f}")


if __name__ == "__main__":
    main()
