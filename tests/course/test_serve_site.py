"""`make serve` (scripts/serve_site.py): a built site is served on loopback, folder URLs
and absolute asset paths resolve, and the server says where it is and stops cleanly."""

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from site_stub import myst_command, write_stub  # noqa: E402

SERVE = [sys.executable, str(ROOT / "scripts/serve_site.py"), "--port", "0"]


class Server:
    """scripts/serve_site.py in a subprocess; ``url`` is the URL it printed."""

    def __init__(self, *args: str):
        self.proc = subprocess.Popen([*SERVE, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()  # "Serving DIR at http://127.0.0.1:PORT/ ..."
        assert " at http://127.0.0.1:" in line, line
        self.url = line.split(" at ")[1].split()[0]

    def get(self, path: str) -> str:
        with urllib.request.urlopen(self.url.rstrip("/") + path, timeout=10) as response:
            return response.read().decode()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def html_site(tmp_path):
    """The layout of myst's HTML: folder pages and assets under absolute /build/."""
    (tmp_path / "notebooks/coupling-pattern").mkdir(parents=True)
    (tmp_path / "build").mkdir()
    (tmp_path / "index.html").write_text('<script src="/build/app.js"></script>Home')
    (tmp_path / "notebooks/coupling-pattern/index.html").write_text("Coupling page")
    (tmp_path / "build/app.js").write_text("console.log('app')")
    return tmp_path


def test_serves_pages_folders_and_absolute_assets_on_loopback(html_site):
    with Server("--dir", str(html_site)) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert "Home" in server.get("/")
        assert server.get("/notebooks/coupling-pattern/") == "Coupling page"
        assert server.get("/build/app.js") == "console.log('app')"
        with pytest.raises(urllib.error.HTTPError, match="404"):
            server.get("/missing/")


def test_serves_a_site_built_for_a_base_url(html_site):
    with Server("--dir", str(html_site), "--base-url", "/gauss_flows") as server:
        assert server.url.endswith("/gauss_flows/")
        assert "Home" in server.get("/")
        assert server.get("/build/app.js") == "console.log('app')"


def test_without_a_built_site_it_says_to_run_make_site(tmp_path):
    proc = subprocess.run([*SERVE, "--dir", str(tmp_path)], capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 1 and "make site" in proc.stderr


def test_serves_a_tiny_site_that_myst_built(tmp_path):
    """Build a one-page site offline (the content build; the HTML theme would need the
    web) and fetch the page's content from the running server."""
    (tmp_path / "myst.yml").write_text(
        "version: 1\nproject:\n  title: Tiny\n  toc:\n    - file: index.md\n"
        "site:\n  template: book-theme\n"
    )
    (tmp_path / "index.md").write_text("---\ntitle: Tiny home\n---\n\nServed over HTTP.\n")
    write_stub(tmp_path / "_build/templates/site/myst/book-theme")
    env = {**os.environ, "CI": "true", "NO_UPDATE_NOTIFIER": "1"}
    subprocess.run([*myst_command(), "build", "--site"], cwd=tmp_path, env=env, check=True,
                   capture_output=True, timeout=300)
    with Server("--dir", str(tmp_path / "_build/site")) as server:
        page = server.get("/content/index.json")
        assert '"Tiny home"' in page and "Served over HTTP." in page
