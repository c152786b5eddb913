r"""Coupling masks and mask schedules.

A mask $m \in \{\text{True}, \text{False}\}^d$ marks the *passive* coordinates
$A = \{i : m_i\}$, which a coupling layer copies and feeds to its conditioner, and the
*active* ones $B = \{i : \lnot m_i\}$, which it transforms. A flow of $L$ layers uses a
*schedule* $m^{(1)}, \dots, m^{(L)}$. A coordinate that is passive in every layer is
never transformed, however deep the flow: :func:`coverage` counts, per coordinate, the
layers that transform it and the layers that read it.

| constructor | passive set $A$ |
| --- | --- |
| ``half(d)`` | the first $\lfloor d/2 \rfloor$ coordinates |
| ``alternating(d, parity)`` | the coordinates $i$ with $i \bmod 2 = $ ``parity`` |
| ``checkerboard(h, w, parity)`` | the cells $(r, c)$ of an $h \times w$ grid, flattened row-major ($i = r w + c$), with $(r + c) \bmod 2 = $ ``parity`` |
| ``random(key, d, n_passive)`` | ``n_passive`` coordinates drawn without replacement |

Every constructor returns a ``numpy`` boolean array of shape ``(d,)`` with at least one
passive and one active coordinate.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax.random as jr
import numpy as np
from jaxtyping import ArrayLike, PRNGKeyArray

from gauss_flows._validation import check_mask, check_positive_int

#: Schedule names accepted by ``gf.coupling_flow(masks=...)`` and :func:`schedule`.
SCHEDULES: tuple[str, ...] = ("half", "alternating", "checkerboard", "random")


def _check_dim(d: int, name: str = "d") -> int:
    return check_positive_int(d, name, minimum=2)


def _check_parity(parity: int) -> int:
    if isinstance(parity, bool) or parity not in (0, 1):
        raise ValueError(f"parity must be 0 or 1, got {parity!r}.")
    return int(parity)


def half(d: int) -> np.ndarray:
    """The first ``d // 2`` coordinates passive, shape ``(d,)``: the default mask of
    :class:`gauss_flows.Coupling` and the first mask of the ``"half"`` schedule."""
    mask = np.zeros(_check_dim(d), dtype=bool)
    mask[: d // 2] = True
    return mask


def alternating(d: int, parity: int = 0) -> np.ndarray:
    """Coordinates ``i`` with ``i % 2 == parity`` passive, shape ``(d,)``."""
    d, parity = _check_dim(d), _check_parity(parity)
    return np.arange(d) % 2 == parity


def checkerboard(height: int, width: int, parity: int = 0) -> np.ndarray:
    """Cells ``(r, c)`` with ``(r + c) % 2 == parity`` passive, flattened row-major.

    Returns shape ``(height * width,)``; cell ``(r, c)`` is coordinate ``r * width + c``.
    """
    check_positive_int(height, "height")
    check_positive_int(width, "width")
    if height * width < 2:
        raise ValueError(
            f"a checkerboard needs at least 2 cells, got height={height}, width={width}."
        )
    parity = _check_parity(parity)
    rows, cols = np.indices((int(height), int(width)))
    return ((rows + cols) % 2 == parity).ravel()


def random(key: PRNGKeyArray, d: int, n_passive: int | None = None) -> np.ndarray:
    """``n_passive`` (default ``d // 2``) coordinates passive, drawn without replacement.

    The same key gives the same mask. Shape ``(d,)``.
    """
    d = _check_dim(d)
    n_passive = d // 2 if n_passive is None else n_passive
    check_positive_int(n_passive, "n_passive")
    if n_passive > d - 1:
        raise ValueError(
            f"n_passive must leave at least one active coordinate: 1 <= n_passive <= "
            f"{d - 1} for d={d}, got {n_passive}."
        )
    order = np.asarray(jr.permutation(key, d))
    mask = np.zeros(d, dtype=bool)
    mask[order[: int(n_passive)]] = True
    return mask


def schedule(
    name: str,
    d: int,
    n_layers: int,
    *,
    grid: tuple[int, int] | None = None,
    key: PRNGKeyArray | None = None,
) -> list[np.ndarray]:
    """The masks of a named schedule for ``n_layers`` layers: a mask, its complement, ...

    Every named schedule alternates a mask $m$ with its complement $\\lnot m$, so two
    consecutive layers transform every coordinate once:

    - ``"half"``: $m$ = ``half(d)``;
    - ``"alternating"``: $m$ = ``alternating(d, 0)`` (even coordinates passive);
    - ``"checkerboard"``: $m$ = ``checkerboard(*grid, 0)``; needs ``grid=(h, w)``
      with ``h * w == d``;
    - ``"random"``: $m$ = ``random(key, d)``; needs ``key``.
    """
    d = _check_dim(d)
    check_positive_int(n_layers, "n_layers")
    if not isinstance(name, str) or name not in SCHEDULES:
        raise ValueError(
            f"Unknown mask schedule {name!r}; valid names are {list(SCHEDULES)}."
        )
    if grid is not None and name != "checkerboard":
        raise ValueError(f"grid applies to the 'checkerboard' schedule only, not {name!r}.")
    if name == "half":
        first = half(d)
    elif name == "alternating":
        first = alternating(d, 0)
    elif name == "checkerboard":
        if (
            not isinstance(grid, tuple)
            or len(grid) != 2
            or any(isinstance(n, bool) or not isinstance(n, (int, np.integer))
                   for n in grid)
            or grid[0] * grid[1] != d
        ):
            raise ValueError(
                f"the 'checkerboard' schedule needs grid=(height, width) with "
                f"height * width == d = {d}, got grid={grid!r}."
            )
        first = checkerboard(*grid, 0)
    else:
        if key is None:
            raise ValueError("the 'random' schedule needs a PRNG key (key=...).")
        first = random(key, d)
    return [first if i % 2 == 0 else ~first for i in range(n_layers)]


def coverage(masks: Sequence[ArrayLike]) -> dict[str, np.ndarray]:
    """Per coordinate, how many layers transform it and how many read it as context.

    Args:
        masks: One boolean mask per layer, each of shape ``(d,)`` (``True`` = passive).
            Also accepts a stacked array of shape ``(L, d)``.

    Returns:
        ``{"transformed": t, "context": c}``, integer arrays of shape ``(d,)``:
        ``t[i]`` counts the layers in which coordinate ``i`` is active, ``c[i]`` those
        in which it is passive (read by the conditioner); ``t + c == L``.
    """
    if isinstance(masks, np.ndarray) and masks.ndim == 1:
        raise ValueError(
            "masks must be a sequence of masks (one per layer) or an (L, d) array, "
            f"got a single mask of shape {masks.shape}; wrap it in a list."
        )
    masks = list(masks)
    if not masks:
        raise ValueError("masks must contain at least one mask.")
    first = check_mask(masks[0], name="masks[0]")
    stacked = np.stack(
        [first] + [check_mask(m, first.size, name=f"masks[{i}]") for i, m in
                   enumerate(masks[1:], start=1)]
    )
    context = stacked.sum(axis=0)
    return {"transformed": len(masks) - context, "context": context}
