"""jupyter-book 2 (pinned in the dev dependencies) builds the same site as mystmd.

Offline, both build the site content (``--site``; the HTML theme would need the web):
the pages they write must match node for node, up to the random node keys and ids.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from site_stub import myst_command, write_stub  # noqa: E402

JUPYTER_BOOK = shutil.which("jupyter-book", path=str(Path(sys.executable).parent))
RANDOM_KEYS = {"key", "id", "html_id"}


def _normalised(node):
    if isinstance(node, dict):
        return {k: _normalised(v) for k, v in node.items() if k not in RANDOM_KEYS}
    if isinstance(node, list):
        return [_normalised(v) for v in node]
    return node


def _build(project: Path, command: list[str]) -> dict[str, dict]:
    shutil.rmtree(project / "_build/site", ignore_errors=True)
    write_stub(project / "_build/templates/site/myst/book-theme")
    env = {**os.environ, "CI": "true", "NO_UPDATE_NOTIFIER": "1"}
    subprocess.run([*command, "build", "--site", "--strict"], cwd=project, env=env,
                   check=True, capture_output=True, timeout=300)
    content = project / "_build/site/content"
    return {f.name: _normalised(json.loads(f.read_text())) for f in content.glob("*.json")}


@pytest.mark.skipif(JUPYTER_BOOK is None, reason="jupyter-book is not installed")
def test_jupyter_book_builds_the_same_site_content_as_myst(tmp_path):
    for name in ("myst.yml", "index.md", "references.bib"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "_static").mkdir()
    for logo in (ROOT / "_static").iterdir():
        shutil.copy(logo, tmp_path / "_static" / logo.name)
    config = (tmp_path / "myst.yml").read_text()
    toc = config.index("  toc:")
    site = config.index("\nsite:")
    (tmp_path / "myst.yml").write_text(
        config[:toc] + "  toc:\n    - file: index.md\n" + config[site:]
    )
    with_myst = _build(tmp_path, myst_command())
    with_book = _build(tmp_path, [JUPYTER_BOOK])
    assert set(with_myst) == {"index.json"}
    assert with_book == with_myst
