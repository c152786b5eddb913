"""Numerical building blocks shared by the transformers.

``root_finding``: the bracketed, safeguarded Newton solver that inverts a strictly
increasing scalar map (with its work queue under ``vmap`` and implicit-function
derivatives). ``constraints``: positivity constraints for transformer parameters.
"""

from gauss_flows.numerics import constraints, root_finding
from gauss_flows.numerics.root_finding import DEFAULT_N_ITER, invert_monotone

__all__ = ["DEFAULT_N_ITER", "constraints", "invert_monotone", "root_finding"]
