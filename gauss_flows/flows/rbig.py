r"""Rotation-based iterative Gaussianization (RBIG) {cite}`laparra2011iterative`.

A greedy, gradient-free flow: iteration $l$ fits a diagonal layer $g_l$ to the data
pushed through the earlier iterations (each coordinate to $\mathcal N(0, 1)$, by EM),
then applies a rotation $Q_l$ (PCA of the Gaussianized data, or a random rotation):

$$x^{(l)} = Q_l\, g_l\big(x^{(l-1)}\big), \qquad x^{(0)} = x, \qquad
f = (Q_L \circ g_L) \circ \dots \circ (Q_1 \circ g_1).$$

Each marginal step removes the non-Gaussianity of the marginals; the rotations turn
dependence into new marginal non-Gaussianity for the next step, so the total
correlation left over shrinks. The result is a flowjax ``Transformed`` with the
direction convention of :func:`gauss_flows.coupling_flow`: its bijection is
``Invert(Chain([g_1, Q_1, ..., g_L, Q_L]))``, so ``log_prob`` runs every layer's
``transform`` (data to latent) and ``sample`` runs their ``inverse``.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from flowjax.bijections import AbstractBijection, Chain, Invert
from flowjax.distributions import StandardNormal, Transformed
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from gauss_flows._validation import check_positive_int, check_samples
from gauss_flows.bijections.marginal import MarginalGaussianization
from gauss_flows.bijections.rotation import Rotation
from gauss_flows.bijections.stacking import push_and_log_det
from gauss_flows.fitting.mixtures import DEFAULT_MIN_SCALE_RATIO

ROTATIONS = ("pca", "random")


def _standard_normal_log_prob(z: Array) -> Array:
    return -0.5 * jnp.sum(z**2, axis=-1) - 0.5 * z.shape[-1] * jnp.log(2 * jnp.pi)


def rbig(
    key: PRNGKeyArray,
    data: ArrayLike,
    *,
    n_iterations: int = 8,
    n_components: int = 8,
    rotation: str = "pca",
    test_data: ArrayLike | None = None,
    validation: ArrayLike | None = None,
    n_steps: int = 100,
    min_scale_ratio: float = DEFAULT_MIN_SCALE_RATIO,
) -> tuple[Transformed, dict[str, list[float]]]:
    r"""Fit an RBIG flow to ``data`` with ``n_iterations`` "fit marginals, rotate" steps.

    Args:
        key: PRNG key (random rotations only).
        data: Training samples, shape ``(n, d)``, finite, ``d >= 2``.
        n_iterations: $L \ge 1$; with ``validation``, the most iterations tried.
        n_components: $K$ of every marginal mixture.
        rotation: ``"pca"`` (principal axes of the Gaussianized data) or ``"random"``.
        test_data: Optional held-out samples ``(m, d)``: their mean negative
            log-likelihood is recorded after every iteration (never used for fitting).
        validation: Optional held-out samples ``(m, d)`` that choose the number of
            iterations: the flow keeps the first $L^\star$ iterations, where
            $L^\star \ge 1$ has the lowest validation NLL. Each iteration is fitted
            to the training data alone, so without this choice RBIG keeps fitting
            the training sample ever more closely and the held-out NLL rises again.
        n_steps, min_scale_ratio: EM settings
            (:func:`gauss_flows.fitting.mixtures.fit_marginal_mixtures`).

    Returns:
        ``(flow, history)``: the flow, and ``history["train"]`` (and
        ``history["test"]`` if ``test_data`` is given), the mean negative
        log-likelihood in nats after iterations ``0..L`` (entry 0: the untouched
        standard normal, before any layer), ``history["validation"]`` likewise, and
        ``history["best_iteration"]``, $L^\star$ (``L`` without ``validation``). The
        histories cover all ``L`` iterations even where the flow keeps fewer.
    """
    data = check_samples(data, min_samples=2)
    dim = data.shape[1]
    if dim < 2:
        raise ValueError(f"RBIG needs d >= 2 coordinates, got data of shape {data.shape}.")
    check_positive_int(n_iterations, "n_iterations")
    if rotation not in ROTATIONS:
        raise ValueError(f"rotation must be one of {ROTATIONS}, got {rotation!r}.")
    sets = {"train": data}
    if test_data is not None:
        sets["test"] = check_samples(test_data, "test_data", shape=(dim,)).astype(
            data.dtype
        )
    if validation is not None:
        sets["validation"] = check_samples(validation, "validation", shape=(dim,)).astype(
            data.dtype
        )
    log_dets = {name: jnp.zeros(x.shape[0], data.dtype) for name, x in sets.items()}
    history = {
        name: [float(-_standard_normal_log_prob(x).mean())] for name, x in sets.items()
    }
    layers: list[AbstractBijection] = []
    for key_l in jr.split(key, n_iterations):
        marginal = MarginalGaussianization.fit(
            sets["train"], n_components, n_steps=n_steps, min_scale_ratio=min_scale_ratio
        )
        gaussianized, _ = push_and_log_det(marginal, sets["train"])
        if rotation == "pca":
            rotate = Rotation.pca(gaussianized)
        else:
            rotate = Rotation.random(key_l, dim)
        for layer in (marginal, rotate):
            layers.append(layer)
            for name, x in sets.items():
                sets[name], log_det = push_and_log_det(layer, x)
                log_dets[name] = log_dets[name] + log_det
        for name, z in sets.items():
            nll = -(_standard_normal_log_prob(z) + log_dets[name]).mean()
            history[name].append(float(nll))
    best = n_iterations
    if validation is not None:
        best = int(np.argmin(history["validation"][1:])) + 1
    history["best_iteration"] = best
    flow = Transformed(StandardNormal((dim,)), Invert(Chain(layers[: 2 * best])))
    return flow, history
