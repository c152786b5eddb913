"""Notebook layout lint: what the site's page shows must fit it.

Rules (``make test`` runs them through ``tests/course/test_notebook_lint.py``):

1. **Width.** Every code line and every printed line (stdout, and the ``text/plain`` of
   a result that is shown as text) is at most ``WIDTH`` = 88 characters, the width of
   the site's code column. Exempt: the cell-option lines ``#| ...`` (mystmd does not
   show them), the standard install cell (folded on the site, fixed by
   ``scripts/check_site.py``), the ``text/plain`` of an image output (it is the alt
   text, never shown), and the source or outputs of cells tagged ``remove-input`` /
   ``remove-output`` / ``remove-cell`` (except solution cells, which the site shows
   inside their collapsed solution).
2. **Folding.** The install cell (the first code cell) and every *figure cell* carry
   the tag ``hide-input``: the site folds their code, nbval still runs them. A figure
   cell is a code cell whose outputs are images only (no printed text, no other
   result); if the code of such a cell teaches something, compute in a cell of its
   own and keep the drawing cell folded.
3. **JupyterLab.** What the site folds is collapsed in JupyterLab too, through Lab's
   own cell metadata: a ``hide-input`` cell has ``jupyter.source_hidden``, a solution
   code cell (``#| label: sol-...``) has ``jupyter.source_hidden`` and
   ``jupyter.outputs_hidden``. The kernelspec is the one Lab writes for the
   ``python3`` kernel, so that opening and saving a notebook in Lab changes nothing.
   ``scripts/run_notebooks.py`` (``make notebooks``) sets all of these.
4. **Captions in JupyterLab.** Every figure cell with a ``#| caption:`` option is
   followed by its Lab caption cell (markdown ``**Figure.** <the same caption>``, tagged
   ``remove-cell``: the site drops it and prints the real caption), and no such cell
   stands anywhere else. ``make notebooks`` writes them.

Usage: python scripts/lint_notebooks.py [NOTEBOOK.ipynb ...]   (default: notebooks/*.ipynb)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_notebooks import (  # noqa: E402
    KERNELSPEC,
    LAB_CAPTION,
    caption_option,
    is_lab_caption,
)

WIDTH = 88
FOLD_TAGS = {"hide-input", "remove-input", "remove-cell"}
FIGURE_LABEL = re.compile(r"^#\| label: fig-", re.MULTILINE)
ROOT = Path(__file__).resolve().parent.parent
INSTALL_MARK = "install gauss_flows if it is missing"
LABEL = re.compile(r"^#\|\s*label:\s*(\S+)", re.MULTILINE)


def _text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def _where(path: Path, index: int, cell: dict) -> str:
    label = LABEL.search(_text(cell.get("source", "")))
    name = f" ({label.group(1)})" if label else ""
    return f"{path.name}: cell {index + 1}{name}"


def _too_long(where: str, what: str, text: str, width: int) -> list[str]:
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.expandtabs(4).rstrip()
        if len(line) > width:
            problems.append(
                f"{where}: {what} line {number} has {len(line)} > {width} characters: "
                f"{line[:60]!r}..."
            )
    return problems


def _is_solution(cell: dict) -> bool:
    label = LABEL.search(_text(cell.get("source", "")))
    return bool(label and label.group(1).startswith("sol-"))


def is_figure_cell(cell: dict) -> bool:
    """A code cell whose outputs are images and nothing else (no printed text)."""
    outputs = cell.get("outputs") or []
    if not outputs:
        return False
    for out in outputs:
        if out.get("output_type") not in {"display_data", "execute_result"}:
            return False
        if not any(m.startswith("image/") for m in out.get("data", {})):
            return False
    return True


def lint_notebook(path: Path, width: int = WIDTH) -> list[str]:
    """Every layout problem of one notebook, one line each (file, cell, line)."""
    nb = json.loads(Path(path).read_text())
    problems: list[str] = []
    if nb.get("metadata", {}).get("kernelspec") != KERNELSPEC:
        problems.append(f"{Path(path).name}: kernelspec is "
                        f"{nb.get('metadata', {}).get('kernelspec')}, not the one "
                        f"JupyterLab writes ({KERNELSPEC}); run `make notebooks`")
    problems += lint_lab_captions(Path(path), nb.get("cells", []))
    first_code = True
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        where = _where(Path(path), index, cell)
        tags = set(cell.get("metadata", {}).get("tags", []))
        source = _text(cell.get("source", ""))
        shown = _is_solution(cell) or not tags & {"remove-cell"}
        is_install = first_code and INSTALL_MARK in source
        if first_code and not tags & FOLD_TAGS:
            problems.append(f"{where}: the install cell (first code cell) needs the tag "
                            "hide-input")
        elif not first_code and is_figure_cell(cell) and not tags & FOLD_TAGS:
            problems.append(f"{where}: a cell that only draws a figure needs the tag "
                            "hide-input")
        elif FIGURE_LABEL.search(source) and not tags & FOLD_TAGS:
            problems.append(f"{where}: a labelled figure cell needs the tag hide-input")
        if FIGURE_LABEL.search(source) and any(
                out.get("output_type") == "stream" for out in cell.get("outputs", [])):
            problems.append(f"{where}: a labelled figure cell prints, and on the site the "
                            "text lands between the figure and its caption; print and "
                            "assert in the next cell")
        first_code = False
        view = cell.get("metadata", {}).get("jupyter", {})
        if _is_solution(cell) and not (view.get("source_hidden")
                                       and view.get("outputs_hidden")):
            problems.append(f"{where}: a solution cell must be collapsed in JupyterLab "
                            "(metadata jupyter.source_hidden and outputs_hidden)")
        elif "hide-input" in tags and not view.get("source_hidden"):
            problems.append(f"{where}: a hide-input cell must be collapsed in JupyterLab "
                            "(metadata jupyter.source_hidden)")
        if shown and not is_install and "remove-input" not in tags:
            code = "\n".join(ln for ln in source.splitlines() if not ln.startswith("#|"))
            problems += _too_long(where, "code", code, width)
        if not shown or tags & {"remove-output"}:
            continue
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream" and out.get("name") == "stdout":
                problems += _too_long(where, "printed", _text(out.get("text", "")), width)
            elif kind in {"execute_result", "display_data"}:
                data = out.get("data", {})
                if any(m.startswith("image/") or m == "text/html" for m in data):
                    continue  # text/plain is the alt text / fallback, not shown
                if "text/plain" in data:
                    problems += _too_long(where, "result", _text(data["text/plain"]), width)
    return problems


def lint_lab_captions(path: Path, cells: list[dict]) -> list[str]:
    """Rule 4: a Lab caption cell after every captioned figure cell, and only there."""
    problems = []
    for index, cell in enumerate(cells):
        following = cells[index + 1] if index + 1 < len(cells) else {}
        caption = caption_option(cell)
        if caption is not None:
            text = _text(following.get("source", ""))
            if not is_lab_caption(following) or text != LAB_CAPTION + caption:
                problems.append(f"{_where(path, index, cell)}: its caption is not repeated "
                                "for JupyterLab in the next cell (markdown '**Figure.** "
                                "<caption>' tagged remove-cell); run `make notebooks`")
        elif is_lab_caption(cell) and not (index and caption_option(cells[index - 1])):
            problems.append(f"{path.name}: cell {index + 1} is a Lab caption cell after no "
                            "captioned figure; run `make notebooks`")
    return problems


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    paths = [Path(p) for p in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    problems = [p for path in paths for p in lint_notebook(path)]
    for p in problems:
        print(p)
    if problems:
        print(f"\nNotebook lint FAILED: {len(problems)} problem(s). Lines must fit {WIDTH} "
              "characters; the install cell and figure-only cells need hide-input, and "
              "folded cells must be collapsed in JupyterLab, with figure captions repeated "
              "for it (CONTRIBUTING.md, 'Layout on the page'; `make notebooks` sets the "
              "metadata and writes the caption cells).")
        return 1
    print(f"Notebook lint passed: {len(paths)} notebook(s), every line within {WIDTH} "
          "characters, install and figure cells folded, collapsed in JupyterLab, "
          "captions shown there.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
