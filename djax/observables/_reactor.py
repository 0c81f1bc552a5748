"""Reactor nu_e-bar electron scattering through the dark-photon-mediated transition moment (pure JAX).

A reactor beam at a short baseline is the flavour state e (no oscillation), so the massless-photon moment the
experiments constrain is (final flavour summed; unitarity makes it basis independent)

    mu_e^2 = sum_b |eps lambda_eb / mu_B|^2 = (eps/mu_B)^2 (lambda lambda^dagger)_ee,

and the dark-photon propagator S(T) = 2 m_e T/(2 m_e T + m_A'^2) over the recoil window gives the equivalent
massless-photon moment mu_equiv = sqrt(w(m_A')) mu_e with w = W(m_A')/W(0) from ``_reactor_tables``
(w -> 1 for m_A' -> 0, w -> <(2 m_e T)^2>/m_A'^4 for m_A'^2 >> 2 m_e T_2). For the antisymmetric lambda^D,
lambda_ee = 0 and mu_e^2 = |eps lambda_emu|^2 + |eps lambda_etau|^2 (in mu_B^2).
"""

from __future__ import annotations

import jax.numpy as jnp

from .. import constants as C
from ..precision import require_x64
from ._reactor_tables import reactor_tables
from ._solar import _safe_sqrt, solar_weights


def flavour_moment_sq_muB(lambda_flavour_GeV, epsilon, flavour=0):
    """mu_a^2 = sum_b |eps lambda_ab / mu_B|^2 of flavour a (0 = e, 1 = mu, 2 = tau; static), in mu_B^2."""
    lam = jnp.asarray(lambda_flavour_GeV)[flavour] * (epsilon / C.MU_BOHR)
    return jnp.sum(jnp.real(lam) ** 2 + jnp.imag(lam) ** 2)


def reactor_mu_equiv_muB(lambda_flavour_GeV, epsilon, m_Aprime, table):
    """mu_equiv = sqrt(w(m_A') mu_e^2) in mu_B for one reactor experiment's ``table``."""
    require_x64("djax.observables.reactor_mu_equiv_muB")
    w = solar_weights(m_Aprime, table)[0]
    return _safe_sqrt(w * flavour_moment_sq_muB(lambda_flavour_GeV, epsilon, 0))


def gemma_mu_equiv_muB(lambda_flavour_GeV, epsilon, m_Aprime, tables=None):
    """mu_equiv for GEMMA (Ge, 2.8-55 keV; limit 2.9e-11 mu_B at 90 % CL, Beda et al. 2012/2013).

    Args: lambda_flavour_GeV (3, 3) (GeV^-1); epsilon; m_Aprime (GeV); tables = ``reactor_tables()``.
    """
    tables = reactor_tables() if tables is None else tables
    return reactor_mu_equiv_muB(lambda_flavour_GeV, epsilon, m_Aprime, tables["gemma"])


def texono_mu_equiv_muB(lambda_flavour_GeV, epsilon, m_Aprime, tables=None):
    """mu_equiv for TEXONO (Ge, 12-60 keV; limit 7.4e-11 mu_B at 90 % CL, PRD 75 (2007) 012001).

    Args as ``gemma_mu_equiv_muB``.
    """
    tables = reactor_tables() if tables is None else tables
    return reactor_mu_equiv_muB(lambda_flavour_GeV, epsilon, m_Aprime, tables["texono"])


__all__ = [
    "flavour_moment_sq_muB",
    "reactor_mu_equiv_muB",
    "gemma_mu_equiv_muB",
    "texono_mu_equiv_muB",
    "reactor_tables",
]
