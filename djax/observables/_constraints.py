"""Quantities behind the constraints the model implies on itself (docs/physics.md section 7).

Pure functions of scalars (jit/vmap/grad-safe, float64):

* the electroweak radiative splitting of the vector-like doublet F = (N, E) (Cirelli, Fornengo, Strumia,
  Nucl. Phys. B 753 (2006) 178, hep-ph/0512090, eq. 5; Y = -1/2, Q_E = -1, Q_N = 0):

      Delta M = M_E - M_N = (alpha_2 M_F / 4 pi) s_W^2 f(M_Z / M_F) = (alpha(M_Z) / 4 pi) M_F f(M_Z / M_F),
      f(r) = (r/2) [2 r^3 ln r - 2 r + sqrt(r^2 - 4) (r^2 + 2) ln((r^2 - 2 - r sqrt(r^2 - 4)) / 2)],

  continued to r < 2 as f(r) = (r/2) [2 r^3 ln r - 2 r + sqrt(4 - r^2) (r^2 + 2) arccos((r^2 - 2)/2)], so that
  f -> 2 pi r and Delta M -> alpha(M_Z) M_Z / 2 = 356 MeV for M_F >> M_Z (the W term of CFS eq. 5 carries
  (Q - Q')(Q + Q' - 2Y) = 0 for a doublet);
* the one-loop kinetic mixing from the E loop (a Dirac fermion of charges e Q_em = -e and g_D Q_F; N and the
  dark scalars are electrically neutral):

      epsilon_loop = e g_D Q_F / (12 pi^2) ln(Lambda^2 / M_F^2)     (magnitude; epsilon(Lambda) = 0);

* the Higgs-portal size of the scalar mixing: with the mass term kappa v^2 (phi_1^* phi_2 + h.c.) (v = 246 GeV)
  and (phi_1, phi_2)^T = O(theta) (S_1, S_2)^T, the off-diagonal mass entry is
  s c (m_S2^2 - m_S1^2) = kappa v^2, i.e. sin 2 theta = 2 kappa v^2 / (m_S2^2 - m_S1^2) exactly.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from .. import constants as C

#: Z mass [GeV] (PDG 2024) and the MS-bar alpha(M_Z)^-1 (PDG 2024 electroweak review) of the splitting.
M_Z = 91.1880
ALPHA_MZ = 1.0 / 127.951
#: Default UV scale Lambda [GeV] of the loop-induced kinetic mixing (epsilon(Lambda) = 0 at a unification scale).
KINETIC_MIXING_CUTOFF_GEV = 1.0e16
#: Reference portal coupling of ``theta_vev_max``.
KAPPA_REFERENCE = 1.0


def _f(x):
    return jnp.asarray(x, dtype=jnp.result_type(float))


def splitting_function(r):
    """CFS one-loop gauge function f(r), r = M_V / M (real branch for r < 2, both branches smooth at r = 2).

    f(r) = (r/2) [2 r^3 ln r - 2 r + (r^2 + 2) g(r)] with g = sqrt(4 - r^2) arccos((r^2 - 2)/2) for r < 2 and
    g = sqrt(r^2 - 4) ln((r^2 - 2 - r sqrt(r^2 - 4)) / 2) for r >= 2; f(r -> 0) = 2 pi r - 3 r^2 + O(r^3).
    """
    r = _f(r)
    r2 = r * r
    below = r2 < 4.0
    # g is analytic through r = 2 (both branches -> 0 like (4 - r^2)); near r = 2 use the common Taylor form
    d = 4.0 - r2
    near = jnp.abs(d) < 1e-6
    d_lo = jnp.where(below & ~near, d, 1.0)
    d_hi = jnp.where(~below & ~near, -d, 1.0)
    # arccos((r^2 - 2)/2) = pi - 2 arcsin(r/2): no rounding loss for small r (arccos near -1)
    g_lo = jnp.sqrt(d_lo) * (math.pi - 2.0 * jnp.arcsin(jnp.clip(0.5 * jnp.where(below & ~near, r, 1.0), 0.0, 1.0)))
    sq = jnp.sqrt(d_hi)
    rr = jnp.where(~below & ~near, r, 3.0)
    g_hi = sq * jnp.log((rr * rr - 2.0 - rr * sq) / 2.0)
    # Taylor in d = 4 - r^2 (arccos(1 - u) = sqrt(2u) (1 + u/12 + ...), u = d/2): g = d + d^2/24 + O(d^3)
    g_near = d + d * d / 24.0
    g = jnp.where(near, g_near, jnp.where(below, g_lo, g_hi))
    r_safe = jnp.where(r > 0, r, 1.0)
    logr = jnp.where(r > 0, jnp.log(r_safe), 0.0)
    return 0.5 * r * (2.0 * r2 * r * logr - 2.0 * r + (r2 + 2.0) * g)


def vll_mass_splitting(M_F):
    """Delta M = M_E - M_N [GeV] = (alpha(M_Z) / 4 pi) M_F f(M_Z / M_F) (-> alpha(M_Z) M_Z / 2 = 0.3563 GeV)."""
    M = _f(M_F)
    M_safe = jnp.where(M > 0, M, 1.0)
    return ALPHA_MZ / (4.0 * math.pi) * M_safe * splitting_function(M_Z / M_safe)


def epsilon_loop(g_D, Q_F, M_F, cutoff=KINETIC_MIXING_CUTOFF_GEV):
    """|epsilon_loop| = e |g_D Q_F| / (12 pi^2) |ln(Lambda^2 / M_F^2)| (the E loop; N and the scalars are neutral)."""
    M = jnp.where(_f(M_F) > 0, _f(M_F), 1.0)
    log = 2.0 * (jnp.log(_f(cutoff)) - jnp.log(M))
    return C.E_CHARGE * jnp.abs(_f(g_D) * _f(Q_F)) / (12.0 * math.pi**2) * jnp.abs(log)


def kinetic_mixing_tuning(g_D, Q_F, M_F, epsilon, cutoff=KINETIC_MIXING_CUTOFF_GEV):
    """|epsilon_loop| / epsilon: how much a tree-level epsilon must cancel the loop (finite for epsilon > 0)."""
    eps = _f(epsilon)
    pos = eps > 0
    return jnp.where(pos, epsilon_loop(g_D, Q_F, M_F, cutoff) / jnp.where(pos, eps, 1.0), jnp.inf)


def kappa_portal(theta, m_S1, m_S2, v=C.V_HIGGS):
    """Portal coupling the mixing needs: kappa = sin(2 theta) (m_S2^2 - m_S1^2) / (2 v^2) (signed)."""
    return jnp.sin(2.0 * _f(theta)) * (_f(m_S2) ** 2 - _f(m_S1) ** 2) / (2.0 * v**2)


def theta_vev_max(m_S1, m_S2, kappa=KAPPA_REFERENCE, v=C.V_HIGGS):
    """Largest |theta| a portal coupling |kappa| can induce: (1/2) arcsin(min(1, 2 |kappa| v^2 / |m_S2^2 - m_S1^2|))
    (pi/4 once the ratio reaches 1, e.g. at m_S1 = m_S2)."""
    dm2 = jnp.abs(_f(m_S2) ** 2 - _f(m_S1) ** 2)
    num = 2.0 * abs(kappa) * v**2
    ok = dm2 > num
    ratio = jnp.where(ok, num / jnp.where(ok, dm2, 1.0), 0.0)
    return jnp.where(ok, 0.5 * jnp.arcsin(ratio), 0.25 * math.pi)


__all__ = [
    "M_Z",
    "ALPHA_MZ",
    "KINETIC_MIXING_CUTOFF_GEV",
    "KAPPA_REFERENCE",
    "splitting_function",
    "vll_mass_splitting",
    "epsilon_loop",
    "kinetic_mixing_tuning",
    "kappa_portal",
    "theta_vev_max",
]
