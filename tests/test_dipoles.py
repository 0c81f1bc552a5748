"""Tests of djax.dipoles: exact-mass quadrature vs mpmath literature formulas, LO engine vs exact path,
Majorana transition moments (antisymmetry, GIM, pseudo-Dirac identity), BR identity, gradients.

References are evaluated here with mpmath at 30 digits from the *literature* integrands (Leveille 1978
written in its own variables), never from djax code.
"""

import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jax.test_util import check_grads

from djax import constants as K
from djax import dipoles as D
from djax import loops

mp.mp.dps = 30

M_MU = K.M_MU
M_E = K.M_E
ALPHA = K.ALPHA_EM
E = math.sqrt(4 * math.pi * ALPHA)
G_F = K.G_F
M_H = K.M_H
V = (math.sqrt(2.0) * G_F) ** -0.5

# subdivision points for mpmath: resolves end-point features down to 1e-16
_PTS = sorted(
    {mp.mpf(0), mp.mpf(1), mp.mpf("0.5")}
    | {mp.mpf(10) ** -j for j in range(1, 17)}
    | {1 - mp.mpf(10) ** -j for j in range(1, 17)}
)


def mpquad(f):
    return mp.quad(f, _PTS)


def rel(a, b):
    return abs(complex(a) - complex(b)) / abs(complex(b))


# ---------------------------------------------------------------------------------------------------
# mpmath closed forms of the loop functions (independent of djax.loops)
# ---------------------------------------------------------------------------------------------------
def mp_loop(name, r):
    P = {
        "I_F": lambda x: x * x,
        "I_S": lambda x: x * (1 - x),
        "K": lambda x: x,
        "L_F": lambda x: x * x * (1 - x),
        "L_S": lambda x: x * (1 - x) ** 2,
    }[name]
    r = mp.mpf(r)
    return mpquad(lambda x: P(x) / (1 - x + r * x))


# ---------------------------------------------------------------------------------------------------
# exact-mass quadrature
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "M,mS,m",
    [
        (M_MU, M_H, M_MU),  # SM Higgs: m_H/m_mu ~ 1200
        (1e4, 100.0, M_MU),  # M/m ~ 1e5
        (1e4, M_MU, M_MU),  # r = 1e10 with m = m_S
        (1e-4, 50.0, M_MU),  # almost massless fermion
        (3.0, 1e4, M_MU),  # r ~ 1e-7
        (2 * M_MU, 0.5 * M_MU, M_MU),  # scalar lighter than the external fermion
    ],
)
def test_exact_integrals_vs_mpmath(M, mS, m):
    got = D.exact_integrals(M, mS, m)
    Mp, mSp, mp_ = mp.mpf(M), mp.mpf(mS), mp.mpf(m)

    def den(x):
        return x * Mp**2 + (1 - x) * mSp**2 - x * (1 - x) * mp_**2

    polys = [lambda x: x * x, lambda x: x * (1 - x), lambda x: x * x * (1 - x), lambda x: x * (1 - x) ** 2]
    for g, P in zip(got, polys):
        ref = mpquad(lambda x: P(x) / den(x))
        assert rel(g, ref) < 1e-12


def test_exact_integrals_massless_limit_match_loops():
    M = 700.0
    mS = jnp.array([10.0, 300.0, 700.0, 2500.0, 1e5])
    j_f, j_s, h_f, h_s = D.exact_integrals(M, mS, 0.0)
    for got, f in [(j_f, loops.I_F), (j_s, loops.I_S), (h_f, loops.L_F), (h_s, loops.L_S)]:
        np.testing.assert_allclose(got, loops.scaled(f, M, mS), rtol=1e-13)


def _leveille_neutral(m, M, mphi, gs, gp):
    eps, lam = mp.mpf(M) / m, mp.mpf(m) / mphi
    num = lambda x: gs**2 * x**2 * (1 + eps - x) + gp**2 * x**2 * (1 - eps - x)  # noqa: E731
    den = lambda x: (1 - x) * (1 - lam**2 * x) + eps**2 * lam**2 * x  # noqa: E731
    return mp.mpf(m) ** 2 / (8 * mp.pi**2 * mp.mpf(mphi) ** 2) * mpquad(lambda x: num(x) / den(x))


