"""The NumPyro model of the dark sector: priors over the parameter box, the joint likelihood as a factor,
and the observables a user wants in the posterior as deterministic sites."""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist

from ..likelihood import TermSpec, needs_solar, terms_from_observables
from ..model import PARAMETER_NAMES, YUKAWA_E_NAMES, Prior, SchemaError, params_from_values
from ..observables import observables

#: Observables recorded as deterministic sites by default.
DEFAULT_DERIVED = (
    "br_mu_e_gamma",
    "br_tau_e_gamma",
    "br_tau_mu_gamma",
    "br_mu_3e",
    "delta_a_mu",
    "delta_a_e",
    "lambda_dark_max_muB",
    "lambda_em_max_muB",
    "borexino_mu_equiv_muB",
    "xenonnt_mu_equiv_muB",
    "m_nu_sum_eV",
    "fermion_to_scalar_ratio",
)


def sample_parameters(priors: tuple[Prior, ...]) -> dict:
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


def make_model(
    spec: TermSpec,
    priors: tuple[Prior, ...],
    *,
    Q_F: float = 1.0,
    br_inv: float = 1.0,
    derived=DEFAULT_DERIVED,
    record_terms: bool = True,
) -> Callable[[], None]:
    """Build the NumPyro model for a compiled :class:`TermSpec` and resolved priors (pure, no I/O).

    The priors carry the Yukawa structure: with ``ypE_e, ypE_mu, ypE_tau`` among them (``resolve_priors(...,
    yukawa_structure="separate")``) the charged member E gets its own y'_E (``Params.yp_E``), else y'_E = y'.
    """
    names = {pr.name for pr in priors}
    given_E = [n for n in YUKAWA_E_NAMES if n in names]
    if given_E and len(given_E) != len(YUKAWA_E_NAMES):
        raise SchemaError("priors", f"y'_E needs priors for all of {', '.join(YUKAWA_E_NAMES)}, got {given_E}")
    solar = needs_solar(spec) or any(k.endswith("_equiv_muB") for k in derived)

    def model():
        vals = sample_parameters(priors)
        p = params_from_values(vals, Q_F=Q_F)
        obs = observables(p, solar=solar, **dict(spec.model_options))
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


__all__ = ["make_model", "sample_parameters", "DEFAULT_DERIVED", "PARAMETER_NAMES"]
