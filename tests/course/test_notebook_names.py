"""Every gauss_flows name the notebooks use resolves in the package (no execution)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from check_notebook_names import names_used, resolves, unresolved  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_name_the_notebooks_use_resolves():
    """Reference: the notebooks' own code cells, read as text."""
    assert NOTEBOOKS
    assert unresolved(NOTEBOOKS) == {}


def test_the_check_finds_names_and_catches_a_missing_one():
    """Reference: names written out in a small code sample, one of them made up."""
    code = (
        "import gauss_flows as gf\n"
        "from gauss_flows.flows import coupling_layers\n"
        "n = gf.conditioners.count_parameters(gf.masks.half(4))\n"
        "gf.no_such_name(x)\n"
    )
    names = names_used(code)
    assert names == {
        "from gauss_flows.flows import coupling_layers",
        "gf.conditioners.count_parameters",
        "gf.masks.half",
        "gf.no_such_name",
        "import gauss_flows",
    }
    assert [resolves(n) for n in sorted(names)] == [True, True, True, False, True]
