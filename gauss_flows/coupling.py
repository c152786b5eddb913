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
from typing import ClassVar

import equinox as eqx
import jax
import jax.nn as jnn
import jax.numpy as jnp
import numpy as np
import paramax
from flowjax.bijections import AbstractBijection
from flowjax.utils import get_ravelled_pytree_constructor
from jaxtyping import Array, ArrayLike, PRNGKeyArray


def default_mask(dim: int) -> np.ndarray:
    """The default mask: the first ``dim // 2`` coordinates are passive (``True``)."""
    mask = np.zeros(dim, dtype=bool)
    mask[: dim // 2] = True
    return mask


def check_positive_int(value: int, name: str, minimum: int = 1) -> None:
    """Raise ``ValueError`` unless ``value`` is an integer ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")


def zero_output_layer(mlp: eqx.nn.MLP) -> eqx.nn.MLP:
    """``mlp`` with the weight and bias of its last layer set to zero (output 0)."""
    last = lambda m: (m.layers[-1].weight, m.layers[-1].bias)  # noqa: E731
    return eqx.tree_at(last, mlp, tuple(jnp.zeros_like(a) for a in last(mlp)))


def check_samples(
    data: ArrayLike, shape: tuple[int, ...], name: str = "data", min_samples: int = 1
) -> Array:
    """``data`` as an array of ``n >= min_samples`` samples of shape ``shape``.

    Raises ``ValueError`` (naming ``name``) unless ``data`` has shape ``(n, *shape)``,
    a floating dtype and only finite values.
    """
    data = jnp.asarray(data)
    if data.ndim != len(shape) + 1 or tuple(data.shape[1:]) != tuple(shape) or (
        data.shape[0] < min_samples
    ):
        raise ValueError(
            f"{name} must have shape (n, {', '.join(map(str, shape))}) with "
            f"n >= {min_samples}, got {data.shape}."
        )
    if not jnp.issubdtype(data.dtype, jnp.floating):
        raise ValueError(f"{name} must be floating point, got dtype {data.dtype}.")
    if not bool(jnp.all(jnp.isfinite(data))):
        raise ValueError(f"{name} contains non-finite values (nan or inf).")
    return data


def _check_shape(shape: tuple[int, ...]) -> int:
    if not isinstance(shape, tuple) or len(shape) != 1:
        raise ValueError(
            f"shape must be a 1-tuple (d,) for a vector event, got {shape!r}."
        )
    (dim,) = shape
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 2:
        raise ValueError(
            f"A coupling layer needs d >= 2 coordinates to split, got shape {shape}."
        )
    return int(dim)


def check_mask(mask: ArrayLike, d: int | None = None, name: str = "mask") -> np.ndarray:
    """``mask`` as a numpy boolean array of shape ``(d,)`` (1-D of any length if ``d`` is
    None), True = passive, with at least one passive and one active coordinate."""
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError(f"{name} must be boolean (True = passive), got dtype {mask.dtype}.")
    if d is not None and mask.shape != (d,):
        raise ValueError(f"{name} must have shape ({d},), got {mask.shape}.")
    if mask.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {mask.shape}.")
    if mask.all() or not mask.any():
        raise ValueError(
            f"{name} must mark at least one passive (True) and one active (False) "
            f"coordinate, got {mask.astype(int).tolist()}."
        )
    return mask


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
    """

    shape: tuple[int, ...]
    cond_shape: tuple[int, ...] | None
    passive: tuple[int, ...] = eqx.field(static=True)
    active: tuple[int, ...] = eqx.field(static=True)
    n_params: int = eqx.field(static=True)
    transformer_constructor: Callable = eqx.field(static=True)
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
        dim = _check_shape(shape)
        mask = default_mask(dim) if mask is None else check_mask(mask, dim)
        if cond_dim is not None:
            check_positive_int(cond_dim, "cond_dim")
        if not isinstance(transformer, AbstractBijection) or transformer.shape != ():
            raise ValueError(
                "transformer must be a scalar flowjax bijection with shape (), "
                f"got {type(transformer).__name__}."
            )
        if transformer.cond_shape is not None:
            raise ValueError("transformer must be unconditional (cond_shape None).")

        constructor, n_params = get_ravelled_pytree_constructor(
            transformer,
            filter_spec=eqx.is_inexact_array,
            is_leaf=lambda leaf: isinstance(leaf, paramax.NonTrainable),
        )
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

    def transformer_params(self, x_passive: Array, condition: Array | None = None) -> Array:
        """Conditioner output reshaped to ``(n_active, n_params)``."""
        nn_input = x_passive if condition is None else jnp.concatenate([x_passive, condition])
        return self.conditioner(nn_input).reshape(len(self.active), self.n_params)

    def transformers(self, x_passive: Array, condition: Array | None = None):
        """The scalar transformers $T_\\theta$ for each active coordinate, stacked."""
        params = self.transformer_params(x_passive, condition)
        return eqx.filter_vmap(self.transformer_constructor)(params)

    def _apply(self, x: Array, condition: Array | None, inverse: bool) -> tuple[Array, Array]:
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
