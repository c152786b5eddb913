"""What a coupling layer reads and how: masks and conditioners.

``masks``: the mask constructors (``half``, ``alternating``, ``checkerboard``,
``random``), the named schedules of ``coupling_flow(masks=...)`` and ``coverage``.
``conditioners``: the networks $c_\\phi$ (``ResidualMLP``) and the factories
``mlp`` / ``residual_mlp`` for ``coupling_flow(conditioner_factory=...)``. Both modules
are also reachable as ``gauss_flows.masks`` and ``gauss_flows.conditioners``.
"""

from gauss_flows.conditioning import conditioners, masks
from gauss_flows.conditioning.conditioners import ResidualMLP

__all__ = ["ResidualMLP", "conditioners", "masks"]
