r"""Several training seeds of one flow as a single program.

A comparison between two models means little if it rests on one random initialisation
and one order of minibatches. Here the seeds are a batch axis: :func:`stack_seeds`
stacks $k$ flows of one architecture into one pytree whose arrays carry a leading axis
of size $k$, :func:`train_flows` trains all of them at once (one ``jax.vmap`` over the
seed axis, compiled once), and :func:`seed_log_probs` scores them on held-out data.
:func:`unstack_seeds` gives the $k$ flows back one by one.

The training loop minimises the mean negative log-likelihood with Adam after clipping
each seed's gradient norm, at a constant learning rate (no schedule that drives the
rate to zero at an arbitrary epoch), and stops each seed on its own validation loss:
a seed whose validation NLL has not improved for ``max_patience`` epochs is frozen,
and every seed returns the parameters of its best validation epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import paramax
from flowjax.distributions import AbstractDistribution
from jaxtyping import Array, ArrayLike, PRNGKeyArray, PyTree
from tqdm import tqdm

from gauss_flows._parameters import partition_trainable
from gauss_flows._validation import (
    check_flag,
    check_positive_int,
    check_positive_number,
    check_samples,
)
from gauss_flows.training.train import clipped_adam, default_show_progress


def stack_seeds(flows: Sequence[PyTree]) -> PyTree:
    """Stack flows of one architecture: every array gets a leading seed axis.

    Args:
        flows: ``k >= 1`` pytrees with the same structure and static parts (e.g.
            ``[gf.coupling_flow(key, ...) for key in jr.split(key, k)]``).

    Returns:
        One pytree of the same structure whose array leaves have shape ``(k, ...)``.
    """
    flows = list(flows)
    if not flows:
        raise ValueError("flows must hold at least one flow, got an empty sequence.")
    arrays = [eqx.filter(flow, eqx.is_array) for flow in flows]
    static = eqx.filter(flows[0], eqx.is_array, inverse=True)
    # Treedefs can differ in static closures (flowjax keeps a function per instance), so
    # flows match when their array leaves match in number, shape and dtype.
    leaves, treedef = jax.tree.flatten(arrays[0])
    signature = [(leaf.shape, leaf.dtype) for leaf in leaves]
    columns = [leaves]
    for i, tree in enumerate(arrays[1:], start=1):
        other = jax.tree.leaves(tree)
        if [(leaf.shape, leaf.dtype) for leaf in other] != signature:
            raise ValueError(
                f"flows[{i}] does not have the arrays (shapes, dtypes) of flows[0]."
            )
        columns.append(other)
    stacked = jax.tree.unflatten(treedef, [jnp.stack(c) for c in zip(*columns)])
    return eqx.combine(stacked, static)


def n_seeds(flows: PyTree) -> int:
    """The size of the leading seed axis of stacked flows."""
    leaves = jax.tree.leaves(eqx.filter(flows, eqx.is_array))
    if not leaves or leaves[0].ndim == 0:
        raise ValueError("flows must be stacked flows (see gauss_flows.stack_seeds).")
    return leaves[0].shape[0]


def unstack_seeds(flows: PyTree) -> list[PyTree]:
    """The ``k`` flows of stacked ``flows``, one per seed."""
    arrays, static = eqx.partition(flows, eqx.is_array)
    return [
        eqx.combine(jax.tree.map(lambda a: a[i], arrays), static)
        for i in range(n_seeds(flows))
    ]


@eqx.filter_jit
def _log_probs(flows: AbstractDistribution, x: Array) -> Array:
    return eqx.filter_vmap(lambda flow: flow.log_prob(x))(flows)


def seed_log_probs(flows: AbstractDistribution, x: ArrayLike) -> np.ndarray:
    """$\\log q_s(x_j)$ of every seed ``s`` at every point ``x_j``: shape ``(k, n)``.

    Returned as a float64 NumPy array, for averaging and standard errors.
    """
    flows = paramax.unwrap(flows)
    x = check_samples(x, "x", shape=tuple(flows.shape))
    return np.asarray(_log_probs(flows, x), np.float64)


def _nll(params, static, x):
    flow = paramax.unwrap(eqx.combine(params, static))
    return -flow.log_prob(x).mean()


@eqx.filter_jit
def _seed_nlls(params, static, x):
    """Each seed's mean NLL on ``x``: shape ``(k,)``."""
    return jax.vmap(lambda p: _nll(p, static, x))(params)


