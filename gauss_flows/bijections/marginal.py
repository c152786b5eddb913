r"""The marginal (diagonal) Gaussianization layer.

Every coordinate gets its own Gaussian-mixture CDF map, with no conditioner:

$$z_i = T_i(x_i) = \Phi^{-1}\Big(\sum_{k=1}^{K} \pi_{ik}\,
\Phi\big((x_i - \mu_{ik})/\sigma_{ik}\big)\Big), \qquad
\log\lvert\det J\rvert = \sum_{i=1}^{d} \log T_i'(x_i).$$

The $d$ scalar maps are one :class:`~gauss_flows.MixtureGaussianCDF` whose arrays have a
leading axis of size $d$, applied with flowjax's ``Vmap``. A flow made only of such
layers has independent coordinates under $q$, so its best held-out
$\mathrm{NLL} - H(p)$ is the data's total correlation $\mathrm{TC}$.
:meth:`MarginalGaussianization.fit` fits the $d$ mixtures to data by EM
(:func:`gauss_flows.fitting.mixtures.fit_marginal_mixtures`).
"""

from __future__ import annotations

import math
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import paramax
from flowjax.bijections import AbstractBijection, Vmap
from jaxtyping import Array, ArrayLike
from paramax.utils import inv_softplus

from gauss_flows._validation import check_float_dtype, check_samples
from gauss_flows.bijections.mixture_cdf import DEFAULT_N_ITER, MixtureGaussianCDF
from gauss_flows.fitting.mixtures import DEFAULT_MIN_SCALE_RATIO, fit_marginal_mixtures


class MarginalGaussianization(AbstractBijection):
    r"""Diagonal layer: coordinate $i$ goes through its own mixture-CDF map $T_i$.

    Args:
        log_weights: $\log \pi_{ik}$ (normalised or not: they are log-softmaxed),
            shape ``(d, K)``.
        means: $\mu_{ik}$, shape ``(d, K)``.
        scales: $\sigma_{ik} > $ ``min_scale``, shape ``(d, K)``.
        min_scale: Floor of the scales' parametrization (as in ``MixtureGaussianCDF``).
        n_iter: Iteration cap of each inverse's solver (it stops once converged).

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
        min_scale: float | None = None,
        n_iter: int = DEFAULT_N_ITER,
    ) -> MarginalGaussianization:
        r"""The layer whose mixtures are fitted to ``data`` (shape ``(n, d)``) by EM.

        One scale floor, relative to the data: EM keeps every $\sigma_{ik}$ at or above
        ``min_scale_ratio`` times column $i$'s standard deviation
        (:func:`~gauss_flows.fitting.mixtures.fit_marginal_mixtures`), so data on any
        scale (``x`` or ``1e-4 * x``) gives the same layer up to that scale.

        Args:
            data: Samples, shape ``(n, d)``, ``n >= 2``, finite, float32 or float64.
            n_components: $K$ of every mixture.
            n_steps, min_scale_ratio: EM settings (see ``fit_marginal_mixtures``).
            min_scale: Floor of the scales' parametrization, which bounds the scales
                when the layer is trained further. ``None`` (default): the largest
                power of two at or below half the smallest EM floor,
                ``0.5 * min_scale_ratio * min_i sd_i``, so below every fitted scale.
                A number must lie below every fitted scale (``ValueError`` otherwise).
            n_iter: Iteration cap of each inverse's solver.
        """
        data = check_samples(data, min_samples=2)
        log_w, means, scales = fit_marginal_mixtures(
            data, n_components, n_steps=n_steps, min_scale_ratio=min_scale_ratio
        )
        if min_scale is None:
            # The largest power of two at or below half the smallest EM floor. The
            # floor is a static (hashed) field, so rounding it makes layers fitted to
            # data of similar scale, e.g. RBIG's iterations, share compiled code.
            relative = 0.5 * min_scale_ratio * float(jnp.min(jnp.std(data, axis=0)))
            min_scale = 2.0 ** math.floor(math.log2(relative))
        elif not bool(jnp.all(scales > min_scale)):
            raise ValueError(
                f"min_scale={min_scale} is not below every fitted scale (the smallest "
                f"is {float(jnp.min(scales)):.3g}, for data of standard deviation down "
                f"to {float(jnp.min(jnp.std(data, axis=0))):.3g}); pass a smaller "
                "min_scale, or min_scale=None for one relative to the data."
            )
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
        return self.mixtures.transform_and_log_det(check_float_dtype(x, "x"))

    def inverse_and_log_det(self, y, condition=None):
        return self.mixtures.inverse_and_log_det(check_float_dtype(y, "y"))
