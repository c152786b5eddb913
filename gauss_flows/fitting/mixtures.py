r"""Gaussian mixtures fitted to each coordinate of the data by expectation maximisation.

:func:`fit_marginal_mixtures` fits the $d$ one-dimensional mixtures
$\sum_k \pi_{ik}\,\mathcal N(\mu_{ik}, \sigma_{ik}^2)$ of the columns of an
$(n, d)$ batch at once, vectorised over the coordinates with ``jax.vmap`` and
jit-compiled, with a fixed number of steps (it never hangs), means started at spread
quantiles of the data (so the components are never interchangeable) and one scale
floor, relative to the data: $\sigma_{ik} \ge$ ``min_scale_ratio`` $\cdot\,
\mathrm{sd}_i$, with $\mathrm{sd}_i$ column $i$'s standard deviation. The floor keeps
components from collapsing onto single points, and it scales with the data, so data
on any scale is fitted alike (:meth:`gauss_flows.MarginalGaussianization.fit` builds
its layer from these fits, :func:`gauss_flows.warm_start` its couplings' biases).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.scipy.special import logsumexp
from jaxtyping import Array, ArrayLike

from gauss_flows._validation import check_positive_int, check_samples

#: Default floor of the fitted scales, as a fraction of each coordinate's standard
#: deviation. It keeps fitted components from collapsing onto single points and keeps
#: the mixture's inverse away from the regime of narrow, well separated components.
DEFAULT_MIN_SCALE_RATIO = 0.05


@eqx.filter_jit
def _em(data: Array, n_components: int, n_steps: int, min_scale_ratio: float):
    """EM for ``d`` 1-D mixtures at once; ``data`` is ``(n, d)``, outputs ``(d, K)``."""

    def one(x: Array):
        k = n_components
        std = jnp.std(x)
        floor = min_scale_ratio * std
        means = jnp.quantile(x, (jnp.arange(k) + 0.5) / k)
        scales = jnp.maximum(jnp.full(k, std / k), floor)
        log_w = jnp.full(k, -jnp.log(k)).astype(x.dtype)

        def step(_, params):
            log_w, means, scales = params
            u = (x[:, None] - means) / scales
            log_joint = log_w - jnp.log(scales) - 0.5 * u**2  # (n, K), up to a constant
            resp = jnp.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))
            # A tiny pseudo-count keeps an empty component where it was (no 0/0).
            tiny = 1e-10 * x.shape[0]
            counts = resp.sum(0) + tiny
            means = (resp.T @ x + tiny * means) / counts
            var = (jnp.sum(resp * (x[:, None] - means) ** 2, axis=0) + tiny * scales**2)
            scales = jnp.maximum(jnp.sqrt(var / counts), floor)
            log_w = jnp.log(counts) - jnp.log(counts.sum())
            return log_w, means, scales

        return jax.lax.fori_loop(0, n_steps, step, (log_w, means, scales))

    return jax.vmap(one, in_axes=1)(data)


def fit_marginal_mixtures(
    data: ArrayLike,
    n_components: int = 8,
    *,
    n_steps: int = 100,
    min_scale_ratio: float = DEFAULT_MIN_SCALE_RATIO,
) -> tuple[Array, Array, Array]:
    r"""Fit a $K$-component Gaussian mixture to each column of ``data`` by EM.

    Args:
        data: Samples, shape ``(n, d)``, ``n >= 2``, finite, float32 or float64.
        n_components: $K \ge 1$.
        n_steps: Number of EM steps (a fixed count: EM runs all of them).
        min_scale_ratio: Floor of $\sigma_{ik}$ as a fraction of column $i$'s
            standard deviation, in ``(0, 1)``.

    Returns:
        ``(log_weights, means, scales)``, each of shape ``(d, K)``.
    """
    data = check_samples(data, min_samples=2)
    check_positive_int(n_components, "n_components")
    check_positive_int(n_steps, "n_steps")
    if not 0 < min_scale_ratio < 1:
        raise ValueError(f"min_scale_ratio must lie in (0, 1), got {min_scale_ratio}.")
    if not bool(jnp.all(jnp.std(data, axis=0) > 0)):
        raise ValueError("data has a constant column; its mixture cannot be fitted.")
    return _em(data, int(n_components), int(n_steps), float(min_scale_ratio))


