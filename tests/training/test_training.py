"""train_flow: fits by maximum likelihood, cosine schedule, quiet by default, checks its
input."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import gauss_flows as gf
import gauss_flows.training.train as training

N = 20_000  # the sample size of the data-set tests: their compiled samplers are reused


@pytest.fixture(scope="module")
def flow():
    return gf.coupling_flow(jr.key(0), shape=(2,), n_layers=4)


def test_training_approaches_the_true_entropy_and_is_silent(flow, capfd):
    toy = gf.datasets.TOYS["eight_gaussians"]
    train, test = toy.sample(jr.key(1), N), toy.sample(jr.key(2), N)
    nll = eqx.filter_jit(lambda f, x: -f.log_prob(x).mean())
    before = float(nll(flow, test))

    trained, losses = gf.train_flow(jr.key(3), flow, train, max_epochs=5)

    assert capfd.readouterr().err == ""  # stderr is not a terminal here: no progress bar
    assert set(losses) == {"train", "val"}
    assert 1 <= len(losses["train"]) == len(losses["val"]) <= 5
    assert all(isinstance(v, float) and math.isfinite(v) for v in losses["val"])
    assert min(losses["val"]) < losses["val"][0]
    after = float(nll(trained, test))
    # a held-out NLL estimates H(p) + KL(p || q) >= H(p), up to its sampling error
    assert toy.entropy - 0.05 < after < before - 0.5, (before, after, toy.entropy)


def test_a_second_flow_built_alike_trains_without_compiling(flow):
    """Reference: XLA's own count of backend compilations (``jax.monitoring``). Built
    alike and trained with the same settings, a second flow reuses the compiled step
    and validation loss; other settings compile again. The shared program still trains
    each flow from its own parameters."""
    compiles = []

    def listener(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            compiles.append(duration)

    data = gf.datasets.TOYS["two_moons"].sample(jr.key(1), 600)
    settings = dict(max_epochs=2, batch_size=128)
    trained_first, _ = gf.train_flow(jr.key(3), flow, data, **settings)
    twin = gf.coupling_flow(jr.key(7), shape=(2,), n_layers=4)  # as `flow`, other weights
    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        trained_twin, _ = gf.train_flow(jr.key(3), twin, data, **settings)
        assert compiles == []
        gf.train_flow(jr.key(3), twin, data, learning_rate=1e-3, **settings)
        assert len(compiles) >= 1  # another schedule is another program
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    first, second = (jax.tree.leaves(eqx.filter(f, eqx.is_inexact_array))
                     for f in (trained_first, trained_twin))
    assert not all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


@pytest.fixture
def captured(monkeypatch):
    """Replace fit_to_data by a recorder of its arguments (no training)."""
    calls = {}

    def fake_fit(key, dist, data, **kwargs):
        calls.update(kwargs, data=data)
        return dist, {"train": [], "val": []}

    monkeypatch.setattr(training, "fit_to_data", fake_fit)
    return calls


def test_optimizer_is_adam_on_a_cosine_schedule_over_all_steps(flow, captured):
    data = jnp.zeros((1000, 2))  # 900 train / 100 val; 900 // 256 = 3 steps per epoch
    gf.train_flow(jr.key(0), flow, data, max_epochs=4, learning_rate=0.01, batch_size=256)
    assert captured["max_epochs"] == 4 and captured["batch_size"] == 256
    assert captured["val_prop"] == 0.1 and captured["max_patience"] == 10
    optimizer = captured["optimizer"]
    params = {"w": jnp.zeros(3)}
    state = optimizer.init(params)
    grads = {"w": jnp.array([5.0, -0.5, 2.0])}
    steps = []
    for _ in range(13):
        updates, state = optimizer.update(grads, state, params)
        steps.append(np.asarray(updates["w"]))
    # Adam with a constant gradient moves each coordinate by lr(t) * sign(g)
    lr = 0.01 * 0.5 * (1 + np.cos(np.pi * np.arange(13) / 12))
    expected = -lr[:, None] * np.sign(grads["w"])
    np.testing.assert_allclose(np.stack(steps), expected, atol=1e-7)
    assert np.all(steps[12] == 0)  # decayed to zero after max_epochs * steps_per_epoch


def test_show_progress_none_follows_whether_stderr_is_a_terminal(
    flow, captured, monkeypatch
):
    monkeypatch.delenv("GAUSS_FLOWS_PROGRESS", raising=False)  # conftest.py sets it to 0
    data = jnp.zeros((100, 2))
    gf.train_flow(jr.key(0), flow, data)
    assert captured["show_progress"] is False
    monkeypatch.setattr(training.sys.stderr, "isatty", lambda: True, raising=False)
    gf.train_flow(jr.key(0), flow, data)
    assert captured["show_progress"] is True
    gf.train_flow(jr.key(0), flow, data, show_progress=False)
    assert captured["show_progress"] is False
    for truthy in ("yes", 1):  # a flag is True, False or None, never a stand-in
        with pytest.raises(ValueError, match="show_progress must be True, False or None"):
            gf.train_flow(jr.key(0), flow, data, show_progress=truthy)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (np.zeros((100, 3)), "shape"),
        (np.zeros(100), "shape"),
        (np.zeros((100, 2), int), "floating"),
        (np.full((100, 2), np.nan), "non-finite"),
        (np.zeros((1, 2)), "at least one"),
    ],
)
def test_bad_data_raises(flow, data, match):
    with pytest.raises(ValueError, match=match):
        gf.train_flow(jr.key(0), flow, data)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_epochs": 0}, "max_epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"max_patience": -1}, "max_patience"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"clip_norm": -1.0}, "clip_norm"),
        ({"val_prop": 0.0}, "val_prop"),
        ({"val_prop": 1.0}, "val_prop"),
    ],
)
def test_bad_settings_raise(flow, kwargs, match):
    with pytest.raises(ValueError, match=match):
        gf.train_flow(jr.key(0), flow, jnp.zeros((100, 2)), **kwargs)
