r"""The standard normal quantile $\Phi^{-1}$ computed from a log-probability.

``ndtri(exp(log_p))`` fails in the far tail: ``exp`` underflows to 0 (below about
$e^{-745}$ in float64, $e^{-87}$ in float32) and $\Phi^{-1}(0) = -\infty$. Working
from $\log p$ keeps $z$ finite for any finite $\log p$:

* where $p$ is representable, $z = \Phi^{-1}(p)$ directly;
* below that, start from the asymptotic $z_0 = -\sqrt{2L - \log(4\pi L)}$,
  $L = -\log p$ (from $\log\Phi(z) \approx -z^2/2 - \log(-z) - \tfrac12\log 2\pi$),
  then take a fixed number of Newton steps on $\log\Phi(z) = \log p$.

The derivative is exact by the inverse-function rule,
$dz/d\log p = \Phi(z)/\varphi(z) = \exp(\log p - \log\varphi(z))$.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import log_ndtr, ndtri
from jaxtyping import Array, ArrayLike

# A Python float (weakly typed): a jnp constant made at import time would be float32
# whenever x64 is switched on after import, costing ~1.6e-8 in every float64 log-pdf.
LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_NEWTON_STEPS = 4
LOG_SQRT_PI_OVER_2 = 0.5 * math.log(math.pi / 2)
SQRT_HALF = math.sqrt(0.5)


def log_normal_pdf(z: ArrayLike) -> Array:
    r"""$\log\varphi(z) = -z^2/2 - \tfrac12 \log 2\pi$."""
    z = jnp.asarray(z)
    return -0.5 * z**2 - LOG_SQRT_2PI


@jax.custom_jvp
def ndtri_of_log(log_p: ArrayLike) -> Array:
    r"""$\Phi^{-1}(e^{\log p})$ for $\log p \le \log\tfrac12$, finite for finite input.

    Elementwise; meant for the *smaller* tail, so that the result is $\le 0$.
    """
    log_p = jnp.minimum(jnp.asarray(log_p, dtype=jnp.result_type(log_p, float)), 0.0)
    dtype = log_p.dtype
    # Threshold well above underflow so ndtri's own accuracy holds.
    direct = log_p > jnp.log(jnp.finfo(dtype).tiny) + 10.0
    z_direct = ndtri(jnp.exp(jnp.where(direct, log_p, -1.0)))

    big_l = jnp.where(direct, 10.0, -log_p).astype(dtype)  # safe branch value
    z = -jnp.sqrt(2 * big_l - jnp.log(4 * jnp.pi * big_l))
    for _ in range(_NEWTON_STEPS):
        log_cdf = log_ndtr(z)
        # Newton on log Phi(z) = -L: step = (log Phi(z) + L) * Phi(z) / phi(z)
        z = z - (log_cdf + big_l) * jnp.exp(log_cdf - log_normal_pdf(z))
    return jnp.where(direct, z_direct, z)


@ndtri_of_log.defjvp
def _ndtri_of_log_jvp(primals, tangents):
    (log_p,), (dlog_p,) = primals, tangents
    z = ndtri_of_log(log_p)
    dz_dlogp = jnp.exp(jnp.minimum(log_p, 0.0) - log_normal_pdf(z))
    return z, dz_dlogp * dlog_p
