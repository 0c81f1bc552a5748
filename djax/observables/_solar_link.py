"""Solar-neutrino and stellar observables of one point from the dark moment lambda^D (pure JAX).

The m_A'-only tables are built once (numpy, cached) by ``_solar_tables.solar_tables`` and closed over as
constants, so a point costs O(1) interpolations.
"""

from __future__ import annotations

import jax.numpy as jnp

from . import _reactor, _solar
from ._reactor_tables import reactor_tables
from ._solar_tables import solar_tables


def solar_observables(lambda_flavour_GeV, epsilon, m_Aprime) -> dict:
    """``borexino_mu_equiv_muB``, ``xenonnt_mu_equiv_muB`` (massless-photon moments giving the same excess as
    the dark-photon-mediated signal; compare directly with 2.8e-11 and 6.3e-12 mu_B) and the red-giant
    equivalent ``red_giant_mu_equiv_muB`` (plasmon-decay moment times the sqrt of its m_A' applicability mask);
    plus the same recast for LZ, PandaX-4T and the reactor experiments (:func:`direct_experiment_observables`)."""
    # djax's lambda^D_ab ∝ y*_a y'_b is the coefficient of the Dirac-like (nubar sigma P_R nu) amplitude; the
    # Majorana operator nu_a^T C sigma nu_b (the structure of the mass term ∝ A_a B*_b) has coefficient
    # conj(lambda^D), which is what the mass-basis rotation lambda^mass = U^T lambda U of _solar expects.
    lambda_flavour_GeV = jnp.conj(lambda_flavour_GeV)
    tables = solar_tables()
    # lambda^D is antisymmetric: the PMNS rotation acts on its three independent entries as a constant 3x3 map
    # (pre-contracted in _solar._pair_moments_sq_muB), shared by every experiment
    q = _solar._pair_moments_sq_muB(lambda_flavour_GeV, epsilon, tables["U"])
    bx = _solar._mu_equiv_from_pairs(q, m_Aprime, tables["borexino"])
    xe = _solar._mu_equiv_from_pairs(q, m_Aprime, tables["xenonnt"])
    mu_rg, mask = _solar.red_giant_moment_muB(lambda_flavour_GeV, epsilon, m_Aprime)
    w0 = jnp.asarray(tables["borexino"]["w0"])
    return {
        "borexino_mu_equiv_muB": bx,
        "xenonnt_mu_equiv_muB": xe,
        "red_giant_mu_equiv_muB": mu_rg * jnp.sqrt(mask),
        "borexino_mu_massless_muB": _solar._safe_sqrt(jnp.sum(w0 * _solar._mass_moments_sq_from_pairs(q))),
        **direct_experiment_observables(q, lambda_flavour_GeV, epsilon, m_Aprime),
    }


def direct_experiment_observables(q, lambda_flavour_GeV, epsilon, m_Aprime) -> dict:
    """``lz_mu_equiv_muB``, ``pandax4t_mu_equiv_muB`` (solar, mass-state weighted, from the pair moments ``q`` of
    ``_solar._pair_moments_sq_muB``) and ``gemma_mu_equiv_muB``, ``texono_mu_equiv_muB`` (reactor nu_e-bar:
    mu_e^2 = sum_b |eps lambda_eb/mu_B|^2 of the flavour-basis ``lambda_flavour_GeV``, GeV^-1)."""
    tables = solar_tables()
    rtab = reactor_tables()
    return {
        "lz_mu_equiv_muB": _solar._mu_equiv_from_pairs(q, m_Aprime, tables["lz"]),
        "pandax4t_mu_equiv_muB": _solar._mu_equiv_from_pairs(q, m_Aprime, tables["pandax4t"]),
        "gemma_mu_equiv_muB": _reactor.gemma_mu_equiv_muB(lambda_flavour_GeV, epsilon, m_Aprime, rtab),
        "texono_mu_equiv_muB": _reactor.texono_mu_equiv_muB(lambda_flavour_GeV, epsilon, m_Aprime, rtab),
    }
