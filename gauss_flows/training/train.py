r"""Maximum-likelihood training: a thin wrapper over flowjax's ``fit_to_data``.

Minimises the mean negative log-likelihood $-\frac{1}{n}\sum_i \log p_\theta(x_i)$ with
Adam on a cosine-decayed learning rate, gradients clipped to a global norm, on a random
train split; the held-out split gives the validation loss used for early stopping
(and the returned parameters are those of the best validation epoch). With
``record_grad_norms=True`` an optax transformation observes the raw gradient of every
step and records the norm of each layer's part
(:mod:`gauss_flows.training.gradient_norms`).
"""

from __future__ import annotations

import functools
import os
import sys

import jax
import numpy as np
import optax
from flowjax.distributions import AbstractDistribution
from flowjax.train import fit_to_data
from flowjax.train.losses import MaximumLikelihoodLoss
from jaxtyping import ArrayLike, PRNGKeyArray

from gauss_flows._validation import (
    check_flag,
    check_positive_int,
    check_positive_number,
    check_samples,
)
from gauss_flows.flows.coupling_flows import coupling_layers
from gauss_flows.training.gradient_norms import record_gradient_norms


PROGRESS_ENV = "GAUSS_FLOWS_PROGRESS"


def default_show_progress() -> bool:
    """Whether :func:`train_flow` shows its progress bar when ``show_progress=None``.

    The environment variable ``GAUSS_FLOWS_PROGRESS`` decides when it is set: ``1`` (or
    ``true``, ``yes``, ``on``) shows the bar, ``0`` (or ``false``, ``no``, ``off``) hides
    it. The Makefile, ``scripts/run_notebooks.py`` and the test suite's ``conftest.py``
    set it to ``0``, so CI, nbval and stored notebook outputs stay free of stderr.
    Unset, the bar is shown when stderr is a terminal or when running in a Jupyter
    kernel (whose stderr is not a terminal but is shown under the cell).
    """
    value = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    if value:
        raise ValueError(
            f"{PROGRESS_ENV} must be 1/true/yes/on or 0/false/no/off, got {value!r}."
        )
    isatty = getattr(sys.stderr, "isatty", None)  # sys.stderr may be None
    if isatty is not None and isatty():
        return True
    return "ipykernel" in sys.modules and _in_jupyter_kernel()


def _in_jupyter_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is there whenever ipykernel is
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


#: The loss of every call. flowjax's ``MaximumLikelihoodLoss`` compares by identity and
#: its training step is jitted with the loss as a static argument: a new instance per
#: call (``fit_to_data``'s default) would compile the step again on every call.
NLL = MaximumLikelihoodLoss()


@functools.lru_cache(maxsize=32)
def clipped_adam(
    learning_rate: float, clip_norm: float, decay_steps: int | None = None
) -> optax.GradientTransformation:
    """``clip_by_global_norm(clip_norm)`` then Adam, at a constant ``learning_rate`` or,
    with ``decay_steps``, on a cosine decay from it to 0 over that many steps.

    One object per setting: the training steps of :func:`train_flow` (flowjax's) and
    :func:`gauss_flows.train_flows` are jitted with the optimizer as a static argument,
    so a repeated call with the same settings and a flow of the same structure reuses
    the compiled step."""
    rate = learning_rate
    if decay_steps is not None:
        rate = optax.cosine_decay_schedule(learning_rate, decay_steps=decay_steps)
    return optax.chain(optax.clip_by_global_norm(clip_norm), optax.adam(rate))


