"""Training a second flow of the same architecture (``make bench``, part ``retrain``).

A notebook often trains several flows built alike: other seeds, other data of the same
shape. Here: a 4-layer coupling flow on 2000 two-moons points (d = 2), a few epochs,
trained twice in a row, the second flow built with another key. Side by side:

* **gauss_flows**: ``gf.coupling_flow`` trained with ``gf.train_flow``;
* **flowjax**: flowjax's own ``coupling_flow`` (same transformer, same depth and
  conditioner size) trained with ``fit_to_data`` and an equal optimiser.

Each round starts with ``jax.clear_caches()``. Reported per library and transformer:
the first call (compile included), the second call, and XLA's count of backend
compilations in the second call (``jax.monitoring``). The ratio is flowjax's second
call over ours, median over rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import jax
import jax.random as jr
from flowjax.bijections import Affine, RationalQuadraticSpline
from flowjax.distributions import StandardNormal
from flowjax.flows import coupling_flow as flowjax_coupling_flow
from flowjax.train import fit_to_data

import gauss_flows as gf

COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


def make_ours(transformer: str):
    coupling = {"affine": "affine", "spline": "rq_spline"}[transformer]
    return lambda key: gf.coupling_flow(key, shape=(2,), n_layers=4, coupling=coupling,
                                        nn_width=32, nn_depth=2)


def make_flowjax(transformer: str):
    template = {"affine": Affine(), "spline": RationalQuadraticSpline(knots=7, interval=4)}
    return lambda key: flowjax_coupling_flow(
        key, base_dist=StandardNormal((2,)), transformer=template[transformer],
        flow_layers=4, nn_width=32, nn_depth=2,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    x = gf.datasets.TOYS["two_moons"].sample(jr.key(1), 2000)
    settings = dict(max_epochs=args.epochs, batch_size=256, max_patience=args.epochs)
    n_train = len(x) - round(0.1 * len(x))  # both split off 10% for validation
    # train_flow's own optimizer (same defaults), handed to fit_to_data as well
    optimizer = gf.training.train.clipped_adam(3e-3, 1.0, args.epochs * (n_train // 256))

    def train_ours(flow):
        return gf.train_flow(jr.key(3), flow, x, **settings)[0]

    def train_flowjax(flow):
        return fit_to_data(jr.key(3), flow, x, optimizer=optimizer, show_progress=False,
                           **settings)[0]

    compiles: list[float] = []

    def listener(event, duration, **kwargs):
        if event == COMPILE_EVENT:
            compiles.append(duration)

    jax.monitoring.register_event_duration_secs_listener(listener)
    cases = {(lib, t): (make, train)
             for t in ("affine", "spline")
             for lib, make, train in (("gauss_flows", make_ours(t), train_ours),
                                      ("flowjax", make_flowjax(t), train_flowjax))}
    times = {f"{lib}/{t}": {"first": [], "second": [], "compiles_second": []}
             for lib, t in cases}
    for _ in range(args.rounds):
        for (lib, t), (make, train) in cases.items():
            record = times[f"{lib}/{t}"]
            jax.clear_caches()
            first, second = make(jr.key(0)), make(jr.key(1))
            jax.block_until_ready((first, second))
            start = time.perf_counter()
            jax.block_until_ready(train(first))
            record["first"].append(time.perf_counter() - start)
            compiles.clear()
            start = time.perf_counter()
            jax.block_until_ready(train(second))
            record["second"].append(time.perf_counter() - start)
            record["compiles_second"].append(len(compiles))
    jax.monitoring.unregister_event_duration_listener(listener)
    ratio = {t: statistics.median(
        f / o for f, o in zip(times[f"flowjax/{t}"]["second"],
                              times[f"gauss_flows/{t}"]["second"]))
        for t in ("affine", "spline")}
    result = {
        "settings": {"epochs": args.epochs, "rounds": args.rounds, "n": len(x),
                     "layers": 4, "width": 32, "depth": 2, "batch": 256},
        "times": times,
        "median": {name: {k: statistics.median(v) for k, v in rec.items()}
                   for name, rec in times.items()},
        "ratio_second": ratio,
    }
    with open(args.json, "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result["median"]), "flowjax / ours, second call:", ratio)


if __name__ == "__main__":
    main()
