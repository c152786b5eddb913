r"""Seeded 2-D toy data sets with their true densities and entropies.

Every toy is defined by a generative process whose density we can evaluate, so that
a trained flow's test negative log-likelihood can be set against the best achievable
value, the differential entropy $H(p) = -\mathbb{E}_p[\log p(x)]$ (in nats):
$\mathrm{NLL} - H(p) = \mathrm{KL}(p \,\|\, q_\theta) \ge 0$.

| name | process | $\log p$ |
| --- | --- | --- |
| ``two_moons`` | uniform angle on one of two half circles, $\times 2$, + $\mathcal N(0, 0.2^2 I)$ | quadrature over the angle |
| ``spiral`` | two arms $r = \theta/3$, $\theta = 3\pi\sqrt{u}$, + $\mathcal N(0, 0.15^2 I)$ | quadrature over $\theta$ |
| ``eight_gaussians`` | 8 equal components, radius 2.5, $\sigma = 0.3$ | exact |
| ``checkerboard`` | uniform on the 8 dark cells of a $4\times4$ board on $[-3, 3]^2$ | exact |
| ``pinwheel`` | 5 arms, $r \sim \mathcal N(1, 0.3^2)$ (cut at $\pm 8$ sd), angle $2\pi k/5 + e^{r}/4$, $\times 1.8$, + $\mathcal N(0, 0.15^2 I)$ | quadrature over $r$ |

All are scaled to lie in $[-4, 4]^2$ (the default interval of the rational-quadratic
spline) up to rare Gaussian tails, with per-coordinate standard deviations between
about 1 and 1.8.

A curve toy draws $x = c_k(t) + \sigma\varepsilon$ (arm $k$ uniform of $K$, latent
$t \sim q$ on $[a, b]$, $\varepsilon \sim \mathcal N(0, I_2)$), so

$$p(x) = \frac{1}{K}\sum_{k=1}^{K}\int_a^b q(t)\,
\mathcal N\big(x; c_k(t), \sigma^2 I\big)\,dt
\approx \sum_{j} w_j\, \mathcal N\big(x; c_j, \sigma^2 I\big),$$

a composite Gauss-Legendre rule in $t$ with panels of equal arc length (all arms are
congruent). At the default node counts, doubling the nodes changes $\log p$ by less
than $10^{-8}$ wherever $\log p > -60$ (the tests check this by refinement).

The stored entropies were computed offline, in float64, by
:func:`quadrature_entropy`: a tensor trapezoid rule for $-\int p\log p$ on
$[-7, 7]^2$ with spacing 0.04, which converges faster than any power of the spacing
for these smooth, rapidly decaying integrands. Their error bound adds the changes on
refining the grid, widening the box and doubling the latent nodes;
``gf.datasets.entropy_table()`` recomputes the table (minutes), and
:func:`estimate_entropy` gives an independent Monte-Carlo check.
"""

from __future__ import annotations

import abc
import math
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax.scipy.special import logsumexp
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from gauss_flows._validation import check_positive_int

#: Order of each Gauss-Legendre panel of the latent quadrature.
GL_ORDER = 8

#: How the stored total correlations of the mixture toys were computed.
MARGINAL_QUADRATURE = (
    "quadrature: sum of the 1-D marginal entropies (trapezoid rule on the exact 1-D "
    "mixture, spacing 0.005) minus the entropy; bound adds the entropy's and the change "
    "on halving the spacing"
)
#: The start of how their stored entropies were computed (each toy adds its density).
GRID_QUADRATURE = "quadrature: trapezoid rule for -int p log p on [-7, 7]^2, spacing 0.04, "


def _check_points(x: ArrayLike) -> Array:
    x = jnp.asarray(x)
    if x.ndim < 1 or x.shape[-1] != 2:
        raise ValueError(f"points must have shape (..., 2), got {x.shape}.")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(float)
    return x


