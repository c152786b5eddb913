r"""The marginal (diagonal) Gaussianization layer and its fit to data.

Every coordinate gets its own Gaussian-mixture CDF map, with no conditioner:

$$z_i = T_i(x_i) = \Phi^{-1}\Big(\sum_{k=1}^{K} \pi_{ik}\,
\Phi\big((x_i - \mu_{ik})/\sigma_{ik}\big)\Big), \qquad
\log\lvert\det J\rvert = \sum_{i=1}^{d} \log T_i'(x_i).$$

The $d$ scalar maps are one :class:`~gauss_flows.MixtureGaussianCDF` whose arrays have a
leading axis of size $d$, applied with flowjax's ``Vmap``. A flow made only of such
layers has independent coordinates under $q$, so its best held-out
$\mathrm{NLL} - H(p)$ is the data's total correlation $\mathrm{TC}$.

:func:`fit_marginal_mixtures` fits the $d$ one-dimensional mixtures by expectation
maximisation, vectorised over the coordinates with ``jax.vmap`` and jit-compiled, with
a fixed number of steps (it never hangs), means started at spread quantiles of the data
(so the components are never interchangeable) and a scale floor relative to each
coordinate's standard deviation.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import paramax
from flowjax.bijections import AbstractBijection, Vmap
from jax.scipy.special import logsumexp
from jaxtyping import Array, ArrayLike
from paramax.utils import inv_softplus

from gauss_flows.coupling import check_positive_int
from gauss_flows.mixture_cdf import DEFAULT_N_ITER, MixtureGaussianCDF

#: Default floor of the fitted scales, as a fraction of each coordinate's standard
#: deviation. It keeps fitted components from collapsing onto single points and keeps
#: the mixture's inverse away from the regime of narrow, well separated components.
DEFAULT_MIN_SCALE_RATIO = 0.05


def check_data(data: ArrayLike, name: str = "data", dim: int | None = None) -> Array:
    """``data`` as a floating-point array of shape ``(n, d)``; ``ValueError`` otherwise."""
    data = jnp.asarray(data)
    if data.ndim != 2 or (dim is not None and data.shape[1] != dim):
        expected = "(n, d)" if dim is None else f"(n, {dim})"
        raise ValueError(f"{name} must have shape {expected}, got {data.shape}.")
    if data.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 samples, got {data.shape[0]}.")
    if not jnp.issubdtype(data.dtype, jnp.floating):
        data = data.astype(jnp.result_type(float))
    if not bool(jnp.all(jnp.isfinite(data))):
        raise ValueError(f"{name} contains non-finite values (nan or inf).")
    return data


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
        data: Samples, shape ``(n, d)``, finite.
        n_components: $K \ge 1$.
        n_steps: Fixed number of EM steps.
        min_scale_ratio: Floor of $\sigma_{ik}$ as a fraction of column $i$'s
            standard deviation, in ``(0, 1)``.

    Returns:
        ``(log_weights, means, scales)``, each of shape ``(d, K)``.
    """
    data = check_data(data)
    check_positive_int(n_components, "n_components")
    check_positive_int(n_steps, "n_steps")
    if not 0 < min_scale_ratio < 1:
        raise ValueError(f"min_scale_ratio must lie in (0, 1), got {min_scale_ratio}.")
    if not bool(jnp.all(jnp.std(data, axis=0) > 0)):
        raise ValueError("data has a constant column; its mixture cannot be fitted.")
    return _em(data, int(n_components), int(n_steps), float(min_scale_ratio))


