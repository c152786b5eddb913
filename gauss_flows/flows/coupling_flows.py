r"""A flow from stacked coupling layers with a mask schedule.

``coupling_flow`` stacks $L$ coupling layers $f_1, \dots, f_L$ (each maps data-side
$x$ to latent-side $z$, as ``Coupling.transform`` does) and returns the density

$$\log p(x) = \log \mathcal{N}\big(f(x); 0, I\big)
+ \sum_{l=1}^{L} \log\lvert\det J_{f_l}\rvert, \qquad f = f_L \circ \dots \circ f_1 .$$

By default layer $f_{2i+1}$ (1-based: the 1st, 3rd, ...) uses the default mask (first
$\lfloor d/2 \rfloor$ coordinates passive), layer $f_{2i+2}$ its complement, so every
coordinate is transformed; ``masks=`` picks another schedule of
:mod:`gauss_flows.masks` or takes one mask per layer. A schedule that repeats with
period 2 (every named one) is built with ``eqx.filter_vmap`` over keys and applied with
flowjax's ``Scan`` over *pairs* of layers (a ``Chain`` of a mask-A and a mask-B
coupling), with an odd leftover layer appended: compile time stays flat in $L$. Any
other list of masks is unrolled into a ``Chain``.
"""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax.random as jr
import numpy as np
from flowjax.bijections import AbstractBijection, Chain, Invert, Scan
from flowjax.distributions import StandardNormal, Transformed
from jaxtyping import ArrayLike, PRNGKeyArray

from gauss_flows._validation import (
    check_event_shape,
    check_flow,
    check_mask,
    check_positive_int,
)
from gauss_flows.bijections.actnorm import ActNorm
from gauss_flows.bijections.affine import AffineCoupling
from gauss_flows.bijections.coupling import Coupling
from gauss_flows.bijections.deep_sigmoid import DeepSigmoidCoupling
from gauss_flows.bijections.mixture_cdf import MixtureGaussianCDFCoupling
from gauss_flows.bijections.rq_spline import RQSplineCoupling
from gauss_flows.bijections.stacking import unstack
from gauss_flows.conditioning.conditioners import ConditionerFactory
from gauss_flows.conditioning.masks import SCHEDULES, schedule

#: Names accepted by ``coupling_flow(coupling=...)`` and their classes.
COUPLINGS: dict[str, type[Coupling]] = {
    "affine": AffineCoupling,
    "mixture_cdf": MixtureGaussianCDFCoupling,
    "deep_sigmoid": DeepSigmoidCoupling,
    "rq_spline": RQSplineCoupling,
}


def resolve_coupling(coupling: str | type[Coupling]) -> type[Coupling]:
    """The coupling class for a name in :data:`COUPLINGS` or a ``Coupling`` subclass."""
    if isinstance(coupling, type):
        if not issubclass(coupling, Coupling):
            raise ValueError(
                f"coupling must be a subclass of gauss_flows.Coupling, got {coupling!r}."
            )
        return coupling
    if not isinstance(coupling, str) or coupling not in COUPLINGS:
        raise ValueError(
            f"Unknown coupling {coupling!r}; valid names are {sorted(COUPLINGS)} "
            "(or pass a gauss_flows.Coupling subclass)."
        )
    return COUPLINGS[coupling]


