"""Solar-neutrino and stellar observables of one point from the dark moment lambda^D (pure JAX).

The m_A'-only tables are built once (numpy, cached) by ``_solar_tables.solar_tables`` and closed over as
constants, so a point costs O(1) interpolations.
"""

from __future__ import annotations

import jax.numpy as jnp

from . import _solar
from ._solar_tables import solar_tables


def solar_observables(lambda_flavour_GeV, epsilon, m_Aprime) -> dict:
    """``borexino_mu_equiv_muB``, ``xenonnt_mu_equiv_muB`` (massless-photon moments giving the same excess as
    the dark-photon-mediated signal; compare directly with 2.8e-11 and 6.3e-12 mu_B) and the red-giant
    equivalent ``red_giant_mu_equiv_muB`` (plasmon-decay moment times the sqrt of its m_A' applicability mask)."""
    # djax's lambda^D_ab ∝ y*_a y'_b is the coefficient of the Dirac-like (nubar sigma P_R nu) amplitude; the
    # Majorana operator nu_a^T C sigma nu_b (the structure of the mass term ∝ A_a B*_b) has coefficient
    # conj(lambda^D), which is what the mass-basis rotation lambda^mass = U^T lambda U of _solar expects.
    lambda_flavour_GeV = jnp.conj(lambda_flavour_GeV)
    tables = solar_tables()
    bx = _solar.borexino_mu_equiv_muB(lambda_flavour_GeV, epsilon, m_Aprime, tables)
    xe = _solar.xenonnt_mu_equiv_muB(lambda_flavour_GeV, epsilon, m_Aprime, tables)
    mu_rg, mask = _solar.red_giant_moment_muB(lambda_flavour_GeV, epsilon, m_Aprime)
    return {
        "borexino_mu_equiv_muB": bx,
        "xenonnt_mu_equiv_muB": xe,
        "red_giant_mu_equiv_muB": mu_rg * jnp.sqrt(mask),
        "borexino_mu_massless_muB": _solar.effective_moment_massless_muB(
            lambda_flavour_GeV, epsilon, tables, "borexino"
        ),
    }