class MarginalGaussianization(AbstractBijection):
    r"""Diagonal layer: coordinate $i$ goes through its own mixture-CDF map $T_i$.

    Args:
        log_weights: $\log \pi_{ik}$ (normalised or not: they are log-softmaxed),
            shape ``(d, K)``.
        means: $\mu_{ik}$, shape ``(d, K)``.
        scales: $\sigma_{ik} > $ ``min_scale``, shape ``(d, K)``.
        min_scale: Floor of the scales' parametrization (as in ``MixtureGaussianCDF``).
        n_iter: Fixed iteration count of each inverse's solver.

    ``MarginalGaussianization.fit(data, K)`` builds the layer from data;
    ``layer.mixture(i)`` is coordinate $i$'s scalar ``MixtureGaussianCDF``.
    """

    mixtures: Vmap
    shape: tuple[int, ...]
    cond_shape: ClassVar[None] = None

    def __init__(
        self,
        log_weights: ArrayLike,
        means: ArrayLike,
        scales: ArrayLike,
        *,
        min_scale: float = 1e-3,
        n_iter: int = DEFAULT_N_ITER,
    ):
        dtype = jnp.result_type(float)
        log_weights, means, scales = (
            jnp.asarray(a, dtype=dtype) for a in (log_weights, means, scales)
        )
        if means.ndim != 2 or means.shape[0] < 1:
            raise ValueError(f"means must have shape (d, K), got {means.shape}.")
        for name, arr in (("log_weights", log_weights), ("scales", scales)):
            if arr.shape != means.shape:
                raise ValueError(
                    f"{name} must have the shape of means {means.shape}, got {arr.shape}."
                )
        named = (("log_weights", log_weights), ("means", means), ("scales", scales))
        for name, arr in named:
            if not bool(jnp.all(jnp.isfinite(arr))):
                raise ValueError(f"{name} must be finite.")
        template = MixtureGaussianCDF(means.shape[1], min_scale=min_scale, n_iter=n_iter)
        if not bool(jnp.all(scales > min_scale)):
            raise ValueError(f"scales must all exceed min_scale={min_scale}.")
        stacked = eqx.tree_at(
            lambda m: (m.logits, m.means, m.scales.args[0]),
            template,
            (log_weights, means, inv_softplus(scales - min_scale)),
        )
        self.mixtures = Vmap(stacked, in_axes=eqx.if_array(0))
        self.shape = (means.shape[0],)

    @classmethod
    def fit(
        cls,
        data: ArrayLike,
        n_components: int = 8,
        *,
        n_steps: int = 100,
        min_scale_ratio: float = DEFAULT_MIN_SCALE_RATIO,
        min_scale: float = 1e-3,
        n_iter: int = DEFAULT_N_ITER,
    ) -> MarginalGaussianization:
        """The layer whose mixtures are fitted to ``data`` (shape ``(n, d)``) by EM.

        See :func:`fit_marginal_mixtures` for ``n_steps`` and ``min_scale_ratio``.
        """
        log_w, means, scales = fit_marginal_mixtures(
            data, n_components, n_steps=n_steps, min_scale_ratio=min_scale_ratio
        )
        scales = jnp.maximum(scales, 2 * min_scale)
        return cls(log_w, means, scales, min_scale=min_scale, n_iter=n_iter)

    @property
    def n_components(self) -> int:
        return self.mixtures.bijection.logits.shape[-1]

    @property
    def mixture_parameters(self) -> tuple[Array, Array, Array]:
        r"""$(\log \pi, \mu, \sigma)$, each of shape ``(d, K)`` (weights normalised)."""
        mixtures = paramax.unwrap(self.mixtures.bijection)
        return jax.nn.log_softmax(mixtures.logits, axis=-1), mixtures.means, mixtures.scales

    def mixture(self, i: int) -> MixtureGaussianCDF:
        """Coordinate ``i``'s scalar mixture-CDF map."""
        (dim,) = self.shape
        if not -dim <= i < dim:
            raise ValueError(f"i must index one of the {dim} coordinates, got {i}.")
        return jax.tree.map(
            lambda a: a[i] if eqx.is_array(a) else a, self.mixtures.bijection
        )

    def transform_and_log_det(self, x, condition=None):
        z, log_det = self.mixtures.transform_and_log_det(x)
        return z, log_det

    def inverse_and_log_det(self, y, condition=None):
        return self.mixtures.inverse_and_log_det(y)
