r"""gauss_flows: coupling layers for normalizing flows, on flowjax's bijection contract.

**Direction.** Every bijection of this package maps *data to latent* in ``transform``:
$z = f(x)$, with ``transform_and_log_det`` returning $\log\lvert\det J_f(x)\rvert$.
flowjax's ``Transformed(base, bijection)`` reads its bijection the other way (latent
to data), so every flow here is ``Transformed(base, Invert(stack))``: ``log_prob(x)``
runs each layer's ``transform`` and ``sample`` runs each layer's ``inverse``. The
layers of ``stack`` are listed in data-to-latent order (``coupling_layers``).

**Inputs.** The numerics are built for float32 and float64: bijections and every
function that takes samples reject any other dtype (float16, bfloat16, integers) with
a ``ValueError`` naming the argument, rather than casting it. One set of checks
(``gauss_flows/_validation.py``) holds every argument to one rule.

The subpackages, by role:

- ``bijections``: the layers (``Coupling`` and its transformers, ``ActNorm``,
  ``MarginalGaussianization``, rotations, the learned linear map ``LULinear``) and
  ``stacking`` (walking Chain and Scan; also ``gf.stacking``);
- ``numerics``: the safeguarded root finder behind every inverse, constraints;
- ``conditioning``: ``masks`` and ``conditioners`` (also ``gf.masks``,
  ``gf.conditioners``);
- ``flows``: ``coupling_flow``, ``coupling_layers``, ``rbig``, the baselines;
- ``fitting``: gradient-free fits (marginal mixtures by EM, ``warm_start``,
  ``initialize_actnorm``);
- ``training``: ``train_flow``, several seeds at once (``train_flows``), per-layer
  gradient norms, scores;
- ``datasets``: seeded data sets with their true densities and entropies.
"""

from gauss_flows import xla_guard

xla_guard.protect()  # before any other module can start jax's backend

# ruff: noqa: E402

from gauss_flows import (
    bijections,
    conditioning,
    datasets,
    fitting,
    flows,
    numerics,
    training,
)
from gauss_flows._parameters import count_parameters
from gauss_flows.bijections import (
    ActNorm,
    AffineCoupling,
    Coupling,
    DeepSigmoid,
    DeepSigmoidCoupling,
    LULinear,
    LogScaleAffine,
    MarginalGaussianization,
    MixtureGaussianCDF,
    MixtureGaussianCDFCoupling,
    Rotation,
    RQSpline,
    RQSplineCoupling,
    householder_rotation,
)
from gauss_flows.bijections import stacking
from gauss_flows.conditioning import conditioners, masks
from gauss_flows.conditioning.conditioners import ResidualMLP
from gauss_flows.fitting import diagonal_flow, initialize_actnorm, warm_start
from gauss_flows.flows import (
    coupling_flow,
    coupling_layers,
    full_gaussian,
    gaussian_copula,
    rbig,
)
from gauss_flows.training import (
    Score,
    layer_gradient_norms,
    n_seeds,
    paired_difference,
    record_gradient_norms,
    score,
    seed_log_probs,
    stack_seeds,
    train_flow,
    train_flows,
    unstack_seeds,
)

__all__ = [
    "ActNorm",
    "AffineCoupling",
    "Coupling",
    "DeepSigmoid",
    "DeepSigmoidCoupling",
    "LULinear",
    "LogScaleAffine",
    "MarginalGaussianization",
    "MixtureGaussianCDF",
    "MixtureGaussianCDFCoupling",
    "RQSpline",
    "RQSplineCoupling",
    "ResidualMLP",
    "Rotation",
    "Score",
    "bijections",
    "conditioners",
    "conditioning",
    "count_parameters",
    "coupling_flow",
    "coupling_layers",
    "datasets",
    "diagonal_flow",
    "fitting",
    "flows",
    "full_gaussian",
    "gaussian_copula",
    "householder_rotation",
    "initialize_actnorm",
    "layer_gradient_norms",
    "masks",
    "n_seeds",
    "numerics",
    "paired_difference",
    "rbig",
    "record_gradient_norms",
    "score",
    "seed_log_probs",
    "stacking",
    "stack_seeds",
    "train_flow",
    "train_flows",
    "training",
    "unstack_seeds",
    "warm_start",
    "xla_guard",
]
__version__ = "0.1.0"