@eqx.filter_jit
def _epoch(
    params, opt_state, active, static, optimizer, key, train, val, batch_size, augment
):
    """One epoch for every seed (vmapped): shuffle, one Adam step per minibatch.

    ``augment`` (static; ``None`` or ``(key, batch) -> batch``) transforms every
    minibatch with its own key before the step. Frozen seeds (``active`` False) keep
    their parameters and optimiser state. Returns the new state and each seed's mean
    training and validation NLL.
    """
    n_batches = train.shape[0] // batch_size

    def one_seed(params, opt_state, active, key):
        order = jr.permutation(key, train.shape[0])[: n_batches * batch_size]
        batches = train[order].reshape(n_batches, batch_size, *train.shape[1:])
        # the shuffle keeps `key`, so augment=None reproduces the plain epoch exactly
        batch_keys = jr.split(jr.fold_in(key, 1), n_batches)

        def step(carry, inputs):
            params, opt_state = carry
            batch, batch_key = inputs
            if augment is not None:
                batch = augment(batch_key, batch)
            loss, grads = eqx.filter_value_and_grad(_nll)(params, static, batch)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (eqx.apply_updates(params, updates), opt_state), loss

        (new_params, new_state), losses = jax.lax.scan(
            step, (params, opt_state), (batches, batch_keys)
        )
        keep = lambda new, old: jnp.where(active, new, old)  # noqa: E731
        new_params = jax.tree.map(keep, new_params, params)
        new_state = jax.tree.map(keep, new_state, opt_state)
        return new_params, new_state, losses.mean(), _nll(new_params, static, val)

    keys = jr.split(key, active.shape[0])
    return jax.vmap(one_seed)(params, opt_state, active, keys)