def train_flow(
    key: PRNGKeyArray,
    flow: AbstractDistribution,
    data: ArrayLike,
    *,
    max_epochs: int = 100,
    batch_size: int = 256,
    learning_rate: float = 3e-3,
    val_prop: float = 0.1,
    max_patience: int = 10,
    clip_norm: float = 1.0,
    show_progress: bool | None = None,
    record_grad_norms: bool = False,
) -> tuple[AbstractDistribution, dict[str, list]]:
    r"""Fit ``flow`` to ``data`` by maximum likelihood.

    The optimiser is ``clip_by_global_norm(clip_norm)`` then Adam with a cosine decay
    from ``learning_rate`` to 0 over ``max_epochs * steps_per_epoch`` steps, where
    ``steps_per_epoch = n_train // batch_size`` (the last partial batch is dropped).
    A later call with the same settings, on data of the same shape and a flow built
    alike (same architecture, any weights), reuses the compiled training step.

    Args:
        key: PRNG key (train/validation split, shuffling).
        flow: Any flowjax distribution, e.g. from :func:`gauss_flows.coupling_flow`.
        data: Samples, shape ``(n, *flow.shape)``, all finite.
        max_epochs: Maximum number of passes over the training split.
        batch_size: Minibatch size (capped at the training-split size).
        learning_rate: Initial (peak) learning rate.
        val_prop: Fraction of ``data`` held out for validation, in ``(0, 1)``.
        max_patience: Stop after this many epochs without a new best validation loss.
        clip_norm: Global gradient-norm clip.
        show_progress: Progress bar on/off; ``None`` decides with
            :func:`default_show_progress` (on in a terminal or an interactive Jupyter
            kernel, off when ``GAUSS_FLOWS_PROGRESS=0``, as under ``make`` and nbval).
        record_grad_norms: If ``True`` (``flow`` must come from
            :func:`gauss_flows.coupling_flow`), also return the per-layer norms of the
            raw minibatch gradient (before clipping) at every step.

    Returns:
        ``(trained_flow, losses)``, with ``losses = {"train": [...], "val": [...]}``:
        the mean negative log-likelihood per epoch, as Python floats. With
        ``record_grad_norms``, ``losses["grad_norms"]`` is a list with one entry per
        step, each a list of ``L`` floats: the gradient norm of each layer of
        :func:`gauss_flows.flows.coupling_layers`, in data-to-latent order.
    """
    data = check_samples(data, shape=tuple(flow.shape))
    check_positive_int(max_epochs, "max_epochs")
    check_positive_int(batch_size, "batch_size")
    check_positive_int(max_patience, "max_patience", minimum=0)
    learning_rate = check_positive_number(learning_rate, "learning_rate")
    clip_norm = check_positive_number(clip_norm, "clip_norm")
    if isinstance(val_prop, bool) or not 0 < val_prop < 1:
        raise ValueError(f"val_prop must lie strictly between 0 and 1, got {val_prop}.")
    n = data.shape[0]
    n_val = round(val_prop * n)  # the split rule of flowjax's train_val_split
    n_train = n - n_val
    if n_val < 1 or n_train < 1:
        raise ValueError(
            f"{n} samples with val_prop={val_prop} leave {n_train} for training and "
            f"{n_val} for validation; both need at least one."
        )
    if check_flag(show_progress, "show_progress", allow_none=True) is None:
        show_progress = default_show_progress()

    steps_per_epoch = n_train // min(batch_size, n_train)
    optimizer = clipped_adam(learning_rate, clip_norm, max_epochs * steps_per_epoch)
    grad_norms: list[list[float]] = []  # the callback is ordered: one entry per step
    check_flag(record_grad_norms, "record_grad_norms")
    if record_grad_norms:
        coupling_layers(flow)  # raises a clear error for a flow it cannot map to layers
        record = record_gradient_norms(lambda i, g: grad_norms.append(g.tolist()))
        optimizer = optax.chain(record, optimizer)
    trained, losses = fit_to_data(
        key,
        flow,
        data,
        loss_fn=NLL,
        optimizer=optimizer,
        max_epochs=max_epochs,
        batch_size=batch_size,
        val_prop=val_prop,
        max_patience=max_patience,
        show_progress=show_progress,
    )
    if record_grad_norms:
        jax.effects_barrier()  # every step's callback has run
        losses["grad_norms"] = grad_norms
    return trained, losses