def _leveille_charged(m, M, mphi, gs, gp):
    eps, lam = mp.mpf(M) / m, mp.mpf(m) / mphi
    num = lambda x: gs**2 * x * (1 - x) * (x + eps) + gp**2 * x * (1 - x) * (x - eps)  # noqa: E731
    den = lambda x: eps**2 * lam**2 * (1 - x) * (1 - x / eps**2) + x  # noqa: E731
    return -(mp.mpf(m) ** 2) / (8 * mp.pi**2 * mp.mpf(mphi) ** 2) * mpquad(lambda x: num(x) / den(x))


EPS_LAM = [(1.0, 1e-3), (1.0, 0.5), (1.0, 2.0), (0.5, 0.3), (10.0, 0.1), (1e3, 1.0), (1e5, 1e-3)]


@pytest.mark.parametrize("eps,lam", EPS_LAM)
def test_leveille_neutral_scalar(eps, lam):
    """Charged F (Q_F = -1), neutral scalar; g_s = -(A+B)/2, g_p = -(A-B)/2."""
    m = M_MU
    M, mphi = eps * m, m / lam
    for gs, gp in [(0.7, 0.0), (0.0, 0.4), (0.3, -1.1)]:
        A, B = -(gs + gp), -(gs - gp)
        got = D.g2_exact(m, M, jnp.array([mphi]), jnp.array([A]), jnp.array([B]), -1.0, 0.0)
        ref = _leveille_neutral(m, M, mphi, gs, gp)
        assert rel(got, ref) < 1e-10, (gs, gp, float(got), float(ref))


@pytest.mark.parametrize("eps,lam", [(1e-3, 0.01), (1.0, 0.5), (0.3, 0.2), (10.0, 0.1), (1e5, 1e-3)])
def test_leveille_charged_scalar(eps, lam):
    """Neutral F (Q_F = 0), scalar with the lepton's charge (Q_S = -1)."""
    m = M_MU
    M, mphi = eps * m, m / lam
    for gs, gp in [(0.7, 0.0), (0.0, 0.4), (0.3, -1.1)]:
        A, B = -(gs + gp), -(gs - gp)
        got = D.g2_exact(m, M, jnp.array([mphi]), jnp.array([A]), jnp.array([B]), 0.0, -1.0)
        ref = _leveille_charged(m, M, mphi, gs, gp)
        assert rel(got, ref) < 1e-10, (gs, gp, float(got), float(ref))


def test_sign_conventions():
    """Pure scalar through a charged fermion + neutral scalar: Δa > 0; neutral fermion + charged scalar: < 0."""
    m, M, mS = M_MU, 200.0, 300.0
    one = jnp.array([1.0])
    assert D.g2_exact(m, M, jnp.array([mS]), one, one, -1.0, 0.0) > 0
    assert D.g2_exact(m, M, jnp.array([mS]), one, one, 0.0, -1.0) < 0
    # the LO engine carries the same sign, through Δa = (4 m / e) Re C
    C = D.dirac_dipole(M, jnp.array([mS]), jnp.array([[1.0]]), jnp.array([[1.0]]), -1.0, 0.0, jnp.array([m]), E).total[
        0, 0
    ]
    assert D.anomalous_moment(C, m, E) > 0


def test_sm_higgs_amu():
    """F = mu, g_s = m/v, g_p = 0: a^H = G_F m^2/(4√2 π^2) ∫ x^2(2-x)/(x^2 + (1-x) m_H^2/m^2)."""
    m = M_MU
    a = -m / V  # A = B = -g_s
    got = D.g2_exact(m, m, jnp.array([M_H]), jnp.array([a]), jnp.array([a]), -1.0, 0.0)
    R = (mp.mpf(M_H) / m) ** 2
    ref = mp.mpf(G_F) * m**2 / (4 * mp.sqrt(2) * mp.pi**2) * mpquad(lambda x: x**2 * (2 - x) / (x**2 + (1 - x) * R))
    assert rel(got, ref) < 1e-10
    assert 2.0e-14 < float(got) < 2.3e-14  # known size, ~2.2e-14 for m_H = 125 GeV


