"""Canary for a jaxlib that silently miscompiles large float32 CPU kernels.

jaxlib 0.10.2's XLA:CPU (its YNNPACK fusion) returned wrong numbers for a fused
broadcast-elementwise-sum kernel once it had more than 2**15 outputs. The reproducer
below is plain jax against a float64 NumPy reference. It runs in a fresh interpreter
that never imports gauss_flows and with ``XLA_FLAGS`` cleared, so a bad jaxlib fails
here even though ``gauss_flows.xla_guard`` would protect the package's own users.
"""

from __future__ import annotations

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

import gauss_flows as gf

REPRODUCER = """
import jax, jax.numpy as jnp, numpy as np
rng = np.random.default_rng(0)
w = rng.uniform(size=(36, 8)).astype(np.float32)
x = rng.normal(size=(911, 36, 1)).astype(np.float32)  # 911 * 36 outputs > 2**15
f = lambda w, x: jnp.sum(w * (x + w), -1) + jnp.sum(w * jnp.maximum(x + w, 0.5), -1)
got = np.asarray(jax.jit(f)(w, x), np.float64)
w, x = w.astype(np.float64), x.astype(np.float64)
want = np.sum(w * (x + w), -1) + np.sum(w * np.maximum(x + w, 0.5), -1)
print(np.max(np.abs(got - want)))
"""


def test_plain_jax_reproducer_is_right_without_any_flag():
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env["JAX_PLATFORMS"] = "cpu"
    out = subprocess.run(
        [sys.executable, "-c", REPRODUCER], env=env, capture_output=True, text=True,
        check=True,
    )
    error = float(out.stdout.strip())
    assert error < 1e-3, f"jaxlib {jax.__version__} miscompiles: error {error}"


def test_installed_jaxlib_is_not_a_known_bad_release():
    import jaxlib

    assert jaxlib.__version__ not in gf.xla_guard.KNOWN_BAD


def test_marginal_layer_on_a_large_float32_field_batch(x32):
    # The case that exposed the defect: a diagonal layer fitted to the 36-D field,
    # vmapped over 4000 rows in float32, against the same layer one row at a time.
    field = gf.datasets.GaussianField()  # 6 x 6 grid, d = 36
    x = field.sample(jax.random.key(0), 4000).astype(jnp.float32)
    layer = gf.MarginalGaussianization.fit(x[:2000], 8)
    z = jax.jit(jax.vmap(layer.transform))(x)
    z_rows = jax.lax.map(layer.transform, x)
    assert z.dtype == jnp.float32 and x.size > 2**15
    np.testing.assert_allclose(np.asarray(z), np.asarray(z_rows), atol=2e-5)
