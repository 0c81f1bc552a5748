"""Solar-neutrino electron scattering through a dark-photon-mediated transition moment (docs/physics.md section 6), pure JAX.

The kinetically mixed dark photon turns the Majorana dark transition moment lambda^D (GeV^-1, antisymmetric in
flavour) into an electromagnetic-like moment with a propagator factor (q^2 = -2 m_e T):

    lambda^eff_ab(T) = eps lambda^D_ab S(T; m_A'),   S = 2 m_e T / (2 m_e T + m_A'^2),
    dsigma/dT(nu_k e -> nu_j e) = (pi alpha^2/m_e^2) |lambda^eff,mass_jk / mu_B|^2 (1/T - 1/E_nu),

with no interference with the weak amplitude (helicity flip). Majorana convention: the moment enters as

    L ⊃ -(1/2) lambda_ab nu_a^T C^{-1} sigma^{mu nu} nu_b F'_{mu nu} + h.c.,   nu_a = sum_j U_aj nu_j,

so lambda^mass = U^T lambda U (antisymmetry preserved; sum_jk |lambda^mass_jk|^2 = sum_ab |lambda_ab|^2 since U is
unitary; Majorana phases only rephase lambda^mass_jk). If a caller's lambda is the coefficient of the
conjugate operator (nu-bar ... nu-bar^T), pass ``jnp.conj(lambda)``: only |lambda^mass_jk| enters here.

Solar neutrinos arrive as an incoherent mixture of mass states, mu_k^2 = sum_j |eps lambda^mass_jk / mu_B|^2, and
each experiment's excess count is N ∝ sum_k W_k(m_A') mu_k^2 (``_solar_tables``). The "equivalent
massless-photon moment" mu_equiv^2(m) = sum_k w_k(m) mu_k^2, w_k = W_k(m)/W_tot(0), is compared with the quoted
limit: a universal moment at m_A' = 0 gives mu_equiv = mu exactly. The quoted Borexino mu_eff (arXiv:1707.09355)
is defined as mu_eff^2 = P_ee mu_e^2 + (1 - P_ee)(c23^2 mu_mu^2 + s23^2 mu_tau^2) in the *flavour* basis with a
single oscillated composition; it coincides with mu_equiv for a universal moment, but the flavour-basis sum
drops the coherence between flavour components, so for non-universal moments the two differ at O(1): mu_equiv
(mass basis, rate-weighted over the window) is the physically correct count-equivalent quantity.

Weights are tabulated on a uniform ln m_A' grid (1e-7 .. 1e2 GeV) and interpolated with a cubic Hermite in
(ln m, ln w) using the exact tabulated slopes d ln w/d ln m (C^1, error << 1e-6); below the grid
w = w(0) + (w(m_lo) - w(0)) (m/m_lo)^2 (the exact small-m form, W(m) - W(0) ∝ m^2), above it w ∝ m^-4.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from .. import constants as C
from ..precision import require_x64
from ._solar_tables import solar_tables

_PREF = jnp.pi * C.ALPHA_EM**2 / C.M_E**2  # pi alpha^2 / m_e^2 (GeV^-2); Python float, no JAX state
#: Red-giant core plasma frequency scale (GeV) used for the applicability mask (omega_p ≈ 8.6-10 keV).
OMEGA_P_RG = 1.0e-5


def _safe_sqrt(x):
    pos = x > 0.0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, x, 1.0)), 0.0)


def propagator_factor(T, m_Aprime):
    """S(T; m_A') = 2 m_e T / (2 m_e T + m_A'^2): dark-photon propagator relative to a massless photon.

    Args: T electron recoil energy (GeV, > 0); m_Aprime dark-photon mass (GeV).
    """
    aT = 2.0 * C.M_E * T
    return aT / (aT + m_Aprime**2)


def dsigma_dT_moment(T, E_nu, mu_sq_muB, m_Aprime=0.0):
    """dsigma/dT = (pi alpha^2/m_e^2) mu^2 S(T; m_A')^2 (1/T - 1/E_nu) for T <= T_max (GeV^-3), 0 above.

    Args: T recoil (GeV, > 0); E_nu neutrino energy (GeV); mu_sq_muB = |lambda^eff_ba/mu_B|^2 (massless-photon
    normalisation); m_Aprime (GeV). T_max = 2 E^2/(m_e + 2 E). Vogel & Engel, PRD 39 (1989) 3378.
    """
    require_x64("djax.observables.dsigma_dT_moment")
    tmax = 2.0 * E_nu**2 / (C.M_E + 2.0 * E_nu)
    kin = jnp.where(T <= tmax, 1.0 / T - 1.0 / E_nu, 0.0)
    return _PREF * mu_sq_muB * propagator_factor(T, m_Aprime) ** 2 * kin


def mass_basis_moments(lambda_flavour, U):
    """lambda^mass = U^T lambda^flavour U (convention nu_a = U_aj nu_j, see module docstring)."""
    U = jnp.asarray(U)
    return U.T @ lambda_flavour @ U


def mass_state_moments_sq_muB(lambda_flavour_GeV, epsilon, U):
    """mu_k^2 = sum_j |eps lambda^mass_jk / mu_B|^2 for k = 1, 2, 3 (massless-photon moments of mass state k).

    Args: lambda_flavour_GeV (3, 3) antisymmetric dark moment (GeV^-1); epsilon kinetic mixing; U PMNS (3, 3).
    """
    lm = mass_basis_moments(lambda_flavour_GeV, U) * (epsilon / C.MU_BOHR)
    return jnp.sum(jnp.real(lm) ** 2 + jnp.imag(lm) ** 2, axis=0)


#: Index pairs (a < b) of the independent entries of an antisymmetric 3x3 matrix.
_PAIRS = ((0, 1), (0, 2), (1, 2))


def _pair_rotation(U):
    """R[p, q] = U_aj U_bk - U_bj U_ak for p = (j, k), q = (a, b) in ``_PAIRS`` (numpy, complex).

    For antisymmetric lambda, lambda^mass_jk = (U^T lambda U)_jk = sum_{a<b} lambda_ab (U_aj U_bk - U_bj U_ak):
    the rotation to the mass basis is a constant 3x3 map of the three independent entries.
    """
    U = np.asarray(U, dtype=np.complex128)
    return np.array([[U[a, j] * U[b, k] - U[b, j] * U[a, k] for a, b in _PAIRS] for j, k in _PAIRS])


def _pair_moments_sq_muB(lambda_flavour_GeV, epsilon, U):
    """q_p = |eps lambda^mass_jk / mu_B|^2 for the pairs p = (j, k) = (1,2), (1,3), (2,3), antisymmetric lambda.

    The same numbers as :func:`mass_basis_moments` (upper triangle, squared), with the constant rotation of
    :func:`_pair_rotation` pre-contracted (three complex multiply-adds per pair, no matrix products); only the
    upper triangle of ``lambda_flavour_GeV`` is read. ``U`` may be a traced array (the rotation is then built
    in JAX).
    """
    lam = jnp.asarray(lambda_flavour_GeV)
    scale = epsilon / C.MU_BOHR
    v = [lam[a, b] * scale for a, b in _PAIRS]
    if isinstance(U, jax.core.Tracer):
        Uj = jnp.asarray(U)
        rot = [[Uj[a, j] * Uj[b, k] - Uj[b, j] * Uj[a, k] for a, b in _PAIRS] for j, k in _PAIRS]
    else:
        rot = [[complex(x) for x in row] for row in _pair_rotation(U)]
    out = []
    for row in rot:
        z = row[0] * v[0] + row[1] * v[1] + row[2] * v[2]
        out.append(jnp.real(z) ** 2 + jnp.imag(z) ** 2)
    return jnp.stack(out)


def _mass_moments_sq_from_pairs(q):
    """mu_k^2 = sum_{j != k} q_{jk} (q from :func:`_pair_moments_sq_muB`; lambda^mass is antisymmetric)."""
    return jnp.stack([q[0] + q[1], q[0] + q[2], q[1] + q[2]])


def _mu_equiv_from_pairs(q, m_Aprime, table):
    """mu_equiv = sqrt(sum_k w_k(m_A') mu_k^2) from the pair moments ``q`` (see :func:`mu_equiv_muB`)."""
    w = solar_weights(m_Aprime, table)
    mu = _mass_moments_sq_from_pairs(q)
    return _safe_sqrt(w[0] * mu[0] + w[1] * mu[1] + w[2] * mu[2])  # elementwise: no reduction op


def solar_weights(m_Aprime, table):
    """w_k(m_A') = W_k(m_A')/W_tot(0) of one experiment (shape (3,)), O(1) cubic-Hermite table lookup.

    Args: m_Aprime (GeV, >= 0; 0 allowed); table one experiment's entry of ``solar_tables()``.
    """
    if not any(isinstance(table[k], jax.core.Tracer) for k in ("ln_m", "ln_w", "dln_w", "w0")):
        return _solar_weights_const(m_Aprime, _hermite_table(table))
    ln_m = jnp.asarray(table["ln_m"])
    ln_w = jnp.asarray(table["ln_w"])
    dln_w = jnp.asarray(table["dln_w"])
    w0 = jnp.asarray(table["w0"])
    n = ln_m.shape[0]
    x0, x1 = ln_m[0], ln_m[-1]
    h = (x1 - x0) / (n - 1)
    m_lo, m_hi = jnp.exp(x0), jnp.exp(x1)
    m = jnp.abs(jnp.asarray(m_Aprime, dtype=jnp.float64))

    below = m <= m_lo
    above = m >= m_hi
    inside = ~(below | above)
    # inside: cubic Hermite in (ln m, ln w) with exact slopes
    x = jnp.log(jnp.where(inside, m, jnp.exp(x0 + 0.5 * h)))
    t = (x - x0) / h
    i = jnp.clip(jnp.floor(t), 0, n - 2).astype(jnp.int32)
    s = t - i
    y0, y1 = ln_w[i], ln_w[i + 1]
    d0, d1 = dln_w[i] * h, dln_w[i + 1] * h
    s2, s3 = s * s, s * s * s
    y = (2 * s3 - 3 * s2 + 1) * y0 + (s3 - 2 * s2 + s) * d0 + (-2 * s3 + 3 * s2) * y1 + (s3 - s2) * d1
    w_in = jnp.exp(y)
    # below the grid: exact small-m form w(0) + c m^2 (no log of m, so m = 0 is fine)
    r = jnp.where(below, m, 0.0) / m_lo
    w_below = w0 + (jnp.exp(ln_w[0]) - w0) * r**2
    # above the grid: w ∝ m^-4
    q = m_hi / jnp.where(above, m, m_hi)
    w_above = jnp.exp(ln_w[-1]) * q**4
    return jnp.where(below, w_below, jnp.where(above, w_above, w_in))


_HERMITE_CACHE: dict = {}


def _hermite_table(table):
    """Constants of :func:`solar_weights` for a concrete (numpy) table, built once per table: the grid scalars as
    Python floats and one row per interval i, ``[ln w_i, h dln w_i, ln w_{i+1}, h dln w_{i+1}]`` (shape (n-1, 4, 3)),
    so that a point needs one table gather instead of four."""
    key = id(table["ln_w"])
    hit = _HERMITE_CACHE.get(key)
    if hit is not None and hit[0] is table["ln_w"]:
        return hit[1]
    ln_m = np.asarray(table["ln_m"], dtype=np.float64)
    ln_w = np.asarray(table["ln_w"], dtype=np.float64)
    dln_w = np.asarray(table["dln_w"], dtype=np.float64)
    n = ln_m.shape[0]
    x0, x1 = float(ln_m[0]), float(ln_m[-1])
    h = (x1 - x0) / (n - 1)
    rows = np.stack([ln_w[:-1], dln_w[:-1] * h, ln_w[1:], dln_w[1:] * h], axis=1)
    const = {
        "n": n,
        "x0": x0,
        "h": h,
        "m_lo": float(np.exp(x0)),
        "m_hi": float(np.exp(x1)),
        "x_mid": x0 + 0.5 * h,
        "rows": rows,
        "w0": np.asarray(table["w0"], dtype=np.float64),
        "w_lo": np.exp(ln_w[0]),
        "w_hi": np.exp(ln_w[-1]),
    }
    _HERMITE_CACHE[key] = (table["ln_w"], const)
    return const


def _solar_weights_const(m_Aprime, c):
    """:func:`solar_weights` with the table constants of :func:`_hermite_table` (the same equations)."""
    n, x0, h, m_lo, m_hi = c["n"], c["x0"], c["h"], c["m_lo"], c["m_hi"]
    m = jnp.abs(jnp.asarray(m_Aprime, dtype=jnp.float64))
    below = m <= m_lo
    above = m >= m_hi
    inside = ~(below | above)
    x = jnp.log(jnp.where(inside, m, math.exp(c["x_mid"])))
    t = (x - x0) / h
    i = jnp.clip(jnp.floor(t), 0, n - 2).astype(jnp.int32)
    s = t - i
    row = jnp.asarray(c["rows"])[i]  # (4, 3): y0, d0, y1, d1
    s2, s3 = s * s, s * s * s
    y = (2 * s3 - 3 * s2 + 1) * row[0] + (s3 - 2 * s2 + s) * row[1] + (-2 * s3 + 3 * s2) * row[2] + (s3 - s2) * row[3]
    w_in = jnp.exp(y)
    r = jnp.where(below, m, 0.0) / m_lo
    w_below = c["w0"] + (c["w_lo"] - c["w0"]) * r**2
    q = m_hi / jnp.where(above, m, m_hi)
    w_above = c["w_hi"] * q**4
    return jnp.where(below, w_below, jnp.where(above, w_above, w_in))


def mu_equiv_muB(lambda_flavour_GeV, epsilon, m_Aprime, table, U):
    """Equivalent massless-photon moment mu_equiv = sqrt(sum_k w_k(m_A') mu_k^2) in mu_B for one experiment.

    Args: lambda_flavour_GeV (3, 3) dark moment lambda^D (GeV^-1); epsilon; m_Aprime (GeV); table one
    experiment's table; U PMNS matrix. Compare with the experiment's quoted mu_eff limit (``table['mu90_muB']``).
    """
    require_x64("djax.observables.mu_equiv_muB")
    mu_sq = mass_state_moments_sq_muB(lambda_flavour_GeV, epsilon, U)
    return _safe_sqrt(jnp.sum(solar_weights(m_Aprime, table) * mu_sq))


def borexino_mu_equiv_muB(lambda_flavour_GeV, epsilon, m_Aprime, tables):
    """mu_equiv for Borexino Phase-II (0.19-2.9 MeV; limit 2.8e-11 mu_B at 90 % CL, arXiv:1707.09355).

    Args as ``mu_equiv_muB``; tables = ``solar_tables()``.
    """
    return mu_equiv_muB(lambda_flavour_GeV, epsilon, m_Aprime, tables["borexino"], tables["U"])


def xenonnt_mu_equiv_muB(lambda_flavour_GeV, epsilon, m_Aprime, tables):
    """mu_equiv for XENONnT SR0 (1-30 keV, stepping approximation; limit 6.3e-12 mu_B, arXiv:2207.11330).

    Args as ``mu_equiv_muB``; tables = ``solar_tables()``.
    """
    return mu_equiv_muB(lambda_flavour_GeV, epsilon, m_Aprime, tables["xenonnt"], tables["U"])


def lz_mu_equiv_muB(lambda_flavour_GeV, epsilon, m_Aprime, tables):
    """mu_equiv for LZ (WS2022 data, 1.5-15 keV, stepping approximation; limit 1.1e-11 mu_B at 90 % CL from the
    recast arXiv:2207.05036). Args as ``mu_equiv_muB``; tables = ``solar_tables()``.
    """
    return mu_equiv_muB(lambda_flavour_GeV, epsilon, m_Aprime, tables["lz"], tables["U"])


def pandax4t_mu_equiv_muB(lambda_flavour_GeV, epsilon, m_Aprime, tables):
    """mu_equiv for PandaX-4T Run0+Run1 (1-30 keV, stepping approximation; arXiv:2408.07641).

    Args as ``mu_equiv_muB``; tables = ``solar_tables()``.
    """
    return mu_equiv_muB(lambda_flavour_GeV, epsilon, m_Aprime, tables["pandax4t"], tables["U"])


def effective_moment_massless_muB(lambda_flavour_GeV, epsilon, tables, experiment="borexino"):
    """mu_equiv at m_A' = 0: sqrt(sum_k w_k(0) mu_k^2), w_k(0) the rate-weighted mass-state composition.

    Args: lambda_flavour_GeV (3, 3); epsilon; tables = ``solar_tables()``; experiment a key of the tables
    ('borexino', 'xenonnt', 'lz', 'pandax4t'; static).
    """
    require_x64("djax.observables.effective_moment_massless_muB")
    mu_sq = mass_state_moments_sq_muB(lambda_flavour_GeV, epsilon, tables["U"])
    return _safe_sqrt(jnp.sum(jnp.asarray(tables[experiment]["w0"]) * mu_sq))


def red_giant_moment_muB(lambda_flavour_GeV, epsilon, m_Aprime, omega_p=OMEGA_P_RG):
    """Photon-dipole-equivalent moment for plasmon decay gamma* -> nu_a nu_b and a smooth applicability mask.

    mu_RG^2 = sum_{a<b} |eps lambda_ab / mu_B|^2 = (1/2) sum_ab |eps lambda_ab/mu_B|^2 (sum over distinct final
    pairs; basis independent; a pseudo-Dirac pair gives the Dirac moment, docs/physics.md section 3). The red-giant bound
    (1.2e-12 mu_B, 95 % CL, Capozzi & Raffelt, PRD 102 (2020) 083007) applies only for m_A' << omega_p: the
    plasmon (K^2 = omega_p^2) couples through eps omega_p^2/(omega_p^2 - m_A'^2), so the rate is suppressed by
    ~(omega_p/m_A')^4 above omega_p. mask = 1/(1 + (m_A'/omega_p)^4) models that (1 below, (omega_p/m)^4 above;
    the resonance at m_A' ≈ omega_p and direct A' emission are not modelled). Compare mu_RG sqrt(mask) with the
    limit. Returns (mu_RG in mu_B, mask).

    Args: lambda_flavour_GeV (3, 3) antisymmetric; epsilon; m_Aprime (GeV); omega_p (GeV, default 10 keV).
    """
    require_x64("djax.observables.red_giant_moment_muB")
    lam = jnp.asarray(lambda_flavour_GeV) * (epsilon / C.MU_BOHR)
    mu = _safe_sqrt(0.5 * jnp.sum(jnp.real(lam) ** 2 + jnp.imag(lam) ** 2))
    mask = 1.0 / (1.0 + (m_Aprime / omega_p) ** 4)
    return mu, mask


__all__ = [
    "solar_tables",
    "propagator_factor",
    "dsigma_dT_moment",
    "mass_basis_moments",
    "mass_state_moments_sq_muB",
    "solar_weights",
    "mu_equiv_muB",
    "borexino_mu_equiv_muB",
    "xenonnt_mu_equiv_muB",
    "lz_mu_equiv_muB",
    "pandax4t_mu_equiv_muB",
    "effective_moment_massless_muB",
    "red_giant_moment_muB",
    "OMEGA_P_RG",
]
