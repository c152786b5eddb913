"""Which arrays of a model are trained: one rule for the whole package.

A *trainable* array is a floating-point array leaf that is not wrapped in
``paramax.NonTrainable`` (a fixed rotation, for instance). flowjax's ``fit_to_data``
trains exactly these, and so do :func:`gauss_flows.train_flows`, the coupling layers'
ravelled transformer parameters and the warm start.
"""

from __future__ import annotations

from collections.abc import Hashable

import equinox as eqx
import jax
import numpy as np
import paramax
from flowjax.utils import get_ravelled_pytree_constructor
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, PyTree


def is_frozen(leaf) -> bool:
    """Whether ``leaf`` is a ``paramax.NonTrainable`` (use as ``is_leaf=``)."""
    return isinstance(leaf, paramax.NonTrainable)


def partition_trainable(tree: PyTree) -> tuple[PyTree, PyTree]:
    """``(trainable, rest)``: ``eqx.partition`` of ``tree`` into its trainable arrays
    and everything else (static parts and ``NonTrainable`` subtrees)."""
    return eqx.partition(tree, eqx.is_inexact_array, is_leaf=is_frozen)


def ravel_trainable(tree: PyTree) -> Array:
    """The trainable arrays of ``tree``, ravelled into one vector (in leaf order)."""
    return ravel_pytree(partition_trainable(tree)[0])[0]


def count_parameters(tree: PyTree) -> int:
    """Number of trainable scalars in ``tree``: the total size of its floating-point
    arrays, leaving out those wrapped in ``paramax.NonTrainable``."""
    return sum(int(leaf.size) for leaf in jax.tree.leaves(partition_trainable(tree)[0]))


class RavelledConstructor:
    r"""``constructor(v) = template`` with ``v`` added to its ravelled trainable arrays.

    The map is flowjax's ``get_ravelled_pytree_constructor(template,
    eqx.is_inexact_array, is_leaf=is_frozen)``: with $\theta_0$ the template's trainable
    arrays ravelled into one vector of length :attr:`n_params`, ``constructor(v)``
    rebuilds the template from $\theta_0 + v$, so ``constructor(zeros(n_params))`` is
    the template exactly.

    What this class adds is equality. flowjax returns a closure, and two closures are
    never equal; here two constructors of equal templates (same structure, same fixed
    parts, same $\theta_0$ bit for bit) compare and hash equal. A coupling layer keeps
    its constructor as a static field, which jax's compile caches key on, so two layers
    (or flows) built alike share their compiled programs instead of compiling the same
    program once per build. A template with arrays that cannot be read on the host
    (built under ``jax.jit``) equals only itself.
    """

    def __init__(self, template: PyTree):
        self._construct, self.n_params = get_ravelled_pytree_constructor(
            template, eqx.is_inexact_array, is_leaf=is_frozen
        )
        params, rest = partition_trainable(template)
        try:
            self._key = (
                jax.tree.structure(params),
                tuple(_value_key(leaf) for leaf in jax.tree.leaves(params)),
                jax.tree.structure(rest),
                tuple(_value_key(leaf) for leaf in jax.tree.leaves(rest)),
            )
            self._hash = hash(self._key)
        except TypeError:  # a tracer (jax.jit) or an unhashable leaf
            self._key, self._hash = None, id(self)

    def __call__(self, v: Array) -> PyTree:
        return self._construct(v)

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, RavelledConstructor) or self._key is None:
            return False
        return self._hash == other._hash and self._key == other._key

    def __hash__(self) -> int:
        return self._hash


def _value_key(leaf) -> Hashable:
    """A hashable stand-in for one leaf, equal only for the same constant: arrays by
    shape, dtype and bytes; Python floats by their bits (so 0.0 is not -0.0 and NaN
    equals NaN); other leaves by type and ``==``."""
    if isinstance(leaf, (jax.Array, np.ndarray)):
        host = np.asarray(leaf)  # raises for a tracer
        return ("array", host.shape, host.dtype.str, host.tobytes())
    if isinstance(leaf, float):
        return (float, leaf.hex())
    hash(leaf)  # TypeError if unhashable
    return (type(leaf), leaf)
