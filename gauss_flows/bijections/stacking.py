r"""Walking the layers of a flowjax stack, in data-to-latent order.

A flow's layers sit in ``Chain``\ s (a tuple of bijections) and ``Scan``\ s (one
bijection whose array leaves carry a leading axis, one slice per step). These helpers
visit the layers one at a time and, where asked, put the stack back together with the
same nesting.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from flowjax.bijections import AbstractBijection, Chain, Scan
from jaxtyping import Array


def _steps(scan: Scan) -> list[AbstractBijection]:
    """The steps of a ``Scan``, sliced off the leading axis of its array leaves."""
    arrays, static = eqx.partition(scan.bijection, eqx.is_array)
    n_steps = jax.tree.leaves(arrays)[0].shape[0]
    return [eqx.combine(jax.tree.map(lambda a: a[i], arrays), static)
            for i in range(n_steps)]


def map_layers(
    bijection: AbstractBijection, fn: Callable[[AbstractBijection], AbstractBijection]
) -> AbstractBijection:
    """``bijection`` with ``fn`` applied to every layer, in data-to-latent order.

    ``Chain`` and ``Scan`` are walked into (a ``Scan``'s steps are mapped one by one and
    stacked again); anything else is a layer. ``fn`` may carry state between calls
    (e.g. the batch pushed through the earlier layers); the layers it returns must keep
    their array shapes so that a ``Scan`` restacks.
    """
    if isinstance(bijection, Scan):
        steps = [map_layers(step, fn) for step in _steps(bijection)]
        arrays = [eqx.filter(step, eqx.is_array) for step in steps]
        stacked = jax.tree.map(lambda *a: jnp.stack(a), *arrays)
        step = eqx.combine(stacked, eqx.filter(steps[0], eqx.is_array, inverse=True))
        return eqx.tree_at(lambda s: s.bijection, bijection, step)
    if isinstance(bijection, Chain):
        parts = tuple(map_layers(part, fn) for part in bijection.bijections)
        return eqx.tree_at(lambda c: c.bijections, bijection, parts)
    return fn(bijection)


def unstack(bijection: AbstractBijection) -> list[AbstractBijection]:
    """The layers of ``bijection``, in data-to-latent order (the order of
    :func:`map_layers`)."""
    if isinstance(bijection, Scan):
        return [layer for step in _steps(bijection) for layer in unstack(step)]
    if isinstance(bijection, Chain):
        return [layer for part in bijection.bijections for layer in unstack(part)]
    return [bijection]


@eqx.filter_jit
def push(layer: AbstractBijection, x: Array) -> Array:
    """``layer.transform`` of a batch ``x`` of shape ``(n, *layer.shape)``, jitted:
    compiled once per layer structure."""
    return jax.vmap(layer.transform)(x)


@eqx.filter_jit
def push_and_log_det(layer: AbstractBijection, x: Array) -> tuple[Array, Array]:
    """``layer.transform_and_log_det`` of a batch ``x`` of shape ``(n, *layer.shape)``:
    outputs ``(n, *layer.shape)`` and ``(n,)``, jitted."""
    return jax.vmap(layer.transform_and_log_det)(x)
