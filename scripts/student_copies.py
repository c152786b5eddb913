"""Student copies of the notebooks: every solution removed, everything else intact.

Usage: python scripts/student_copies.py [--out student] [NOTEBOOK.ipynb ...]
(default: every notebook in notebooks/, written to student/, which git ignores)

A solution has two parts (CONTRIBUTING.md, "Exercises and solutions"):

- the ``{solution}`` directive in a markdown cell (colon or backtick fence, closed by a
  fence of the same kind and at least the same length), removed with everything in it;
- its code cell, labelled ``#| label: sol-...`` and tagged ``remove-cell``, removed with
  its outputs.

The exercises, every other cell and every other output are kept unchanged, so a copy
still runs top to bottom (``tests/course/test_student_copies.py`` executes each one).
``check_student_copy`` lists any solution content that survived.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPEN = re.compile(r"^(\s*)(:{3,}|`{3,})\{(solution(?:-start|-end)?)\}")
LABEL = re.compile(r"^#\|\s*label:\s*(\S+)", re.MULTILINE)
EXERCISE = re.compile(r"^\s*(?::{3,}|`{3,})\{exercise\}.*(?:\n\s*:label:\s*(\S+))?",
                      re.MULTILINE)


def _text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def strip_solutions(markdown: str, where: str = "markdown") -> tuple[str, list[str]]:
    """``markdown`` without its ``{solution}`` blocks, and the removed blocks."""
    lines = markdown.split("\n")
    kept: list[str] = []
    removed: list[str] = []
    i = 0
    while i < len(lines):
        m = OPEN.match(lines[i])
        if not m:
            kept.append(lines[i])
            i += 1
            continue
        if m.group(3) != "solution":
            raise ValueError(
                f"{where}: gated {m.group(3)} solutions are not supported; use a "
                "{solution} directive with an embedded code cell (CONTRIBUTING.md)."
            )
        fence = m.group(2)
        close = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        if j == len(lines):
            raise ValueError(f"{where}: the solution opened by {lines[i]!r} is never "
                             f"closed (a line of {fence!r}).")
        removed.append("\n".join(lines[i:j + 1]))
        i = j + 1
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")
    return text, removed


def solution_labels(cells: list[dict]) -> set[str]:
    """Labels of the code cells that solutions embed, plus every ``sol-`` label."""
    labels = set()
    for cell in cells:
        source = _text(cell.get("source", ""))
        if cell.get("cell_type") == "markdown":
            for block in strip_solutions(source)[1]:
                labels.update(re.findall(r"\{embed\}\s*#(\S+)", block))
        elif cell.get("cell_type") == "code":
            label = LABEL.search(source)
            if label and label.group(1).startswith("sol-"):
                labels.add(label.group(1))
    return labels


def student_copy(nb: dict, name: str = "notebook") -> dict:
    """A copy of notebook ``nb`` (nbformat JSON) with every solution removed."""
    out = copy.deepcopy(nb)
    labels = solution_labels(out["cells"])
    cells = []
    for index, cell in enumerate(out["cells"]):
        source = _text(cell.get("source", ""))
        if cell.get("cell_type") == "code":
            label = LABEL.search(source)
            if label and label.group(1) in labels:
                continue
        elif cell.get("cell_type") == "markdown":
            text, removed = strip_solutions(source, f"{name}: cell {index + 1}")
            if removed:
                cell["source"] = text
                if not text.strip():
                    continue
        cells.append(cell)
    out["cells"] = cells
    return out


def _exercises(nb: dict) -> list[str]:
    return [
        m.group(1) or "?"
        for c in nb["cells"] if c.get("cell_type") == "markdown"
        for m in EXERCISE.finditer(_text(c.get("source", "")))
    ]


def _all_text(nb: dict) -> str:
    """Every source and every output text of ``nb``, joined."""
    parts = []
    for cell in nb["cells"]:
        parts.append(_text(cell.get("source", "")))
        for o in cell.get("outputs", []):
            parts.append(_text(o.get("text", "")))
            data = o.get("data", {})
            parts += [_text(v) for k, v in data.items() if k.startswith("text/")]
    return "\n".join(parts)


def check_student_copy(original: dict, student: dict, name: str = "notebook") -> list[str]:
    """Problems with ``student`` as a student copy of ``original`` (empty if none)."""
    problems = []
    labels = solution_labels(original["cells"])
    solutions, rest = [], []
    for cell in original["cells"]:
        source = _text(cell.get("source", ""))
        label = LABEL.search(source) if cell.get("cell_type") == "code" else None
        if label and label.group(1) in labels:
            solutions.append(_all_text({"cells": [cell]}))
        elif cell.get("cell_type") == "markdown":
            kept, removed = strip_solutions(source)
            solutions += removed
            rest.append(kept)
        else:
            rest.append(_all_text({"cells": [cell]}))
    kept_text, copy_text = "\n".join(rest), _all_text(student)
    for block in solutions:  # lines that only a solution has must all be gone
        for line in {ln.strip() for ln in block.splitlines()}:
            if len(line) >= 12 and line not in kept_text and line in copy_text:
                problems.append(f"{name}: solution content survived: {line[:70]!r}")
    if re.search(r"\{solution(-start|-end)?\}", copy_text):
        problems.append(f"{name}: a {{solution}} directive survived")
    for cell in student["cells"]:
        label = LABEL.search(_text(cell.get("source", "")))
        if cell.get("cell_type") == "code" and label and label.group(1) in labels:
            problems.append(f"{name}: solution cell {label.group(1)!r} survived")
    if _exercises(student) != _exercises(original):
        problems.append(f"{name}: exercises changed: {_exercises(original)} -> "
                        f"{_exercises(student)}")

    def is_solution(cell: dict) -> bool:
        label = LABEL.search(_text(cell.get("source", "")))
        return bool(label and label.group(1) in labels)

    code = [c for c in original["cells"]
            if c.get("cell_type") == "code" and not is_solution(c)]
    if code != [c for c in student["cells"] if c.get("cell_type") == "code"]:
        problems.append(f"{name}: the code cells that are not solutions (or their outputs) "
                        "changed")
    return problems


def write_copies(paths: list[Path], out_dir: Path) -> list[Path]:
    """Write a student copy of each notebook into ``out_dir``; check each; return them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        nb = json.loads(path.read_text())
        student = student_copy(nb, path.name)
        problems = check_student_copy(nb, student, path.name)
        if problems:
            raise SystemExit("\n".join(problems))
        target = out_dir / path.name
        target.write_text(json.dumps(student, indent=1, ensure_ascii=False) + "\n")
        n_removed = len(nb["cells"]) - len(student["cells"])
        n_ex = len(_exercises(student))
        print(f"{target}: {n_ex} exercises kept, solutions removed "
              f"({n_removed} cells dropped)")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "student")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    write_copies(paths, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