class Toy(eqx.Module):
    """A 2-D toy distribution: seeded sampler, true log density and entropy.

    Class attributes: ``name``; ``entropy`` $H(p)$ in nats; ``entropy_se``, its
    standard error or error bound (0.0 if exact); ``entropy_method``, how it was got;
    ``total_correlation`` TC = H(X_1) + H(X_2) - H(X) in nats, with
    ``total_correlation_se`` and ``total_correlation_method`` likewise.
    """

    name: ClassVar[str]
    entropy: ClassVar[float]
    entropy_se: ClassVar[float]
    entropy_method: ClassVar[str]
    total_correlation: ClassVar[float]
    total_correlation_se: ClassVar[float]
    total_correlation_method: ClassVar[str]

    def sample(self, key: PRNGKeyArray, n: int) -> Array:
        """``n`` samples, shape ``(n, 2)``; the same key gives the same samples."""
        check_positive_int(n, "n")
        return _jit_sample(self, key, int(n))

    def log_prob(self, x: ArrayLike) -> Array:
        """True log density at points of shape ``(..., 2)``; returns shape ``(...)``."""
        return _jit_log_prob(self, _check_points(x))

    @abc.abstractmethod
    def _sample(self, key: PRNGKeyArray, n: int) -> Array: ...

    @abc.abstractmethod
    def _log_prob(self, x: Array) -> Array: ...


@eqx.filter_jit
def _jit_sample(toy: Toy, key: PRNGKeyArray, n: int) -> Array:
    return toy._sample(key, n)


@eqx.filter_jit
def _jit_log_prob(toy: Toy, x: Array) -> Array:
    return toy._log_prob(x)


class IsotropicMixture(Toy):
    r"""$p(x) = \sum_j w_j\,\mathcal N(x; c_j, \sigma^2 I_2)$ with fixed centres $c_j$.

    ``centers`` has shape ``(M, 2)``, ``log_weights`` shape ``(M,)`` (normalised).
    """

    centers: np.ndarray
    log_weights: np.ndarray
    sigma: float

    def _log_prob(self, x: Array) -> Array:
        dtype = x.dtype
        centers = jnp.asarray(self.centers, dtype)
        log_w = jnp.asarray(self.log_weights, dtype)
        inv_two_var = 0.5 / self.sigma**2

        def one(xi: Array) -> Array:
            sq_dist = jnp.sum((xi - centers) ** 2, axis=-1)
            return logsumexp(log_w - inv_two_var * sq_dist)

        flat = x.reshape(-1, 2)
        out = jax.lax.map(one, flat, batch_size=256) if flat.shape[0] else flat[:, 0]
        log_norm = math.log(2 * math.pi * self.sigma**2)
        return out.reshape(x.shape[:-1]) - log_norm


def _composite_gauss_legendre(edges: np.ndarray):
    """Nodes and weights (numpy float64) of ``GL_ORDER``-point panels between ``edges``."""
    ref_nodes, ref_weights = np.polynomial.legendre.leggauss(GL_ORDER)
    half = 0.5 * np.diff(edges)[:, None]
    mid = 0.5 * (edges[:-1] + edges[1:])[:, None]
    return (mid + half * ref_nodes).ravel(), (half * ref_weights).ravel()


class NoisyCurve(IsotropicMixture):
    r"""$x = c_k(t) + \sigma\varepsilon$: arm $k$ uniform of $K$, $t \sim q$ on $[a, b]$.

    The quadrature uses ``n_panels`` Gauss-Legendre panels of equal arc length along
    arm 0 (all arms are congruent, so the same nodes serve every arm).

    Subclasses set ``n_arms``, ``interval``, ``sigma_value``, ``default_panels`` and
    define ``curve(k, t, xp)`` (``xp`` is ``numpy`` or ``jax.numpy``),
    ``log_latent_density(t)`` (numpy) and ``sample_latent(key, n)``.

    Args:
        n_panels: Gauss-Legendre panels per arm (``GL_ORDER`` nodes each).
    """

    n_arms: ClassVar[int]
    interval: ClassVar[tuple[float, float]]
    sigma_value: ClassVar[float]
    default_panels: ClassVar[int]
    n_panels: int = eqx.field(static=True)

    def __init__(self, n_panels: int | None = None):
        n_panels = self.default_panels if n_panels is None else n_panels
        check_positive_int(n_panels, "n_panels")
        t, w = _composite_gauss_legendre(self.panel_edges(n_panels))
        log_w = np.log(w) + self.log_latent_density(t) - math.log(self.n_arms)
        arms = np.repeat(np.arange(self.n_arms), t.size)
        self.centers = self.curve(arms, np.tile(t, self.n_arms), np)
        self.log_weights = np.tile(log_w, self.n_arms)
        self.sigma = self.sigma_value
        self.n_panels = n_panels

    def panel_edges(self, n_panels: int) -> np.ndarray:
        """Panel edges in $t$ splitting arm 0 into pieces of equal arc length."""
        t = np.linspace(*self.interval, 20_001)
        points = self.curve(np.zeros(t.size, int), t, np)
        step = np.linalg.norm(np.diff(points, axis=0), axis=-1)
        arc = np.concatenate([[0.0], np.cumsum(step)])
        return np.interp(np.linspace(0.0, arc[-1], n_panels + 1), arc, t)

    @staticmethod
    @abc.abstractmethod
    def curve(k, t, xp): ...

    @staticmethod
    @abc.abstractmethod
    def log_latent_density(t: np.ndarray) -> np.ndarray: ...

    @abc.abstractmethod
    def sample_latent(self, key: PRNGKeyArray, n: int) -> Array: ...

    def _sample(self, key, n):
        k_arm, k_latent, k_noise = jr.split(key, 3)
        arms = jr.randint(k_arm, (n,), 0, self.n_arms)
        centers = self.curve(arms, self.sample_latent(k_latent, n), jnp)
        return centers + self.sigma * jr.normal(k_noise, (n, 2), centers.dtype)


