r"""scikit-learn's 8x8 handwritten digits, as pixel counts, with a fixed split.

The data set holds 1,797 greyscale images of 8x8 pixels; every pixel is a count in
$\{0, 1, \dots, 16\}$ (the number of "on" pixels in a 4x4 block of the original
32x32 bitmap). It is shipped inside scikit-learn's wheel, so loading it needs no
network. :func:`load_digits` returns one part of the split in file order: the first
1,000 images for training, the next 350 for validation (early stopping), the last
447 for test.

The counts are discrete. A density model needs continuous data, and
:func:`dequantize` adds uniform noise $u \sim U[0, 1)^{64}$: $x + u$ lies in
$[0, 17)^{64}$, and for any density $q$ on that cube
$-\log P(x) \le \mathbb E_u[-\log q(x + u)]$ with $P(x) = \int_{[0,1)^{64}} q(x + u)\,du$,
by Jensen's inequality.
"""

from __future__ import annotations

import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from gauss_flows._validation import check_float_dtype

#: The number of pixel values (0 to 16): dequantized pixels lie in [0, LEVELS).
LEVELS = 17
#: Image side: every image is ``(SIDE, SIDE)``, flattened to ``SIDE ** 2`` pixels.
SIDE = 8
#: ``(start, stop)`` rows of each part of the split, in the file's order.
SPLITS = {"train": (0, 1000), "validation": (1000, 1350), "test": (1350, 1797)}


def load_digits(split: str = "train") -> np.ndarray:
    """One part of the split, as float64 pixel counts.

    Args:
        split: ``"train"`` (1,000 images), ``"validation"`` (350), ``"test"`` (447),
            or ``"all"`` (1,797, in file order: train, then validation, then test).

    Returns:
        Array of shape ``(n, 64)`` and dtype float64, values in ``{0, 1, ..., 16}``;
        row ``j`` reshaped to ``(8, 8)`` is the image, row-major.

    Raises:
        ValueError: ``split`` is not one of the names above.
    """
    if not isinstance(split, str) or split not in (*SPLITS, "all"):
        raise ValueError(
            f"split must be one of {[*SPLITS, 'all']}, got {split!r}."
        )
    from sklearn.datasets import load_digits as sklearn_digits  # imported on first use

    pixels = np.asarray(sklearn_digits().data, dtype=np.float64)
    if split == "all":
        return pixels
    start, stop = SPLITS[split]
    return pixels[start:stop]


def dequantize(key: PRNGKeyArray, x: ArrayLike) -> Array:
    """``x + u`` with ``u ~ U[0, 1)`` independently for every entry (same shape, dtype).

    Works inside ``jit`` (e.g. as ``gf.train_flows(..., augment=dequantize)``).

    Args:
        key: PRNG key of the noise.
        x: Pixel counts, any shape, float32 or float64.

    Returns:
        The dequantized data, in ``[0, LEVELS)`` for counts in ``{0, ..., 16}``.
    """
    x = check_float_dtype(jnp.asarray(x), "x")
    return x + jr.uniform(key, x.shape, x.dtype)
