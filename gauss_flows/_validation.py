"""One set of argument checks for the whole package, each raising a clear ``ValueError``.

Every public function and bijection of ``gauss_flows`` checks its arguments here, so
that one kind of argument is held to one rule everywhere and the message names the
argument at fault. The rules:

* **Counts** (``n_layers``, ``n_components``, ``nn_width``, ...): Python or NumPy
  integers (not ``bool``) at or above a minimum (:func:`check_positive_int`).
* **Positive reals** (learning rates, clip norms): finite numbers ``> 0``
  (:func:`check_positive_number`).
* **Flags** (``record_grad_norms``, ``show_progress``): ``True`` or ``False``, and
  ``None`` where "decide for me" is documented (:func:`check_flag`); truthy stand-ins
  such as ``"yes"`` or ``1`` are rejected.
* **Event shapes**: a 1-tuple ``(d,)`` of an integer ``d >= 2``
  (:func:`check_event_shape`).
* **Masks**: 1-D NumPy-convertible boolean arrays with at least one passive
  (``True``) and one active (``False``) coordinate (:func:`check_mask`).
* **Floating dtypes**: the numerics (tail series, solver tolerances, continued
  fractions) are built for float32 and float64 only. Inputs of any other dtype
  (float16, bfloat16, integers, booleans, complex) are *rejected*, never cast: a
  bijection's input by :func:`check_float_dtype`, samples for fitting and scoring by
  :func:`check_samples`.
* **Samples** (data for fitting, training and scoring): shape ``(n, *event_shape)``
  (``(n, d)`` when no event shape is given), at least ``min_samples`` rows, dtype
  float32 or float64, and finite (:func:`check_samples`).
* **Flows**: a flowjax ``Transformed`` whose bijection is ``Invert(stack)``, as
  :func:`gauss_flows.coupling_flow` builds it (:func:`check_flow`).
"""

from __future__ import annotations

import numbers

import jax.numpy as jnp
import numpy as np
from flowjax.bijections import AbstractBijection, Invert
from flowjax.distributions import Transformed
from jaxtyping import Array, ArrayLike

#: The floating dtypes the numerics are built for.
FLOAT_DTYPES: tuple[np.dtype, ...] = (np.dtype(np.float32), np.dtype(np.float64))


def check_positive_int(value: int, name: str, minimum: int = 1) -> int:
    """``value`` as an ``int``; ``ValueError`` unless it is an integer ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return int(value)


def check_positive_number(value: float, name: str) -> float:
    """``value`` as a ``float``; ``ValueError`` unless it is a finite real ``> 0``."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.number)):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be finite and > 0, got {value}.")
    return float(value)


def check_flag(value: bool | None, name: str, allow_none: bool = False) -> bool | None:
    """``value`` unchanged; ``ValueError`` unless it is ``True``, ``False`` or, with
    ``allow_none``, ``None``."""
    if value is None and allow_none:
        return None
    if not isinstance(value, (bool, np.bool_)):
        allowed = "True, False or None" if allow_none else "True or False"
        raise ValueError(f"{name} must be {allowed}, got {value!r}.")
    return bool(value)


def check_event_shape(shape: tuple[int, ...], name: str = "shape") -> int:
    """``d`` of an event shape ``(d,)`` with ``d >= 2`` (a coupling needs two parts)."""
    if not isinstance(shape, tuple) or len(shape) != 1:
        raise ValueError(
            f"{name} must be a 1-tuple (d,) for a vector event, got {shape!r}."
        )
    (dim,) = shape
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 2:
        raise ValueError(
            f"A coupling layer needs d >= 2 coordinates to split, got {name} {shape}."
        )
    return int(dim)


def check_mask(mask: ArrayLike, d: int | None = None, name: str = "mask") -> np.ndarray:
    """``mask`` as a numpy boolean array of shape ``(d,)`` (1-D of any length if ``d`` is
    None), True = passive, with at least one passive and one active coordinate."""
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError(
            f"{name} must be boolean (True = passive), got dtype {mask.dtype}."
        )
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


def _dtype_error(name: str, dtype) -> ValueError:
    accepted = ", ".join(str(d) for d in FLOAT_DTYPES)
    return ValueError(
        f"{name} must be floating point, of a dtype the numerics are built for "
        f"({accepted}), got {dtype}; convert it first, e.g. with .astype(jnp.float32)."
    )


def check_float_dtype(x: Array, name: str = "x") -> Array:
    """``x`` unchanged if its dtype is float32 or float64; ``ValueError`` otherwise.

    Only the dtype is read, so this works on traced arrays (inside ``jit``/``vmap``).
    """
    if jnp.dtype(x.dtype) not in FLOAT_DTYPES:
        raise _dtype_error(name, x.dtype)
    return x


def check_samples(
    data: ArrayLike,
    name: str = "data",
    *,
    shape: tuple[int, ...] | None = None,
    min_samples: int = 1,
) -> Array:
    """``data`` as a jax array of ``n >= min_samples`` finite float32/float64 samples.

    Args:
        data: The samples.
        name: The argument's name, for the error messages.
        shape: Event shape: ``data`` must have shape ``(n, *shape)``. ``None``: any
            ``(n, d)`` with ``d >= 1``.
        min_samples: Least number of rows ``n``.

    Raises:
        ValueError: wrong shape, too few samples, a dtype other than float32 or
            float64 (integer data is rejected, not cast), or a nan or inf.
    """
    data = jnp.asarray(data)
    if shape is None:
        good_shape = data.ndim == 2 and data.shape[1] >= 1
        expected = "(n, d)"
    else:
        good_shape = data.ndim == len(shape) + 1 and tuple(data.shape[1:]) == tuple(shape)
        expected = f"(n, {', '.join(map(str, shape))})"
    if not good_shape:
        raise ValueError(f"{name} must have shape {expected}, got {data.shape}.")
    if data.shape[0] < min_samples:
        raise ValueError(
            f"{name} needs at least {min_samples} samples (n >= {min_samples} rows), "
            f"got n = {data.shape[0]}."
        )
    if jnp.dtype(data.dtype) not in FLOAT_DTYPES:
        raise _dtype_error(name, data.dtype)
    if not bool(jnp.all(jnp.isfinite(data))):
        raise ValueError(f"{name} contains non-finite values (nan or inf).")
    return data


def check_flow(flow, name: str = "flow") -> AbstractBijection:
    """The stack of a flow built as :func:`gauss_flows.coupling_flow` builds one.

    That is ``flow.bijection.bijection`` for ``flow = Transformed(base, Invert(stack))``,
    where ``stack.transform`` maps data to latent; ``ValueError`` for anything else.
    """
    if not isinstance(flow, Transformed) or not isinstance(flow.bijection, Invert):
        raise ValueError(
            f"{name} must be a flowjax Transformed whose bijection is Invert(stack), as "
            "gauss_flows.coupling_flow builds it (stack.transform maps data to latent); "
            f"got {type(flow).__name__}."
        )
    return flow.bijection.bijection
