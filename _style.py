"""Shared plotting style for the gauss_flows notebooks.

``import _style`` sets matplotlib defaults (PNG output, sizes, a colour cycle) and
exposes keyword sets so every figure in the course looks alike:

* ``COLORS``: named colours (``passive``, ``active``, ``data``, ``model``, ``target``...).
* ``SCATTER_KW``: a light scatter for samples.
* ``GAUSS_KW``: a dashed reference curve, e.g. the standard normal density.
* ``style_ax(ax, ...)``: titles, labels, light grid and no top/right spines.
* ``show(fig, alt)``: display a figure as a PNG whose text form is ``alt``, the
  description a screen reader announces on the site (instead of matplotlib's repr).
  The PNG is rendered at ``SHARPNESS`` times the display resolution and shown at its
  display width, so it stays sharp on high-density screens.
"""

from __future__ import annotations

import base64
import io

import matplotlib.pyplot as plt
from cycler import cycler

COLORS: dict[str, str] = {
    "passive": "#1f6fb2",  # x_A, copied through
    "active": "#d4820a",  # x_B, transformed
    "conditioner": "#7a7a7a",
    "data": "#2a9d8f",
    "model": "#e76f51",
    "target": "#264653",
    "accent": "#9b5de5",
}
CYCLE = ["#1f6fb2", "#d4820a", "#2a9d8f", "#e76f51", "#9b5de5", "#264653", "#8ab17d"]

SCATTER_KW: dict = {"s": 4, "alpha": 0.35, "linewidths": 0, "color": COLORS["data"]}
GAUSS_KW: dict = {"color": "0.25", "ls": "--", "lw": 1.4, "label": r"$\mathcal{N}(0, 1)$"}
CURVE_KW: dict = {"lw": 2.0}
#: Pixels per displayed pixel of a figure's PNG (2: sharp on high-density screens).
SHARPNESS = 2

plt.rcParams.update(
    {
        "figure.dpi": 80,
        "savefig.dpi": 110,
        "figure.figsize": (6.0, 4.0),
        "axes.prop_cycle": cycler(color=CYCLE),
        "axes.titlesize": 12,
        "axes.labelsize": 11,
        "legend.frameon": False,
        "font.size": 10,
        "image.cmap": "viridis",
    }
)

try:  # PNG figures in notebooks: small, stable, render everywhere
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("png")
except ImportError:  # pragma: no cover - outside IPython
    pass


def style_ax(ax, title: str | None = None, xlabel: str | None = None,
             ylabel: str | None = None, grid: bool = True):
    """Apply the course style to ``ax`` and return it."""
    if title is not None:
        ax.set_title(title)
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if grid:
        ax.grid(alpha=0.25, lw=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def show(fig, alt: str) -> None:
    """Display ``fig`` as a PNG with ``alt`` as its ``text/plain`` form, then close it.

    The site uses an output's ``text/plain`` as the image's alt text, so every figure
    of the course is shown with this rather than ``plt.show()``. ``alt`` says in a
    sentence what the figure shows.
    """
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("alt must be a non-empty description of the figure.")
    from IPython.display import display

    buffer = io.BytesIO()
    # No "Software" entry: the PNG's bytes depend on the figure alone.
    fig.savefig(buffer, format="png", dpi=SHARPNESS * fig.dpi, bbox_inches="tight",
                metadata={"Software": None})
    plt.close(fig)
    data = buffer.getvalue()
    width = int.from_bytes(data[16:20], "big")  # the PNG header's IHDR width
    png = base64.b64encode(data).decode("ascii")
    display({"image/png": png, "text/plain": alt.strip()},
            metadata={"image/png": {"width": width // SHARPNESS}}, raw=True)