def test_edm_phase():
    """Rotating B -> B e^{iφ} rotates the chirally enhanced part of C^{ll} by e^{iφ}; d = -2 Im C."""
    m, M, mS = M_MU, 400.0, jnp.array([250.0, 900.0])
    A, B = jnp.array([0.8, -0.3]), jnp.array([0.5, 0.6])
    phi = 0.37
    c0 = D.dipole_exact(m, M, mS, A, B, -1.0, 0.0, E).total
    c_non = (
        D.dipole_exact(m, M, mS, A, 0.0 * B, -1.0, 0.0, E).total
        + D.dipole_exact(m, M, mS, 0.0 * A, B, -1.0, 0.0, E).total
    )
    c1 = D.dipole_exact(m, M, mS, A, B * np.exp(1j * phi), -1.0, 0.0, E).total
    assert rel(c1 - c_non, (c0 - c_non) * np.exp(1j * phi)) < 1e-12
    d = D.edm_exact(m, M, mS, A, B * np.exp(1j * phi), -1.0, 0.0, E)
    assert abs(d + 2 * np.imag(c1)) <= 1e-15 * abs(d)
    assert abs(d) > 0


# ---------------------------------------------------------------------------------------------------
# leading-order engine vs exact path
# ---------------------------------------------------------------------------------------------------
def test_engine_approaches_exact_for_heavy_states():
    m = M_MU
    A = jnp.array([0.6 + 0.2j, -0.4 + 0.5j, 0.1 - 0.3j])
    B = jnp.array([0.3 - 0.1j, 0.2 + 0.7j, -0.5 + 0.1j])
    QF, QS = 0.7, -1.7
    mS0 = np.array([1.5, 4.0, 2.2]) * m
    M0 = 2.0 * m
    diffs = []
    for lam in [10.0, 100.0, 1000.0]:
        M, mS = lam * M0, jnp.asarray(lam * mS0)
        lo = D.dirac_dipole(M, mS, A[None, :], B[None, :], QF, QS, jnp.array([m]), E)
        ex = D.dipole_exact(m, M, mS, A, B, QF, QS, E)
        d = [rel(lo_p[0, 0], ex_p) for lo_p, ex_p in zip(lo, ex)]
        diffs.append(d)
        # corrections are O(m^2 / M^2) (coefficient of order one)
        assert max(d) < 3.0 * (m / M) ** 2 * 4, (lam, d)
    for part in range(3):
        ratio = diffs[0][part] / diffs[1][part]
        assert 60.0 < ratio < 160.0, (part, ratio)


def test_engine_parts_linear_in_charges_and_user_content():
    """Three scalars, four external flavours, arbitrary charges: parts ∝ Q_F and Q_S."""
    rng = np.random.default_rng(1)
    A = rng.normal(size=(4, 3)) + 1j * rng.normal(size=(4, 3))
    B = rng.normal(size=(4, 3)) + 1j * rng.normal(size=(4, 3))
    mS = jnp.array([120.0, 430.0, 2000.0])
    mext = jnp.array([1e-3, 0.1, 1.7, 4.2])
    p1 = D.dirac_dipole(800.0, mS, A, B, 1.0, 1.0, mext)
    p2 = D.dirac_dipole(800.0, mS, A, B, -2.5, 0.75, mext, coupling=0.3)
    np.testing.assert_allclose(p2.fermion, -2.5 * 0.3 * p1.fermion, rtol=1e-13)
    np.testing.assert_allclose(p2.scalar, 0.75 * 0.3 * p1.scalar, rtol=1e-13)
    np.testing.assert_allclose(p2.total, p2.fermion + p2.scalar, rtol=1e-15)
    # direct (unsubtracted) evaluation of the formula with mpmath-independent numpy loop values
    r = (800.0 / np.asarray(mS)) ** 2
    fF = {n: np.array([float(mp_loop(n, ri)) for ri in r]) / np.asarray(mS) ** 2 for n in ["I_F", "L_F"]}
    m = np.asarray(mext)
    ref = -(1 / (32 * math.pi**2)) * (
        800.0 * np.einsum("jk,ik,k->ji", A.conj(), B, fF["I_F"])
        + 0.5 * np.einsum("jk,ik,k->ji", A.conj(), m[:, None] * A, fF["L_F"])
        + 0.5 * np.einsum("jk,ik,k->ji", m[:, None] * B.conj(), B, fF["L_F"])
    )
    np.testing.assert_allclose(p1.fermion, ref, rtol=1e-12)


