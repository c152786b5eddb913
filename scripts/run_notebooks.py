"""Execute notebooks top to bottom in place, so their stored outputs are fresh.

Usage: python scripts/run_notebooks.py notebooks/00_coupling_pattern.ipynb [...]

Runs each notebook in a fresh kernel of the current environment (as nbval does in
CI), with the working directory set to the notebook's folder, and prints its
wall-clock run time. ``GAUSS_FLOWS_PROGRESS=0`` keeps ``train_flow``'s progress bar
(stderr) out of the stored outputs.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    for cell in nb.cells:  # keep diffs small: no per-run execution timestamps
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    return seconds


def main(paths: list[str]) -> None:
    os.environ["GAUSS_FLOWS_PROGRESS"] = "0"  # inherited by the kernels
    total = 0.0
    for p in paths:
        seconds = run(Path(p))
        total += seconds
        print(f"{p}: {seconds:.1f} s", flush=True)
    print(f"total: {total:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
