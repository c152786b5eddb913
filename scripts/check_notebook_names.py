"""Check that every ``gauss_flows`` name the notebooks use resolves in the package.

Reads the code cells of the given notebooks (default: ``notebooks/*.ipynb``) and
collects

* every attribute path on the package alias, ``gf.<name>(.<name>)*``
  (e.g. ``gf.conditioners.count_parameters``, ``gf.MarginalGaussianization.fit``);
* every ``from gauss_flows[.<module>] import <name>, ...`` and
  ``import gauss_flows.<module>``;

then imports ``gauss_flows`` and resolves each one (attribute by attribute, importing
modules as Python would). Prints the names that do not resolve, with the notebooks
that use them, and exits with status 1 if there are any. A renamed or moved name is
caught here in a second, without executing a notebook.

Usage: ``python scripts/check_notebook_names.py [NOTEBOOK.ipynb ...]``
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ATTRIBUTE = re.compile(r"(?<![\w.])gf((?:\.[A-Za-z_]\w*)+)")
FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+(gauss_flows(?:\.\w+)*)[ \t]+import[ \t]+"
                         r"(\([^)]*\)|[^\n#]+)", re.M)
IMPORT = re.compile(r"^[ \t]*import[ \t]+(gauss_flows(?:\.\w+)*)", re.M)


def code_of(notebook: Path) -> str:
    """The source of every code cell of ``notebook``, joined."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def names_used(code: str) -> set[str]:
    """The gauss_flows names in ``code``, as ``"gf.a.b"``, ``"from m import n"`` and
    ``"import m"`` strings."""
    names = {"gf" + m.group(1) for m in ATTRIBUTE.finditer(code)}
    for m in FROM_IMPORT.finditer(code):
        for part in m.group(2).strip("()").split(","):
            name = part.split(" as ")[0].strip()
            if name:
                names.add(f"from {m.group(1)} import {name}")
    names |= {f"import {m.group(1)}" for m in IMPORT.finditer(code)}
    return names


def resolves(name: str) -> bool:
    """Whether ``name`` (a string from :func:`names_used`) resolves in gauss_flows."""
    try:
        if name.startswith("gf."):
            obj = importlib.import_module("gauss_flows")
            for attribute in name.split(".")[1:]:
                obj = getattr(obj, attribute)
        elif name.startswith("from "):
            module, attribute = name[len("from "):].split(" import ")
            obj = importlib.import_module(module)
            if not hasattr(obj, attribute):
                importlib.import_module(f"{module}.{attribute}")
        else:
            importlib.import_module(name[len("import "):])
    except (AttributeError, ImportError):
        return False
    return True


def unresolved(notebooks: list[Path]) -> dict[str, list[str]]:
    """``{name: [notebook, ...]}`` for every name used that does not resolve."""
    used: dict[str, list[str]] = {}
    for notebook in notebooks:
        for name in names_used(code_of(notebook)):
            used.setdefault(name, []).append(notebook.name)
    return {name: where for name, where in sorted(used.items()) if not resolves(name)}


def main(argv: list[str]) -> int:
    notebooks = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    missing = unresolved(notebooks)
    for name, where in missing.items():
        print(f"{name}: does not resolve (used in {', '.join(where)})")
    print(f"{len(notebooks)} notebooks checked; {len(missing)} names do not resolve.")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
