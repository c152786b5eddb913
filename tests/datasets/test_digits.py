"""The 8x8 digits loader: split sizes, disjointness, values, no network; dequantize."""

import socket

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import gauss_flows as gf
from gauss_flows.datasets import dequantize, load_digits


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a socket fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("load_digits tried to use the network")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_split_sizes_shapes_and_values(no_network):
    sizes = {"train": 1000, "validation": 350, "test": 447, "all": 1797}
    for split, n in sizes.items():
        x = load_digits(split)
        assert x.shape == (n, 64) and x.dtype == np.float64
        assert set(np.unique(x)) <= set(range(17))  # pixel counts 0..16
    assert gf.datasets.load_digits is load_digits


def test_the_parts_are_the_file_in_order_and_disjoint():
    """Reference: scikit-learn's own array, sliced by hand."""
    from sklearn.datasets import load_digits as sklearn_digits

    reference = sklearn_digits().data
    parts = [load_digits(s) for s in ("train", "validation", "test")]
    np.testing.assert_array_equal(np.concatenate(parts), reference)
    np.testing.assert_array_equal(load_digits("all"), reference)
    rows = [{r.tobytes() for r in p} for p in parts]
    # disjoint as rows of the file and as images: no image appears in two parts
    assert sum(len(r) for r in rows) == 1797
    assert not (rows[0] & rows[1] or rows[0] & rows[2] or rows[1] & rows[2])


@pytest.mark.parametrize("bad", ["val", "TRAIN", None, 0])
def test_bad_split_raises(bad):
    with pytest.raises(ValueError, match="split must be one of"):
        load_digits(bad)


def test_dequantize_adds_uniform_noise_in_the_unit_cell():
    x = jnp.asarray(load_digits("test"))
    y = dequantize(jr.key(0), x)
    u = np.asarray(y - x)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005  # U[0, 1)
    np.testing.assert_array_equal(np.floor(np.asarray(y)), np.asarray(x))
    assert not np.array_equal(np.asarray(dequantize(jr.key(1), x)), np.asarray(y))
    with pytest.raises(ValueError):
        dequantize(jr.key(0), x.astype(jnp.int32))
