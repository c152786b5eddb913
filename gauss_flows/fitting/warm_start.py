r"""Warm start of a coupling flow at a fitted diagonal flow, and its diagonal twin.

If a coupling's conditioner ends in a linear output layer $h \mapsto Wh + c$ and
$W = 0$, then $\theta = c_\phi(x_A) = c$ for every input: the block
$\partial z_B / \partial x_A$ of the Jacobian vanishes and the layer *is* the diagonal
layer $z_B = T_c(x_B)$, $z_A = x_A$. :func:`warm_start` sets $W = 0$ and
$c = (\theta_i)_{i \in B}$, the transformer parameters fitted to the data pushed
through the earlier layers, for every layer in turn; the flow then starts as a fitted
diagonal flow and gradient descent switches the conditioners on where the data has
dependence. :func:`diagonal_flow` rebuilds that diagonal flow with flowjax's
``Stack`` (``Identity`` on $A$, $T_{c_i}$ on $B$), for checks.

Transformers that can be fitted: :class:`~gauss_flows.MixtureGaussianCDF` (EM,
:func:`~gauss_flows.fitting.mixtures.fit_marginal_mixtures`, with the template's $K$;
every layer is
refitted to its own input, so no mixture starts with equal components) and
:class:`~gauss_flows.LogScaleAffine` (standardisation, $e^{s} = 1/\mathrm{sd}$,
$t = -\mathrm{mean}/\mathrm{sd}$). Conditioners: ``eqx.nn.MLP`` (output layer
``layers[-1]``) or any module whose attribute ``output`` is an ``eqx.nn.Linear``.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import paramax
from flowjax.bijections import AbstractBijection, Chain, Identity, Invert, Stack
from flowjax.distributions import Transformed
from jaxtyping import Array, ArrayLike

from gauss_flows._parameters import ravel_trainable
from gauss_flows._validation import check_flow, check_samples
from gauss_flows.bijections.affine import LogScaleAffine
from gauss_flows.bijections.coupling import Coupling
from gauss_flows.bijections.mixture_cdf import MixtureGaussianCDF
from gauss_flows.bijections.stacking import map_layers, push, unstack
from gauss_flows.fitting.mixtures import DEFAULT_MIN_SCALE_RATIO, fit_marginal_mixtures


def template_transformer(coupling: Coupling) -> AbstractBijection:
    """The coupling's transformer at zero conditioner output (its template)."""
    return coupling.transformer_constructor(jnp.zeros(coupling.n_params))


def transformer_parameters(coupling: Coupling, transformer: AbstractBijection) -> Array:
    r"""The vector $v$ with ``coupling.transformer_constructor(v) == transformer``.

    The inverse of ``transformer_constructor``: the transformer's trainable arrays,
    ravelled in the constructor's order, minus the template's. ``transformer`` must
    have the template's structure (same class, $K$, bounds).
    """
    template = template_transformer(coupling)
    same = jax.tree.structure(eqx.filter(template, eqx.is_array)) == jax.tree.structure(
        eqx.filter(transformer, eqx.is_array)
    )
    if not same or type(transformer) is not type(template):
        raise ValueError(
            f"transformer must have the structure of the coupling's template "
            f"{type(template).__name__}, got {type(transformer).__name__}."
        )
    v = ravel_trainable(transformer) - ravel_trainable(template)
    if v.shape != (coupling.n_params,):
        raise ValueError(
            f"transformer has {v.shape[0]} trainable numbers; the coupling expects "
            f"{coupling.n_params}."
        )
    return v


def fitted_transformers(
    coupling: Coupling,
    x_active: ArrayLike,
    *,
    n_steps: int = 100,
    min_scale_ratio: float = DEFAULT_MIN_SCALE_RATIO,
) -> AbstractBijection:
    r"""The coupling's transformer fitted to each column of ``x_active`` (``(n, |B|)``).

    Returns the transformers stacked along a leading axis of size $|B|$.
    """
    template = template_transformer(coupling)
    x_active = check_samples(
        x_active, "x_active", shape=(len(coupling.active),), min_samples=2
    )
    if isinstance(template, MixtureGaussianCDF):
        log_w, means, scales = fit_marginal_mixtures(
            x_active, template.n_components, n_steps=n_steps,
            min_scale_ratio=min_scale_ratio,
        )
        floor = template.scales.kwargs["floor"]
        # The fitted scales follow the data (their floor is relative to it); the
        # coupling's floor is absolute. Clamping to it would silently under-fit
        # small-scale data, so refuse instead. (2 * floor: a scale right at the floor
        # would sit where the softplus is flat, and never train.)
        if not bool(jnp.all(scales > 2 * floor)):
            raise ValueError(
                f"cannot warm-start: fitted mixture scales go down to "
                f"{float(jnp.min(scales)):.3g}, not above twice the coupling's "
                f"min_scale={floor}; standardise the data, or build the couplings with "
                "a smaller min_scale (e.g. coupling_flow(..., min_scale=1e-6))."
            )
        raw = paramax.utils.inv_softplus(scales - floor)
        return eqx.tree_at(
            lambda m: (m.logits, m.means, m.scales.args[0]), template, (log_w, means, raw)
        )
    if isinstance(template, LogScaleAffine):
        mean, std = x_active.mean(0), x_active.std(0)
        s = -jnp.log(std)
        bound = template.log_scale_bound
        if bound is not None:
            if not bool(jnp.all(jnp.abs(s) < bound)):
                raise ValueError(
                    f"cannot warm-start: the fitted log-scales {np.asarray(s)} exceed the "
                    f"coupling's log_scale_bound {bound}."
                )
            s = bound * jnp.arctanh(s / bound)
        return eqx.tree_at(lambda a: (a.shift, a.log_scale), template, (-mean / std, s))
    raise ValueError(
        f"cannot warm-start a coupling whose transformer is {type(template).__name__}: "
        "only MixtureGaussianCDF and LogScaleAffine transformers can be fitted to data."
    )