class TwoMoons(NoisyCurve):
    r"""Two interleaved half circles: $c_0(t) = 2[(\cos t, \sin t) - m]$,
    $c_1(t) = 2[(1 - \cos t, \tfrac12 - \sin t) - m]$, $m = (\tfrac12, \tfrac14)$,
    $t \sim U[0, \pi]$, noise $\sigma = 0.2$."""

    name = "two_moons"
    n_arms = 2
    interval = (0.0, math.pi)
    sigma_value = 0.2
    default_panels = 48
    entropy = 2.3938791960
    entropy_se = 1e-10
    total_correlation = 0.7192660869
    total_correlation_se = 1e-10
    total_correlation_method = MARGINAL_QUADRATURE
    entropy_method = (GRID_QUADRATURE
                      + "with p by Gauss-Legendre over the angle (384 nodes per arm); "
                      "bound from refining the grid, the nodes and the box")

    @staticmethod
    def curve(k, t, xp):
        upper = xp.stack([xp.cos(t), xp.sin(t)], axis=-1)
        lower = xp.stack([1 - xp.cos(t), 0.5 - xp.sin(t)], axis=-1)
        c = xp.where((k == 0)[..., None], upper, lower)
        return 2.0 * (c - xp.asarray([0.5, 0.25]))

    @staticmethod
    def log_latent_density(t):
        return np.full_like(t, -math.log(math.pi))

    def sample_latent(self, key, n):
        return math.pi * jr.uniform(key, (n,))


class Spiral(NoisyCurve):
    r"""Two-armed Archimedean spiral: $c_k(\theta) = \pm\frac{\theta}{3}(-\cos\theta,
    \sin\theta)$, $\theta = 3\pi\sqrt{u}$ (so $q(\theta) = 2\theta/(3\pi)^2$ on
    $[0, 3\pi]$), noise $\sigma = 0.15$."""

    name = "spiral"
    n_arms = 2
    interval = (0.0, 3 * math.pi)
    sigma_value = 0.15
    default_panels = 128
    entropy = 2.9455063376
    entropy_se = 2e-10
    total_correlation = 0.5917827496
    total_correlation_se = 2e-10
    total_correlation_method = MARGINAL_QUADRATURE
    entropy_method = (GRID_QUADRATURE
                      + "with p by Gauss-Legendre over theta (1024 nodes per arm); "
                      "bound from refining the grid, the nodes and the box")

    @staticmethod
    def curve(k, t, xp):
        sign = (1 - 2 * k)[..., None]
        return sign * (t / 3)[..., None] * xp.stack([-xp.cos(t), xp.sin(t)], axis=-1)

    @staticmethod
    def log_latent_density(t):
        return np.log(2 * t) - 2 * math.log(3 * math.pi)

    def sample_latent(self, key, n):
        return 3 * math.pi * jnp.sqrt(jr.uniform(key, (n,)))


#: Pinwheel latent: r ~ N(_PIN_MEAN, _PIN_SD^2) cut at +-_PIN_CUT standard deviations,
#: keeping a mass exp(_PIN_LOG_MASS) = 1 - erfc(_PIN_CUT / sqrt 2) = 1 - 1.2e-15.
_PIN_MEAN, _PIN_SD, _PIN_CUT = 1.0, 0.3, 8.0
_PIN_LOG_MASS = math.log1p(-math.erfc(_PIN_CUT / math.sqrt(2)))


