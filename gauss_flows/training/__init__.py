"""Training and scoring.

``train``: :func:`train_flow`, maximum likelihood with flowjax's ``fit_to_data``
(and ``default_show_progress``, which decides on its progress bar). ``seeds``: several
training seeds of one flow as a single vmapped program (:func:`stack_seeds`,
:func:`train_flows`, :func:`seed_log_probs`, :func:`unstack_seeds`).
``gradient_norms``: per-layer gradient norms recorded during training. ``scores``: the
held-out gap to a floor, over seeds and test points (:func:`score`,
:func:`paired_difference`).
"""

from gauss_flows.training.gradient_norms import layer_gradient_norms, record_gradient_norms
from gauss_flows.training.scores import Score, paired_difference, score
from gauss_flows.training.seeds import (
    n_seeds,
    seed_log_probs,
    stack_seeds,
    train_flows,
    unstack_seeds,
)
from gauss_flows.training.train import default_show_progress, train_flow

__all__ = [
    "Score",
    "default_show_progress",
    "layer_gradient_norms",
    "n_seeds",
    "paired_difference",
    "record_gradient_norms",
    "score",
    "seed_log_probs",
    "stack_seeds",
    "train_flow",
    "train_flows",
    "unstack_seeds",
]
