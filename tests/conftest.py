"""Shared fixtures and settings of the unit tests (every folder under ``tests/``).

* ``dtype`` / ``x64`` / ``x32``: jax's x64 flag is global; these fixtures switch it
  with the ``jax.enable_x64`` context manager for the duration of one test only, so
  build bijections *inside* the test (their parameters then have the dtype under
  test).
* The registry of every bijection, ``tests/bijections/bijections.py``, is importable
  from any test folder as ``from bijections import ...``.
* JAX's persistent compilation cache is on for the test session, in the git-ignored
  folder ``.jax_cache/`` at the repository root: compiling dominates the suite's
  time, and a second run (or a second ``pytest -n`` worker) loads the compiled
  programs instead. ``GAUSS_FLOWS_JAX_CACHE=0`` switches it off; delete the folder
  to start cold. jaxlib 0.10.1 logs an XLA error line to stderr for every program it
  loads from the cache ("Target machine feature +prefer-no-gather is not supported
  on the host machine": a tuning flag of the compiling machine, the same machine),
  which would break the tests that check stderr stays silent; with the cache on,
  ``TF_CPP_MIN_LOG_LEVEL=3`` (unless set already) keeps XLA's C++ log quiet.
"""

import os
import sys
from pathlib import Path

CACHE = os.environ.get("GAUSS_FLOWS_JAX_CACHE", "1") != "0"
if CACHE:  # before jax starts XLA's logging
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import pytest  # noqa: E402

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS / "bijections"))

if CACHE:
    jax.config.update("jax_compilation_cache_dir", str(TESTS.parent / ".jax_cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


@pytest.fixture(params=[jnp.float32, jnp.float64], ids=["f32", "f64"])
def dtype(request):
    """The floating dtype under test, with jax's x64 flag set to match."""
    with jax.enable_x64(request.param == jnp.float64):
        yield jnp.dtype(request.param)


@pytest.fixture
def x64():
    """Run the test with jax's x64 flag on (float64 by default)."""
    with jax.enable_x64(True):
        yield


@pytest.fixture
def x32():
    """Run the test with jax's x64 flag off (float32 by default)."""
    with jax.enable_x64(False):
        yield
