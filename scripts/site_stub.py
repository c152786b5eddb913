"""Write the minimal book-theme template stub that lets `myst build --site` run offline.

`myst build --html` downloads its theme on first use. Without network, the content
build (`myst build --site`) still parses every page, citation and cross-reference
once the template cache holds a template.yml; this module writes that stub. A real,
downloaded theme in the cache is never overwritten.
"""

from __future__ import annotations

from pathlib import Path

STUB_DIR = Path("_build/templates/site/myst/book-theme")
STUB = """\
jtex: v1
title: book-theme (offline stub written by scripts/site_stub.py)
description: Lets `myst build --site` check the content without network access.
version: 0.0.0
# The book-theme's site options that myst.yml uses, declared as the real theme does, so
# the offline build validates them (a `file` option must point at an existing file).
options:
  - {id: favicon, type: file}
  - {id: logo, type: file}
  - {id: logo_dark, type: file}
  - {id: logo_text, type: string}
  - {id: logo_url, type: string}
  - {id: folders, type: boolean}
  - {id: hide_toc, type: boolean}
  - {id: hide_outline, type: boolean}
  - {id: hide_footer_links, type: boolean}
  - {id: numbered_references, type: boolean}
"""


def is_stub(directory: Path = STUB_DIR) -> bool:
    f = directory / "template.yml"
    return f.exists() and "offline stub" in f.read_text()


def write_stub(directory: Path = STUB_DIR) -> None:
    """Write the stub unless a real (downloaded) template is already cached."""
    f = directory / "template.yml"
    if f.exists() and not is_stub(directory):
        return
    directory.mkdir(parents=True, exist_ok=True)
    f.write_text(STUB)


def myst_command() -> list[str]:
    """The ``myst`` CLI: the one installed beside this Python (the venv), else on PATH."""
    import shutil
    import sys

    beside = Path(sys.executable).with_name("myst")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("myst")
    if found is None:
        raise SystemExit("mystmd is not installed: run `make setup` (it installs mystmd).")
    return [found]