class Pinwheel(NoisyCurve):
    r"""Five arms: $c_k(r) = 1.8\,r\,(\cos\phi_k, \sin\phi_k)$,
    $\phi_k = 2\pi k/5 + e^{r}/4$, $r \sim \mathcal N(1, 0.3^2)$ truncated to
    $\pm 8$ standard deviations (mass $1.2\times 10^{-15}$ removed), noise
    $\sigma = 0.15$."""

    name = "pinwheel"
    n_arms = 5
    interval = (_PIN_MEAN - _PIN_CUT * _PIN_SD, _PIN_MEAN + _PIN_CUT * _PIN_SD)
    sigma_value = 0.15
    default_panels = 96
    entropy = 2.1966327571
    entropy_se = 1e-10
    total_correlation = 0.8724716417
    total_correlation_se = 1e-10
    total_correlation_method = MARGINAL_QUADRATURE
    entropy_method = (GRID_QUADRATURE
                      + "with p by Gauss-Legendre over r (768 nodes per arm); "
                      "bound from refining the grid, the nodes and the box")

    @staticmethod
    def curve(k, t, xp):
        phi = 2 * math.pi * k / 5 + 0.25 * xp.exp(t)
        return 1.8 * t[..., None] * xp.stack([xp.cos(phi), xp.sin(phi)], axis=-1)

    @staticmethod
    def log_latent_density(t):
        u = (t - _PIN_MEAN) / _PIN_SD
        return -0.5 * u**2 - math.log(_PIN_SD * math.sqrt(2 * math.pi)) - _PIN_LOG_MASS

    def sample_latent(self, key, n):
        return _PIN_MEAN + _PIN_SD * jr.truncated_normal(key, -_PIN_CUT, _PIN_CUT, (n,))


class EightGaussians(IsotropicMixture):
    r"""Eight equal Gaussians, $\sigma = 0.3$, centred at
    $2.5(\cos\frac{2\pi k}{8}, \sin\frac{2\pi k}{8})$, $k = 0..7$."""

    name = "eight_gaussians"
    entropy = 2.5052677361
    entropy_se = 1e-10
    total_correlation = 0.6677863769
    total_correlation_se = 1e-10
    total_correlation_method = MARGINAL_QUADRATURE
    entropy_method = (GRID_QUADRATURE
                      + "with the exact mixture density; bound from refining the grid and "
                      "the box")

    def __init__(self):
        angles = 2 * np.pi * np.arange(8) / 8
        self.centers = 2.5 * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
        self.log_weights = np.full(8, -math.log(8))
        self.sigma = 0.3

    def _sample(self, key, n):
        k_comp, k_noise = jr.split(key)
        centers = jnp.asarray(self.centers, jnp.result_type(float))
        idx = jr.randint(k_comp, (n,), 0, 8)
        return centers[idx] + self.sigma * jr.normal(k_noise, (n, 2), centers.dtype)


class Checkerboard(Toy):
    r"""Uniform on the dark cells of a $4 \times 4$ board of side-1.5 cells on
    $[-3, 3)^2$: cell $(i, j) = (\lfloor x/1.5\rfloor, \lfloor y/1.5\rfloor)$ is dark
    iff $i + j$ is even. Area $8 \times 1.5^2 = 18$, so $H = \log 18$ exactly."""

    name = "checkerboard"
    side: ClassVar[float] = 1.5
    entropy = math.log(8 * 1.5**2)
    entropy_se = 0.0
    total_correlation = math.log(2.0)
    total_correlation_se = 0.0
    total_correlation_method = (
        "exact: uniform marginals on [-3, 3), 2 log 6 - log 18 = log 2"
    )
    entropy_method = "exact: uniform on 8 squares of side 1.5, H = log(area) = log 18"

    def _sample(self, key, n):
        k_col, k_row, k_pos = jr.split(key, 3)
        col = jr.randint(k_col, (n,), 0, 4)
        row = 2 * jr.randint(k_row, (n,), 0, 2) + col % 2  # col + row even
        cell = jnp.stack([col, row], axis=-1)
        return self.side * (cell + jr.uniform(k_pos, (n, 2)) - 2)

    def _log_prob(self, x):
        cell = jnp.floor(x / self.side)
        inside = jnp.all((cell >= -2) & (cell <= 1), axis=-1)
        dark = jnp.sum(cell, axis=-1) % 2 == 0
        return jnp.where(inside & dark, -self.entropy, -jnp.inf).astype(x.dtype)