def test_br_identity_b_zero():
    """B = 0, m_e -> 0: BR(μ->eγ) = 3α/(64π G_F^2) |Σ_k A*_ek A_μk L_F(r_k)/m_k^2|^2 with Γ_μ = G_F^2 m^5/(192π^3)."""
    A = jnp.array([[0.3 + 0.1j, -0.2], [0.5, 0.4 - 0.2j]])  # rows (e, mu)
    B = jnp.zeros((2, 2))
    M, mS = 900.0, jnp.array([400.0, 1300.0])
    C = D.dirac_dipole(M, mS, A, B, -1.0, 0.0, jnp.array([0.0, M_MU]), E).total
    gamma = G_F**2 * M_MU**5 / (192 * math.pi**3)
    br = D.radiative_branching_ratio(C[0, 1], C[1, 0], M_MU, gamma)
    assert C[1, 0] == 0  # C^{mu e} ∝ m_e
    r = (M / np.asarray(mS)) ** 2
    S = sum(np.conj(A[0, k]) * A[1, k] * float(mp_loop("L_F", r[k])) / float(mS[k]) ** 2 for k in range(2))
    ref = 3 * ALPHA / (64 * math.pi * G_F**2) * abs(S) ** 2
    assert rel(br, ref) < 1e-12


def test_radiative_br_phase_space():
    C1, C2 = 1e-13 + 2e-14j, -3e-14j
    b0 = D.radiative_branching_ratio(C1, C2, 1.777, 2.27e-12)
    b1 = D.radiative_branching_ratio(C1, C2, 1.777, 2.27e-12, m_j=0.1057)
    assert rel(b1, b0 * (1 - (0.1057 / 1.777) ** 2) ** 3) < 1e-14
    assert rel(b0, 1.777**3 / (4 * math.pi * 2.27e-12) * (abs(C1) ** 2 + abs(C2) ** 2)) < 1e-14


# ---------------------------------------------------------------------------------------------------
# Majorana transition moments
# ---------------------------------------------------------------------------------------------------
def _model_couplings(y, yp, theta):
    c, s = math.cos(theta), math.sin(theta)
    O = np.array([[c, s], [-s, c]])
    y, yp = np.asarray(y), np.asarray(yp)
    return jnp.asarray(np.outer(y, O[0])), jnp.asarray(np.outer(yp, O[1]))


