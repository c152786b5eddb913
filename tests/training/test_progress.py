"""The progress bars of train_flow and train_flows: on in an interactive Jupyter kernel,
off under nbval/CI.

``gauss_flows.training.default_show_progress`` reads ``GAUSS_FLOWS_PROGRESS`` first;
unset, it shows the bar in a terminal or a Jupyter kernel. The kernel tests run a real
ipykernel (nbclient), as JupyterLab would, once with the variable unset and once with
``0``.
"""

import sys

import nbformat
import pytest
from nbclient import NotebookClient

import gauss_flows as gf
import gauss_flows.training.train as training

ENV = training.PROGRESS_ENV


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("ON", True),
     ("0", False), ("no", False), ("off", False)],
)
def test_the_environment_variable_decides_when_set(monkeypatch, value, expected):
    monkeypatch.setenv(ENV, value)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: not expected, raising=False)
    assert training.default_show_progress() is expected


def test_a_bad_value_raises(monkeypatch):
    monkeypatch.setenv(ENV, "sometimes")
    with pytest.raises(ValueError, match=ENV):
        training.default_show_progress()


def test_unset_it_follows_the_terminal_outside_jupyter(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setattr(training, "_in_jupyter_kernel", lambda: False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert training.default_show_progress() is False
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert training.default_show_progress() is True


def test_conftest_silences_the_test_session():
    import os

    assert os.environ.get(ENV) == "0"  # inherited by the kernels nbval starts


TRAIN_CELL = """\
import jax.random as jr
import numpy as np
import gauss_flows as gf

print("default", gf.training.default_show_progress())
flow = gf.coupling_flow(jr.key(0), shape=(2,), n_layers=1, nn_width=4, nn_depth=1)
data = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
_ = gf.train_flow(jr.key(1), flow, data, max_epochs=2, batch_size=32)
flows = gf.stack_seeds([gf.coupling_flow(k, shape=(2,), n_layers=1, nn_width=4, nn_depth=1)
                        for k in jr.split(jr.key(2), 2)])
_ = gf.train_flows(jr.key(3), flows, data, data[:16], max_epochs=3, batch_size=32)
"""


def _run_in_kernel(monkeypatch, value: str | None) -> tuple[str, str]:
    """Run TRAIN_CELL in a fresh Jupyter kernel; return its (stdout, stderr) text."""
    if value is None:
        monkeypatch.delenv(ENV, raising=False)
    else:
        monkeypatch.setenv(ENV, value)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(TRAIN_CELL)]
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    streams = {"stdout": "", "stderr": ""}
    for out in nb.cells[0].outputs:
        if out.output_type == "stream":
            streams[out.name] += out.text
    return streams["stdout"], streams["stderr"]


def test_jupyter_kernel_shows_the_bar_when_unset(monkeypatch):
    stdout, stderr = _run_in_kernel(monkeypatch, None)
    assert "default True" in stdout
    assert "2/2" in stderr and "|" in stderr, stderr  # train_flow's bar over 2 epochs
    assert "3/3" in stderr and "2/2 seeds training" in stderr, stderr  # train_flows'


def test_jupyter_kernel_is_silent_under_make_and_nbval(monkeypatch):
    stdout, stderr = _run_in_kernel(monkeypatch, "0")
    assert "default False" in stdout
    assert stderr == ""
