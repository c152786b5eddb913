"""The notebook layout lint (scripts/lint_notebooks.py): every notebook passes, and each
rule catches a notebook that breaks it."""

import json
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from lint_notebooks import KERNELSPEC, WIDTH, lint_notebook  # noqa: E402
from run_notebooks import write_lab_captions  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
INSTALL = '# On Colab or a fresh kernel, install gauss_flows if it is missing.\nimport sys'
PNG = "iVBORw0KGgo="


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_fits_the_page(path):
    problems = lint_notebook(path)
    assert not problems, "\n".join(problems)


def _notebook(tmp_path, *cells) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    install = nbformat.v4.new_code_cell(
        INSTALL, metadata={"tags": ["hide-input"], "jupyter": {"source_hidden": True}}
    )
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), install, *cells]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    return path


def _code(source, outputs=(), tags=(), view=None):
    """A code cell; ``view`` is its Lab view (``jupyter`` metadata), by default the one
    ``make notebooks`` writes for its tags and label."""
    metadata = {"tags": list(tags)} if tags else {}
    if view is None:
        view = {}
        if "label: sol-" in source:
            view = {"source_hidden": True, "outputs_hidden": True}
        elif "hide-input" in tags:
            view = {"source_hidden": True}
    if view:
        metadata["jupyter"] = view
    cell = nbformat.v4.new_code_cell(source, metadata=metadata)
    cell.outputs = list(outputs)
    return cell


def _stdout(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def _image(alt="A figure."):
    data = {"image/png": PNG, "text/plain": alt}
    return nbformat.v4.new_output("display_data", data=data)


def _result(text):
    return nbformat.v4.new_output("execute_result", data={"text/plain": text},
                                  execution_count=1)


def _lab_caption(text):
    """The markdown cell that repeats a figure's caption for JupyterLab."""
    return nbformat.v4.new_markdown_cell(f"**Figure.** {text}",
                                         metadata={"tags": ["remove-cell"]})


LONG = "x" * (WIDTH + 1)
BAD = {
    "long code line": (_code(f"a = '{LONG}'"), "code line 1"),
    "long printed line": (_code("print(s)", [_stdout(f"ok\n{LONG}\n")]), "printed line 2"),
    "long result line": (_code("s", [_result(LONG)]), "result line 1"),
    "long line in a solution": (
        _code(f"#| label: sol-ex-00-x\nb = '{LONG}'", tags=["remove-cell"]), "sol-ex-00-x"
    ),
    "unfolded figure cell": (_code("#| label: fig-a\nshow(fig)", [_image()]), "hide-input"),
    "labelled figure cell that prints": (
        _code("#| label: fig-a\nshow(fig)\nprint(1)", [_image(), _stdout("1\n")],
              ["hide-input"]),
        "print and assert in the next cell",
    ),
    "labelled figure cell, unfolded, with a printed line": (
        _code("#| label: fig-a\nshow(fig)\nprint(1)", [_image(), _stdout("1\n")]),
        "needs the tag hide-input",
    ),
    "figure cell open in Lab": (
        _code("show(fig)", [_image()], ["hide-input"], view={}), "jupyter.source_hidden"
    ),
    "captioned figure without its caption for Lab": (
        _code("#| caption: Two moons.\nshow(fig)", [_image()], ["hide-input"]),
        "not repeated for JupyterLab",
    ),
    "solution open in Lab": (
        _code("#| label: sol-ex-00-x\nb = 1", tags=["remove-cell"],
              view={"source_hidden": True}),
        "outputs_hidden",
    ),
}
GOOD = {
    "line of exactly the width": _code("a" * WIDTH, [_stdout("b" * WIDTH + "\n")]),
    "long cell option": [
        _code(f"#| caption: {LONG}\nshow(fig)", [_image()], ["hide-input"]),
        _lab_caption(LONG),
    ],
    "alt text of a figure": _code("show(fig)", [_image(LONG)], ["hide-input"]),
    "figure cell that also prints": _code("print(1)", [_stdout("1\n"), _image()]),
    "removed cell": _code(f"a = '{LONG}'", [_stdout(LONG)], ["remove-cell"]),
    "removed output": _code("print(s)", [_stdout(LONG)], ["remove-output"]),
}


@pytest.mark.parametrize("case", BAD)
def test_lint_catches(tmp_path, case):
    cell, expected = BAD[case]
    problems = lint_notebook(_notebook(tmp_path, cell))
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("nb.ipynb: cell 3") for p in problems), problems


@pytest.mark.parametrize("case", GOOD)
def test_lint_accepts(tmp_path, case):
    cells = GOOD[case] if isinstance(GOOD[case], list) else [GOOD[case]]
    assert lint_notebook(_notebook(tmp_path, *cells)) == []


FIGURE = "#| label: fig-a\n#| caption: Two moons, $n = 2$.\nshow(fig)"


def test_lab_caption_must_repeat_the_caption_and_follow_a_figure(tmp_path):
    figure = _code(FIGURE, [_image()], ["hide-input"])
    stale = lint_notebook(_notebook(tmp_path, figure, _lab_caption("Two moons.")))
    assert len(stale) == 1 and "not repeated for JupyterLab" in stale[0], stale
    stray = lint_notebook(_notebook(tmp_path, _lab_caption("Two moons.")))
    assert len(stray) == 1 and "after no captioned figure" in stray[0], stray


def test_make_notebooks_writes_one_lab_caption_per_figure(tmp_path):
    figure = _code(FIGURE, [_image()], ["hide-input"])
    path = _notebook(tmp_path, figure, nbformat.v4.new_markdown_cell("Text."))
    nb = nbformat.read(path, 4)
    write_lab_captions(nb)
    write_lab_captions(nb)  # idempotent
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "code", "markdown",
                                               "markdown"]
    assert nb.cells[3].source == "**Figure.** Two moons, $n = 2$."
    assert nb.cells[3].metadata["tags"] == ["remove-cell"]
    nbformat.write(nb, path)
    assert lint_notebook(path) == []
    nb.cells[2].source = nb.cells[2].source.replace("Two moons", "Three moons")
    write_lab_captions(nb)  # a changed caption is rewritten, not added
    assert [c.source for c in nb.cells if c.source.startswith("**Figure.**")] == [
        "**Figure.** Three moons, $n = 2$."]


def test_kernelspec_must_be_the_one_lab_writes(tmp_path):
    path = _notebook(tmp_path)
    nb = json.loads(path.read_text())
    nb["metadata"]["kernelspec"]["display_name"] = "Python 3"
    path.write_text(json.dumps(nb))
    problems = lint_notebook(path)
    assert len(problems) == 1 and "kernelspec" in problems[0], problems


def test_install_cell_must_be_folded(tmp_path):
    path = _notebook(tmp_path)
    nb = json.loads(path.read_text())
    nb["cells"][1]["metadata"]["tags"] = []
    path.write_text(json.dumps(nb))
    assert lint_notebook(path) == [
        "nb.ipynb: cell 2: the install cell (first code cell) needs the tag hide-input"
    ]
