"""Solar-neutrino scattering with a dark-photon-mediated transition moment (docs/physics.md section 6)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hst
from jax.test_util import check_grads
from scipy.integrate import quad

from djax import constants as C
from djax.observables import _solar as so
from djax.observables import _solar_tables as st
from tests.reference import solar_reference as ref

TABLES = st.solar_tables()


def approx(expected, rel=1e-12, abs=0.0):  # noqa: A002
    """pytest.approx without its default absolute tolerance of 1e-12 (moments here are ~1e-11)."""
    return pytest.approx(expected, rel=rel, abs=abs)


U = np.asarray(TABLES["U"])
EXPS = ("borexino", "xenonnt")
EPS = 1.0e-3


def _antisym(v):
    """Antisymmetric 3x3 from (l12, l13, l23)."""
    l12, l13, l23 = v
    z = jnp.zeros((), dtype=jnp.result_type(l12, l13, l23))
    return jnp.array([[z, l12, l13], [-l12, z, l23], [-l13, -l23, z]])


def _universal_lambda(mu_muB, eps=EPS):
    """Flavour-basis lambda whose every mass state has sum_j |eps lambda^mass_jk/mu_B|^2 = mu^2."""
    a = mu_muB * C.MU_BOHR / eps / math.sqrt(2.0)
    lm = np.array([[0, a, 1j * a], [-a, 0, -a], [-1j * a, a, 0]], dtype=complex)
    return U.conj() @ lm @ U.conj().T  # inverse of lambda^mass = U^T lambda U


GENERIC = _antisym(jnp.array([0.7e-6 + 0.2e-6j, -0.3e-6 + 0.0j, 1.1e-6 - 0.5e-6j]))


# --- inputs -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "source, mean_mev, tol",
    # Bahcall, "Neutrino Astrophysics" (1989), Table 6.2 (memory): <E_nu> of the continuous sources.
    [("pp", 0.2668, 3e-3), ("13N", 0.7063, 3e-3), ("15O", 0.9964, 3e-3), ("17F", 0.9977, 3e-3), ("8B", 6.735, 1e-2)],
)
def test_spectra_normalised_and_mean_energy(source, mean_mev, tol):
    if source == "8B":
        ends = sorted(e0 for _, e0 in st.b8_components())
        top, pts = ends[-1], ends[:-1]
    else:
        top, pts = st.BETA_SOURCES[source][0], None
    f = lambda e: float(st.beta_spectrum(e, source))  # noqa: E731
    norm = quad(f, 0.0, top, points=pts, limit=400, epsabs=0.0, epsrel=1e-8)[0]
    mean = quad(lambda e: e * f(e), 0.0, top, points=pts, limit=400, epsabs=0.0, epsrel=1e-8)[0]
    assert norm == approx(1.0, abs=1e-7)
    assert mean / st.MEV == approx(mean_mev, rel=tol)
    # the reference's independent scalar implementation of the same shape agrees pointwise
    for e in np.linspace(0.05, 0.95, 7) * top:
        assert ref.spectrum(e, source) == approx(f(e), rel=1e-9)


def test_pmns_unitary_and_inputs():
    assert np.allclose(U @ U.conj().T, np.eye(3), atol=1e-14)
    assert abs(U[0, 2]) ** 2 == approx(C.SIN2_THETA13, rel=1e-12)
    assert abs(U[0, 1]) ** 2 / (1 - C.SIN2_THETA13) == approx(C.SIN2_THETA12, rel=1e-12)
    assert abs(U[1, 2]) ** 2 / (1 - C.SIN2_THETA13) == approx(C.SIN2_THETA23, rel=1e-12)
    assert sum(n for n, _ in st.XE_SHELLS) == 54


@given(hst.floats(1e-5, 20.0), hst.floats(0.0, 300.0))
def test_msw_fractions_sum_to_one(E_mev, ne):
    P = st.msw_mass_fractions(E_mev * st.MEV, ne)
    assert np.all(P >= 0.0)
    assert P.sum() == approx(1.0, abs=1e-14)


def test_msw_limits_and_survival_probabilities():
    # vacuum (n_e = 0): P_ek = |U_ek|^2; very dense: nu_e is produced as nu_2 (times c13^2) plus s13^2 of nu_3
    assert np.allclose(st.msw_mass_fractions(1e-3, 0.0), np.abs(U[0]) ** 2, atol=1e-14)
    assert np.allclose(st.msw_mass_fractions(1.0, 245.0), [0, 1 - C.SIN2_THETA13, C.SIN2_THETA13], atol=1e-6)
    # pp spectrum-averaged P_ee ≈ 0.55 (Borexino 2018: 0.57 +- 0.09); 8B at 10 MeV ≈ 0.3
    E0 = st.BETA_SOURCES["pp"][0]
    pee_pp = quad(lambda e: float(st.beta_spectrum(e, "pp") * st.survival_probability(e, "pp")), 0, E0)[0]
    assert 0.52 < pee_pp < 0.58
    assert 0.27 < float(st.survival_probability(10e-3, "8B")) < 0.33
    assert 0.48 < float(st.survival_probability(0.8618e-3, "7Be")) < 0.56


# --- mass basis -------------------------------------------------------------------------------------------------
_c = hst.complex_numbers(max_magnitude=10.0, allow_nan=False, allow_infinity=False)


@given(_c, _c, _c)
def test_mass_basis_unitarity_and_antisymmetry(a, b, c):
    lam = _antisym(jnp.array([a, b, c], dtype=jnp.complex128))
    lm = np.asarray(so.mass_basis_moments(lam, U))
    assert np.allclose(lm, -lm.T, atol=1e-12 * (1 + abs(a) + abs(b) + abs(c)))
    assert np.sum(np.abs(lm) ** 2) == approx(float(jnp.sum(jnp.abs(lam) ** 2)), rel=1e-12, abs=1e-200)
    # Majorana phases only rephase lambda^mass_jk
    P = np.diag(np.exp(1j * np.array([0.0, 0.7, -1.9])))
    lmP = np.asarray(so.mass_basis_moments(lam, U @ P))
    assert np.allclose(np.abs(lmP), np.abs(lm), atol=1e-12 * (1 + abs(a) + abs(b) + abs(c)))
    # sum_k mu_k^2 = sum_jk |eps lambda^mass/mu_B|^2
    mu2 = so.mass_state_moments_sq_muB(lam, 1.0, U)
    assert float(jnp.sum(mu2)) == approx(float(np.sum(np.abs(lm) ** 2)) / C.MU_BOHR**2, rel=1e-12, abs=1e-200)


def test_mass_basis_convention():
    lm = np.array([[0, 1.0, 2.0j], [-1.0, 0, 3.0], [-2.0j, -3.0, 0]])
    lam = U.conj() @ lm @ U.conj().T
    assert np.allclose(np.asarray(so.mass_basis_moments(lam, U)), lm, atol=1e-13)
    # a pure nu_e - nu_mu moment: lambda^mass_jk = U_ej U_muk - U_muj U_ek
    lam = np.zeros((3, 3), complex)
    lam[0, 1], lam[1, 0] = 1.0, -1.0
    expect = np.outer(U[0], U[1]) - np.outer(U[1], U[0])
    assert np.allclose(np.asarray(so.mass_basis_moments(lam, U)), expect, atol=1e-14)


# --- exact massless limit ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("exp", EXPS)
def test_exact_massless_limit(exp):
    mu = 2.8e-11
    lam = _universal_lambda(mu)
    assert np.allclose(np.asarray(so.mass_state_moments_sq_muB(lam, EPS, U)), mu**2, rtol=1e-13)
    fn = so.borexino_mu_equiv_muB if exp == "borexino" else so.xenonnt_mu_equiv_muB
    assert float(np.sum(TABLES[exp]["w0"])) == approx(1.0, abs=1e-15)
    for m in (0.0, 1e-12, 1e-11):
        assert float(fn(lam, EPS, m, TABLES)) == approx(mu, rel=1e-12)
    assert float(so.effective_moment_massless_muB(lam, EPS, TABLES, exp)) == approx(mu, rel=1e-13)
    # at m = 1e-9 GeV the propagator already deviates by m^2/(2 m_e T) <= 5e-10 (XENONnT, T = 1 keV):
    # mu_equiv/mu - 1 = -<m^2/(2 m_e T)> to leading order, bounded by the window's lowest recoil.
    m = 1e-9
    t1 = st.EXPERIMENTS[exp]["window"][0]
    dev = float(fn(lam, EPS, m, TABLES)) / mu - 1.0
    assert -(m**2) / (2 * C.M_E * t1) <= dev <= 0.0


# --- m_A' dependence vs the independent reference ---------------------------------------------------------------
MASSES = (1e-5, 3.7e-5, 2.3e-4, 1.3e-3, 1.1e-2, 0.17, 1.0)


@pytest.fixture(scope="module", params=EXPS)
def reference(request):
    w0, wm = ref.reference_weights(request.param, MASSES)
    return request.param, w0, wm


def test_weights_vs_reference(reference):
    exp, w0, wm = reference
    assert np.allclose(TABLES[exp]["w0"], w0, rtol=1e-6)
    got = np.array([np.asarray(so.solar_weights(m, TABLES[exp])) for m in MASSES])
    assert np.allclose(got, wm, rtol=1e-5, atol=0.0)


def test_ratio_vs_reference(reference):
    exp, w0, wm = reference
    mu2 = np.asarray(so.mass_state_moments_sq_muB(GENERIC, EPS, U))
    fn = so.borexino_mu_equiv_muB if exp == "borexino" else so.xenonnt_mu_equiv_muB
    mu0 = float(fn(GENERIC, EPS, 0.0, TABLES))
    assert mu0 == approx(math.sqrt(w0 @ mu2), rel=1e-6)
    for m, w in zip(MASSES, wm):
        ratio_ref = math.sqrt((w @ mu2) / (w0 @ mu2))
        assert float(fn(GENERIC, EPS, m, TABLES)) / mu0 == approx(ratio_ref, rel=1e-3)


@pytest.mark.parametrize("exp", EXPS)
def test_monotonic_and_heavy_scaling(exp):
    tab = TABLES[exp]
    f = jax.jit(jax.vmap(lambda m: so.mu_equiv_muB(GENERIC, EPS, m, tab, U)))
    ms = jnp.concatenate([jnp.zeros(1), jnp.logspace(-10, 4, 2001)])
    mu = np.asarray(f(ms))
    assert np.all(np.isfinite(mu)) and np.all(mu > 0)
    assert np.all(np.diff(mu) <= 0.0)
    assert np.all(np.diff(mu[ms > 2e-7]) < 0.0)
    # mu ∝ m^-2 (rate ∝ m^-4) well above sqrt(2 m_e T_max)
    heavy = np.asarray(f(jnp.array([1.0, 10.0, 100.0, 1000.0, 1e4])))
    assert np.allclose(heavy[1:] / heavy[:-1], 1e-2, rtol=1e-6)
    # tables can be passed as a jit argument (pytree of arrays) as well as closed over
    jitted = jax.jit(so.mu_equiv_muB)(GENERIC, EPS, 2e-3, tab, U)
    assert float(jitted) == approx(float(so.mu_equiv_muB(GENERIC, EPS, 2e-3, tab, U)), rel=1e-13)
    # continuity at the grid edges
    lo, hi = math.exp(tab["ln_m"][0]), math.exp(tab["ln_m"][-1])
    for edge in (lo, hi):
        a, b = np.asarray(f(jnp.array([edge * (1 - 1e-10), edge * (1 + 1e-10)])))
        assert a == approx(b, rel=1e-8)


@pytest.mark.parametrize("exp", EXPS)
def test_weights_stay_accurate_between_nodes(exp):
    # midpoints of the table grid against the reference (worst case of the interpolation)
    tab = TABLES[exp]
    lnm = tab["ln_m"]
    i = int(np.searchsorted(lnm, math.log(3e-4 if exp == "borexino" else 2e-5)))
    m = math.exp(0.5 * (lnm[i] + lnm[i + 1]))
    _, wm = ref.reference_weights(exp, [m])
    assert np.allclose(np.asarray(so.solar_weights(m, tab)), wm[0], rtol=1e-5)


# --- differentiability ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("exp", EXPS)
def test_gradients(exp):
    tab = TABLES[exp]
    lnm = tab["ln_m"]
    i = int(np.searchsorted(lnm, math.log(1e-3 if exp == "borexino" else 1e-4)))
    x_mid = 0.5 * (lnm[i] + lnm[i + 1])

    def f(p, log_eps, x):
        lam = _antisym(1e-6 * (p[:3] + 1j * p[3:]))
        return 1e11 * so.mu_equiv_muB(lam, jnp.exp(log_eps), jnp.exp(x), tab, U)

    p0 = jnp.array([0.7, -0.3, 1.1, 0.2, 0.0, -0.5])
    check_grads(f, (p0, jnp.log(EPS), x_mid), order=1, modes=("fwd", "rev"), eps=1e-6)

    g = jax.jit(jax.grad(lambda m: so.mu_equiv_muB(GENERIC, EPS, m, tab, U)))
    edges = [0.0, 1e-12, math.exp(lnm[0]), math.exp(lnm[1]), math.exp(lnm[-1]), math.exp(lnm[-2]), 1e3]
    for m in edges:
        assert np.isfinite(float(g(m)))
        assert float(g(m)) <= 0.0
    gl = jax.grad(lambda lam: so.mu_equiv_muB(lam, EPS, 1e-3, tab, U))(jnp.zeros((3, 3)))
    assert np.all(np.isfinite(np.asarray(gl)))


# --- cross section and red-giant moment ---------------------------------------------------------------------------
def test_dsigma_dT():
    T, E = 0.1e-3, 0.8618e-3
    pref = math.pi * C.ALPHA_EM**2 / C.M_E**2
    assert float(so.dsigma_dT_moment(T, E, 1e-22)) == approx(pref * 1e-22 * (1 / T - 1 / E), rel=1e-14)
    S = 2 * C.M_E * T / (2 * C.M_E * T + 0.01**2)
    assert float(so.dsigma_dT_moment(T, E, 1e-22, 0.01)) == approx(pref * 1e-22 * S**2 * (1 / T - 1 / E), rel=1e-14)
    assert float(so.dsigma_dT_moment(0.7e-3, E, 1e-22)) == 0.0  # above T_max = 0.665 MeV
    # pi alpha^2/m_e^2 = 2.495e-25 cm^2 (Vogel & Engel 1989): mu^2 = 1e-22, E = 1 MeV, T = 0.1 MeV gives
    # 2.495e-25 * 1e-22 * (1/0.1 - 1/1) cm^2/MeV
    val_cm2_per_mev = float(so.dsigma_dT_moment(1e-4, 1e-3, 1e-22)) * C.HBARC_GEV_CM**2 * 1e-3
    assert val_cm2_per_mev == approx(2.495e-25 * 1e-22 * 9.0, rel=1e-3)


def test_red_giant_moment():
    lam = GENERIC
    mu, mask = so.red_giant_moment_muB(lam, EPS, 1e-7)
    lm = so.mass_basis_moments(lam, U)
    mu_m, _ = so.red_giant_moment_muB(lm, EPS, 1e-7)
    assert float(mu) == approx(float(mu_m), rel=1e-12)  # basis independent
    expect = math.sqrt(sum(abs(complex(lam[a, b])) ** 2 for a in range(3) for b in range(a + 1, 3))) * EPS
    assert float(mu) == approx(expect / C.MU_BOHR, rel=1e-13)
    assert float(mask) == approx(1.0, abs=1e-8)
    _, mask_heavy = so.red_giant_moment_muB(lam, EPS, 1e-3)
    assert float(mask_heavy) == approx((so.OMEGA_P_RG / 1e-3) ** 4, rel=1e-7)
    g = jax.grad(lambda m: so.red_giant_moment_muB(lam, EPS, m)[1])(0.0)
    assert np.isfinite(float(g))