def test_majorana_matches_closed_formula():
    A = jnp.array([[0.4 + 0.1j, -0.3], [0.2, 0.6j], [-0.5, 0.1 + 0.1j]])
    B = jnp.array([[0.1, 0.2 - 0.3j], [0.7, -0.1], [0.3j, 0.4]])
    M, mS, g = 1500.0, jnp.array([600.0, 2100.0]), 0.8
    for QF, QS in [(1.0, -1.0), (1.0, 0.0), (0.3, 0.9)]:
        lam = D.majorana_transition_moment(M, mS, A, B, QF, QS, g)
        r = [(M / float(x)) ** 2 for x in mS]
        fF = [float(mp_loop("I_F", ri)) / float(x) ** 2 for ri, x in zip(r, mS)]
        fS = [float(mp_loop("I_S", ri)) / float(x) ** 2 for ri, x in zip(r, mS)]
        Ac, Bn = np.conj(np.asarray(A)), np.asarray(B)
        W = np.einsum("ak,bk->abk", Ac, Bn) - np.einsum("bk,ak->abk", Ac, Bn)
        pre = g * M / (16 * math.pi**2)
        refF = pre * QF * np.einsum("abk,k->ab", W, fF)
        refS = -pre * QS * np.einsum("abk,k->ab", W, fS)
        np.testing.assert_allclose(lam.fermion, refF, rtol=1e-12, atol=1e-30)
        np.testing.assert_allclose(lam.scalar, refS, rtol=1e-12, atol=1e-30)
        if QS == -QF:
            fK = [float(mp_loop("K", ri)) / float(x) ** 2 for ri, x in zip(r, mS)]
            np.testing.assert_allclose(lam.total, pre * QF * np.einsum("abk,k->ab", W, fK), rtol=1e-12)


@pytest.mark.parametrize("a,b", [(0.7, 0.4), (0.5 + 0.3j, -0.2 + 0.6j)])
def test_pseudo_dirac_identity(a, b):
    """Two degenerate Majorana states from one Dirac state: λ_12 = i (μ + i d) part by part."""
    M, mS, g = 900.0, jnp.array([350.0, 1200.0]), 0.6
    ka, kb = np.array([1.0, -0.6]), np.array([0.3, 0.8])  # scalar-column structure
    a_col, b_col = a * ka, b * kb
    A2 = jnp.asarray(np.stack([a_col, 1j * a_col]) / math.sqrt(2))
    B2 = jnp.asarray(np.stack([b_col, 1j * b_col]) / math.sqrt(2))
    lam = D.majorana_transition_moment(M, mS, A2, B2, 1.0, -1.0, g)
    mu = D.dirac_moment(M, mS, jnp.asarray(a_col[None]), jnp.asarray(b_col[None]), 1.0, -1.0, g)
    for lp, mp_ in zip(lam, mu):
        assert rel(lp[0, 1], 1j * mp_[0, 0]) < 1e-13
        assert abs(lp[0, 0]) == 0 and abs(lp[1, 1]) == 0
    if np.isrealobj(np.asarray(a)) and np.isrealobj(np.asarray(b)):
        assert rel(abs(lam.total[0, 1]), abs(float(jnp.real(mu.total[0, 0])))) < 1e-13
    # the Dirac moment is g Q_F M Re(A* B) K / (16 π^2 m^2) per scalar (Q_S = -Q_F)
    r = [(M / float(x)) ** 2 for x in mS]
    ref = sum(
        g * M * np.conj(a_col[k]) * b_col[k] * float(mp_loop("K", r[k])) / (16 * math.pi**2 * float(mS[k]) ** 2)
        for k in range(2)
    )
    assert rel(mu.total[0, 0], ref) < 1e-12


def test_fermion_part_does_not_cancel():
    """With a dark-charged VLL both radiated parts contribute to the Majorana moment (docs/physics.md section 3)."""
    A, B = _model_couplings([0.5, 0.2, 0.1], [0.1, 0.6, 0.3], 0.5)
    lam = D.majorana_transition_moment(1000.0, jnp.array([300.0, 700.0]), A, B, 1.0, -1.0)
    ratio = abs(lam.fermion[0, 1]) / abs(lam.scalar[0, 1])
    assert 0.1 < ratio < 10.0


_lam_jit = jax.jit(lambda M, mS, A, B: D.majorana_transition_moment(M, mS, A, B, 1.0, -1.0, method="quadrature").total)


