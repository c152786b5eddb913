"""Execute notebooks top to bottom in place, so their stored outputs are fresh.

Usage: python scripts/run_notebooks.py notebooks/00_coupling_pattern.ipynb [...]

Runs each notebook in a fresh kernel of the current environment (as nbval does in
CI), with the working directory set to the notebook's folder, and prints its
wall-clock run time. ``GAUSS_FLOWS_PROGRESS=0`` keeps ``train_flow``'s progress bar
(stderr) out of the stored outputs.

Before writing, it normalises what JupyterLab would otherwise change on opening or
saving, so that a notebook opened and saved in Lab, or re-run unchanged, stays
byte-identical: the kernelspec is the one Lab writes for the ``python3`` kernel
(``KERNELSPEC``); cells the site folds are collapsed in Lab through Lab's own cell
metadata (``jupyter.source_hidden`` for ``hide-input`` cells, and also
``jupyter.outputs_hidden`` for solution code cells); consecutive stream outputs of the
same stream are merged, as Lab shows them.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


#: The kernelspec JupyterLab writes into a notebook that runs on ipykernel's python3.
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
SOLUTION_LABEL = re.compile(r"^#\|\s*label:\s*sol-", re.MULTILINE)


def lab_view(cell) -> dict:
    """The ``jupyter`` cell metadata that collapses what the site folds, or ``{}``."""
    if cell.cell_type != "code":
        return {}
    if SOLUTION_LABEL.search(cell.source):
        return {"outputs_hidden": True, "source_hidden": True}
    if "hide-input" in cell.metadata.get("tags", []):
        return {"source_hidden": True}
    return {}


def merge_streams(outputs: list) -> list:
    merged = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and prev is not None
                and prev.get("output_type") == "stream" and prev["name"] == out["name"]):
            prev["text"] += out["text"]
        else:
            merged.append(out)
    return merged


def normalise(nb) -> None:
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # no per-run execution timestamps
        view = lab_view(cell)
        if view:
            cell.metadata["jupyter"] = view
        else:
            cell.metadata.pop("jupyter", None)
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    normalise(nb)
    client = NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    normalise(nb)
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