TOYS: dict[str, Toy] = {
    toy.name: toy
    for toy in (TwoMoons(), Spiral(), EightGaussians(), Checkerboard(), Pinwheel())
}


def two_moons(key: PRNGKeyArray, n: int) -> Array:
    """``TOYS["two_moons"].sample(key, n)``: shape ``(n, 2)``."""
    return TOYS["two_moons"].sample(key, n)


def spiral(key: PRNGKeyArray, n: int) -> Array:
    """``TOYS["spiral"].sample(key, n)``: shape ``(n, 2)``."""
    return TOYS["spiral"].sample(key, n)


def eight_gaussians(key: PRNGKeyArray, n: int) -> Array:
    """``TOYS["eight_gaussians"].sample(key, n)``: shape ``(n, 2)``."""
    return TOYS["eight_gaussians"].sample(key, n)


def checkerboard(key: PRNGKeyArray, n: int) -> Array:
    """``TOYS["checkerboard"].sample(key, n)``: shape ``(n, 2)``."""
    return TOYS["checkerboard"].sample(key, n)


def pinwheel(key: PRNGKeyArray, n: int) -> Array:
    """``TOYS["pinwheel"].sample(key, n)``: shape ``(n, 2)``."""
    return TOYS["pinwheel"].sample(key, n)


def estimate_entropy(toy: Toy, key: PRNGKeyArray, n: int) -> tuple[float, float]:
    r"""Monte-Carlo $\hat H = -\frac1n\sum_i \log p(x_i)$, $x_i \sim p$, and its standard
    error.

    Use float64 (``jax.enable_x64``) for more than about 4 significant digits.
    """
    check_positive_int(n, "n", minimum=2)
    neg_log_p = -toy.log_prob(toy.sample(key, n))
    return float(neg_log_p.mean()), float(neg_log_p.std(ddof=1) / math.sqrt(n))


def quadrature_entropy(
    toy: Toy, *, half_width: float = 7.0, spacing: float = 0.04
) -> float:
    r"""$H = -\int p \log p$ by the trapezoid rule on the grid $[-a, a]^2$, step $h$.

    For a smooth density whose tails vanish at the box edge the trapezoid rule
    converges faster than any power of $h$. Run it under ``jax.enable_x64``.
    """
    n_side = int(round(2 * half_width / spacing)) + 1
    axis = np.linspace(-half_width, half_width, n_side)
    h = axis[1] - axis[0]

    @jax.jit
    def row_integral(y: Array) -> Array:
        pts = jnp.stack([jnp.asarray(axis), jnp.full(n_side, y)], axis=-1)
        log_p = toy.log_prob(pts)
        p = jnp.exp(log_p)
        return -jnp.sum(jnp.where(p > 0, p * log_p, 0.0))

    return float(h * h * sum(float(row_integral(y)) for y in axis))


def entropy_table(spacing: float = 0.04, check_spacing: float = 0.03) -> dict:
    """Recompute every toy's entropy in float64 with an error bound; print and return it.

    The bound adds the changes seen on refining the grid (``check_spacing``), widening
    the box by 1 and doubling the latent quadrature panels. Takes minutes on a CPU.
    """
    table = {}
    with jax.enable_x64(True):
        for name, toy in TOYS.items():
            if isinstance(toy, Checkerboard):
                table[name] = (math.log(8 * toy.side**2), 0.0)
                print(f"{name:16s} {table[name][0]:.10f} exact", flush=True)
                continue
            base = quadrature_entropy(toy, spacing=spacing)
            finer = quadrature_entropy(toy, spacing=check_spacing)
            wider = quadrature_entropy(toy, half_width=8.0, spacing=spacing)
            if isinstance(toy, NoisyCurve):
                nodes = quadrature_entropy(type(toy)(2 * toy.n_panels), spacing=spacing)
            else:
                nodes = base
            bound = abs(finer - base) + abs(wider - base) + abs(nodes - base)
            table[name] = (base, bound)
            print(f"{name:16s} {base:.10f} bound {bound:.1e} "
                  f"(finer grid {finer - base:+.1e}, box+1 {wider - base:+.1e}, "
                  f"nodes x2 {nodes - base:+.1e})", flush=True)
    return table


# ---- Total correlation ---------------------------------------------------------------


