"""Student copies of the notebooks: every solution removed, everything else intact.

Usage: python scripts/student_copies.py [--out student] [NOTEBOOK.ipynb ...]
(default: every notebook in notebooks/, written to student/, which git ignores)

A solution has two parts (CONTRIBUTING.md, "Exercises and solutions"):

- the ``{solution}`` directive in a markdown cell (colon or backtick fence, closed by a
  fence of the same kind and at least the same length), removed with everything in it;
- its code cell, labelled ``#| label: sol-...`` and tagged ``remove-cell``, removed with
  its outputs.

Where a solution code cell was, the copy has an empty *answer cell* (one comment line
that names the exercise, tagged ``student-answer``) for the student's code. The
exercises, every other cell and every other output are kept unchanged.
``check_student_copy`` lists any solution content that survived, and
``names_only_solutions_define`` checks, without running anything, that no kept cell
reads a name that only a solution cell defines, so that a copy runs top to bottom
whenever the full notebook does (which nbval checks).
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPEN = re.compile(r"^(\s*)(:{3,}|`{3,})\{(solution(?:-start|-end)?)\}")
LABEL = re.compile(r"^#\|\s*label:\s*(\S+)", re.MULTILINE)
ANSWER_TAG = "student-answer"
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


def answer_cell(solution_label: str) -> dict:
    """The empty code cell that takes the place of solution ``sol-<exercise label>``."""
    exercise = solution_label.removeprefix("sol-")
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": [ANSWER_TAG]},
        "outputs": [],
        "source": f"# Your answer to the exercise above ({exercise}).\n",
    }


def is_answer_cell(cell: dict) -> bool:
    return ANSWER_TAG in cell.get("metadata", {}).get("tags", [])


def student_copy(nb: dict, name: str = "notebook") -> dict:
    """A copy of notebook ``nb`` (nbformat JSON) with every solution removed and an
    empty answer cell where each solution's code cell was."""
    out = copy.deepcopy(nb)
    labels = solution_labels(out["cells"])
    cells = []
    for index, cell in enumerate(out["cells"]):
        source = _text(cell.get("source", ""))
        if cell.get("cell_type") == "code":
            label = LABEL.search(source)
            if label and label.group(1) in labels:
                answer = answer_cell(label.group(1))
                if "id" in cell:
                    answer["id"] = cell["id"]
                cells.append(answer)
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
    kept = [c for c in student["cells"]
            if c.get("cell_type") == "code" and not is_answer_cell(c)]
    if code != kept:
        problems.append(f"{name}: the code cells that are not solutions (or their outputs) "
                        "changed")
    return problems


def _python(source: str) -> ast.Module:
    """A code cell's source as Python, its IPython magics and shell lines blanked."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line
             for line in source.splitlines()]
    return ast.parse("\n".join(lines))


def _defined(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):  # parameters of functions and lambdas
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _read(tree: ast.AST) -> set[str]:
    return {node.id for node in ast.walk(tree)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def names_only_solutions_define(nb: dict) -> list[str]:
    """Problems: a kept code cell reads a name that only solution cells define.

    Without the solutions, such a cell would fail with a ``NameError`` in the student
    copy. The check is static (``ast``): it reads names, it runs nothing.
    """
    labels = solution_labels(nb["cells"])
    by_solutions, by_kept, kept_trees = set(), set(), []
    for index, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "code":
            continue
        source = _text(cell.get("source", ""))
        tree = _python(source)
        label = LABEL.search(source)
        if label and label.group(1) in labels:
            by_solutions |= _defined(tree)
        else:
            by_kept |= _defined(tree)
            kept_trees.append((index, tree))
    only = by_solutions - by_kept
    return [f"cell {index + 1} reads {name!r}, which only a solution defines"
            for index, tree in kept_trees for name in sorted(_read(tree) & only)]


def write_copies(paths: list[Path], out_dir: Path) -> list[Path]:
    """Write a student copy of each notebook into ``out_dir``; check each; return them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        nb = json.loads(path.read_text())
        student = student_copy(nb, path.name)
        problems = check_student_copy(nb, student, path.name)
        problems += [f"{path.name}: {p}" for p in names_only_solutions_define(nb)]
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
