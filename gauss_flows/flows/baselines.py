r"""The simple models a flow must beat, each with a closed-form ``log_prob``.

- :func:`full_gaussian`: $\mathcal N(\hat\mu, \hat\Sigma)$ with the sample mean and
  the maximum-likelihood covariance. It models all linear dependence and no
  non-Gaussian marginal.
- :func:`gaussian_copula`: a fitted diagonal layer $g$ (each coordinate to
  $\mathcal N(0, 1)$ through its mixture CDF, :class:`~gauss_flows.MarginalGaussianization`)
  followed by a full Gaussian on $u = g(x)$:
  $\log q(x) = \log \mathcal N\big(g(x); \hat\mu_u, \hat\Sigma_u\big)
  + \sum_i \log g_i'(x_i)$. It has the data's marginals (up to the mixtures' fit) and
  the dependence of a Gaussian copula. On data that *is* a warped Gaussian, it is
  close to the truth.

Both are flowjax distributions, so they are scored exactly like a flow.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flowjax.bijections import Invert
from flowjax.distributions import MultivariateNormal, Transformed
from jaxtyping import ArrayLike

from gauss_flows._validation import check_samples
from gauss_flows.bijections.marginal import MarginalGaussianization


def full_gaussian(data: ArrayLike) -> MultivariateNormal:
    """The maximum-likelihood Gaussian of ``data`` (shape ``(n, d)``)."""
    data = check_samples(data, min_samples=2)
    mean = data.mean(0)
    centred = data - mean
    covariance = centred.T @ centred / data.shape[0]
    return MultivariateNormal(mean, covariance)


def gaussian_copula(data: ArrayLike, n_components: int = 8) -> Transformed:
    """A fitted diagonal layer ($K$ = ``n_components``) and a full Gaussian on its output.

    Args:
        data: Training samples, shape ``(n, d)``.
        n_components: $K$ of every marginal mixture (fitted by EM).

    Returns:
        ``Transformed(full_gaussian(g(data)), Invert(g))``: ``log_prob`` runs the
        diagonal layer's ``transform`` (data to latent), like every flow here.
    """
    data = check_samples(data, min_samples=2)
    marginal = MarginalGaussianization.fit(data, n_components)
    gaussianized = jax.vmap(marginal.transform)(data)
    return Transformed(full_gaussian(jnp.asarray(gaussianized)), Invert(marginal))
