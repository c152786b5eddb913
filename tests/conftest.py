"""Shared fixtures and settings of the unit tests (every folder under ``tests/``).

* ``dtype`` / ``x64`` / ``x32``: jax's x64 flag is global; these fixtures switch it
  with the ``jax.enable_x64`` context manager for the duration of one test only, so
  build bijections *inside* the test (their parameters then have the dtype under
  test).
* The registry of every bijection, ``tests/bijections/bijections.py``, is importable
  from any test folder as ``from bijections import ...``.
* JAX's persistent compilation cache is OFF unless ``GAUSS_FLOWS_JAX_CACHE=1``: then
  compiled programs are kept in the git-ignored folder ``.jax_cache/`` at the
  repository root and a second run loads them. It stays opt-in because, with jaxlib
  0.10.1 on this project's 2-core machines, a cold run that wrote to the cache once
  ended in a segmentation fault inside XLA's compiler, and every program loaded from
  the cache logs an XLA error line to stderr ("Target machine feature
  +prefer-no-gather is not supported on the host machine"), which would break the
  tests that check stderr stays silent; with the cache on, ``TF_CPP_MIN_LOG_LEVEL=3``
  (unless set already) keeps XLA's C++ log quiet. The suite's speed comes from
  running on 2 workers (``pytest -n 2 --dist loadscope``), not from the cache.
"""

import os
import sys
from pathlib import Path

CACHE = os.environ.get("GAUSS_FLOWS_JAX_CACHE", "0") == "1"
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