def coupling_flow(
    key: PRNGKeyArray,
    *,
    shape: tuple[int, ...],
    n_layers: int | None = None,
    coupling: str | type[Coupling] = "affine",
    nn_width: int = 32,
    nn_depth: int = 2,
    masks: str | Sequence[ArrayLike] = "half",
    grid: tuple[int, int] | None = None,
    conditioner_factory: ConditionerFactory | None = None,
    actnorm: bool = False,
    **coupling_kwargs,
) -> Transformed:
    r"""A standard-normal base pushed through ``n_layers`` coupling layers.

    Args:
        key: PRNG key for the conditioners (and for the ``"random"`` schedule's mask,
            drawn with ``jr.fold_in(key, 1)``).
        shape: Event shape ``(d,)``, ``d >= 2``.
        n_layers: Number of coupling layers $L \ge 1$. Defaults to ``len(masks)`` for
            an explicit list of masks, else 4.
        coupling: ``"affine"``, ``"mixture_cdf"``, ``"deep_sigmoid"``, ``"rq_spline"``,
            or a :class:`gauss_flows.Coupling` subclass (called as
            ``coupling(key, shape=shape, mask=..., nn_width=..., nn_depth=...,
            **coupling_kwargs)``).
        nn_width, nn_depth: Hidden width and depth of each layer's MLP conditioner
            (unused when ``conditioner_factory`` is given).
        masks: A schedule name of :data:`gauss_flows.masks.SCHEDULES` (``"half"``,
            ``"alternating"``, ``"checkerboard"``, ``"random"``; see
            :func:`gauss_flows.masks.schedule`), or one boolean mask per layer
            (``True`` = passive), in data-to-latent order.
        grid: ``(height, width)`` of the field, for ``masks="checkerboard"`` only.
        conditioner_factory: Optional factory ``(key, in_size, out_size)`` returning
            an equinox module (e.g. :func:`gauss_flows.conditioners.residual_mlp`),
            called once per layer in place of the default MLP. (A ``Coupling`` takes
            one conditioner *module* as ``conditioner=``; here each layer needs its
            own, hence a factory. ``conditioner=`` is still accepted here as the
            old name of this argument.)
        actnorm: If ``True``, put a :class:`gauss_flows.ActNorm` before each coupling
            (identity until :func:`gauss_flows.initialize_actnorm` sets it from data).
        **coupling_kwargs: Passed to every layer (e.g. ``n_components``,
            ``log_scale_bound``, ``zero_init``). ``mask`` is set by the factory.

    Returns:
        ``flowjax.distributions.Transformed(StandardNormal(shape), bijection)``, where
        ``bijection`` maps latent $z$ to data $x$: it is ``Invert`` of the stacked
        layers, so ``log_prob`` runs each coupling's ``transform`` (data to latent)
        and ``sample`` runs their ``inverse``.
    """
    dim = check_event_shape(shape)
    if "conditioner" in coupling_kwargs:  # the old name of conditioner_factory
        if conditioner_factory is not None:
            raise ValueError(
                "pass the factory once, as conditioner_factory= (conditioner= is its "
                "old name)."
            )
        conditioner_factory = coupling_kwargs.pop("conditioner")
    if not isinstance(actnorm, bool):
        raise ValueError(f"actnorm must be True or False, got {actnorm!r}.")
    if "mask" in coupling_kwargs:
        raise ValueError(
            "coupling_flow sets the masks itself; use masks= instead of mask=."
        )
    if n_layers is None:
        listed = not isinstance(masks, str) and hasattr(masks, "__len__")
        n_layers = len(masks) if listed else 4
    check_positive_int(n_layers, "n_layers")
    cls = resolve_coupling(coupling)
    mask_list = resolve_masks(masks, dim, n_layers, grid, key)
    if conditioner_factory is not None and not callable(conditioner_factory):
        raise ValueError(
            "conditioner_factory must be a factory (key, in_size, out_size) -> "
            f"eqx.Module, got {conditioner_factory!r}."
        )

    def layer(key: PRNGKeyArray, mask) -> AbstractBijection:
        if conditioner_factory is None:
            coupling = cls(
                key, shape=(dim,), mask=mask, nn_width=nn_width, nn_depth=nn_depth,
                **coupling_kwargs,
            )
        else:
            in_size, out_size = _conditioner_sizes(cls, dim, mask, coupling_kwargs)
            coupling = cls(
                key, shape=(dim,), mask=mask,
                conditioner=conditioner_factory(key, in_size, out_size),
                **coupling_kwargs,
            )
        return Chain([ActNorm((dim,)), coupling]) if actnorm else coupling

    periodic = all(np.array_equal(m, mask_list[i % 2]) for i, m in enumerate(mask_list))
    if not periodic:
        layers = [layer(k, m) for k, m in zip(jr.split(key, n_layers), mask_list)]
        return Transformed(StandardNormal((dim,)), Invert(Chain(layers)))

    mask_a = mask_list[0]
    mask_b = mask_list[1] if n_layers > 1 else ~mask_a

    def pair(key: PRNGKeyArray) -> Chain:
        key_a, key_b = jr.split(key)
        return Chain([layer(key_a, mask_a), layer(key_b, mask_b)])

    n_pairs, odd = divmod(n_layers, 2)
    pairs_key, last_key = jr.split(key)
    parts: list[AbstractBijection] = []
    if n_pairs:
        parts.append(Scan(eqx.filter_vmap(pair)(jr.split(pairs_key, n_pairs))))
    if odd:
        parts.append(layer(last_key, mask_a))
    stack = parts[0] if len(parts) == 1 else Chain(parts)
    return Transformed(StandardNormal((dim,)), Invert(stack))


def resolve_masks(
    masks: str | Sequence[ArrayLike],
    dim: int,
    n_layers: int,
    grid: tuple[int, int] | None,
    key: PRNGKeyArray,
) -> list[np.ndarray]:
    """The list of ``n_layers`` masks for ``coupling_flow(masks=..., grid=...)``."""
    if isinstance(masks, str):
        mask_key = jr.fold_in(key, 1) if masks == "random" else None
        return schedule(masks, dim, n_layers, grid=grid, key=mask_key)
    if grid is not None:
        raise ValueError(
            "grid applies to masks='checkerboard' only, not to a list of masks."
        )
    if isinstance(masks, np.ndarray) and masks.ndim == 1:
        raise ValueError(
            "masks must be a schedule name or one mask per layer; got a single mask of "
            f"shape {masks.shape} (wrap it in a list to use it in every layer)."
        )
    try:
        mask_list = list(masks)
    except TypeError:
        raise ValueError(
            f"masks must be a schedule name {list(SCHEDULES)} or a list of "
            f"boolean masks, got {masks!r}."
        ) from None
    if len(mask_list) != n_layers:
        raise ValueError(
            f"masks must give one mask per layer: {n_layers} layers, "
            f"{len(mask_list)} masks."
        )
    return [check_mask(m, dim, name=f"masks[{i}]") for i, m in enumerate(mask_list)]


def _conditioner_sizes(cls, dim: int, mask: np.ndarray, coupling_kwargs: dict):
    """``(in_size, out_size)`` of the conditioner of ``cls`` under ``mask``."""
    probe = eqx.filter_eval_shape(
        lambda: cls(jr.key(0), shape=(dim,), mask=mask, nn_width=1, nn_depth=0,
                    **coupling_kwargs)
    )
    return probe.conditioner.in_size, probe.conditioner.out_size


def coupling_layers(flow: Transformed) -> list[AbstractBijection]:
    """The layers of a :func:`coupling_flow`, unstacked, in data-to-latent order.

    ``flow.log_prob(x)`` equals ``StandardNormal`` at ``z = f_L(...f_1(x))`` plus the
    sum of each layer's ``transform_and_log_det`` log-det, with
    ``[f_1, ..., f_L] = coupling_layers(flow)``.
    """
    return unstack(check_flow(flow))
