"""`make lab`: the installed JupyterLab starts on loopback with jupyterlab-myst enabled,
and the notebooks' kernel runs a notebook through the server (REST + websocket).

Nothing is downloaded: the server runs with update checks and news off, and the
test talks to it on 127.0.0.1 only. The whole test is bounded by ``TIMEOUT`` seconds.
"""

import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
BIN = Path(sys.executable).parent
JUPYTER = shutil.which("jupyter", path=str(BIN))
TIMEOUT = 120
pytestmark = pytest.mark.skipif(JUPYTER is None, reason="jupyter is not installed")

CELLS = [
    "import sys\nimport gauss_flows as gf\nprint('gauss_flows', gf.__version__)",
    "import jax.numpy as jnp\nfloat(jnp.sum(jnp.arange(4.0)))",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_labextension_list_shows_jupyterlab_myst_enabled_and_ok():
    out = subprocess.run([JUPYTER, "labextension", "list"], capture_output=True, text=True,
                         timeout=TIMEOUT)
    listing = out.stdout + out.stderr
    line = next((ln for ln in listing.splitlines() if "jupyterlab-myst" in ln), "")
    assert "enabled" in line and "OK" in line, listing  # not "not compatible"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving a folder with one small notebook."""
    root = tmp_path_factory.mktemp("lab")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    nbformat.write(nb, root / "small.ipynb")
    for path in NOTEBOOKS:  # the course notebooks, byte for byte
        shutil.copyfile(path, root / path.name)
    port, token = _free_port(), secrets.token_hex(16)
    proc = subprocess.Popen(
        [JUPYTER, "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"

    def request(method: str, path: str, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{base}{path}", data=data, method=method,
                                     headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(req, timeout=30) as response:
            text = response.read().decode()
        return json.loads(text) if text.startswith(("{", "[")) else text

    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            request("GET", "/api/status")
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"JupyterLab did not start: {proc.stderr.read()[-2000:]}")
            time.sleep(0.5)
    yield {"request": request, "ws": f"ws://127.0.0.1:{port}", "token": token, "proc": proc,
           "root": root}
    try:
        request("POST", "/api/shutdown")
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_server_listens_on_loopback_with_jupyterlab_myst(lab):
    page = lab["request"]("GET", "/lab")
    config = json.loads(page.split('id="jupyter-config-data"')[1].split(">", 1)[1]
                        .split("</script>")[0])
    names = [e["name"] for e in config["federated_extensions"]]
    assert "jupyterlab-myst" in names, names
    disabled = config.get("disabledExtensions", [])
    assert not any(d.startswith("jupyterlab-myst") for d in disabled), disabled


async def _execute(url: str, codes: list[str]) -> list[dict]:
    """Run each code string in the kernel at ``url``; return the replies and outputs."""
    from tornado.websocket import websocket_connect

    ws = await websocket_connect(url)
    session, results = uuid.uuid4().hex, []
    for code in codes:
        msg_id = uuid.uuid4().hex
        await ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "session": session, "username": "test",
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False,
                        "stop_on_error": True},
        }))
        result = {"outputs": [], "status": None}
        idle = False
        while result["status"] is None or not idle:
            msg = json.loads(await ws.read_message())
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "execute_reply":
                result["status"] = msg["content"]["status"]
            elif kind in {"stream", "execute_result", "error"}:
                result["outputs"].append(msg["content"])
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
        results.append(result)
    ws.close()
    return results


def test_the_notebooks_kernel_runs_a_notebook_through_the_server(lab):
    request = lab["request"]
    nb = request("GET", "/api/contents/small.ipynb")
    codes = [c["source"] for c in nb["content"]["cells"] if c["cell_type"] == "code"]
    session = request("POST", "/api/sessions", {
        "path": "small.ipynb", "type": "notebook", "name": "small.ipynb",
        "kernel": {"name": "python3"},
    })
    kernel = session["kernel"]["id"]
    url = f"{lab['ws']}/api/kernels/{kernel}/channels?token={lab['token']}"
    results = asyncio.run(asyncio.wait_for(_execute(url, codes), TIMEOUT))
    request("DELETE", f"/api/sessions/{session['id']}")
    assert [r["status"] for r in results] == ["ok", "ok"], results
    assert results[0]["outputs"][0]["text"].startswith("gauss_flows ")
    assert results[1]["outputs"][0]["data"]["text/plain"] == "6.0"


def test_course_notebooks_open_collapsed_and_save_unchanged(lab):
    """Through Lab's own contents API: solution code cells and folded figure cells are
    collapsed (Lab's ``jupyter`` cell metadata), the kernelspec is the one Lab writes
    for the python3 kernel (otherwise Lab marks the notebook modified on opening), and
    saving the notebook as Lab does (PUT of the model it served) leaves the file
    byte-identical."""
    request, root = lab["request"], lab["root"]
    spec = request("GET", "/api/kernelspecs")["kernelspecs"]["python3"]["spec"]
    lab_kernelspec = {"display_name": spec["display_name"], "language": spec["language"],
                      "name": "python3"}
    assert NOTEBOOKS
    for path in NOTEBOOKS:
        model = request("GET", f"/api/contents/{path.name}")
        content = model["content"]
        assert content["metadata"]["kernelspec"] == lab_kernelspec, path.name
        n_solutions = n_folded = 0
        for cell in content["cells"]:
            source = cell["source"]
            view = cell["metadata"].get("jupyter", {})
            if cell["cell_type"] == "code" and "#| label: sol-" in source:
                n_solutions += 1
                assert view.get("source_hidden") and view.get("outputs_hidden"), source
            elif "hide-input" in cell["metadata"].get("tags", []):
                n_folded += 1
                assert view.get("source_hidden"), source[:80]
        assert n_solutions and n_folded, path.name  # every notebook has both
        before = (root / path.name).read_bytes()
        request("PUT", f"/api/contents/{path.name}",
                {"type": "notebook", "format": "json", "content": content})
        assert (root / path.name).read_bytes() == before, f"saving changed {path.name}"
