r"""Protection against jaxlib releases known to miscompile float32 CPU code.

jaxlib 0.10.2's XLA:CPU fuses some broadcast-elementwise-sum kernels through YNNPACK
and gets them wrong once a fused output has more than $2^{15}$ elements: a
``vmap`` of a diagonal layer over a (4000, 36) float32 batch returned wrong rows from
row 910 on, silently. ``constraints.txt`` pins a jaxlib without the defect. For an
environment that has a known-bad jaxlib anyway, :func:`protect` (run when
``gauss_flows`` is imported) adds the XLA flag that turns that fusion off to
``XLA_FLAGS``. XLA reads the flag when jax's CPU backend starts, so it only helps if
nothing has run on the backend yet; :func:`protect` then runs a small canary
computation and warns if the result is still wrong.
"""

from __future__ import annotations

import os
import warnings

import jaxlib

#: jaxlib versions with the defect, and the XLA flag that avoids it there.
KNOWN_BAD: dict[str, str] = {"0.10.2": "--xla_cpu_experimental_ynn_fusion_type=-reduce"}


def canary_error() -> float:
    """Largest error of a float32 kernel that the defect gets wrong, against float64.

    The kernel is ``sum(w * (x + w), -1) + sum(w * max(x + w, 0.5), -1)`` on a
    (911, 36, 1) batch against an (36, 8) array: 911 * 36 outputs, past $2^{15}$. On a
    correct backend the error is float32 rounding (about 1e-5); the defect gives
    errors of order 10 in the last row.
    """
    import jax
    import jax.numpy as jnp
    import numpy as np

    rng = np.random.default_rng(0)
    w = rng.uniform(size=(36, 8)).astype(np.float32)
    x = rng.normal(size=(911, 36, 1)).astype(np.float32)

    def kernel(w, x):
        return jnp.sum(w * (x + w), -1) + jnp.sum(w * jnp.maximum(x + w, 0.5), -1)

    cpu = jax.devices("cpu")[0]
    got = jax.jit(kernel)(jax.device_put(w, cpu), jax.device_put(x, cpu))
    got = np.asarray(got, np.float64)
    w, x = w.astype(np.float64), x.astype(np.float64)
    want = np.sum(w * (x + w), -1) + np.sum(w * np.maximum(x + w, 0.5), -1)
    return float(np.max(np.abs(got - want)))


def protect() -> None:
    """On a known-bad jaxlib, set the avoiding XLA flag, check it took, warn if not."""
    flag = KNOWN_BAD.get(jaxlib.__version__)
    if flag is None:
        return
    name = flag.split("=")[0]
    flags = os.environ.get("XLA_FLAGS", "")
    if name not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {flag}".strip()
    if canary_error() > 1e-3:
        warnings.warn(
            f"jaxlib {jaxlib.__version__} miscompiles some large float32 CPU kernels "
            f"and gauss_flows could not switch the defect off: jax's CPU backend had "
            f"started before gauss_flows was imported. Results may be silently wrong. "
            f"Install the pinned jaxlib (pip install -c constraints.txt jaxlib), or set "
            f"XLA_FLAGS={flag} before starting Python.",
            RuntimeWarning,
            stacklevel=3,
        )
