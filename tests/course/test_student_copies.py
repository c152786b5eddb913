"""Student copies (scripts/student_copies.py, `make student`): no solution survives, the
exercises and every other cell stay, an empty answer cell stands where each solution's
code was, and no kept cell needs a name that only a solution defines (so each copy
runs top to bottom whenever its notebook does, which nbval checks)."""

import json
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from student_copies import (  # noqa: E402
    check_student_copy,
    is_answer_cell,
    names_only_solutions_define,
    strip_solutions,
    student_copy,
)

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
    types = [c["cell_type"] for c in student["cells"]]
    assert types == ["markdown", "code", "markdown", "code"]
    assert student["cells"][1] == nb["cells"][1]  # outputs of kept cells kept
    assert student["cells"][2]["source"] == f"## Exercises\n\n{EXERCISE}\nAfter."
    answer = student["cells"][3]  # where the solution's code was: an empty answer cell
    assert is_answer_cell(answer) and answer["outputs"] == []
    assert answer["source"] == "# Your answer to the exercise above (ex-00-a).\n"
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
    leaky["cells"][3] = nb["cells"][3]
    assert any("sol-ex-00-a" in p for p in check_student_copy(nb, leaky))
    leaky = json.loads(json.dumps(student))
    leaky["cells"][2]["source"] = "## Exercises\n"
    assert any("exercises changed" in p for p in check_student_copy(nb, leaky))
    leaky = json.loads(json.dumps(student))
    leaky["cells"][1]["outputs"] = []
    assert any("changed" in p for p in check_student_copy(nb, leaky))


def test_a_kept_cell_that_needs_a_solution_name_is_caught():
    nb = _synthetic()
    assert names_only_solutions_define(nb) == []
    # a later kept cell reads `answer`, which only the solution cell defines
    nb["cells"].append(nbformat.v4.new_code_cell("%matplotlib inline\nprint(answer + x)"))
    problems = names_only_solutions_define(json.loads(json.dumps(nb)))
    assert problems == ["cell 6 reads 'answer', which only a solution defines"]
    # once a kept cell defines it too, the copy can run
    nb["cells"].insert(1, nbformat.v4.new_code_cell("import numpy as np\nanswer = 0"))
    assert names_only_solutions_define(json.loads(json.dumps(nb))) == []


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
    solutions = sum(1 for c in nb["cells"] if "#| label: sol-" in "".join(c["source"]))
    answers = [c for c in student["cells"] if is_answer_cell(c)]
    assert solutions and len(answers) == solutions  # one answer cell per solution
    # the copy runs whenever the notebook does: no kept cell needs a solution's name
    assert names_only_solutions_define(nb) == []
