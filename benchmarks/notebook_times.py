"""Execution time of each course notebook, without touching ``notebooks/``.

Each notebook is read, executed top to bottom in a fresh ``python3`` kernel of the
current environment by nbclient (as ``scripts/run_notebooks.py`` and nbval do), with
the kernel's working directory set to the repository's ``notebooks/`` folder so that
``import _style`` and relative paths resolve, and the executed copy is only written
to a temporary directory (never back to ``notebooks/``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def time_notebook(path: Path, out_dir: Path, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nbformat.write(nb, out_dir / path.name)  # the executed copy, outside the repo
    return seconds


def run(paths: list[Path], timeout: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="gf_bench_nb_") as tmp:
        for path in paths:
            seconds = time_notebook(path, Path(tmp), timeout)
            rows.append({"notebook": path.name, "seconds": seconds})
            print(f"{path.name}: {seconds:.1f} s", flush=True)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="default: every notebooks/*.ipynb")
    parser.add_argument("--timeout", type=int, default=900, help="per cell, seconds")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.notebooks] or sorted(NOTEBOOKS.glob("*.ipynb"))
    rows = run(paths, args.timeout)
    result = {"rows": rows, "total_s": sum(r["seconds"] for r in rows)}
    print(f"total: {result['total_s']:.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
