"""gf.masks: the constructors, the named schedules and coverage counts."""

import jax.random as jr
import numpy as np
import pytest

import gauss_flows as gf
from gauss_flows.conditioning.masks import SCHEDULES, schedule


@pytest.mark.parametrize(("d", "expected"), [
    (2, [1, 0]),
    (5, [1, 1, 0, 0, 0]),
    (8, [1, 1, 1, 1, 0, 0, 0, 0]),
])
def test_half_is_the_default_mask(d, expected):
    """Reference: the masks written out (the first d // 2 coordinates passive)."""
    expected = np.array(expected, bool)
    np.testing.assert_array_equal(gf.masks.half(d), expected)
    # ... and it is what a coupling uses when given no mask
    layer = gf.AffineCoupling(jr.key(0), shape=(d,), nn_width=2, nn_depth=0)
    np.testing.assert_array_equal(layer.mask, expected)


@pytest.mark.parametrize(("d", "parity", "expected"), [
    (5, 0, [1, 0, 1, 0, 1]),
    (5, 1, [0, 1, 0, 1, 0]),
    (2, 1, [0, 1]),
])
def test_alternating_marks_one_parity(d, parity, expected):
    mask = gf.masks.alternating(d, parity)
    assert mask.dtype == bool
    np.testing.assert_array_equal(mask, np.array(expected, bool))


def test_checkerboard_is_row_major_and_its_parities_are_complements():
    mask = gf.masks.checkerboard(3, 4, 0)
    expected = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0]], bool)
    np.testing.assert_array_equal(mask.reshape(3, 4), expected)
    np.testing.assert_array_equal(gf.masks.checkerboard(3, 4, 1), ~mask)
    # no two grid neighbours share a side of the split
    neighbours = gf.datasets.grid_neighbours(3, 4)
    rows, cols = np.nonzero(neighbours)
    assert np.all(mask[rows] != mask[cols])


@pytest.mark.parametrize(("d", "n_passive"), [(6, None), (7, 1), (7, 6), (36, 10)])
def test_random_mask_counts_and_seeds(d, n_passive):
    mask = gf.masks.random(jr.key(0), d, n_passive)
    assert mask.shape == (d,) and mask.sum() == (d // 2 if n_passive is None else n_passive)
    np.testing.assert_array_equal(mask, gf.masks.random(jr.key(0), d, n_passive))
    if d == 36:
        assert not np.array_equal(mask, gf.masks.random(jr.key(1), d, n_passive))


def test_coverage_counts_transformed_and_context_layers():
    fixed = gf.masks.coverage([gf.masks.half(5)] * 3)
    np.testing.assert_array_equal(fixed["transformed"], [0, 0, 3, 3, 3])
    np.testing.assert_array_equal(fixed["context"], [3, 3, 0, 0, 0])
    mixed = gf.masks.coverage(np.stack([gf.masks.alternating(4, 0), gf.masks.half(4),
                                        gf.masks.alternating(4, 1)]))
    np.testing.assert_array_equal(mixed["transformed"], [1, 1, 2, 2])
    np.testing.assert_array_equal(mixed["transformed"] + mixed["context"], [3] * 4)


@pytest.mark.parametrize("name", SCHEDULES)
@pytest.mark.parametrize("n_layers", [1, 4, 5])
def test_named_schedules_alternate_a_mask_and_its_complement(name, n_layers):
    grid = (2, 3) if name == "checkerboard" else None
    key = jr.key(3) if name == "random" else None
    masks = schedule(name, 6, n_layers, grid=grid, key=key)
    assert len(masks) == n_layers
    for i, mask in enumerate(masks):
        np.testing.assert_array_equal(mask, masks[0] if i % 2 == 0 else ~masks[0])
    counts = gf.masks.coverage(masks)
    assert np.all(counts["transformed"] >= n_layers // 2)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: gf.masks.half(1), "d must be >= 2"),
    (lambda: gf.masks.half(3.0), "d must be an integer"),
    (lambda: gf.masks.alternating(4, 2), "parity"),
    (lambda: gf.masks.alternating(4, True), "parity"),
    (lambda: gf.masks.checkerboard(0, 3), "height"),
    (lambda: gf.masks.checkerboard(1, 1), "at least 2 cells"),
    (lambda: gf.masks.random(jr.key(0), 4, 4), "n_passive"),
    (lambda: gf.masks.random(jr.key(0), 4, 0), "n_passive"),
    (lambda: gf.masks.coverage([]), "at least one mask"),
    (lambda: gf.masks.coverage(gf.masks.half(4)), "wrap it in a list"),
    (lambda: gf.masks.coverage([gf.masks.half(4), gf.masks.half(5)]), r"masks\[1\]"),
    (lambda: gf.masks.coverage([np.ones(3, bool)]), "at least one passive"),
    (lambda: gf.masks.coverage([np.array([1, 0, 1])]), "boolean"),
    (lambda: schedule("stripes", 4, 2), "Unknown mask schedule"),
    (lambda: schedule("checkerboard", 6, 2), "grid"),
    (lambda: schedule("checkerboard", 6, 2, grid=(2, 2)), "height \\* width"),
    (lambda: schedule("half", 6, 2, grid=(2, 3)), "grid"),
    (lambda: schedule("random", 6, 2), "key"),
    (lambda: schedule("half", 6, 0), "n_layers"),
])
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
