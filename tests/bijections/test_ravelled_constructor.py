"""RavelledConstructor: a coupling layer's map from ravelled offsets to its transformer.

References: the project's rule of what is trainable and jax's ``ravel_pytree`` for
the values (the map is flowjax's ``get_ravelled_pytree_constructor``, which the class
wraps); a trace counter (Python side effects run only when jax traces) for whether two
layers built alike share one compiled program.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

import gauss_flows as gf
from gauss_flows._parameters import RavelledConstructor, is_frozen, ravel_trainable
from gauss_flows.flows import COUPLINGS

TEMPLATES = {
    "mixture": lambda: gf.MixtureGaussianCDF(3, means=[-1.0, 0.5, 2.0]),
    "affine": lambda: gf.LogScaleAffine(),
    "rotation_in_chain": lambda: gf.Rotation.random(jr.key(0), 2),  # fixed (NonTrainable)
}


def test_offsets_add_to_the_templates_trainable_arrays():
    """Reference: the project's rule of what is trainable (``count_parameters``, and
    the template's trainable arrays ravelled by ``jax.flatten_util``); fixed parts
    (``NonTrainable``, e.g. a fixed rotation) come back unchanged."""
    for make in TEMPLATES.values():
        template = make()
        constructor = RavelledConstructor(template)
        assert constructor.n_params == gf.count_parameters(template)
        v = jr.normal(jr.key(1), (constructor.n_params,))
        built = constructor(v)
        np.testing.assert_array_equal(ravel_trainable(built), ravel_trainable(template) + v)
        fixed = [eqx.filter(t, eqx.is_inexact_array, inverse=True, is_leaf=is_frozen)
                 for t in (built, template)]
        assert bool(eqx.tree_equal(*fixed))
        assert bool(eqx.tree_equal(constructor(jnp.zeros_like(v)), template))


def test_equal_templates_give_equal_constructors_and_different_ones_do_not():
    a, b = (RavelledConstructor(TEMPLATES["mixture"]()) for _ in range(2))
    assert a == b and hash(a) == hash(b)
    other_means = RavelledConstructor(gf.MixtureGaussianCDF(3, means=[-1.0, 0.5, 2.5]))
    other_cap = RavelledConstructor(
        gf.MixtureGaussianCDF(3, means=[-1.0, 0.5, 2.0], n_iter=7)
    )
    other_family = RavelledConstructor(gf.LogScaleAffine())
    assert a != other_means and a != other_cap and a != other_family


class _Offset(eqx.Module):
    """A template with one trainable array and one fixed Python number."""

    shift: jax.Array
    constant: float | int


def test_fixed_numbers_are_compared_as_the_constants_they_compile_to():
    make = lambda c: RavelledConstructor(_Offset(jnp.zeros(2), c))  # noqa: E731
    assert make(0.5) == make(0.5) and hash(make(0.5)) == hash(make(0.5))
    assert make(float("nan")) == make(float("nan"))
    # == calls these equal, but each is another constant in a compiled program
    assert make(0.0) != make(-0.0)
    assert make(1.0) != make(1)


def test_layers_built_alike_share_one_compiled_program():
    traces = []

    @eqx.filter_jit
    def log_prob(flow, x):
        traces.append(1)  # runs once per trace, i.e. per compiled program
        return flow.log_prob(x)

    x = jr.normal(jr.key(2), (16, 3))
    build = lambda key, **kw: gf.coupling_flow(  # noqa: E731
        key, shape=(3,), n_layers=2, coupling="affine", nn_width=8, nn_depth=1, **kw
    )
    first = log_prob(build(jr.key(0)), x)
    log_prob(build(jr.key(1)), x)  # same architecture, other weights
    assert len(traces) == 1
    log_prob(build(jr.key(0), masks="alternating"), x)  # other static masks
    assert len(traces) == 2
    # and the shared program computes each flow's own log_prob
    assert not np.allclose(first, log_prob(build(jr.key(1)), x))


def test_template_built_under_jit_still_works():
    @jax.jit
    def build_and_apply(offset):
        constructor = RavelledConstructor(gf.LogScaleAffine(offset, 0.0))
        assert constructor == constructor
        return constructor(jnp.ones(constructor.n_params)).transform(jnp.asarray(1.0))

    # LogScaleAffine: x -> x exp(log_scale) + shift, template (offset, 0) + ones
    np.testing.assert_allclose(build_and_apply(jnp.asarray(0.5)), 1.5 + np.e, rtol=1e-6)


def test_every_named_coupling_built_alike_has_one_static_structure():
    """What jax's compile caches key on: the treedef, static fields included (flowjax's
    spline keeps a lambda per instance; RQSpline replaces it by a shared function)."""
    for coupling in COUPLINGS:
        a, b = (gf.coupling_flow(jr.key(k), shape=(3,), n_layers=2, coupling=coupling)
                for k in (0, 1))
        assert jax.tree.structure(a) == jax.tree.structure(b), coupling
        assert hash(jax.tree.structure(a)) == hash(jax.tree.structure(b)), coupling
