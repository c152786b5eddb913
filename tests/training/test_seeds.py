"""Seeds as a batch axis: stacking, vmapped training with per-seed early stopping.

References: two runs that share one seed's start must give that seed the same result
whatever the other lane holds; the returned flows are checked against the recorded
validation curve (best epoch) and early stopping against the patience rule; the
stacked log-densities against each unstacked flow's own ``log_prob``.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import gauss_flows as gf

TOY = gf.datasets.TOYS["two_moons"]


def _make(key):
    return gf.coupling_flow(key, shape=(2,), n_layers=2, nn_width=8, nn_depth=1)


@pytest.fixture(scope="module")
def data():
    return TOY.sample(jr.key(0), 512), TOY.sample(jr.key(1), 256)


@pytest.fixture(scope="module")
def trained(data):
    x, x_val = data
    keys = jr.split(jr.key(2), 3)
    flows = gf.stack_seeds([_make(k) for k in keys])
    out, history = gf.train_flows(jr.key(3), flows, x, x_val, max_epochs=6,
                                  batch_size=128, max_patience=3, learning_rate=1e-2)
    return keys, flows, out, history


def test_stack_and_unstack_round_trip():
    flows = [_make(k) for k in jr.split(jr.key(0), 3)]
    stacked = gf.stack_seeds(flows)
    assert gf.n_seeds(stacked) == 3
    for original, back in zip(flows, gf.unstack_seeds(stacked)):
        for a, b in zip(jax.tree.leaves(eqx.filter(original, eqx.is_array)),
                        jax.tree.leaves(eqx.filter(back, eqx.is_array))):
            np.testing.assert_array_equal(a, b)


def test_stack_rejects_different_architectures():
    wide = gf.coupling_flow(jr.key(1), shape=(2,), n_layers=2, nn_width=9, nn_depth=1)
    with pytest.raises(ValueError, match="flows\\[1\\]"):
        gf.stack_seeds([_make(jr.key(0)), wide])
    with pytest.raises(ValueError, match="at least one"):
        gf.stack_seeds([])


def test_seed_log_probs_match_each_flow(data):
    x, _ = data
    flows = [_make(k) for k in jr.split(jr.key(0), 3)]
    lp = gf.seed_log_probs(gf.stack_seeds(flows), x[:50])
    assert lp.shape == (3, 50) and lp.dtype == np.float64
    for row, flow in zip(lp, flows):
        np.testing.assert_allclose(row, flow.log_prob(x[:50]), rtol=1e-5, atol=1e-5)


def test_returned_flows_are_each_seeds_best_validation_epoch(data, trained):
    _, x_val = data
    _, _, out, history = trained
    best = np.nanmin(history["val"], axis=0)
    lp = gf.seed_log_probs(out, x_val)
    np.testing.assert_allclose(-lp.mean(1), best, rtol=1e-5)


def test_history_and_early_stopping(trained):
    _, flows, out, history = trained
    val, best_epoch = history["val"], history["best_epoch"]
    stopped = history["stopped_epoch"]
    assert val.shape[1] == 3 and history["train"].shape == val.shape
    for s in range(3):
        curve = val[: stopped[s] + 1, s]
        assert np.all(np.isfinite(curve))
        assert best_epoch[s] == int(np.argmin(curve))
        assert np.all(np.isnan(val[stopped[s] + 1 :, s]))  # frozen after stopping
        # stopped early exactly when the patience of 3 ran out
        assert stopped[s] == 6 or stopped[s] - best_epoch[s] == 3
    assert np.all(np.nanmin(val, 0) < val[0] - 0.1)  # training helped every seed
    # seeds are different runs: different starts give different curves
    assert np.ptp(val[1]) > 1e-3


def test_seeds_differ_and_batching_matches_separate_training(data):
    # Two independent two-seed runs with the same key and the seeds in swapped order
    # must give each flow the same result: the lanes do not interact.
    x, x_val = data
    a, b = _make(jr.key(10)), _make(jr.key(11))
    kwargs = dict(max_epochs=3, batch_size=128, max_patience=0)
    ab, _ = gf.train_flows(jr.key(4), gf.stack_seeds([a, b]), x, x_val, **kwargs)
    aa, _ = gf.train_flows(jr.key(4), gf.stack_seeds([a, a]), x, x_val, **kwargs)
    lp_ab = gf.seed_log_probs(ab, x_val)
    lp_aa = gf.seed_log_probs(aa, x_val)
    np.testing.assert_allclose(lp_ab[0], lp_aa[0], rtol=1e-5, atol=1e-5)
    assert np.abs(lp_ab[0] - lp_ab[1]).max() > 1e-3


def _identity(key, batch):
    return batch


_SHIFT = jnp.asarray([5.0, -3.0])


def _shift(key, batch):
    return batch + _SHIFT


def _tiny_noise(key, batch):
    return batch + 1e-3 * jr.normal(key, batch.shape, batch.dtype)


def test_augment_identity_gives_exactly_the_plain_training(data):
    """Reference: the same run without ``augment``."""
    x, x_val = data
    flows = gf.stack_seeds([_make(k) for k in jr.split(jr.key(12), 2)])
    kwargs = dict(max_epochs=3, batch_size=128, max_patience=0)
    plain, hist_plain = gf.train_flows(jr.key(5), flows, x, x_val, **kwargs)
    same, hist_same = gf.train_flows(jr.key(5), flows, x, x_val, augment=_identity,
                                     **kwargs)
    for a, b in zip(jax.tree.leaves(eqx.filter(plain, eqx.is_array)),
                    jax.tree.leaves(eqx.filter(same, eqx.is_array))):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(hist_plain["val"], hist_same["val"])
    np.testing.assert_array_equal(hist_plain["train"], hist_same["train"])


def test_augment_is_applied_to_every_training_minibatch(data):
    """Reference: plain training on data shifted beforehand. Adding a constant to every
    minibatch must give the flow trained on the shifted data (same minibatch order);
    fresh noise changes the result a little, not a lot."""
    x, x_val = data
    flows = gf.stack_seeds([_make(k) for k in jr.split(jr.key(13), 2)])
    kwargs = dict(max_epochs=3, batch_size=128, max_patience=0)
    shifted, hist = gf.train_flows(jr.key(6), flows, x, x_val + _SHIFT, augment=_shift,
                                   **kwargs)
    reference, hist_ref = gf.train_flows(jr.key(6), flows, x + _SHIFT, x_val + _SHIFT,
                                         **kwargs)
    lp, lp_ref = (gf.seed_log_probs(f, x_val + _SHIFT) for f in (shifted, reference))
    np.testing.assert_allclose(lp, lp_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(hist["train"], hist_ref["train"], rtol=1e-5)
    # the shift is seen by the flow: it scores shifted points better than the flow
    # trained on the raw data does
    plain, _ = gf.train_flows(jr.key(6), flows, x, x_val, **kwargs)
    assert lp.mean() - gf.seed_log_probs(plain, x_val + _SHIFT).mean() > 1.0
    noisy, _ = gf.train_flows(jr.key(6), flows, x, x_val, augment=_tiny_noise, **kwargs)
    gap = np.abs(gf.seed_log_probs(noisy, x_val) - gf.seed_log_probs(plain, x_val))
    assert 0 < gap.max() < 0.05


def test_progress_bar_counts_epochs_and_seeds_on_stderr_only_when_asked(data, capsys):
    x, x_val = data
    flows = gf.stack_seeds([_make(k) for k in jr.split(jr.key(2), 3)])
    kwargs = dict(max_epochs=6, batch_size=128, max_patience=3, learning_rate=1e-2)
    _, history = gf.train_flows(jr.key(3), flows, x, x_val, show_progress=True, **kwargs)
    out, err = capsys.readouterr()
    epochs = len(history["val"]) - 1  # the bar stops where training stops
    assert out == ""
    assert "compiling" in err and f"{epochs}/6" in err, err
    assert "3/3 seeds training" in err and "best val" in err, err
    gf.train_flows(jr.key(3), flows, x, x_val, show_progress=False, **kwargs)
    assert capsys.readouterr() == ("", "")


def test_augment_must_be_callable(data):
    x, x_val = data
    flows = gf.stack_seeds([_make(jr.key(0))])
    with pytest.raises(ValueError, match="augment"):
        gf.train_flows(jr.key(0), flows, x, x_val, augment=1.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"clip_norm": -1.0}, "clip_norm"),
        ({"max_epochs": 0}, "max_epochs"),
        ({"max_patience": -1}, "max_patience"),
        ({"show_progress": "yes"}, "show_progress"),
    ],
)
def test_bad_settings_raise(data, kwargs, match):
    x, x_val = data
    flows = gf.stack_seeds([_make(jr.key(0))])
    with pytest.raises(ValueError, match=match):
        gf.train_flows(jr.key(0), flows, x, x_val, **kwargs)


def test_bad_data_raise(data):
    x, x_val = data
    flows = gf.stack_seeds([_make(jr.key(0))])
    with pytest.raises(ValueError, match="validation"):
        gf.train_flows(jr.key(0), flows, x, x_val[:, :1])
    with pytest.raises(ValueError, match="data"):
        gf.train_flows(jr.key(0), flows, x.at[0, 0].set(jnp.nan), x_val)
    with pytest.raises(ValueError, match="stacked"):
        gf.train_flows(jr.key(0), _make(jr.key(0)).base_dist, x, x_val)
