"""Run every benchmark on CPU and write ``benchmarks/results/`` (``make bench``).

Parts (each in its own Python process, so float32 and float64 runs do not share JAX
config, and each writes ``results/<part>.json``):

* ``speed``: gauss_flows couplings vs flowjax's ``Coupling``, float32
  (:mod:`flowjax_speed`);
* ``inverse``: mixture-CDF inverse, Newton vs bisection, float64 (:mod:`mixture_inverse`);
* ``compile``: compile time vs depth, ``coupling_flow`` vs unrolled ``Chain``
  (:mod:`compile_depth`);
* ``compile_transformers``: compile time of ``log_prob``, ``value_and_grad`` and
  ``sample`` per transformer (:mod:`compile_transformers`);
* ``seeds``: k training seeds as one vmapped ``gf.train_flows`` program vs one seed,
  compile included and compiled (:mod:`seeds_batch`);
* ``notebooks``: execution time of each notebook, on copies (:mod:`notebook_times`);
* ``retrain``: training a second flow built alike, gauss_flows vs flowjax
  (:mod:`retrain`).

Then ``results/RESULTS.md``, ``results/inverse_error.png`` and
``results/compile_depth.png`` are rendered from the JSON files.

Usage: ``python benchmarks/run.py [--only speed inverse ...] [--quick] [--report-only]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PARTS = {
    "speed": "flowjax_speed.py",
    "inverse": "mixture_inverse.py",
    "compile": "compile_depth.py",
    "compile_transformers": "compile_transformers.py",
    "seeds": "seeds_batch.py",
    "notebooks": "notebook_times.py",
    "marginal": "marginal_speed.py",
    "retrain": "retrain.py",
}
#: Small settings for a smoke test (``--quick``): minutes, not the real numbers.
QUICK = {
    "speed": ["--dims", "2", "8", "--rounds", "2", "--reps", "1", "--batch", "512"],
    "inverse": ["--mixtures", "10", "--points", "200", "--curve-points", "1000",
                "--max-newton", "12", "--max-bisect", "48", "--bisect-every", "16",
                "--rounds", "1"],
    "compile": ["--depths", "2", "4"],
    "compile_transformers": ["--repeats", "1"],
    "seeds": ["--epochs", "4", "--rounds", "1"],
    "notebooks": [str(p) for p in sorted((HERE.parent / "notebooks").glob("*.ipynb"))[:1]],
    "marginal": ["--dims", "2", "8", "--rounds", "2", "--reps", "1", "--batch", "512"],
    "retrain": ["--epochs", "1", "--rounds", "1"],
}


def run_part(name: str, quick: bool) -> dict:
    out = RESULTS / f"{name}.json"
    cmd = [sys.executable, str(HERE / PARTS[name]), "--json", str(out)]
    cmd += QUICK[name] if quick else []
    env = os.environ | {"JAX_PLATFORMS": "cpu", "MPLBACKEND": "Agg"}
    print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=HERE.parent)
    seconds = time.perf_counter() - start
    meta = {"wall_s": seconds, "load_before": load_before, "load_after": os.getloadavg()[0],
            "quick": quick}
    data = json.loads(out.read_text())
    data["meta"] = meta
    out.write_text(json.dumps(data, indent=1))
    print(f"== {name}: {seconds:.0f} s", flush=True)
    return data


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


# ---------------------------------------------------------------------------- report
def fmt_ratio(r: float) -> str:
    return f"**{r:.2f}**" if round(r, 2) < 1 else f"{r:.2f}"


def speed_section(data: dict) -> list[str]:
    s = data["settings"]
    lines = [
        "## gauss_flows vs flowjax couplings (float32)",
        "",
        f"{s['layers']} coupling layers, each followed by `Flip`, in an unrolled `Chain` "
        "(identical structure in both libraries: the passive half is the first "
        "`d // 2` coordinates, our default mask = flowjax's `untransformed_dim`), MLP "
        f"conditioner width {s['width']}, depth {s['depth']}, ReLU, in "
        f"`Transformed(StandardNormal)`; batch {s['batch']}. Affine: "
        "`AffineCoupling` vs `Coupling(transformer=Affine())`; spline: "
        f"`RQSplineCoupling(n_bins={s['n_bins']}, interval={s['interval']})` vs "
        f"`Coupling(transformer=RationalQuadraticSpline(knots={s['n_bins'] - 1}, "
        f"interval={s['interval']}))`. `log_prob` and `sample` of the whole batch and one "
        "Adam step on the mean NLL, all `eqx.filter_jit`ted. The two libraries are timed "
        f"alternately over {s['rounds']} rounds (fastest of up to {s['reps']} calls "
        "per block); **ratio = flowjax time / gauss_flows time, median over rounds** "
        "(> 1: gauss_flows is faster; [min, max] over rounds; bold: below 1).",
        "",
        "| transformer | d | op | gauss_flows (ms) | flowjax (ms) | ratio | [min, max] |",
        "| --- | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for r in data["rows"]:
        lines.append(
            f"| {r['transformer']} | {r['d']} | `{r['op']}` | {r['gauss_flows_ms']:.2f} | "
            f"{r['flowjax_ms']:.2f} | {fmt_ratio(r['ratio'])} | "
            f"[{r['ratio_min']:.2f}, {r['ratio_max']:.2f}] |"
        )
    if not s.get("rq_spline", True):
        lines += ["", "`gf.RQSplineCoupling` did not exist at run time: "
                  "spline rows skipped."]
    lines += [
        "",
        "StableHLO op counts of the lowered `log_prob` (gauss_flows / flowjax):",
        "",
        "| transformer | d | total | gather | scatter | slice | concatenate | select |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    seen = set()
    for r in data["rows"]:
        key = (r["transformer"], r["d"])
        if key in seen:
            continue
        seen.add(key)
        a, b = r["hlo_gauss_flows"], r["hlo_flowjax"]
        cells = " | ".join(f"{a[k]} / {b[k]}" for k in
                           ("total", "gather", "scatter", "slice", "concatenate", "select"))
        lines.append(f"| {r['transformer']} | {r['d']} | {cells} |")
    return lines


def inverse_section(data: dict) -> list[str]:
    s = data["summary"]
    if "bisection_equal_iters" not in s:  # a result file from before the equal-accuracy run
        return ["## Mixture-CDF inverse: bracketed Newton vs bisection (float64)", "",
                "> Result file predates the current benchmark; re-run "
                "`python benchmarks/run.py --only inverse`."]
    ratio = lambda key: (f"{s[key]:.2f} [{s[key + '_min']:.2f}, "  # noqa: E731
                         f"{s[key + '_max']:.2f}]")
    return [
        "## Mixture-CDF inverse: bracketed Newton vs bisection (float64)",
        "",
        f"Round trip $x \\to z = T(x) \\to T^{{-1}}(z)$ for {s['n']:,} random "
        f"{s['k']}-component mixtures/points with $|x| \\le {s['x_max']:g}$ (error curves "
        f"on {s['curve_n']:,} of them); max absolute error over all of them. Ours: "
        "`gauss_flows.bijections.mixture_cdf.mixture_cdf_inverse`; baseline: "
        "`flowjax.root_finding.bisection_search` run for exactly n steps, same bracket "
        "$[\\min_k(\\mu_k+\\sigma_k z), \\max_k(\\mu_k+\\sigma_k z)]$, plus one forward "
        "call for the log-det. **Ratio = bisection time / ours** (median over "
        "interleaved rounds, [min, max] across rounds).",
        "",
        "| solver | iterations | max error | ms per 100k inversions | ratio |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| **ours at the defaults** (early exit, cap {s['default_iters']}) | "
        f"median {s['default_iterations_median']:g}, max {s['default_iterations_max']} | "
        f"{s['default_err']:.1e} | {s['default_ms_per_100k']:.0f} | "
        f"**{ratio('default_ratio')}** |",
        f"| bisection at equal accuracy | {s['bisection_equal_iters']} | "
        f"{s['bisection_equal_err']:.1e} | {s['bisection_equal_ms_per_100k']:.0f} | 1 |",
        f"| bisection at the target {s['target']:.0e} | {s['bisection_iters']} | "
        f"{s['bisection_err']:.1e} | {s['bisection_ms_per_100k']:.0f} | "
        f"ours at the defaults: {ratio('default_ratio_target')} |",
        f"| ours, smallest cap reaching the target | cap {s['newton_iters']} | "
        f"{s['newton_err']:.1e} | {s['newton_ms_per_100k']:.0f} | {ratio('ratio')} "
        "(vs the row above) |",
        "",
        "At the defaults each problem stops once converged (a `while_loop` with cap "
        f"{s['default_iters']}). A `vmap` of that loop would run every lane until the "
        "slowest stops and cost the *max* iteration count; `invert_monotone`'s batching "
        "rule instead hands the batch to a work queue (`root_finding.solve_many`), so "
        "it costs about the *total*. Default round trip far out (|x| from 30 to 1e300, "
        "20 of the "
        f"mixtures): max relative error {s['default_far_rel_err']:.1e}.",
        "",
        "![error vs iterations](inverse_error.png)",
    ]


def compile_section(data: dict) -> list[str]:
    s, rows = data["settings"], data["rows"]
    lines = [
        "## Compile time vs depth (float32)",
        "",
        f"`jax.jit(jax.value_and_grad(mean NLL)).lower(...).compile()` from scratch "
        f"(fastest of {s.get('repeats', 1)}), "
        f"affine couplings, d = {s['dim']}, width {s['width']}, depth {s['depth']}: "
        "`gf.coupling_flow` (flowjax `Scan` over pairs of layers) vs the same layers in "
        "an unrolled `flowjax.bijections.Chain`.",
        "",
        "| layers | coupling_flow (s) | unrolled Chain (s) | Chain / coupling_flow |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(f"| {r['layers']} | {r['coupling_flow_s']:.2f} | {r['chain_s']:.2f} | "
                     f"{r['chain_s'] / r['coupling_flow_s']:.2f} |")
    lines += ["", "![compile time vs depth](compile_depth.png)"]
    return lines


def compile_transformers_section(data: dict) -> list[str]:
    s = data["settings"]
    lines = [
        "## Compile time per transformer (float32)",
        "",
        f"A {s['layers']}-layer, d = {s['dim']}, width-{s['width']} `gf.coupling_flow`, "
        f"batch {s['batch']}: `.lower(...).compile()` of a fresh `jax.jit` of `log_prob`, "
        "of `value_and_grad` of the mean NLL, and of `sample` (which runs the inverses, "
        "i.e. the solvers), each after `jax.clear_caches()`, so nothing traced earlier is "
        f"reused; fastest of {s['repeats']}, transformers taking turns. "
        "In parentheses: the StableHLO op count of the lowered function (load-independent; "
        "a jitted inner function called from several places counts once) and the time "
        "relative to `rq_spline`, flowjax's `RationalQuadraticSpline` (via "
        "`gf.RQSplineCoupling`).",
        "",
        "| transformer | `log_prob` (s) | `value_and_grad` (s) | `sample` (s) |",
        "| --- | ---: | ---: | ---: |",
    ]
    ops = ("log_prob", "value_and_grad", "sample")
    spline = next((r for r in data["rows"] if r["transformer"] == "rq_spline"), None)
    for r in data["rows"]:
        cells = " | ".join(
            f"{r[op + '_s']:.2f} ({r[op + '_ops']}"
            + (f"; {r[op + '_s'] / spline[op + '_s']:.2f}×)" if spline else ")")
            for op in ops)
        lines.append(f"| {r['transformer']} | {cells} |")
    return lines


def notebooks_section(data: dict) -> list[str]:
    lines = [
        "## Notebook run time",
        "",
        "Each notebook executed top to bottom in a fresh kernel (nbclient, working "
        "directory `notebooks/`), on a copy: `notebooks/` is never written.",
        "",
        "| notebook | seconds |",
        "| --- | ---: |",
    ]
    lines += [f"| `{r['notebook']}` | {r['seconds']:.1f} |" for r in data["rows"]]
    lines.append(f"| **total** | **{data['total_s']:.1f}** |")
    return lines


def seeds_section(data: dict) -> list[str]:
    s, m = data["settings"], data["median"]
    k = str(s["seeds"])
    return [
        "## Seeds as a batch axis: k seeds in one vmapped program vs one seed",
        "",
        f"`gf.train_flows` on an {s['layers']}-layer affine `coupling_flow` (width "
        f"{s['width']}), {s['n']} two-moons points, batch {s['batch']}, {s['epochs']} "
        f"epochs = {s['steps']} Adam steps, early stopping off. **Cold**: "
        "`jax.clear_caches()` before the call, so compilation is included, as a notebook "
        "cell pays it; **compiled**: the same call again. Median over "
        f"{s['rounds']} rounds, the two seed counts taking turns.",
        "",
        "| | 1 seed (s) | " + k + " seeds (s) | ratio |",
        "| --- | ---: | ---: | ---: |",
        f"| cold (compile included) | {m['1']['cold']:.2f} | {m[k]['cold']:.2f} | "
        f"{data['ratio_cold']:.2f} |",
        f"| compiled | {m['1']['warm']:.2f} | {m[k]['warm']:.2f} | "
        f"{data['ratio_warm']:.2f} |",
    ]


def retrain_section(data: dict) -> list[str]:
    s, m, ratio = data["settings"], data["median"], data["ratio_second"]
    lines = [
        "## Training a second flow built alike",
        "",
        f"A {s['layers']}-layer coupling flow (conditioner width {s['width']}, depth "
        f"{s['depth']}) on {s['n']} two-moons points, {s['epochs']} epochs, batch "
        f"{s['batch']}, trained twice in a row, the second flow built with another key: "
        "`gf.coupling_flow` + `gf.train_flow` against flowjax's `coupling_flow` + "
        "`fit_to_data` with an equal optimiser. `jax.clear_caches()` before each pair. "
        f"Median over {s['rounds']} rounds; compilations are XLA's own count "
        "(`jax.monitoring`). Ratio > 1: ours is faster.",
        "",
        "| transformer | library | first call (s) | second call (s) | "
        "compilations in the second | flowjax / ours, second call |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for t in ("affine", "spline"):
        for lib in ("gauss_flows", "flowjax"):
            r = m[f"{lib}/{t}"]
            last = f"{ratio[t]:.1f}" if lib == "flowjax" else ""
            lines.append(f"| {t} | {lib} | {r['first']:.2f} | {r['second']:.2f} | "
                         f"{r['compiles_second']:.0f} | {last} |")
    return lines


def marginal_section(data: dict) -> list[str]:
    lines = ["## Diagonal layer: `log_prob` against flowjax constructions", "",
             "`MarginalGaussianization` (d mixture-CDF maps, one `Vmap`) against the same "
             "maps in flowjax's `Stack` and against flowjax's "
             "`Vmap(RationalQuadraticSpline)`"
             f" (K = {data['settings']['components']}, batch {data['settings']['batch']}, "
             "float32, jitted). Ratio > 1: ours is faster.", "",
             "| d | ours (ms) | Stack / ours | spline / ours |",
             "| --- | --- | --- | --- |"]
    for r in data["rows"]:
        lines.append(f"| {r['dim']} | {1e3 * r['t_ours']:.2f} "
                     f"| {fmt_ratio(r['ratio_stack'])} "
                     f"| {fmt_ratio(r['ratio_spline'])} |")
    return lines


def plot_inverse(data: dict, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, label, color in (("newton", "bracketed Newton (ours)", "#1f6fb2"),
                               ("bisection", "bisection (flowjax)", "#d4820a")):
        n, err = zip(*data["curves"][name], strict=True)
        ax.semilogy(n, [max(e, 1e-17) for e in err], "o-", ms=3, lw=1.5, color=color,
                    label=label)
    ax.axhline(data["summary"]["target"], color="0.4", ls="--", lw=1, label="target 1e-12")
    ax.set_xlabel("iterations")
    ax.set_ylabel(r"max $|T^{-1}(T(x)) - x|$, $|x| \leq 30$")
    ax.set_title("Mixture-CDF inverse, float64")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_compile(data: dict, path: Path) -> None:
    import matplotlib.pyplot as plt

    rows = data["rows"]
    layers = [r["layers"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(layers, [r["coupling_flow_s"] for r in rows], "o-", color="#1f6fb2",
            label="gf.coupling_flow (Scan)")
    ax.plot(layers, [r["chain_s"] for r in rows], "s-", color="#d4820a",
            label="unrolled Chain")
    ax.set_xscale("log", base=2)
    ax.set_xticks(layers, [str(n) for n in layers])
    ax.set_xlabel("coupling layers")
    ax.set_ylabel("compile time of value_and_grad (s)")
    ax.set_title("Compile time vs depth")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report() -> Path:
    parts = {name: load(name) for name in PARTS}
    quick = [name for name, d in parts.items() if d and d.get("meta", {}).get("quick")]
    meta = [f"{name} {d['meta']['wall_s']:.0f} s (load {d['meta']['load_before']:.1f}"
            f" -> {d['meta']['load_after']:.1f})"
            for name, d in parts.items() if d and "meta" in d]
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python benchmarks/run.py`); do not edit by hand.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}, jax {version('jax')}, "
        f"equinox {version('equinox')}, flowjax {version('flowjax')}, "
        f"optax {version('optax')}; `JAX_PLATFORMS=cpu`. Wall time per part (1-minute "
        f"load average before -> after): {'; '.join(meta) or 'n/a'}.",
    ]
    if quick:
        lines += ["", f"> **Smoke-test settings (`--quick`) for {', '.join(quick)}: "
                  "not the real numbers.**"]
    sections = {"speed": speed_section, "inverse": inverse_section,
                "compile": compile_section,
                "compile_transformers": compile_transformers_section,
                "notebooks": notebooks_section, "marginal": marginal_section,
                "seeds": seeds_section, "retrain": retrain_section}
    for name, section in sections.items():
        if parts[name]:
            lines += [""] + section(parts[name])
    if parts["inverse"]:
        plot_inverse(parts["inverse"], RESULTS / "inverse_error.png")
    if parts["compile"]:
        plot_compile(parts["compile"], RESULTS / "compile_depth.png")
    path = RESULTS / "RESULTS.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(PARTS), default=list(PARTS))
    parser.add_argument("--quick", action="store_true", help="tiny smoke-test settings")
    parser.add_argument("--report-only", action="store_true",
                        help="re-render RESULTS.md and plots from results/*.json")
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    start = time.perf_counter()
    if not args.report_only:
        for name in args.only:
            run_part(name, args.quick)
    path = write_report()
    print(f"wrote {path.relative_to(HERE.parent)} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
