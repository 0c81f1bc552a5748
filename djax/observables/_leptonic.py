"""Charged-lepton dipoles, the dark transition moment and the radiative neutrino mass of the model.

All functions take one unbatched :class:`djax.Params` and are pure, jit/vmap/grad-safe. The two-scalar GIM
structure is used explicitly: every chirally enhanced sum Σ_k A*_ak B_bk f(r_k)/m_k^2 equals
-s c y*_a y'_b [f(r_1)/m_1^2 - f(r_2)/m_2^2] exactly, and the bracket is evaluated with the cancellation-free
``djax.loops.gim_difference``. The generic engine in ``djax.dipoles`` gives the same numbers (tested) for any
field content.

Yukawa structure (docs/physics.md section 1): the charged-lepton dipoles (and everything built on C^{ji}) see the
B-type Yukawa of the charged member E, y'_E = ``p.yp_charged`` (``p.yp_E``, or ``p.yp`` when it is None); the
transition moment and the neutrino mass see that of the neutral member N, y'_N = ``p.yp``. In the formulas
below y' means y'_E in C^{ji} and y'_N in lambda and m_nu.

Equations (derivations in docs/physics.md sections 3-5):

    C^{ji} = e/(32 pi^2) Σ_k [ M A*_jk B_ik I_F(r_k) + (m_i A*_jk A_ik + m_j B*_jk B_ik) L_F(r_k)/2 ] / m_Sk^2
    BR(l_i -> l_j gamma) = m_i^3 / (4 pi Gamma_i) (1 - m_j^2/m_i^2)^3 (|C^{ji}|^2 + |C^{ij}|^2)
    Delta a_l = (4 m_l / e) Re C^{ll},      d_l = -2 Im C^{ll}   (L_EDM = -(i/2) d lbar sigma gamma5 l F)
    lambda_ab = g_D Q_F M / (16 pi^2) Σ_k (A*_ak B_bk - A*_bk B_ak) K(r_k) / m_Sk^2,   K = I_F + I_S
    m_nu^{ab} = -M / (16 pi^2) Σ_k (A_ak B*_bk + A_bk B*_ak) G(M, m_Sk)
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from .. import constants as C
from .. import loops
from ..model import Params
from ..precision import complex_dtype

_M_L = np.array(C.M_LEPTONS, dtype=np.float64)  # numpy: a jnp constant made at import would be float32
_LOOP = 1.0 / (16.0 * math.pi**2)


def _mix(p: Params, member: str):
    """(c, s, y, y') with y' of the VLL member ``"N"`` (``p.yp``) or ``"E"`` (``p.yp_charged``).

    Real Yukawas stay real (conj is then the identity and every imaginary part, e.g. an EDM, is exactly 0):
    half the flops and memory of complex arithmetic, which matters most for the gradient. Complex ones (either
    vector) promote both to the matching complex dtype."""
    c, s = jnp.cos(p.theta), jnp.sin(p.theta)
    y = jnp.asarray(p.y)
    yp = jnp.asarray(p.yp if member == "N" else p.yp_charged)
    if jnp.iscomplexobj(y) or jnp.iscomplexobj(yp):
        y, yp = y.astype(complex_dtype(y)), yp.astype(complex_dtype(yp))
    return c, s, y, yp


def dipole_coefficients(p: Params) -> dict:
    """Dipole coefficients C^{ji} (3x3, GeV^-1, complex for complex Yukawas; row j = outgoing, column i = decaying).

    Returns ``{"C": C, "C_enhanced": ..., "C_nonenhanced": ...}`` with
    ``C_enhanced^{ji} = e/(32 pi^2) M (-s c) y*_j y'_i [I_F(r_1)/m_1^2 - I_F(r_2)/m_2^2]`` and
    ``C_nonenhanced^{ji} = e/(64 pi^2) [m_i y*_j y_i (c^2 L_1 + s^2 L_2) + m_j y'*_j y'_i (s^2 L_1 + c^2 L_2)]``
    with ``L_k = L_F(r_k)/m_k^2`` and y' = y'_E (``p.yp_charged``). Photon radiated from E (charge -1); the
    scalars are neutral.
    """
    c, s, y, yp = _mix(p, "E")
    M = p.M_F
    d_IF = loops.gim_difference(loops.I_F, M, p.m_S1, p.m_S2)
    L1 = loops.scaled(loops.L_F, M, p.m_S1)
    L2 = loops.scaled(loops.L_F, M, p.m_S2)
    pref = C.E_CHARGE / (32.0 * math.pi**2)
    enh = pref * M * (-s * c) * jnp.conj(y)[:, None] * yp[None, :] * d_IF
    aa = jnp.conj(y)[:, None] * y[None, :] * (c**2 * L1 + s**2 * L2)
    bb = jnp.conj(yp)[:, None] * yp[None, :] * (s**2 * L1 + c**2 * L2)
    non = 0.5 * pref * (_M_L[None, :] * aa + _M_L[:, None] * bb)
    return {"C": enh + non, "C_enhanced": enh, "C_nonenhanced": non}


def radiative_branching_ratios(Cmat) -> dict:
    """BR(l_i -> l_j gamma) = m_i^3/(4 pi Gamma_i) (1 - m_j^2/m_i^2)^3 (|C^{ji}|^2 + |C^{ij}|^2).

    For (mu, e), (tau, e), (tau, mu). The two-body phase-space factor (1 - m_j^2/m_i^2)^3 of the dipole operator
    is kept; it is 1 - 7e-5 for mu -> e gamma and 1 - 1.06e-2 for tau -> mu gamma (flavio
    includes it; tested against flavio).
    """

    def br(i, j):
        width = C.GAMMA_LEPTONS[i]
        ps = (1.0 - C.M_LEPTONS[j] ** 2 / C.M_LEPTONS[i] ** 2) ** 3
        return (
            C.M_LEPTONS[i] ** 3 / (4.0 * math.pi * width) * ps * (jnp.abs(Cmat[j, i]) ** 2 + jnp.abs(Cmat[i, j]) ** 2)
        )

    return {"br_mu_e_gamma": br(1, 0), "br_tau_e_gamma": br(2, 0), "br_tau_mu_gamma": br(2, 1)}


def br_mu_3e_dipole(br_mu_e_gamma):
    """BR(mu -> 3e) in dipole dominance: (alpha / 3 pi) (ln(m_mu^2/m_e^2) - 11/4) BR(mu -> e gamma).

    Valid when photon-penguin dipole exchange dominates (no Z-penguin, box or contact terms); see
    Kuno & Okada, Rev. Mod. Phys. 73 (2001) 151, eq. (57).
    """
    return C.ALPHA_EM / (3.0 * math.pi) * (math.log(C.M_MU**2 / C.M_E**2) - 11.0 / 4.0) * br_mu_e_gamma


def cr_mu_e_dipole(br_mu_e_gamma, nucleus: str):
    """mu -> e conversion rate over capture rate in dipole dominance.

    CR(mu N -> e N) = pi D_N^2 Gamma_mu / omega_capt(N) * BR(mu -> e gamma), with the dimensionless overlap
    integral D_N (units m_mu^{5/2}) of Kitano, Koike, Okada, PRD 66 (2002) 096002; follows from their
    omega_conv = 2 G_F^2 |A_R D|^2 and Gamma(mu -> e gamma) = 2 G_F^2 m_mu^5 |A_R|^2 / pi.
    """
    D = C.MUE_CONVERSION_D[nucleus]
    return math.pi * D**2 * (1.0 / C.TAU_MU) / C.MU_CAPTURE_RATE_PER_S[nucleus] * br_mu_e_gamma


def anomalous_moments(Cmat) -> dict:
    """Delta a_l = (4 m_l / e) Re C^{ll}; d_l = -2 Im C^{ll} / e in e cm (hbar c = 1.9733e-14 GeV cm)."""
    diag = jnp.diagonal(Cmat)
    da = 4.0 * _M_L / C.E_CHARGE * jnp.real(diag)
    d_ecm = -2.0 * jnp.imag(diag) / C.E_CHARGE * C.HBARC_GEV_CM
    return {
        "delta_a_e": da[0],
        "delta_a_mu": da[1],
        "delta_a_tau": da[2],
        "d_e_ecm": d_ecm[0],
        "d_mu_ecm": d_ecm[1],
        "d_tau_ecm": d_ecm[2],
    }


def dark_transition_moment(p: Params) -> dict:
    """Majorana dark transition moments lambda^D_ab (3x3 antisymmetric, GeV^-1; complex for complex Yukawas).

    lambda_ab = g_D Q_F M/(16 pi^2) (-s c) (y*_a y'_b - y*_b y'_a) [f(r_1)/m_1^2 - f(r_2)/m_2^2] with f = K
    (total), f = I_F (dark photon radiated from N) and f = I_S (radiated from S_k, charge -Q_F); y' = y'_N
    (``p.yp``: N runs in the loop).
    """
    c, s, y, yp = _mix(p, "N")
    M = p.M_F
    flav = jnp.conj(y)[:, None] * yp[None, :]
    flav = flav - flav.T
    pref = p.g_D * p.Q_F * M * _LOOP * (-s * c)
    d_IF = loops.gim_difference(loops.I_F, M, p.m_S1, p.m_S2)
    d_IS = loops.gim_difference(loops.I_S, M, p.m_S1, p.m_S2)
    fermion = pref * d_IF * flav
    scalar = pref * d_IS * flav
    return {"total": fermion + scalar, "fermion": fermion, "scalar": scalar}


def neutrino_mass_matrix(p: Params):
    """One-loop Majorana mass matrix m_nu^{ab} in GeV (3x3 symmetric; complex for complex Yukawas).

    m^{ab} = -M/(16 pi^2) Σ_k (A_ak B*_bk + A_bk B*_ak) G(M, m_k) = M s c/(16 pi^2) (y_a y'*_b + y_b y'*_a)
    [G(M, m_1) - G(M, m_2)], with G(M, m) = m^2 ln(m^2/M^2)/(m^2 - M^2); UV-finite since Σ_k O_1k O_2k = 0.
    y' = y'_N (``p.yp``: N runs in the loop).
    """
    c, s, y, yp = _mix(p, "N")
    flav = y[:, None] * jnp.conj(yp)[None, :]
    flav = flav + flav.T
    dG = loops.gim_difference_G(p.M_F, p.m_S1, p.m_S2)
    return p.M_F * _LOOP * s * c * flav * dG


def _safe_sqrt(x):
    pos = x > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, x, 1.0)), 0.0)


def trace_norm_rank2(m):
    """Σ of singular values of a matrix of rank <= 2 (the loop mass matrix always is).

    By Cauchy-Binet, sigma_1^2 sigma_2^2 = Σ |2x2 minors|^2, so sigma_1 + sigma_2 =
    sqrt(||m||_F^2 + 2 sqrt(Σ |minors|^2)); smooth where an SVD gradient would divide by sigma_i - sigma_j.
    """
    fro2 = jnp.sum(jnp.abs(m) ** 2)
    idx = ((0, 1), (0, 2), (1, 2))
    minors2 = 0.0
    for r0, r1 in idx:
        for c0, c1 in idx:
            det = m[r0, c0] * m[r1, c1] - m[r0, c1] * m[r1, c0]
            minors2 = minors2 + jnp.abs(det) ** 2
    return _safe_sqrt(fro2 + 2.0 * _safe_sqrt(minors2))
