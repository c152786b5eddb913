"""Every bijection of the package, as factories, for the parametrized contract suite.

``BIJECTIONS[name](key)`` builds one bijection. Factories are called *inside* the
dtype context of the test (``jax.enable_x64(True/False)``), so the parameters come out
in the dtype under test. Each entry is then passed through :func:`perturb` by the
tests, which jitters every trainable array so that log-dets are clearly non-zero.

To add a bijection, add ONE line to ``BIJECTIONS`` (see the marked place below): the
contract suite (``tests/bijections/test_bijections.py``) and the flowjax interop tests
(``tests/bijections/test_flowjax_interop.py``) then cover it. ``tests/conftest.py``
puts this folder on ``sys.path``, so any test folder can ``from bijections import``.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from flowjax.bijections import AbstractBijection, Chain, Vmap
from jaxtyping import Array, PRNGKeyArray
from paramax import NonTrainable

import gauss_flows as gf

BijectionFactory = Callable[[PRNGKeyArray], AbstractBijection]


class TanhResidualConditioner(eqx.Module):
    """A custom (non-MLP) conditioner: ``x -> W2 tanh(W1 x) + V x``."""

    hidden: eqx.nn.Linear
    out: eqx.nn.Linear
    skip: eqx.nn.Linear

    def __init__(self, in_size: int, out_size: int, width: int, key: PRNGKeyArray):
        k1, k2, k3 = jr.split(key, 3)
        self.hidden = eqx.nn.Linear(in_size, width, key=k1)
        self.out = eqx.nn.Linear(width, out_size, key=k2)
        self.skip = eqx.nn.Linear(in_size, out_size, use_bias=False, key=k3)

    def __call__(self, x: Array) -> Array:
        return self.out(jnp.tanh(self.hidden(x))) + self.skip(x)


def vmapped_scalar(make: Callable[[PRNGKeyArray], AbstractBijection], dim: int):
    """Factory of a ``(dim,)`` bijection made of ``dim`` *different* scalar bijections.

    The copies are built one by one and their arrays stacked (rather than with
    ``eqx.filter_vmap(make)``) because ``MixtureGaussianCDF.__init__`` checks its
    scales with a Python ``bool``, which cannot run under a vmap trace.
    """

    def factory(key: PRNGKeyArray) -> AbstractBijection:
        copies = [make(k) for k in jr.split(key, dim)]
        arrays = [eqx.filter(c, eqx.is_array) for c in copies]
        stacked = jax.tree.map(lambda *leaves: jnp.stack(leaves), *arrays)
        stacked = eqx.combine(stacked, eqx.filter(copies[0], eqx.is_array, inverse=True))
        return Vmap(stacked, in_axes=eqx.if_array(0))

    return factory


def _random_mixture(key: PRNGKeyArray) -> gf.MixtureGaussianCDF:
    k1, k2 = jr.split(key)
    return gf.MixtureGaussianCDF(
        4, means=jr.normal(k1, (4,)), scales=jr.uniform(k2, (4,), minval=0.5, maxval=2.0)
    )


def _random_marginal(key: PRNGKeyArray, dim: int = 3) -> gf.MarginalGaussianization:
    k1, k2, k3 = jr.split(key, 3)
    return gf.MarginalGaussianization(
        jr.normal(k1, (dim, 4)),
        jr.normal(k2, (dim, 4)),
        jr.uniform(k3, (dim, 4), minval=0.5, maxval=2.0),
    )


def _random_affine(key: PRNGKeyArray) -> gf.LogScaleAffine:
    k1, k2 = jr.split(key)
    return gf.LogScaleAffine(jr.normal(k1, ()), 0.5 * jr.normal(k2, ()))


# A non-contiguous mask for d = 5: passive coordinates 0, 2, 3.
ODD_MASK = np.array([True, False, True, True, False])

BIJECTIONS: dict[str, BijectionFactory] = {
    "affine_d4": lambda key: gf.AffineCoupling(key, shape=(4,), nn_width=16, nn_depth=2),
    "affine_d5_custom_mask": lambda key: gf.AffineCoupling(
        key, shape=(5,), mask=ODD_MASK, nn_width=16, nn_depth=1
    ),
    "affine_bounded": lambda key: gf.AffineCoupling(
        key, shape=(4,), log_scale_bound=1.5, nn_width=16, nn_depth=2
    ),
    "affine_conditional": lambda key: gf.AffineCoupling(
        key, shape=(4,), cond_dim=3, nn_width=16, nn_depth=2
    ),
    "mixture_d4": lambda key: gf.MixtureGaussianCDFCoupling(
        key, shape=(4,), n_components=4, nn_width=16, nn_depth=1
    ),
    # An odd d with the default mask (1 passive, 2 active coordinates). The split is
    # the coupling's, whatever the transformer: an affine one keeps it cheap to compile
    # (the mixture transformer's own entries are mixture_d4, marginal_d3 and
    # scalar_mixture_vmap).
    "affine_d3": lambda key: gf.AffineCoupling(key, shape=(3,), nn_width=16, nn_depth=1),
    "coupling_custom_conditioner": lambda key: gf.Coupling(
        key,
        shape=(4,),
        transformer=gf.LogScaleAffine(),
        mask=np.array([False, True, False, True]),
        conditioner=TanhResidualConditioner(2, 2 * 2, 8, key),
    ),
    "scalar_mixture_vmap": vmapped_scalar(_random_mixture, 3),
    "scalar_affine_vmap": vmapped_scalar(_random_affine, 3),
    # ---- Add new bijections here, one line each, e.g. ----
    # "deep_sigmoid_d4": lambda key: gf.DeepSigmoidCoupling(key, shape=(4,), ...),
    # "rq_spline_d4": lambda key: gf.RQSplineCoupling(key, shape=(4,), ...),
    "deep_sigmoid_d4": lambda key: gf.DeepSigmoidCoupling(
        key, shape=(4,), n_components=4, nn_width=16, nn_depth=1
    ),
    "rq_spline_d4": lambda key: gf.RQSplineCoupling(
        key, shape=(4,), n_bins=5, interval=3.0, nn_width=16, nn_depth=1
    ),
    "marginal_d3": _random_marginal,
    # Rotations have log-det 0: each follows an elementwise affine layer so that the
    # chain's log-det is not trivially 0 (the affine part is cheap to compile; the
    # rotation is what these entries test).
    "rotation_fixed_d3": lambda key: Chain(
        [vmapped_scalar(_random_affine, 3)(key), gf.Rotation.random(key, 3)]
    ),
    "rotation_householder_d3": lambda key: Chain(
        [vmapped_scalar(_random_affine, 3)(key),
         gf.householder_rotation(key, 3, n_reflections=2)]
    ),
    "actnorm_d4": lambda key: gf.ActNorm((4,)).initialized(1 + 2 * jr.normal(key, (64, 4))),
    "rq_spline_residual_mlp": lambda key: gf.RQSplineCoupling(
        key, shape=(5,), mask=ODD_MASK, n_bins=4, interval=3.0,
        conditioner=gf.ResidualMLP(3, 2 * (3 * 4 + 1), width=8, n_blocks=1, key=key),
    ),
    "lu_linear_d4": lambda key: gf.LULinear(key, (4,), init_scale=0.5),
}

#: Entries with a dense Jacobian (rotations): the tests of triangular structure and of
#: the log-det as a sum of log-diagonal entries do not apply to them.
DENSE: set[str] = {"rotation_fixed_d3", "rotation_householder_d3", "lu_linear_d4"}


def perturb(bijection: AbstractBijection, key: PRNGKeyArray, scale: float = 0.3):
    """Add ``scale * N(0, 1)`` noise to every trainable floating-point array.

    Fixed parts (``paramax.NonTrainable``, e.g. a fixed rotation) are left alone.
    """
    params, static = eqx.partition(
        bijection, eqx.is_inexact_array, is_leaf=lambda leaf: isinstance(leaf, NonTrainable)
    )
    leaves, treedef = jax.tree.flatten(params)
    keys = jr.split(key, len(leaves))
    leaves = [
        leaf + scale * jr.normal(k, leaf.shape, leaf.dtype) for leaf, k in zip(leaves, keys)
    ]
    return eqx.combine(jax.tree.unflatten(treedef, leaves), static)


def passive_mask(bijection: AbstractBijection) -> np.ndarray:
    """Passive coordinates (``True``); all ``False`` for purely elementwise bijections."""
    mask = getattr(bijection, "mask", None)
    return np.zeros(bijection.shape, bool) if mask is None else np.asarray(mask)