def marginal_log_prob(toy: Toy, x: ArrayLike, axis: int) -> Array:
    r"""Exact log density $\log p_i(x_i)$ of coordinate ``axis`` at points ``x`` (any
    shape).

    For an :class:`IsotropicMixture` the marginal is the 1-D mixture
    $\sum_j w_j \mathcal N(x_i; c_{ji}, \sigma^2)$; for the checkerboard it is uniform
    on $[-3, 3)$.
    """
    if axis not in (0, 1):
        raise ValueError(f"axis must be 0 or 1, got {axis!r}.")
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(float)
    if isinstance(toy, Checkerboard):
        inside = (x >= -2 * toy.side) & (x < 2 * toy.side)
        return jnp.where(inside, -math.log(4 * toy.side), -jnp.inf).astype(x.dtype)
    if not isinstance(toy, IsotropicMixture):
        raise ValueError(f"no exact marginal for {type(toy).__name__}.")
    centers = jnp.asarray(toy.centers[:, axis], x.dtype)
    log_w = jnp.asarray(toy.log_weights, x.dtype)
    log_norm = 0.5 * math.log(2 * math.pi * toy.sigma**2)

    def one(xi: Array) -> Array:
        return logsumexp(log_w - 0.5 * ((xi - centers) / toy.sigma) ** 2)

    flat = x.reshape(-1)
    out = jax.lax.map(one, flat, batch_size=1024) if flat.shape[0] else flat
    return out.reshape(x.shape) - log_norm


def marginal_entropy(toy: Toy, axis: int, *, spacing: float = 0.005) -> float:
    r"""$H(X_i) = -\int p_i \log p_i$ by the trapezoid rule, in float64.

    The grid spans the centres $\pm 14\sigma$ (the mass outside is below $10^{-40}$);
    for these smooth, rapidly decaying integrands the rule converges faster than any
    power of the spacing. The checkerboard's marginal is uniform: $\log 6$ exactly.
    """
    if isinstance(toy, Checkerboard):
        return math.log(4 * toy.side)
    with jax.enable_x64(True):
        c = np.asarray(toy.centers)[:, axis]
        lo, hi = c.min() - 14 * toy.sigma, c.max() + 14 * toy.sigma
        grid = np.linspace(lo, hi, int(round((hi - lo) / spacing)) + 1)
        log_p = np.asarray(marginal_log_prob(toy, jnp.asarray(grid), axis))
        p = np.exp(log_p)
        return float(-(grid[1] - grid[0]) * np.sum(p * log_p))  # tails ~ 0: no end terms


def total_correlation(toy: Toy, *, spacing: float = 0.005) -> tuple[float, float]:
    r"""$\mathrm{TC} = H(X_1) + H(X_2) - H(X)$ and an error bound, in nats.

    The bound adds ``toy.entropy_se`` and, for each marginal entropy, the change on
    halving the spacing. Checkerboard: $2\log 6 - \log 18 = \log 2$ exactly.
    """
    if isinstance(toy, Checkerboard):
        return math.log(2.0), 0.0
    value, bound = -toy.entropy, toy.entropy_se
    for axis in (0, 1):
        h = marginal_entropy(toy, axis, spacing=spacing)
        value += h
        bound += abs(marginal_entropy(toy, axis, spacing=spacing / 2) - h)
    return value, bound + 1e-12  # + the rounding of the sums


def total_correlation_table(spacing: float = 0.005) -> dict:
    """Recompute every toy's total correlation with its error bound; print and return."""
    table = {}
    for name, toy in TOYS.items():
        table[name] = total_correlation(toy, spacing=spacing)
        print(f"{name:16s} TC {table[name][0]:.10f} bound {table[name][1]:.1e}", flush=True)
    return table


def estimate_total_correlation(toy: Toy, key: PRNGKeyArray, n: int) -> tuple[float, float]:
    r"""Monte-Carlo $\widehat{\mathrm{TC}} = \frac1n\sum_j \big[\log p(x_j) -
    \sum_i \log p_i(x_{ji})\big]$, $x_j \sim p$, and its standard error."""
    check_positive_int(n, "n", minimum=2)
    x = toy.sample(key, n)
    terms = toy.log_prob(x) - marginal_log_prob(toy, x[:, 0], 0) - marginal_log_prob(
        toy, x[:, 1], 1
    )
    return float(terms.mean()), float(terms.std(ddof=1) / math.sqrt(n))
