"""The public namespace and the package's layout rules."""

import ast
from pathlib import Path

import gauss_flows as gf

PACKAGE = Path(gf.__file__).resolve().parent

#: Names that left the top level, and where they live now (written out).
MOVED = {
    "default_show_progress": "gauss_flows.training",
    "transformer_parameters": "gauss_flows.fitting",
    "fitted_transformers": "gauss_flows.fitting",
    "diagonal_layer": "gauss_flows.fitting",
    "fit_marginal_mixtures": "gauss_flows.fitting",
}


def test_every_exported_name_resolves():
    """Reference: ``__all__`` itself, each name looked up on the package."""
    missing = [name for name in gf.__all__ if not hasattr(gf, name)]
    assert missing == []


def test_moved_names_are_off_the_top_level_and_live_in_their_subpackage():
    """Reference: the list of moved names above."""
    import importlib

    for name, where in MOVED.items():
        assert name not in gf.__all__ and not hasattr(gf, name), name
        assert hasattr(importlib.import_module(where), name), name
    for gone in ("default_mask", "ndtri_of_log", "baselines", "scores"):
        assert not hasattr(gf, gone), gone
    # the mask and the parameter count keep a name where the course calls them
    assert gf.masks.half is gf.conditioning.masks.half
    assert gf.conditioners.count_parameters is gf.count_parameters


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        module = getattr(node, "module", None) or ""
        if isinstance(node, ast.ImportFrom) and module.startswith("gauss_flows"):
            yield node


def test_no_module_imports_another_modules_private_names():
    """Reference: every ``from gauss_flows... import`` of the package's source, read as
    text (private *modules* such as ``_validation`` hold public names)."""
    private = [
        f"{path.relative_to(PACKAGE)}: {alias.name}"
        for path in PACKAGE.rglob("*.py")
        for node in _imports(path)
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert private == []


def test_the_xla_guard_runs_before_any_other_part_of_the_package():
    """Reference: the statements of ``gauss_flows/__init__.py`` in order."""
    body = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8")).body
    statements = [s for s in body if not isinstance(s, ast.Expr) or not isinstance(
        s.value, ast.Constant)]  # skip the docstring
    first, second = statements[:2]
    assert isinstance(first, ast.ImportFrom) and [a.name for a in first.names] == [
        "xla_guard"
    ]
    assert ast.unparse(second) == "xla_guard.protect()"



def test_python_lines_fit_the_line_limit():
    """Reference: ``[tool.ruff] line-length`` of pyproject.toml, counted on the text of
    every Python file of the package, tests, scripts and benchmarks. Two kinds of line
    cannot be wrapped and are left out: rows of a Markdown table in a docstring, and
    lines holding a URL."""
    import tomllib

    root = PACKAGE.parent
    limit = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["ruff"][
        "line-length"]
    folders = ("gauss_flows", "tests", "scripts", "benchmarks")
    files = [root / "_style.py", *(p for d in folders for p in (root / d).rglob("*.py"))]
    long = [
        f"{path.relative_to(root)}:{number}: {len(line)}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if len(line) > limit and not line.lstrip().startswith("|") and "://" not in line
    ]
    assert len(files) > 50 and long == []