@settings(max_examples=25)
@given(
    th=st.floats(0.05, 1.5),
    l1=st.floats(1.0, 3.5),
    l2=st.floats(1.0, 3.5),
    lM=st.floats(2.0, 4.0),
    y=st.lists(st.floats(-2, 2), min_size=3, max_size=3),
    yp=st.lists(st.floats(-2, 2), min_size=3, max_size=3),
)
def test_majorana_properties(th, l1, l2, lM, y, yp):
    A, B = _model_couplings(y, yp, th)
    mS = jnp.array([10**l1, 10**l2])
    lam = _lam_jit(10**lM, mS, A, B)
    scale = 1e-30 + float(jnp.max(jnp.abs(lam)))
    assert float(jnp.max(jnp.abs(lam + lam.T))) <= 1e-14 * scale
    # linear in M_F at fixed r = M^2 / m_S^2:  λ(2M, 2m_S) = λ(M, m_S) * 2 / 4
    lam2 = _lam_jit(2 * 10**lM, 2 * mS, A, B)
    assert float(jnp.max(jnp.abs(lam2 - 0.5 * lam))) <= 1e-13 * scale


def test_majorana_vanishing_cases():
    y, yp = [0.5, -0.3, 0.8], [0.2, 0.9, -0.4]
    mS = jnp.array([300.0, 800.0])

    def size(A, B, m=mS):
        return float(jnp.max(jnp.abs(D.majorana_transition_moment(1e3, m, A, B, 1.0, -1.0).total)))

    generic = size(*_model_couplings(y, yp, 0.6))
    assert generic > 1e-9
    for th in [0.0, math.pi / 2]:  # cos(pi/2) = 6e-17 in floating point
        assert size(*_model_couplings(y, yp, th)) < 1e-15 * generic
    assert size(*_model_couplings(y, 1.7 * np.asarray(y), 0.6)) < 1e-15 * generic  # y' ∥ y (real)
    assert size(*_model_couplings(y, yp, 0.6), m=jnp.array([500.0, 500.0])) < 1e-15 * generic  # GIM
    # complex y with relative phases: y' = c y does NOT give λ = 0 (documented)
    yc = np.array([0.5, -0.3j, 0.8 * np.exp(0.4j)])
    assert size(*_model_couplings(yc, 1.7 * yc, 0.6)) > 0.01 * generic


def _K_over_m2(M, m):
    r = (mp.mpf(M) / mp.mpf(m)) ** 2
    return (r - 1 - mp.log(r)) / (r - 1) ** 2 / mp.mpf(m) ** 2


@pytest.mark.parametrize("delta", [1e-3, 1e-6, 1e-10])
def test_majorana_gim_near_degenerate_exact_zero_sum(delta):
    """Coefficients summing to zero exactly (A = y ⊗ (1, 1), B = y' ⊗ (1, -1)): the reference-subtracted sum keeps
    full relative precision as m_S2 -> m_S1 (a plain Σ_k c_k F_k loses ~1e-16/δ)."""
    y, yp = np.array([0.5, -0.3, 0.8]), np.array([0.2, 0.9, -0.4])
    A, B = jnp.asarray(np.outer(y, [1.0, 1.0])), jnp.asarray(np.outer(yp, [1.0, -1.0]))
    M, m1 = 1000.0, 400.0
    m2 = m1 * (1 + delta)
    lam = D.majorana_transition_moment(M, jnp.array([m1, m2]), A, B, 1.0, -1.0).total
    mp.mp.dps = 50
    ref = M / (16 * mp.pi**2) * (mp.mpf(y[0]) * yp[1] - mp.mpf(y[1]) * yp[0]) * (_K_over_m2(M, m1) - _K_over_m2(M, m2))
    mp.mp.dps = 30
    assert rel(lam[0, 1], ref) < 1e-10