def train_flows(
    key: PRNGKeyArray,
    flows: AbstractDistribution,
    data: ArrayLike,
    validation: ArrayLike,
    *,
    max_epochs: int = 200,
    batch_size: int = 256,
    learning_rate: float = 3e-3,
    max_patience: int = 20,
    clip_norm: float = 1.0,
    callback: Callable[[int, np.ndarray], None] | None = None,
    augment: Callable[[PRNGKeyArray, Array], Array] | None = None,
    show_progress: bool | None = None,
) -> tuple[AbstractDistribution, dict[str, np.ndarray]]:
    r"""Train stacked flows (one per seed) as one vmapped program, with early stopping.

    Every seed starts from its own parameters (the leading axis of ``flows``) and
    shuffles the training data with its own key; all seeds see the same ``data`` and
    are stopped on the same ``validation`` points. The optimiser is
    ``clip_by_global_norm(clip_norm)`` (per seed) then Adam at the constant
    ``learning_rate``. A seed stops when its validation NLL has not improved for
    ``max_patience`` epochs (``max_patience=0``: never); the loop ends when every seed
    has stopped or after ``max_epochs`` epochs. jax compiles the epoch once for all seeds.

    ``augment`` transforms every training minibatch inside the compiled epoch, with a
    fresh key per minibatch, epoch and seed, e.g. uniform dequantization
    (``augment=gf.datasets.dequantize``): the model then never
    sees one fixed noisy copy of the data. The validation points are used as given
    (pass them already transformed, e.g. a few independent noise draws stacked).
    Pass one function object (not a new lambda per call): it is a static argument of
    the compiled epoch, so a new object compiles again.

    Args:
        key: PRNG key (minibatch order; each seed gets its own).
        flows: Stacked flows, e.g. ``gf.stack_seeds([make(k) for k in keys])``.
        data: Training samples, shape ``(n, *flow.shape)``.
        validation: Held-out samples for early stopping, shape ``(m, *flow.shape)``.
        max_epochs: Cap on the number of epochs.
        batch_size: Minibatch size (capped at ``n``; the last partial batch is dropped).
        learning_rate: Adam's (constant) learning rate.
        max_patience: Epochs without a new best validation NLL before a seed stops.
        clip_norm: Global gradient-norm clip, per seed.
        callback: Called after every epoch as ``callback(epoch, val)`` with the
            seeds' validation NLLs (shape ``(k,)``), e.g. for a progress display.
        augment: ``None`` (train on ``data`` as given) or a function
            ``augment(key, batch) -> batch`` of the same shape and dtype, applied to
            every minibatch with its own key. With ``None`` the training is exactly
            that of an ``augment`` that returns its batch unchanged.
        show_progress: A progress bar over epochs on stderr (tqdm, as flowjax's
            ``fit_to_data`` draws it), with the seeds' best validation NLLs and how
            many are still training. It reads "compiling" until the first epoch is
            done: jax compiles the epoch then, which can take most of a short run.
            ``None`` decides with :func:`gauss_flows.training.default_show_progress`
            (on in a terminal or an interactive Jupyter kernel, off where the
            environment variable ``GAUSS_FLOWS_PROGRESS=0``, as in tests and nbval).

    Returns:
        ``(trained, history)``: the stacked flows at each seed's best validation epoch,
        and ``history`` with ``"train"`` and ``"val"`` (arrays ``(epochs + 1, k)``:
        row 0 is before any step, NaN once a seed has stopped; ``"train"`` row 0 is
        the NLL on the whole training set, augmented once if ``augment`` is given),
        ``"best_epoch"`` and ``"stopped_epoch"``
        (shape ``(k,)``).
    """
    k = n_seeds(flows)
    shape = tuple(flows.shape)
    data = check_samples(data, "data", shape=shape, min_samples=2)
    validation = check_samples(validation, "validation", shape=shape).astype(data.dtype)
    check_positive_int(max_epochs, "max_epochs")
    check_positive_int(batch_size, "batch_size")
    check_positive_int(max_patience, "max_patience", minimum=0)
    learning_rate = check_positive_number(learning_rate, "learning_rate")
    clip_norm = check_positive_number(clip_norm, "clip_norm")
    batch_size = min(batch_size, data.shape[0])

    if augment is not None and not callable(augment):
        raise ValueError(
            f"augment must be None or a function (key, batch), got {augment!r}."
        )
    if check_flag(show_progress, "show_progress", allow_none=True) is None:
        show_progress = default_show_progress()

    params, static = partition_trainable(flows)
    optimizer = clipped_adam(learning_rate, clip_norm)
    opt_state = eqx.filter_vmap(optimizer.init)(params)
    start = data if augment is None else augment(jr.fold_in(key, max_epochs), data)
    train_curve = [np.asarray(_seed_nlls(params, static, start))]
    val_curve = [np.asarray(_seed_nlls(params, static, validation))]
    best, best_val = params, val_curve[0].copy()
    best_epoch = np.zeros(k, int)
    stopped = np.full(k, -1)
    active = np.ones(k, bool)
    bar = tqdm(total=max_epochs, unit="epoch", disable=not show_progress)
    bar.set_postfix_str("compiling")
    for epoch, epoch_key in enumerate(jr.split(key, max_epochs), start=1):
        params, opt_state, train_nll, val_nll = _epoch(
            params, opt_state, jnp.asarray(active), static, optimizer, epoch_key, data,
            validation, batch_size, augment,
        )
        train_nll, val_nll = np.asarray(train_nll), np.asarray(val_nll)
        train_curve.append(np.where(active, train_nll, np.nan))
        val_curve.append(np.where(active, val_nll, np.nan))
        improved = active & np.isfinite(val_nll) & (val_nll < best_val)
        if improved.any():
            mask = jnp.asarray(improved)
            best = jax.tree.map(
                lambda new, old: jnp.where(
                    mask.reshape(-1, *([1] * (new.ndim - 1))), new, old
                ),
                params,
                best,
            )
            best_val = np.where(improved, val_nll, best_val)
            best_epoch = np.where(improved, epoch, best_epoch)
        if callback is not None:
            callback(epoch, val_curve[-1])
        bar.update()
        if max_patience:
            done = active & (epoch - best_epoch >= max_patience)
            stopped = np.where(done, epoch, stopped)
            active = active & ~done
        bar.set_postfix_str(
            f"best val {best_val.min():.4g} to {best_val.max():.4g}, "
            f"{int(active.sum())}/{k} seeds training"
        )
        if not active.any():
            break
    bar.close()
    stopped = np.where(stopped < 0, epoch, stopped)
    history = {
        "train": np.stack(train_curve),
        "val": np.stack(val_curve),
        "best_epoch": best_epoch,
        "stopped_epoch": stopped,
    }
    return eqx.combine(best, static), history
