r"""Conditioners $c_\phi$: the networks that read $x_A$ and emit the parameters $\theta$.

A coupling layer never inverts its conditioner, so any network from
$\mathbb{R}^{|A|}$ to $\mathbb{R}^{|B| \cdot n_\theta}$ will do. ``gf.Coupling`` and its
subclasses take one *module* as ``conditioner=``; ``gf.coupling_flow`` takes a
*factory* ``conditioner_factory(key, in_size, out_size) -> eqx.Module`` and builds one
per layer (under ``eqx.filter_vmap`` over the keys, so a factory must be traceable).
:func:`mlp` and :func:`residual_mlp` make such factories.

:class:`ResidualMLP` is the residual network of neural spline flows
{cite}`durkan2019nsf`: an input layer, pre-activation residual blocks
(He et al.'s identity mappings) and an output layer that starts at zero, so a coupling
built on it starts exactly at its transformer's template (the identity for affine).
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax.nn as jnn
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, PRNGKeyArray

# count_parameters lives in gauss_flows._parameters (also gf.count_parameters); the
# name stays here too, where the course notebooks call it.
from gauss_flows._parameters import count_parameters
from gauss_flows._validation import check_positive_int

#: ``factory(key, in_size, out_size) -> eqx.Module``, one conditioner per layer.
ConditionerFactory = Callable[[PRNGKeyArray, int, int], eqx.Module]


def zero_linear(linear: eqx.nn.Linear) -> eqx.nn.Linear:
    """``linear`` with its weight (and bias, if any) set to zero: it outputs 0."""
    if linear.bias is None:
        return eqx.tree_at(lambda lin: lin.weight, linear, jnp.zeros_like(linear.weight))
    return eqx.tree_at(
        lambda lin: (lin.weight, lin.bias),
        linear,
        (jnp.zeros_like(linear.weight), jnp.zeros_like(linear.bias)),
    )


def zero_output_layer(mlp: eqx.nn.MLP) -> eqx.nn.MLP:
    """``mlp`` with the weight and bias of its last layer set to zero (output 0)."""
    return eqx.tree_at(lambda m: m.layers[-1], mlp, zero_linear(mlp.layers[-1]))


class ResidualBlock(eqx.Module):
    r"""Pre-activation residual block, $h \mapsto h + W_2\,\sigma(W_1\,\sigma(h))$.

    Shapes: ``(width,) -> (width,)``.
    """

    first: eqx.nn.Linear
    second: eqx.nn.Linear
    activation: Callable = eqx.field(static=True)

    def __init__(self, width: int, activation: Callable, *, key: PRNGKeyArray):
        key_1, key_2 = jr.split(key)
        self.first = eqx.nn.Linear(width, width, key=key_1)
        self.second = eqx.nn.Linear(width, width, key=key_2)
        self.activation = activation

    def __call__(self, h: Array) -> Array:
        return h + self.second(self.activation(self.first(self.activation(h))))


class ResidualMLP(eqx.Module):
    r"""Residual MLP: $c(x) = W_\text{out}\, r_K(\cdots r_1(W_\text{in} x))$.

    $r_k$ are :class:`ResidualBlock` s of ``width`` units. With ``zero_init`` the
    output layer's weight and bias are zero, so $c(x) = 0$ for every $x$ at
    initialisation. Unlike the MLP conditioners (:class:`gauss_flows.Coupling` and
    :func:`mlp`, whose ``zero_init`` defaults to ``False``), ``zero_init`` defaults to
    ``True`` here: the zero-initialised output layer is part of the design of
    {cite}`durkan2019nsf`, and the course relies on it.

    Args:
        in_size: Input size ($|A|$, plus any ``cond_dim``).
        out_size: Output size ($|B| \cdot n_\theta$).
        width: Hidden width (``>= 1``).
        n_blocks: Number of residual blocks (``>= 0``); each has two linear layers.
        activation: Elementwise activation.
        zero_init: Zero the output layer (weight and bias).
        key: PRNG key.

    Attributes:
        output: The final ``eqx.nn.Linear`` (``width -> out_size``).
    """

    input: eqx.nn.Linear
    blocks: tuple[ResidualBlock, ...]
    output: eqx.nn.Linear

    def __init__(
        self,
        in_size: int,
        out_size: int,
        width: int = 32,
        n_blocks: int = 2,
        activation: Callable = jnn.relu,
        zero_init: bool = True,
        *,
        key: PRNGKeyArray,
    ):
        check_positive_int(in_size, "in_size")
        check_positive_int(out_size, "out_size")
        check_positive_int(width, "width")
        check_positive_int(n_blocks, "n_blocks", minimum=0)
        if not callable(activation):
            raise ValueError(f"activation must be callable, got {activation!r}.")
        key_in, key_out, *key_blocks = jr.split(key, n_blocks + 2)
        self.input = eqx.nn.Linear(in_size, width, key=key_in)
        self.blocks = tuple(ResidualBlock(width, activation, key=k) for k in key_blocks)
        output = eqx.nn.Linear(width, out_size, key=key_out)
        self.output = zero_linear(output) if zero_init else output

    def __call__(self, x: Array) -> Array:
        """Map shape ``(in_size,)`` to shape ``(out_size,)``."""
        h = self.input(x)
        for block in self.blocks:
            h = block(h)
        return self.output(h)


def residual_mlp(
    width: int = 32,
    n_blocks: int = 2,
    activation: Callable = jnn.relu,
    zero_init: bool = True,
) -> ConditionerFactory:
    """A factory ``(key, in_size, out_size) -> ResidualMLP`` for
    ``coupling_flow(conditioner_factory=...)``; ``zero_init`` defaults to ``True``, as
    in :class:`ResidualMLP`."""
    check_positive_int(width, "width")
    check_positive_int(n_blocks, "n_blocks", minimum=0)

    def factory(key: PRNGKeyArray, in_size: int, out_size: int) -> ResidualMLP:
        return ResidualMLP(
            in_size, out_size, width, n_blocks, activation, zero_init, key=key
        )

    return factory


def mlp(
    width: int = 32,
    depth: int = 2,
    activation: Callable = jnn.relu,
    zero_init: bool = False,
) -> ConditionerFactory:
    """A factory ``(key, in_size, out_size) -> eqx.nn.MLP`` for
    ``coupling_flow(conditioner_factory=...)``.

    ``depth`` hidden layers of ``width`` units; ``zero_init`` zeroes the last layer.
    """
    check_positive_int(width, "width")
    check_positive_int(depth, "depth", minimum=0)

    def factory(key: PRNGKeyArray, in_size: int, out_size: int) -> eqx.nn.MLP:
        net = eqx.nn.MLP(in_size, out_size, width, depth, activation=activation, key=key)
        return zero_output_layer(net) if zero_init else net

    return factory


__all__ = [
    "ConditionerFactory",
    "ResidualBlock",
    "ResidualMLP",
    "count_parameters",
    "mlp",
    "residual_mlp",
    "zero_linear",
    "zero_output_layer",
]
