r"""Per-layer gradient norms, recorded inside the optimiser during training.

For a flow $f = f_L \circ \dots \circ f_1$ with loss $\mathcal{L}$, the gradient norm
of layer $l$ is the Euclidean norm over all of that layer's trainable arrays,

$$g_l = \Big(\sum_{w \in f_l} \big\lVert \partial \mathcal{L} / \partial w \big\rVert_2^2
\Big)^{1/2} .$$

:func:`record_gradient_norms` is an optax gradient transformation that passes the
gradients through unchanged and sends $(g_1, \dots, g_L)$ of each step to a host
function with ``jax.debug.callback``, so flowjax's ``fit_to_data`` keeps running the
training loop. Placed first in an ``optax.chain``, it sees the raw gradient of the
minibatch loss, before clipping.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flowjax.distributions import Transformed
from jaxtyping import Array

from gauss_flows.flows.coupling_flows import coupling_layers


def layer_gradient_norms(grads: Transformed) -> Array:
    r"""$(g_1, \dots, g_L)$: the gradient norm of each layer, shape ``(L,)``.

    Args:
        grads: Gradients with the structure of a :func:`gauss_flows.coupling_flow`
            (e.g. ``eqx.filter_grad`` of a loss of the flow). The layers are those of
            :func:`gauss_flows.flows.coupling_layers`, in data-to-latent order, so an
            ``ActNorm`` before a coupling counts as a layer of its own.
    """
    layers = coupling_layers(grads)
    return jnp.stack([optax.tree_utils.tree_norm(layer) for layer in layers])


class GradientNormState(NamedTuple):
    """The step counter of :func:`record_gradient_norms`."""

    count: Array


def record_gradient_norms(
    callback: Callable[[int, np.ndarray], None],
) -> optax.GradientTransformation:
    r"""An optax transformation that reports each step's per-layer gradient norms.

    At every ``update`` it calls ``callback(step, norms)`` on the host, with the
    0-based step index and ``norms = layer_gradient_norms(grads)`` as a NumPy array of
    shape ``(L,)``, and returns the gradients unchanged. The callback is ordered, so
    calls arrive in step order.

    Note: with float64 enabled through the ``jax.enable_x64`` *context manager* (rather
    than the global ``jax_enable_x64`` flag), the norms were observed to reach the
    host rounded to float32 precision; with the global flag they are exact.

    Args:
        callback: Host function ``(step: int, norms: np.ndarray) -> None``.
    """
    if not callable(callback):
        raise ValueError(f"callback must be callable, got {callback!r}.")

    def host(step, norms):
        callback(int(step), np.asarray(norms))

    def init(params):
        del params
        return GradientNormState(count=jnp.zeros((), jnp.int32))

    def update(updates, state, params=None):
        del params
        jax.debug.callback(host, state.count, layer_gradient_norms(updates), ordered=True)
        return updates, GradientNormState(count=state.count + 1)

    return optax.GradientTransformation(init, update)
