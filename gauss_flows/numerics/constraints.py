"""Positivity constraints for transformer parameters, as module-level functions.

A named function (not a lambda made per instance) keeps ``paramax.Parameterize``'s
static part identical across instances, so ``eqx.filter_jit`` compiles once for
every layer built the same way.
"""

from __future__ import annotations

import jax.nn as jnn
from jaxtyping import Array, ArrayLike


def softplus_with_floor(raw: ArrayLike, floor: float) -> Array:
    r"""$\text{floor} + \operatorname{softplus}(\text{raw})$: any real to
    $(\text{floor}, \infty)$."""
    return floor + jnn.softplus(raw)
