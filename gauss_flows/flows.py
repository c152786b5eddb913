r"""A flow from stacked coupling layers with alternating masks.

``coupling_flow`` stacks $L$ coupling layers $f_1, \dots, f_L$ (each maps data-side
$x$ to latent-side $z$, as ``Coupling.transform`` does) and returns the density

$$\log p(x) = \log \mathcal{N}\big(f(x); 0, I\big) + \sum_{l=1}^{L} \log\lvert\det J_{f_l}\rvert,
\qquad f = f_L \circ \dots \circ f_1 .$$

Layer $f_{2i+1}$ (1-based: the 1st, 3rd, ...) uses the default mask (first
$\lfloor d/2 \rfloor$ coordinates passive), layer $f_{2i+2}$ its complement, so every
coordinate is transformed. The layers are built with ``eqx.filter_vmap`` over keys and
applied with flowjax's ``Scan`` over *pairs* of layers (a ``Chain`` of a mask-A and a
mask-B coupling), with an odd leftover layer appended: compile time stays flat in $L$.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.random as jr
from flowjax.bijections import AbstractBijection, Chain, Invert, Scan
from flowjax.distributions import StandardNormal, Transformed
from jaxtyping import PRNGKeyArray

from gauss_flows.actnorm import ActNorm
from gauss_flows.coupling import Coupling, _check_shape, check_positive_int, default_mask

#: Names accepted by ``coupling_flow(coupling=...)``, mapped to attribute names of
#: the ``gauss_flows`` package (resolved when called).
COUPLINGS: dict[str, str] = {
    "affine": "AffineCoupling",
    "mixture_cdf": "MixtureGaussianCDFCoupling",
    "deep_sigmoid": "DeepSigmoidCoupling",
    "rq_spline": "RQSplineCoupling",
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
    import gauss_flows  # lazily: some couplings live in modules imported after this one

    cls = getattr(gauss_flows, COUPLINGS[coupling], None)
    if cls is None:
        raise ValueError(
            f"coupling {coupling!r} needs gauss_flows.{COUPLINGS[coupling]}, "
            "which this version of gauss_flows does not provide."
        )
    return cls


def coupling_flow(
    key: PRNGKeyArray,
    *,
    shape: tuple[int, ...],
    n_layers: int = 4,
    coupling: str | type[Coupling] = "affine",
    nn_width: int = 32,
    nn_depth: int = 2,
    actnorm: bool = False,
    **coupling_kwargs,
) -> Transformed:
    r"""A standard-normal base pushed through ``n_layers`` alternating coupling layers.

    Args:
        key: PRNG key for the conditioners.
        shape: Event shape ``(d,)``, ``d >= 2``.
        n_layers: Number of coupling layers $L \ge 1$.
        coupling: ``"affine"``, ``"mixture_cdf"``, ``"deep_sigmoid"``, ``"rq_spline"``,
            or a :class:`gauss_flows.Coupling` subclass (called as
            ``coupling(key, shape=shape, mask=..., nn_width=..., nn_depth=...,
            **coupling_kwargs)``).
        nn_width, nn_depth: Hidden width and depth of each layer's MLP conditioner.
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
    dim = _check_shape(shape)
    check_positive_int(n_layers, "n_layers")
    if not isinstance(actnorm, bool):
        raise ValueError(f"actnorm must be True or False, got {actnorm!r}.")
    if "mask" in coupling_kwargs:
        raise ValueError("coupling_flow sets the masks itself (alternating); drop mask=.")
    cls = resolve_coupling(coupling)
    mask_a = default_mask(dim)
    mask_b = ~mask_a

    def layer(key: PRNGKeyArray, mask) -> AbstractBijection:
        coupling = cls(
            key, shape=(dim,), mask=mask, nn_width=nn_width, nn_depth=nn_depth,
            **coupling_kwargs,
        )
        return Chain([ActNorm((dim,)), coupling]) if actnorm else coupling

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


def coupling_layers(flow: Transformed) -> list[AbstractBijection]:
    """The layers of a :func:`coupling_flow`, unstacked, in data-to-latent order.

    ``flow.log_prob(x)`` equals ``StandardNormal`` at ``z = f_L(...f_1(x))`` plus the
    sum of each layer's ``transform_and_log_det`` log-det, with
    ``[f_1, ..., f_L] = coupling_layers(flow)``.
    """
    if not isinstance(flow, Transformed) or not isinstance(flow.bijection, Invert):
        raise ValueError("flow must be a Transformed distribution from coupling_flow.")
    return _unstack(flow.bijection.bijection)


def _unstack(bijection: AbstractBijection) -> list[AbstractBijection]:
    if isinstance(bijection, Scan):
        arrays = [a for a in jax.tree.leaves(bijection.bijection) if eqx.is_array(a)]
        layers = []
        for i in range(arrays[0].shape[0]):
            step = jax.tree.map(lambda a: a[i] if eqx.is_array(a) else a, bijection.bijection)
            layers += _unstack(step)
        return layers
    if isinstance(bijection, Chain):
        return [layer for part in bijection.bijections for layer in _unstack(part)]
    return [bijection]