def _output_layer(conditioner) -> Callable:
    if isinstance(conditioner, eqx.nn.MLP):
        get = lambda c: c.layers[-1]  # noqa: E731
    elif isinstance(getattr(conditioner, "output", None), eqx.nn.Linear):
        get = lambda c: c.output  # noqa: E731
    else:
        raise ValueError(
            "cannot warm-start a coupling whose conditioner is "
            f"{type(conditioner).__name__}: it must be an eqx.nn.MLP or have an "
            "eqx.nn.Linear attribute `output`."
        )
    if get(conditioner).bias is None:
        raise ValueError("cannot warm-start: the conditioner's output layer has no bias.")
    return get


def _warm_layer(coupling: Coupling, x: Array, **fit_kwargs) -> Coupling:
    stacked = fitted_transformers(coupling, x[:, list(coupling.active)], **fit_kwargs)
    params = eqx.filter_vmap(lambda t: transformer_parameters(coupling, t))(stacked)
    get = _output_layer(coupling.conditioner)
    out = get(coupling.conditioner)
    bias = params.reshape(-1).astype(out.bias.dtype)
    conditioner = eqx.tree_at(
        lambda c: (get(c).weight, get(c).bias),
        coupling.conditioner,
        (jnp.zeros_like(out.weight), bias),
    )
    layer = eqx.tree_at(lambda c: c.conditioner, coupling, conditioner)
    probe = jnp.zeros(out.weight.shape[1:], out.weight.dtype)
    at_data = layer.transformer_params(x[0, list(coupling.passive)]).reshape(-1)
    if not bool(jnp.all(get(conditioner)(probe) == bias)) or not bool(
        jnp.allclose(at_data, bias)
    ):
        raise ValueError(
            "cannot warm-start: with a zero output kernel the conditioner does not "
            "return its output bias (a final activation or a skip path after it?)."
        )
    return layer


def warm_start(
    flow: Transformed,
    data: ArrayLike,
    *,
    n_steps: int = 100,
    min_scale_ratio: float = DEFAULT_MIN_SCALE_RATIO,
) -> Transformed:
    r"""``flow`` with every coupling started at the diagonal layer fitted to ``data``.

    Layer $f_l$'s transformers are fitted to $x^{(l-1)} = f_{l-1}(\dots f_1(x))$,
    the data pushed through the (already warm-started) earlier layers; then its output
    kernel is set to 0 and its output bias to the fitted parameters. Other layers
    (e.g. rotations) are kept and the data pushed through them.

    Args:
        flow: A ``Transformed`` from :func:`gauss_flows.coupling_flow` (or built the
            same way: ``Invert`` of ``Chain``/``Scan`` stacks of layers).
        data: Training samples, shape ``(n, d)``, ``n >= 2``, finite, float32 or
            float64.
        n_steps, min_scale_ratio: EM settings of mixture transformers.

    Raises:
        ValueError: bad data, no coupling in the flow, a coupling whose transformer
            or conditioner cannot be warm-started, or mixture scales fitted below
            twice the couplings' ``min_scale`` (data on too small a scale).
    """
    stack = check_flow(flow)
    data = check_samples(data, shape=tuple(flow.shape), min_samples=2)
    data = data.astype(jnp.result_type(float))
    state = {"x": data, "n_couplings": 0}

    def fn(layer: AbstractBijection) -> AbstractBijection:
        if isinstance(layer, Coupling):
            layer = _warm_layer(layer, state["x"], n_steps=n_steps,
                                min_scale_ratio=min_scale_ratio)
            state["n_couplings"] += 1
        state["x"] = push(layer, state["x"])
        return layer

    new_stack = map_layers(stack, fn)
    if state["n_couplings"] == 0:
        raise ValueError("flow has no gauss_flows.Coupling layer to warm-start.")
    return eqx.tree_at(lambda f: f.bijection.bijection, flow, new_stack)


def diagonal_layer(coupling: Coupling) -> Stack:
    r"""The diagonal layer equal to a coupling whose output kernel is zero.

    ``Stack`` of ``Identity`` on the passive coordinates and $T_{c_i}$ on the active
    ones, with $c$ the output bias. ``ValueError`` if the kernel is not exactly zero.
    """
    get = _output_layer(coupling.conditioner)
    out = get(coupling.conditioner)
    if bool(jnp.any(out.weight != 0)):
        raise ValueError("the coupling's output kernel is not zero: it is not diagonal.")
    params = out.bias.reshape(len(coupling.active), coupling.n_params)
    scalars: list[AbstractBijection] = [Identity() for _ in range(coupling.shape[0])]
    for j, i in enumerate(coupling.active):
        scalars[i] = coupling.transformer_constructor(params[j])
    return Stack(scalars)


def diagonal_flow(flow: Transformed) -> Transformed:
    """``flow`` with every zero-kernel coupling replaced by its :func:`diagonal_layer`."""
    layers = [diagonal_layer(layer) if isinstance(layer, Coupling) else layer
              for layer in unstack(check_flow(flow))]
    return Transformed(flow.base_dist, Invert(Chain(layers)))
