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

It also writes each figure's caption where JupyterLab shows it. A figure's caption is a
cell option (``#| caption: ...``) of its folded code cell, which the site prints under
the figure but Lab, with the source collapsed, never shows. So every captioned figure
cell is followed by a *Lab caption cell*: a markdown cell ``**Figure.** <caption>``
tagged ``remove-cell``, which the site drops (it has the real caption) and Lab renders
under the figure. The caption cell is rewritten from the cell option on every run, so
the two cannot drift; ``scripts/lint_notebooks.py`` checks that they agree.
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
KERNELSPEC = {
    "display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"
}
SOLUTION_LABEL = re.compile(r"^#\|\s*label:\s*sol-", re.MULTILINE)
CAPTION_OPTION = re.compile(r"^#\|\s*caption:\s*(.+?)\s*$", re.MULTILINE)
#: How a Lab caption cell starts (the rest is the figure cell's caption).
LAB_CAPTION = "**Figure.** "


def caption_option(cell) -> str | None:
    """The ``#| caption:`` of a code cell, or ``None``."""
    if cell.get("cell_type") != "code":
        return None
    source = cell.get("source", "")
    match = CAPTION_OPTION.search(source if isinstance(source, str) else "".join(source))
    return match.group(1) if match else None


def is_lab_caption(cell) -> bool:
    """Whether a cell is a Lab caption cell (see the module docstring)."""
    source = cell.get("source", "")
    source = source if isinstance(source, str) else "".join(source)
    return (cell.get("cell_type") == "markdown" and source.startswith(LAB_CAPTION)
            and "remove-cell" in cell.get("metadata", {}).get("tags", []))


def write_lab_captions(nb) -> None:
    """Put a Lab caption cell after every captioned figure cell, and nowhere else."""
    cells = [c for c in nb.cells if not is_lab_caption(c)]
    nb.cells = []
    for cell in cells:
        nb.cells.append(cell)
        caption = caption_option(cell)
        if caption is not None:
            lab = nbformat.v4.new_markdown_cell(LAB_CAPTION + caption)
            lab.metadata["tags"] = ["remove-cell"]
            lab.id = f"{cell.id}-caption"  # stable, so re-runs do not rewrite it
            nb.cells.append(lab)


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
    write_lab_captions(nb)
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
        nb, timeout=900, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
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
