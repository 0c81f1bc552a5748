"""The NumPyro model of the dark sector: priors over the parameter box, the joint likelihood as a factor,
and the observables a user wants in the posterior as deterministic sites."""
from __future__ import annotations

from typing import Any, Callable

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist

from ..likelihood import TermSpec, needs_solar, terms_from_observables
from ..observables import observables
from ._priors import PARAMETER_NAMES, PriorSpec, params_from_values, resolve_priors

#: Observables recorded as deterministic sites by default.
DEFAULT_DERIVED = (
    "br_mu_e_gamma", "br_tau_e_gamma", "br_tau_mu_gamma", "br_mu_3e", "delta_a_mu", "delta_a_e",
    "lambda_dark_max_muB", "lambda_em_max_muB", "borexino_mu_equiv_muB", "xenonnt_mu_equiv_muB",
    "m_nu_sum_eV", "fermion_to_scalar_ratio",
)


def sample_parameters(priors: tuple[PriorSpec, ...]) -> dict:
    """Sample every free parameter through its uniform latent ``<name>__u`` (deterministic site ``<name>``)."""
    vals = {}
    for pr in priors:
        if pr.is_fixed:
            vals[pr.name] = jnp.asarray(pr.value, dtype=float)
            continue
        lo, hi = pr.latent_bounds()
        if pr.type == "uniform":
            vals[pr.name] = numpyro.sample(pr.name, dist.Uniform(lo, hi))
        else:
            u = numpyro.sample(f"{pr.name}__u", dist.Uniform(lo, hi))
            vals[pr.name] = numpyro.deterministic(pr.name, pr.to_physical(u))
    return vals


def make_model(spec: TermSpec, priors: tuple[PriorSpec, ...], *, Q_F: float = 1.0, br_inv: float = 1.0,
               derived=DEFAULT_DERIVED, record_terms: bool = True) -> Callable[[], None]:
    """Build the NumPyro model for a compiled :class:`TermSpec` and resolved priors (pure, no I/O)."""
    solar = needs_solar(spec) or any(k.endswith("_equiv_muB") for k in derived)

    def model():
        vals = sample_parameters(priors)
        p = params_from_values(vals, Q_F=Q_F)
        obs = observables(p, solar=solar)
        terms = terms_from_observables(obs, spec, br_inv=br_inv)
        total = jnp.zeros(())
        for tid, v in terms.items():
            if record_terms:
                numpyro.deterministic(f"lnL_{tid}", v)
            total = total + v
        numpyro.factor("loglike", total)
        for k in derived:
            if k in obs:
                numpyro.deterministic(k, obs[k])

    return model


def numpyro_model(preset: str | TermSpec = "paper", priors: Any = None, *, registry=None, include=(), exclude=(),
                  alpha_e: str = "Rb", edm: str = "JILA2023", Q_F: float = 1.0, br_inv: float = 1.0,
                  derived=DEFAULT_DERIVED, record_terms: bool = True) -> Callable[[], None]:
    """The dark-sector NumPyro model for a likelihood ``preset`` and ``priors``.

    Default priors (PHYSICS.md section 1 box): log-uniform M_F in [100 GeV, 10 TeV], m_S1, m_S2 in
    [10 GeV, 10 TeV], m_A' in [1 MeV, 8 GeV], epsilon in [1e-7, 1e-2]; uniform theta in [0, pi/2] and
    g_D in [0, sqrt(4 pi)]; signed-log-uniform Yukawas on [-sqrt(4 pi), sqrt(4 pi)] with a linear core of
    width 1e-6 (``djax.inference.DEFAULT_PRIORS``). Perturbativity is the prior boundary. Every free parameter
    is sampled through a uniform latent, so NUTS works in a bounded box mapped to R by numpyro's transforms.

    Deterministic sites: the physical parameters, ``lnL_<term>`` for every likelihood term, and ``derived``
    observables. Usage::

        model = djax.numpyro_model("paper")
        mcmc = numpyro.infer.MCMC(numpyro.infer.NUTS(model), num_warmup=500, num_samples=500)
        mcmc.run(jax.random.PRNGKey(0))
    """
    from .._api import resolve_terms

    spec = resolve_terms(preset, registry=registry, include=include, exclude=exclude, alpha_e=alpha_e, edm=edm)
    return make_model(spec, resolve_priors(priors), Q_F=Q_F, br_inv=br_inv, derived=derived,
                      record_terms=record_terms)


__all__ = ["numpyro_model", "make_model", "sample_parameters", "DEFAULT_DERIVED", "PARAMETER_NAMES"]
