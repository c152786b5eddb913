"""Which arrays of a model are trained: one rule for the whole package.

A *trainable* array is a floating-point array leaf that is not wrapped in
``paramax.NonTrainable`` (a fixed rotation, for instance). flowjax's ``fit_to_data``
trains exactly these, and so do :func:`gauss_flows.train_flows`, the coupling layers'
ravelled transformer parameters and the warm start.
"""

from __future__ import annotations

import equinox as eqx
import jax
import paramax
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
