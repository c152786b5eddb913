"""Student copies (scripts/student_copies.py, `make student`): no solution survives, the
exercises and every other cell stay, and each copy still runs top to bottom."""

import json
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from student_copies import check_student_copy, strip_solutions, student_copy  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXERCISE = ":::{exercise} Title\n:label: ex-00-a\nDo it.\n:::\n"
SOLUTION = (
    "::::{solution} ex-00-a\n:class: dropdown\nThe hidden answer is forty-two.\n\n"
    ":::{embed} #sol-ex-00-a\n:::\n\nBecause of the secret reason.\n::::\n"
)


def _synthetic() -> dict:
    nb = nbformat.v4.new_notebook()
    kept = nbformat.v4.new_code_cell("x = 1\nprint(x)")
    kept.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    solution = nbformat.v4.new_code_cell(
        "#| label: sol-ex-00-a\nanswer = secret_computation(x)\nprint(answer)",
        metadata={"tags": ["remove-cell"]},
    )
    solution.outputs = [nbformat.v4.new_output("stream", name="stdout", text="42 secret\n")]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        kept,
        nbformat.v4.new_markdown_cell(f"## Exercises\n\n{EXERCISE}\n{SOLUTION}\nAfter."),
        solution,
        nbformat.v4.new_markdown_cell(SOLUTION),  # a cell holding only a solution goes
    ]
    return json.loads(json.dumps(nb))


def test_solutions_go_and_everything_else_stays():
    nb = _synthetic()
    student = student_copy(nb)
    assert check_student_copy(nb, student) == []
    assert [c["cell_type"] for c in student["cells"]] == ["markdown", "code", "markdown"]
    assert student["cells"][1] == nb["cells"][1]  # outputs of kept cells kept
    assert student["cells"][2]["source"] == f"## Exercises\n\n{EXERCISE}\nAfter."
    text = json.dumps(student)
    for secret in ("forty-two", "secret", "sol-ex-00-a", "{solution}", "dropdown"):
        assert secret not in text


def test_the_check_catches_a_surviving_solution():
    nb = _synthetic()
    student = student_copy(nb)
    leaky = json.loads(json.dumps(student))
    leaky["cells"][2]["source"] += "\nThe hidden answer is forty-two."
    assert any("forty-two" in p for p in check_student_copy(nb, leaky))
    leaky = json.loads(json.dumps(student))
    leaky["cells"].append(nb["cells"][3])
    assert any("sol-ex-00-a" in p for p in check_student_copy(nb, leaky))
    leaky = json.loads(json.dumps(student))
    leaky["cells"][2]["source"] = "## Exercises\n"
    assert any("exercises changed" in p for p in check_student_copy(nb, leaky))
    leaky = json.loads(json.dumps(student))
    leaky["cells"][1]["outputs"] = []
    assert any("changed" in p for p in check_student_copy(nb, leaky))


@pytest.mark.parametrize(
    ("markdown", "match"),
    [
        ("::::{solution} ex\n:class: dropdown\nNever closed.\n:::\n", "never closed"),
        ("```{solution-start} ex\n```\nHidden.\n```{solution-end}\n```\n", "gated"),
    ],
)
def test_bad_solution_markup_raises(markdown, match):
    with pytest.raises(ValueError, match=match):
        strip_solutions(markdown)


def test_backtick_fences_are_stripped_too():
    text, removed = strip_solutions("Before.\n\n````{solution} ex\nHidden.\n````\n\nAfter.")
    assert text == "Before.\n\nAfter." and len(removed) == 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_course_notebook_has_solutions_to_remove(path):
    nb = json.loads(path.read_text())
    student = student_copy(nb, path.name)
    assert check_student_copy(nb, student, path.name) == []
    assert len(student["cells"]) < len(nb["cells"])  # the module's notebooks have solutions


@pytest.mark.notebook_run
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_student_copy_runs_top_to_bottom(path, tmp_path):
    copy = student_copy(json.loads(path.read_text()), path.name)
    student = nbformat.reads(json.dumps(copy), as_version=4)
    start = time.perf_counter()
    NotebookClient(
        student, timeout=600, kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()  # raises CellExecutionError on the first failing cell
    print(f"{path.name} student copy ran in {time.perf_counter() - start:.1f} s")
    code = [c for c in student.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code)  # every cell ran
    assert not [o for c in code for o in c.get("outputs", [])
                if o.get("output_type") == "error"]