@pytest.mark.parametrize("delta", [1e-3, 1e-6, 1e-10])
def test_majorana_gim_near_degenerate_model(delta):
    """Model couplings A = y O_1k, B = y' O_2k: Σ_k c_k = 0 only up to the rounding of the float inputs, so the
    attainable relative accuracy is ~1e-16/δ (input conditioning; djax.observables uses the factorised form)."""
    y, yp, th = [0.5, -0.3, 0.8], [0.2, 0.9, -0.4], 0.6
    A, B = _model_couplings(y, yp, th)
    M, m1 = 1000.0, 400.0
    m2 = m1 * (1 + delta)
    lam = D.majorana_transition_moment(M, jnp.array([m1, m2]), A, B, 1.0, -1.0).total
    s, c = math.sin(th), math.cos(th)
    mp.mp.dps = 50
    # Σ_k O_1k O_2k K_k = -s c (K_1 - K_2) for O = [[c, s], [-s, c]]
    ref = -M / (16 * mp.pi**2) * s * c * (y[0] * yp[1] - y[1] * yp[0]) * (_K_over_m2(M, m1) - _K_over_m2(M, m2))
    mp.mp.dps = 30
    assert rel(lam[0, 1], ref) < 1e-12 + 1e-15 / delta


# ---------------------------------------------------------------------------------------------------
# transformations and derivatives
# ---------------------------------------------------------------------------------------------------
def test_jit_vmap_consistency():
    A = jnp.array([[0.4, -0.3], [0.2, 0.6]]) + 0j
    B = jnp.array([[0.1, 0.2], [0.7, -0.1j]])
    mS = jnp.array([300.0, 800.0])
    Ms = jnp.array([200.0, 800.0, 5000.0])
    mext = jnp.array([M_E, M_MU])
    f = jax.jit(lambda M: D.dirac_dipole(M, mS, A, B, -1.0, 0.0, mext, E, method="quadrature").total)
    batched = jax.vmap(f)(Ms)
    for i, M in enumerate(Ms):
        np.testing.assert_allclose(batched[i], D.dirac_dipole(M, mS, A, B, -1.0, 0.0, mext, E).total, rtol=1e-13)
    g = jax.jit(jax.vmap(lambda M: D.g2_exact(M_MU, M, mS, A[1], B[1], -1.0, 0.0)))(Ms)
    for i, M in enumerate(Ms):
        assert rel(g[i], D.g2_exact(M_MU, M, mS, A[1], B[1], -1.0, 0.0)) < 1e-14


@pytest.mark.parametrize("mS", [(300.0, 800.0), (300.0, 300.0 * (1 + 1e-9)), (10.0, 1e4), (1e4, 1.0001e4)])
def test_methods_agree(mS):
    """Closed forms (djax.loops) and the tanh-sinh backend give the same engine output."""
    A = jnp.array([[0.4, -0.3], [0.2, 0.6j]])
    B = jnp.array([[0.1, 0.2], [0.7, -0.1]])
    for M in [100.0, 1e4]:
        a = D.dirac_dipole(M, jnp.array(mS), A, B, 0.7, 0.3, jnp.array([1e-3, 0.1]))
        b = D.dirac_dipole(M, jnp.array(mS), A, B, 0.7, 0.3, jnp.array([1e-3, 0.1]), method="quadrature")
        for x, y in zip(a, b):
            assert float(jnp.max(jnp.abs(x - y))) <= 1e-13 * float(jnp.max(jnp.abs(x)))


_MEXT = jnp.array([M_E, M_MU])
_P0 = jnp.concatenate([jnp.log(jnp.array([1000.0, 300.0, 800.0])), jnp.linspace(-0.5, 0.7, 16)])


def _unpack(p):
    """One real vector -> (M, m_S, A, B): log masses, then Re/Im of the 2x2 couplings."""
    M, m = jnp.exp(p[0]), jnp.exp(p[1:3])
    A = (p[3:7] + 1j * p[7:11]).reshape(2, 2)
    B = (p[11:15] + 1j * p[15:19]).reshape(2, 2)
    return M, m, A, B


def _real_out(z):
    return jnp.concatenate([jnp.real(z).ravel(), jnp.imag(z).ravel()]) * 1e7


def _dirac_vec(method):
    return lambda p: _real_out(D.dirac_dipole(*_unpack(p), -1.0, 0.3, _MEXT, 1.0, method=method).total)


def _majorana_vec(p):
    return _real_out(D.majorana_transition_moment(*_unpack(p), 1.0, -1.0).total)


