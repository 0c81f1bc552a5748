r"""Diagonal dipole with the full external-mass dependence (fixed-node tanh-sinh quadrature, pure JAX).

For one external fermion ``f`` of mass ``m`` (the diagonal entry ``C^{ll}`` of the engine's matrix), the
one-loop photon-penguin with a Dirac fermion ``F`` (mass ``M``, charge ``Q_F``) and scalars ``S_k``
(masses ``m_k``, charge ``Q_S``) is, without any expansion in ``m / M`` or ``m / m_k``,

    C^{ll} = -(g / 32 pi^2) Σ_k ∫_0^1 dx { M A*_k B_k [Q_F x^2 - Q_S x (1-x)]
                      + m (|A_k|^2 + |B_k|^2)/2 [Q_F x^2 (1-x) - Q_S x (1-x)^2] } / Δ_k(x),
    Δ_k(x) = x M^2 + (1 - x) m_k^2 - x (1 - x) m^2 .

The fermion-radiated (Q_F) and scalar-radiated (Q_S) diagrams share the same denominator after the
scalar-diagram Feynman parameter is relabelled (x = total weight of the fermion propagators). For
``m -> 0`` the integrals reduce to ``I_F, I_S, L_F, L_S`` of :mod:`djax.loops` divided by ``m_k^2``.
The integral needs ``m < M + m_k`` (stable external fermion; ``Δ > 0``).

Quadrature: double-exponential (tanh-sinh) rule on [0, 1], ``x = 1/(1 + e^{-2s})``, ``1 - x = 1/(1 + e^{2s})``,
``s = (pi/2) sinh t``, step ``h = 1/64`` for ``|t| <= 4`` (513 fixed nodes; ``1 - x`` is formed without
cancellation). Measured against mpmath (40 digits): relative error < 1e-15 for ``M^2/m_k^2`` and
``m^2/m_k^2`` from 1e-12 to 1e10, including the SM-Higgs case (``m_H/m_mu ~ 1200``) and ``M/m = 1e5``.
Fixed nodes make the result a smooth weighted sum: jit/vmap/grad (any order) safe.

References: B. Leveille, Nucl. Phys. B137 (1978) 63; L. Lavoura, Eur. Phys. J. C29 (2003) 191
[hep-ph/0302221]; H. Takahasi and M. Mori, Publ. RIMS 9 (1974) 721 (tanh-sinh).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from ..precision import require_x64
from ._engine import DipoleParts, _as_complex, _as_real

_H = 1.0 / 64.0
_TMAX = 4.0


def _tanh_sinh_nodes(h: float, tmax: float):
    n = int(round(tmax / h))
    t = np.arange(-n, n + 1, dtype=np.float64) * h
    s = 0.5 * math.pi * np.sinh(t)
    x = 1.0 / (1.0 + np.exp(-2.0 * s))
    xm = 1.0 / (1.0 + np.exp(2.0 * s))
    # dx/dt = (pi/2) cosh t sech^2 s = pi cosh t x (1 - x)
    w = h * math.pi * np.cosh(t) * x * xm
    return x, xm, w


# plain numpy constants (no JAX state at import); converted inside the traced functions
_X, _XM, _W = _tanh_sinh_nodes(_H, _TMAX)


def exact_integrals(M_F, m_S, m_ext):
    r"""The four Feynman-parameter integrals with full external-mass dependence, in GeV^-2.

    Returns ``(J_F, J_S, H_F, H_S)``, each ``∫_0^1 P(x) / Δ(x) dx`` with
    ``Δ = x M^2 + (1-x) m_S^2 - x(1-x) m^2`` and ``P = x^2, x(1-x), x^2(1-x), x(1-x)^2`` respectively.
    For ``m -> 0``: ``J_F -> I_F(r)/m_S^2``, ``J_S -> I_S(r)/m_S^2``, ``H_F -> L_F(r)/m_S^2``,
    ``H_S -> L_S(r)/m_S^2`` with ``r = M^2/m_S^2``.

    Args:
      M_F: internal fermion mass ``M`` (GeV).
      m_S: scalar mass(es) ``m_S`` (GeV); any shape, broadcast with ``M_F`` and ``m_ext``.
      m_ext: external fermion mass ``m`` (GeV), ``m < M + m_S``.
    """
    M_F, m_S, m_ext = jnp.broadcast_arrays(_as_real(M_F), _as_real(m_S), _as_real(m_ext))
    x = jnp.asarray(_X, dtype=M_F.dtype)
    xm = jnp.asarray(_XM, dtype=M_F.dtype)
    w = jnp.asarray(_W, dtype=M_F.dtype)
    r = (M_F / m_S) ** 2
    rho = (m_ext / m_S) ** 2
    # Δ / m_S^2 on the nodes (trailing axis)
    den = x * r[..., None] + xm * (1.0 - x * rho[..., None])
    wd = w / den
    inv = 1.0 / (m_S * m_S)
    j_f = jnp.sum(wd * (x * x), axis=-1) * inv
    j_s = jnp.sum(wd * (x * xm), axis=-1) * inv
    h_f = jnp.sum(wd * (x * x * xm), axis=-1) * inv
    h_s = jnp.sum(wd * (x * xm * xm), axis=-1) * inv
    return j_f, j_s, h_f, h_s


def dipole_exact(m_l, M_F, m_S, A, B, Q_F, Q_S, coupling=1.0) -> DipoleParts:
    r"""Diagonal dipole coefficient ``C^{ll}`` with full mass dependence (flavio WET convention).

    ``L_eff = C (lbar σ^{μν} P_R l) F_{μν} + h.c.``; the equation is in the module docstring.

    Args:
      m_l: external fermion mass ``m`` (GeV).
      M_F: internal Dirac fermion mass ``M`` (GeV).
      m_S: scalar masses ``m_k``, shape ``(n_s,)``.
      A, B: couplings of this external fermion to ``(F, S_k)``: ``L ⊃ -S_k^* Fbar (A_k P_L + B_k P_R) f``,
        shape ``(n_s,)``, complex allowed.
      Q_F, Q_S: charges of ``F`` and of the particle annihilated by ``S_k`` (``Q_f = Q_F + Q_S``).
      coupling: gauge coupling (``e`` for the photon).

    Returns:
      :class:`DipoleParts` of complex scalars (GeV^-1): ``fermion`` (Q_F diagram), ``scalar`` (Q_S diagram),
      ``total``.
    """
    require_x64("djax.dipoles.dipole_exact")
    A = _as_complex(A)
    B = _as_complex(B)
    m_l = _as_real(m_l)
    M_F = _as_real(M_F)
    j_f, j_s, h_f, h_s = exact_integrals(M_F, m_S, m_l)
    enh = M_F * jnp.conj(A) * B
    non = 0.5 * m_l * (jnp.abs(A) ** 2 + jnp.abs(B) ** 2)
    pref = -jnp.asarray(coupling) / (32.0 * math.pi**2)
    fermion = pref * Q_F * jnp.sum(enh * j_f + non * h_f, axis=-1)
    scalar = -pref * Q_S * jnp.sum(enh * j_s + non * h_s, axis=-1)
    return DipoleParts(fermion=fermion, scalar=scalar, total=fermion + scalar)


def g2_exact(m_l, M_F, m_S, A, B, Q_F, Q_S):
    r"""Anomalous magnetic moment ``Δa_l`` with full mass dependence.

    ``Δa = -(4 m / (e Q_l)) Re C^{ll}`` with ``Q_l = Q_F + Q_S`` (``= (4 m / e) Re C`` for ``Q_l = -1``);
    ``e`` cancels, so no coupling argument. Arguments as in :func:`dipole_exact` (electric charges,
    ``Q_F + Q_S != 0``). A pure scalar coupling (``A = B`` real) through a fermion of the lepton's charge
    and a neutral scalar gives ``Δa > 0`` (Leveille).
    """
    c = dipole_exact(m_l, M_F, m_S, A, B, Q_F, Q_S, coupling=1.0).total
    return -4.0 * _as_real(m_l) * jnp.real(c) / (Q_F + Q_S)


def edm_exact(m_l, M_F, m_S, A, B, Q_F, Q_S, coupling):
    r"""Electric dipole moment ``d = -2 Im C^{ll}`` (GeV^-1; ``L = -(i/2) d lbar σ^{μν} γ5 l F_{μν}``).

    Arguments as in :func:`dipole_exact`; pass ``coupling = e`` for the photon. In e cm:
    ``d / e * djax.constants.HBARC_GEV_CM``.
    """
    c = dipole_exact(m_l, M_F, m_S, A, B, Q_F, Q_S, coupling=coupling).total
    return -2.0 * jnp.imag(c)


# polynomials P(x) of I_F, I_S, L_F, L_S as functions of (x, 1 - x) on the nodes
_POLYS = {
    "I_F": lambda x, xm: x * x,
    "I_S": lambda x, xm: x * xm,
    "L_F": lambda x, xm: x * x * xm,
    "L_S": lambda x, xm: x * xm * xm,
}


def loop_values_quadrature(name, M_F, m_S):
    r"""``(F_n, F_k - F_n for k < n)`` with ``F_k = f(M^2/m_k^2)/m_k^2`` by quadrature (massless external fermion).

    ``F_k = ∫ P(x) / (x M^2 + (1-x) m_k^2) dx``; the differences use the exact identity
    ``1/Δ_k - 1/Δ_n = (1-x)(m_n - m_k)(m_n + m_k) / (Δ_k Δ_n)``, so they keep full relative precision for
    nearly degenerate scalars. Same 513-node tanh-sinh rule as :func:`exact_integrals`; a much smaller XLA
    graph than the closed forms (fast compilation of gradients).

    Args:
      name: ``"I_F"``, ``"I_S"``, ``"L_F"`` or ``"L_S"`` (static).
      M_F: fermion mass (GeV, scalar). m_S: scalar masses, shape ``(n_s,)``.
    """
    M = _as_real(M_F)
    m_S = _as_real(m_S)
    x = jnp.asarray(_X, dtype=M.dtype)
    xm = jnp.asarray(_XM, dtype=M.dtype)
    w = jnp.asarray(_W, dtype=M.dtype) * _POLYS[name](x, xm)
    m_n = m_S[-1]
    den_n = x * M * M + xm * m_n * m_n
    f_n = jnp.sum(w / den_n)
    if m_S.shape[-1] == 1:
        return f_n, None
    m_k = m_S[:-1, None]
    den_k = x * M * M + xm * m_k * m_k
    d_f = jnp.sum(w * xm * ((m_n - m_k) * (m_n + m_k)) / (den_k * den_n), axis=-1)
    return f_n, d_f
