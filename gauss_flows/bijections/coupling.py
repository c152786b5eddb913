r"""The coupling layer: split, condition, transform.

Given a boolean mask that marks the *passive* coordinates $A$ (the rest, $B$, are
*active*), a coupling layer maps $x \in \mathbb{R}^d$ to $z$ with

$$z_A = x_A, \qquad z_B = T_{\theta}(x_B), \qquad \theta = c_\phi(x_A),$$

where $T_\theta$ is an elementwise, strictly increasing scalar bijection and
$c_\phi$ (the *conditioner*) is any network that reads the passive half. Because
$z_A$ does not depend on $x_B$ and $z_B$ depends on $x_B$ only elementwise, the
Jacobian is block-triangular and

$$\log\lvert\det J\rvert = \sum_{i \in B} \log T_\theta'(x_i).$$

The inverse needs only $x_A = z_A$, $\theta = c_\phi(z_A)$ and $x_B = T_\theta^{-1}(z_B)$:
the conditioner is never inverted.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.nn as jnn
import jax.numpy as jnp
import numpy as np
import paramax
from flowjax.bijections import AbstractBijection
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from gauss_flows._parameters import RavelledConstructor
from gauss_flows._validation import (
    check_event_shape,
    check_float_dtype,
    check_mask,
    check_positive_int,
)
from gauss_flows.conditioning.conditioners import zero_output_layer
from gauss_flows.conditioning.masks import half


def _as_slice(idx: tuple[int, ...]) -> slice | np.ndarray:
    """``idx`` as a static slice if it is a run of consecutive indices, else an array.

    Slicing lowers to a plain XLA slice; an index array lowers to a gather (and
    ``.at[].set`` to a scatter), which is slower on CPU.
    """
    start = idx[0]
    if idx == tuple(range(start, start + len(idx))):
        return slice(start, start + len(idx))
    return np.asarray(idx)


class Coupling(AbstractBijection):
    r"""A coupling layer with any elementwise transformer and any conditioner.

    Args:
        key: PRNG key for the default conditioner's weights.
        shape: Event shape ``(d,)`` with ``d >= 2``.
        transformer: A scalar flowjax bijection (``shape == ()``) whose trainable
            arrays the conditioner predicts, one copy per active coordinate. Calling
            it with all-zero conditioner output gives this template exactly.
        mask: Boolean array of shape ``(d,)``; ``True`` marks passive coordinates
            ($A$). Defaults to the first ``d // 2`` coordinates.
        cond_dim: Size of an optional extra conditioning vector, appended to $x_A$
            at the conditioner's input. ``None`` for an unconditional layer.
        conditioner: Any callable equinox module mapping a vector of size
            ``n_passive (+ cond_dim)`` to one of size ``n_active * n_params``. If
            ``None``, an ``eqx.nn.MLP`` with ``nn_width`` and ``nn_depth`` is built.
        nn_width: Hidden width of the default MLP conditioner (``>= 1``).
        nn_depth: Number of hidden layers of the default MLP conditioner (``>= 0``).
        nn_activation: Activation of the default MLP conditioner.
        zero_init: If ``True``, zero the default MLP's last layer so that the
            conditioner outputs exactly zero and the layer starts at the template.

    ``transformer_constructor`` maps a vector of ``n_params`` offsets to a transformer
    (the zero vector gives the template). It compares by value, so two layers built
    alike (same shape, mask, template and conditioner architecture) have the same
    static structure, and a jitted function compiled for one runs the other without
    compiling again.
    """

    shape: tuple[int, ...]
    cond_shape: tuple[int, ...] | None
    passive: tuple[int, ...] = eqx.field(static=True)
    active: tuple[int, ...] = eqx.field(static=True)
    n_params: int = eqx.field(static=True)
    transformer_constructor: RavelledConstructor = eqx.field(static=True)
    conditioner: Callable[[Array], Array]

    def __init__(
        self,
        key: PRNGKeyArray,
        *,
        shape: tuple[int, ...],
        transformer: AbstractBijection,
        mask: ArrayLike | None = None,
        cond_dim: int | None = None,
        conditioner: eqx.Module | None = None,
        nn_width: int = 32,
        nn_depth: int = 2,
        nn_activation: Callable = jnn.relu,
        zero_init: bool = False,
    ):
        dim = check_event_shape(shape)
        mask = half(dim) if mask is None else check_mask(mask, dim)
        if cond_dim is not None:
            check_positive_int(cond_dim, "cond_dim")
        if not isinstance(transformer, AbstractBijection) or transformer.shape != ():
            raise ValueError(
                "transformer must be a scalar flowjax bijection with shape (), "
                f"got {type(transformer).__name__}."
            )
        if transformer.cond_shape is not None:
            raise ValueError("transformer must be unconditional (cond_shape None).")

        constructor = RavelledConstructor(transformer)
        n_params = constructor.n_params
        self.shape = (dim,)
        self.cond_shape = None if cond_dim is None else (int(cond_dim),)
        self.passive = tuple(int(i) for i in np.flatnonzero(mask))
        self.active = tuple(int(i) for i in np.flatnonzero(~mask))
        self.n_params = n_params
        self.transformer_constructor = constructor

        in_size = len(self.passive) + (0 if cond_dim is None else int(cond_dim))
        out_size = n_params * len(self.active)
        if conditioner is None:
            check_positive_int(nn_width, "nn_width")
            check_positive_int(nn_depth, "nn_depth", minimum=0)
            conditioner = eqx.nn.MLP(
                in_size, out_size, nn_width, nn_depth, activation=nn_activation, key=key
            )
            if zero_init:
                conditioner = zero_output_layer(conditioner)
        else:
            if zero_init:
                raise ValueError(
                    "zero_init applies to the default MLP conditioner only; "
                    "zero the last layer of a custom conditioner yourself."
                )
            dtype = jnp.result_type(float)
            try:
                out = eqx.filter_eval_shape(
                    conditioner, jax.ShapeDtypeStruct((in_size,), dtype)
                )
            except (TypeError, ValueError) as err:
                raise ValueError(
                    f"conditioner must accept an input of shape ({in_size},) "
                    f"= n_passive (+ cond_dim); calling it failed: {err}"
                ) from err
            if out.shape != (out_size,):
                raise ValueError(
                    f"conditioner must map shape ({in_size},) to ({out_size},) "
                    f"= n_active * n_params = {len(self.active)} * {n_params}; "
                    f"it returns {out.shape}."
                )
        self.conditioner = conditioner

    @property
    def mask(self) -> np.ndarray:
        """Boolean mask of shape ``(d,)``; ``True`` marks the passive coordinates."""
        mask = np.zeros(self.shape, dtype=bool)
        mask[list(self.passive)] = True
        return mask

    def transformer_params(
        self, x_passive: Array, condition: Array | None = None
    ) -> Array:
        """Conditioner output reshaped to ``(n_active, n_params)``."""
        if condition is None:
            nn_input = x_passive
        else:
            nn_input = jnp.concatenate([x_passive, condition])
        return self.conditioner(nn_input).reshape(len(self.active), self.n_params)

    def transformers(self, x_passive: Array, condition: Array | None = None):
        """The scalar transformers $T_\\theta$ for each active coordinate, stacked."""
        params = self.transformer_params(x_passive, condition)
        return eqx.filter_vmap(self.transformer_constructor)(params)

    def _apply(
        self, x: Array, condition: Array | None, inverse: bool
    ) -> tuple[Array, Array]:
        check_float_dtype(x, "y" if inverse else "x")
        if condition is not None:
            check_float_dtype(condition, "condition")
        passive, active = _as_slice(self.passive), _as_slice(self.active)
        x_passive = x[passive]
        # Unwrap the stacked transformers' parametrizations once, batched over the
        # active coordinates, rather than inside the per-coordinate map.
        stacked = paramax.unwrap(self.transformers(x_passive, condition))

        def elementwise(transformer, xi):
            if inverse:
                return transformer.inverse_and_log_det(xi)
            return transformer.transform_and_log_det(xi)

        y_active, log_det = eqx.filter_vmap(elementwise)(stacked, x[active])
        if isinstance(passive, slice) and isinstance(active, slice):
            # Two consecutive runs (e.g. the default mask): join them, no scatter.
            halves = (x_passive, y_active) if passive.start == 0 else (y_active, x_passive)
            return jnp.concatenate(halves), log_det.sum()
        return x.at[active].set(y_active), log_det.sum()

    def transform_and_log_det(self, x, condition=None):
        return self._apply(x, condition, inverse=False)

    def inverse_and_log_det(self, y, condition=None):
        return self._apply(y, condition, inverse=True)
