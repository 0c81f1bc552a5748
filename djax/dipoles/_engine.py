r"""Leading-order (in m_ext / M, m_ext / m_S) one-loop fermion-scalar dipole engine, pure JAX.

Interaction ``L ⊃ -Σ_k S_k^* Fbar (A_ik P_L + B_ik P_R) f_i + h.c.``; gauge vertices ``-i g Q γ^μ`` (fermions)
and ``-i g Q (k + k')^μ`` (scalars); ``Q_f = Q_F + Q_S``. With ``r_k = M^2 / m_k^2``:

    C^{ji} = -(g / 32 pi^2) Σ_k { M A*_jk B_ik [Q_F I_F(r_k) - Q_S I_S(r_k)]
                  + (m_i A*_jk A_ik + m_j B*_jk B_ik) [Q_F L_F(r_k) - Q_S L_S(r_k)] / 2 } / m_k^2

is the coefficient of ``(fbar_j σ^{μν} P_R f_i) F_{μν}`` in ``L_eff`` (plus h.c.; flavio WET convention).
Every scalar sum ``Σ_k c_k F_k`` (``F_k = f(r_k)/m_k^2``) is evaluated as
``Σ_{k<n} c_k (F_k - F_n) + (Σ_k c_k) F_n`` with :func:`djax.loops.gim_difference`, so GIM-like
cancellations (``Σ_k c_k ≈ 0``, nearly degenerate scalars) lose no precision.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from ..loops import I_F, I_S, L_F, L_S, gim_difference, scaled
from ..precision import require_x64


class DipoleParts(NamedTuple):
    """Dipole amplitude split by the radiating line (a pytree).

    Attributes:
      fermion: part with the gauge boson attached to the internal fermion ``F`` (∝ ``Q_F``).
      scalar: part with the gauge boson attached to the scalars ``S_k`` (∝ ``Q_S``).
      total: ``fermion + scalar``.
    """

    fermion: jnp.ndarray
    scalar: jnp.ndarray
    total: jnp.ndarray


def _as_real(x):
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x


def _as_complex(x):
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.complexfloating):
        x = x.astype(jnp.result_type(complex))
    return x


def _coefficients(cA, cB):
    """``c[j, i, k] = cA[j, k] cB[i, k]``, materialised (``optimization_barrier``) so that XLA cannot contract
    the products into fused multiply-adds when they are summed: coefficients that cancel exactly in floating
    point (``Σ_k c_k == 0``) then sum to exactly zero."""
    return jax.lax.optimization_barrier(cA[:, None, :] * cB[None, :, :])


def _loop_values(f, M, m_S, method="closed"):
    """``(F_n, F_k - F_n for k < n)`` with ``F_k = f(M^2/m_k^2)/m_k^2`` (the latter from ``gim_difference``)."""
    if method == "quadrature":
        from ._exact import loop_values_quadrature

        return loop_values_quadrature(f.__name__, M, m_S)
    if method != "closed":
        raise ValueError(f"method must be 'closed' or 'quadrature', got {method!r}")
    f_n = scaled(f, M, m_S[-1])
    d_f = gim_difference(f, M, m_S[:-1], m_S[-1]) if m_S.shape[-1] > 1 else None
    return f_n, d_f


def _scalar_sum(c, values):
    r"""``Σ_k c[j, i, k] F_k = Σ_{k<n} c_k (F_k - F_n) + (Σ_k c_k) F_n`` as a ``(j, i)`` matrix.

    The reference-subtracted form keeps full relative precision when ``Σ_k c_k ≈ 0`` and the scalar masses
    are close (GIM-like cancellation), as long as the cancellation in ``Σ_k c_k`` is exact in the inputs.
    """
    f_n, d_f = values
    out = jnp.sum(c, axis=-1) * f_n
    if d_f is not None:
        out = out + jnp.sum(c[..., :-1] * d_f, axis=-1)
    return out


def _check_shapes(m_S, A, B, m_ext=None):
    if m_S.ndim != 1:
        raise ValueError(f"m_S must have shape (n_s,), got {m_S.shape}")
    if A.ndim != 2 or A.shape != B.shape or A.shape[1] != m_S.shape[0]:
        raise ValueError(
            f"A and B must both have shape (n_ext, n_s) = (n_ext, {m_S.shape[0]}); got {A.shape}, {B.shape}"
        )
    if m_ext is not None and m_ext.shape != (A.shape[0],):
        raise ValueError(f"m_ext must have shape ({A.shape[0]},), got {m_ext.shape}")


def dirac_dipole(M_F, m_S, A, B, Q_F, Q_S, m_ext, coupling=1.0, method="closed") -> DipoleParts:
    r"""Dipole matrix ``C^{ji}`` for Dirac external fermions, leading order in ``m_ext``.

    ``L_eff = Σ_{ij} C^{ji} (fbar_j σ^{μν} P_R f_i) F_{μν} + h.c.``, with

        C^{ji} = -(g/32π^2) Σ_k { M A*_jk B_ik [Q_F I_F - Q_S I_S](r_k)
                                + (m_i A*_jk A_ik + m_j B*_jk B_ik) [Q_F L_F - Q_S L_S](r_k)/2 } / m_k^2 .

    Observables (photon, ``g = e``, lepton charge -1): ``Δa_l = (4 m_l/e) Re C^{ll}``, ``d_l = -2 Im C^{ll}``,
    ``BR(l_i -> l_j γ) = m_i^3/(4π Γ_i) (|C^{ji}|^2 + |C^{ij}|^2)`` (see :func:`radiative_branching_ratio`).

    Args:
      M_F: Dirac fermion mass ``M`` (GeV, scalar).
      m_S: scalar masses ``m_k``, shape ``(n_s,)`` (GeV).
      A, B: couplings ``A_ik``, ``B_ik`` in ``L ⊃ -S_k^* Fbar (A_ik P_L + B_ik P_R) f_i + h.c.``, shape
        ``(n_ext, n_s)``, real or complex.
      Q_F: charge of ``F``; Q_S: charge of the particle annihilated by ``S_k`` (``Q_f = Q_F + Q_S``), in units
        of ``coupling``.
      m_ext: external masses ``m_i``, shape ``(n_ext,)`` (GeV; enter only the non-enhanced terms).
      coupling: gauge coupling ``g`` (``e`` for the photon, ``g_D`` for the dark photon).
      method: ``"closed"`` (default): closed forms and ``gim_difference`` of :mod:`djax.loops`;
        ``"quadrature"``: the same integrals by the fixed-node tanh-sinh rule of :mod:`djax.dipoles`
        (agrees to ~1e-14, compiles gradients several times faster). Static.

    Returns:
      :class:`DipoleParts` of complex ``(n_ext, n_ext)`` arrays (GeV^-1), entry ``[j, i] = C^{ji}``.

    References: L. Lavoura, Eur. Phys. J. C29 (2003) 191 [hep-ph/0302221]; B. Leveille, Nucl. Phys. B137
    (1978) 63; A. Crivellin, M. Hoferichter, P. Schmidt-Wellenburg, Phys. Rev. D 98 (2018) 113002.
    """
    require_x64("djax.dipoles.dirac_dipole")
    M = _as_real(M_F)
    m_S = _as_real(m_S)
    m_ext = _as_real(m_ext)
    A = _as_complex(A)
    B = _as_complex(B)
    _check_shapes(m_S, A, B, m_ext)
    Ac = jnp.conj(A)
    Bc = jnp.conj(B)
    m_row = m_ext[:, None]  # m_row * X multiplies row a of X by m_a
    c_enh = _coefficients(Ac, B)  # A*_jk B_ik
    c_non = _coefficients(Ac, m_row * A) + _coefficients(m_row * Bc, B)  # m_i A*_jk A_ik + m_j B*_jk B_ik
    pref = -jnp.asarray(coupling) / (32.0 * math.pi**2)

    def part(f_enh, f_non):
        return M * _scalar_sum(c_enh, _loop_values(f_enh, M, m_S, method)) + 0.5 * _scalar_sum(
            c_non, _loop_values(f_non, M, m_S, method)
        )

    fermion = pref * Q_F * part(I_F, L_F)
    scalar = -pref * Q_S * part(I_S, L_S)
    return DipoleParts(fermion=fermion, scalar=scalar, total=fermion + scalar)


def majorana_transition_moment(M_F, m_S, A, B, Q_F, Q_S, coupling=1.0, method="closed") -> DipoleParts:
    r"""Transition magnetic moments ``λ_ab`` of Majorana external fermions (antisymmetric, GeV^-1).

    The amplitude is the Dirac-like one minus its charge-conjugate-channel partner (the loop with
    ``Fbar, S^*``, whose charges are ``-Q_F, -Q_S`` and couplings ``B^*, A^*``):

        λ_ab = 2 (C^{ba} - C^{ab}) = g M/(16π^2) Σ_k (A*_ak B_bk - A*_bk B_ak) [Q_F I_F - Q_S I_S](r_k) / m_k^2 ,

    with ``C`` the chirally enhanced part of :func:`dirac_dipole` (non-enhanced terms are O(m_ν/M)
    and are dropped). For ``Q_S = -Q_F`` the bracket is ``Q_F K = Q_F (I_F + I_S)``. Normalisation: two
    degenerate Majorana states forming one Dirac fermion (``A_1 = a/√2``, ``A_2 = i a/√2``, same for ``B``)
    give ``λ_12 = i (μ + i d)`` of that Dirac fermion (:func:`dirac_moment`), so ``|λ|`` enters scattering
    rates exactly as a Dirac moment does. Sign/overall phase is convention; ``|λ|`` is physical.

    Args:
      M_F, m_S, A, B, Q_F, Q_S, coupling, method: as in :func:`dirac_dipole` (``A, B``: ``(n_ν, n_s)``).

    Returns:
      :class:`DipoleParts` of antisymmetric complex ``(n_ν, n_ν)`` arrays ``λ`` (GeV^-1); divide by
      ``djax.constants.MU_BOHR`` for units of the Bohr magneton.

    References: J. Schechter, J.W.F. Valle, Phys. Rev. D 24 (1981) 1883; R.E. Shrock, Nucl. Phys. B206 (1982) 359.
    """
    A = _as_complex(A)
    m0 = jnp.zeros(A.shape[:1], dtype=jnp.result_type(float))
    c = dirac_dipole(M_F, m_S, A, B, Q_F, Q_S, m0, coupling, method)
    return DipoleParts(*(2.0 * (jnp.swapaxes(x, -1, -2) - x) for x in c))


def dirac_moment(M_F, m_S, A, B, Q_F, Q_S, coupling=1.0, m_ext=None, method="closed") -> DipoleParts:
    r"""Magnetic/electric moment matrix ``μ + i d = -2 C`` of neutral Dirac fermions (GeV^-1).

    ``L_eff = -(1/2) fbar_j σ^{μν} (μ_ji + i d_ji γ5) f_i F_{μν}`` for the diagonal; the returned matrix is
    ``-2 C^{ji}`` with ``C`` from :func:`dirac_dipole`, so ``Re`` / ``Im`` of a diagonal entry are ``μ`` / ``d``.
    Chirally enhanced part for ``Q_S = -Q_F``: ``μ + i d = g Q_F M A*B K(r) / (16π^2 m_S^2)``.

    Args:
      M_F, m_S, A, B, Q_F, Q_S, coupling, method: as in :func:`dirac_dipole`.
      m_ext: external masses, default zeros (non-enhanced terms dropped).
    """
    A = _as_complex(A)
    if m_ext is None:
        m_ext = jnp.zeros(A.shape[:1], dtype=jnp.result_type(float))
    c = dirac_dipole(M_F, m_S, A, B, Q_F, Q_S, m_ext, coupling, method)
    return DipoleParts(*(-2.0 * x for x in c))


def anomalous_moment(C_ll, m_l, coupling, Q_l=-1.0):
    r"""``Δa = -(4 m_l / (g Q_l)) Re C^{ll}``; for a charged lepton (``Q_l = -1``, ``g = e``) ``(4 m_l/e) Re C``.

    Args:
      C_ll: diagonal dipole coefficient (GeV^-1, flavio convention, built with ``coupling``).
      m_l: lepton mass (GeV). coupling: the ``g`` used to build ``C`` (``e``). Q_l: lepton charge.
    """
    return -4.0 * _as_real(m_l) * jnp.real(C_ll) / (coupling * Q_l)


def electric_dipole_moment(C_ll):
    r"""``d = -2 Im C^{ll}`` (GeV^-1), for ``L = -(i/2) d lbar σ^{μν} γ5 l F_{μν}``; ``|d| = 2 |Im C|``."""
    return -2.0 * jnp.imag(C_ll)


def radiative_branching_ratio(C_ji, C_ij, m_i, gamma_i, m_j=0.0):
    r"""``BR(f_i -> f_j γ) = m_i^3 (1 - m_j^2/m_i^2)^3 / (4π Γ_i) (|C^{ji}|^2 + |C^{ij}|^2)``.

    Tree-level two-body rate of the dipole operator (flavio's ``GammaFvf`` with tensor couplings
    ``gTR = 2 C^{ji}``, ``gTL = 2 C^{ij*}``); the phase-space factor is exact in ``m_j``.

    Args:
      C_ji: coefficient of ``(fbar_j σ P_R f_i) F``; C_ij: of ``(fbar_i σ P_R f_j) F`` (GeV^-1).
      m_i, gamma_i: mass and total width of the decaying fermion (GeV). m_j: final-state mass (GeV).
    """
    m_i = _as_real(m_i)
    ps = (1.0 - (m_j / m_i) ** 2) ** 3
    return m_i**3 * ps / (4.0 * math.pi * gamma_i) * (jnp.abs(C_ji) ** 2 + jnp.abs(C_ij) ** 2)