def _exact_vec(p):
    M, m, A, B = _unpack(p)
    return _real_out(D.dipole_exact(M_MU, M * 0.3, m, A[1], B[1], -1.0, 0.3, 1.0).total[None]) * 1e2


def _check_hessian(fvec, p, tol=1e-7, idx=(0, 1, 2, 3, 8, 12, 17)):
    """Second order: jax.hessian of a weighted sum vs central differences of jax.grad (rows ``idx``)."""
    w = jnp.linspace(0.3, 1.1, fvec(p).size)
    s = lambda q: jnp.dot(w, fvec(q))  # noqa: E731
    H = jax.jit(jax.hessian(s))(p)
    gr = jax.jit(jax.grad(s))
    h = 1e-5
    fd = jnp.stack([(gr(p.at[i].add(h)) - gr(p.at[i].add(-h))) / (2 * h) for i in idx])
    assert bool(jnp.all(jnp.isfinite(H)))
    assert float(jnp.max(jnp.abs(H[jnp.array(idx)] - fd))) <= tol * float(jnp.max(jnp.abs(H)))


@pytest.mark.parametrize("masses", [(1000.0, 300.0, 800.0), (1000.0, 500.0, 500.05)])
def test_gradients_engine_quadrature(masses):
    p = _P0.at[:3].set(jnp.log(jnp.array(masses)))
    f = jax.jit(_dirac_vec("quadrature"))
    check_grads(f, (p,), order=1, modes=("rev",), atol=1e-6, rtol=1e-6)
    if masses[2] - masses[1] < 1.0:  # second order at the near-degenerate point only (time)
        _check_hessian(f, p)


def test_gradients_exact():
    check_grads(jax.jit(_exact_vec), (_P0,), order=1, modes=("rev",), atol=1e-6, rtol=1e-6)
    _check_hessian(_exact_vec, _P0)
    # derivative in the external mass is finite and matches a central difference
    f = jax.jit(lambda m: D.g2_exact(m, 300.0, jnp.array([200.0]), jnp.array([1.0]), jnp.array([0.5]), -1.0, 0.0))
    h = 1e-5
    assert rel(jax.grad(f)(M_MU), (f(M_MU + h) - f(M_MU - h)) / (2 * h)) < 1e-7


@pytest.mark.slow
@pytest.mark.parametrize("masses", [(1000.0, 300.0, 800.0), (1000.0, 500.0, 500.05), (1000.0, 1000.0, 1000.0)])
def test_gradients_engine_closed(masses):
    """Closed-form backend (djax.loops), run eagerly: compiling its second derivatives under jit takes minutes
    and GBs of memory on 2 cores (see the report), hence slow and un-jitted."""
    p = _P0.at[:3].set(jnp.log(jnp.array(masses)))
    check_grads(_dirac_vec("closed"), (p,), order=1, modes=("fwd", "rev"), atol=1e-6, rtol=1e-6)
    check_grads(_majorana_vec, (p,), order=1, modes=("rev",), atol=1e-6, rtol=1e-6)
    # second order: closed vs quadrature backends (the latter checked against finite differences above)
    w = jnp.linspace(0.3, 1.1, 8)
    Hc = jax.hessian(lambda q: jnp.dot(w, _dirac_vec("closed")(q)))(p)
    Hq = jax.hessian(lambda q: jnp.dot(w, _dirac_vec("quadrature")(q)))(p)
    assert float(jnp.max(jnp.abs(Hc - Hq))) <= 1e-10 * float(jnp.max(jnp.abs(Hq)))


def test_shape_validation():
    with pytest.raises(ValueError):
        D.dirac_dipole(1e3, jnp.array([1.0, 2.0]), jnp.ones((3, 2)), jnp.ones((3, 3)), -1.0, 0.0, jnp.ones(3))
    with pytest.raises(ValueError):
        D.dirac_dipole(1e3, jnp.array([1.0, 2.0]), jnp.ones((3, 2)), jnp.ones((3, 2)), -1.0, 0.0, jnp.ones(2))
