"""Direct moment searches beyond Borexino / XENONnT: LZ, PandaX-4T (solar) and GEMMA, TEXONO (reactor nu_e-bar),
each through the equivalent-moment recast with the dark-photon propagator S(T) = 2 m_e T/(2 m_e T + m_A'^2)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads
from scipy.integrate import quad

import djax
from djax import Params
from djax import constants as C
from djax.errors import DjaxError
from djax.io import load_registry
from djax.likelihood import DIRECT_DETECTION_OBSERVABLES, cl_thresholds, is_direct, preset_ids
from djax.observables import _reactor as rx
from djax.observables import _reactor_tables as rt
from djax.observables import _solar as so
from djax.observables import _solar_tables as st
from djax.observables import observable_info, recoil_shape

RT = rt.reactor_tables()
ST = st.solar_tables()
U = np.asarray(ST["U"])
NEW = ("lz_mu_equiv_muB", "pandax4t_mu_equiv_muB", "gemma_mu_equiv_muB", "texono_mu_equiv_muB")
EPS = 1.0e-3


def _antisym(l12, l13, l23):
    z = jnp.zeros((), dtype=jnp.result_type(l12, l13, l23))
    return jnp.array([[z, l12, l13], [-l12, z, l23], [-l13, -l23, z]])


GENERIC = _antisym(0.7e-6 + 0.2e-6j, -0.3e-6 + 0.0j, 1.1e-6 - 0.5e-6j)


# --- reactor inputs --------------------------------------------------------------------------------------------
def test_reactor_spectrum_normalised_and_fractions():
    assert sum(rt.FISSION_FRACTIONS.values()) == pytest.approx(1.0, abs=1e-15)
    assert set(rt.FISSION_FRACTIONS) == set(rt.VOGEL_ENGEL)
    norm = sum(
        quad(lambda e: float(rt.reactor_spectrum(e)), a, b, limit=200)[0] for a, b in ((0, 2e-3), (2e-3, rt.E_HI))
    )
    assert norm == pytest.approx(1.0, rel=1e-10)
    # each Vogel-Engel spectrum is positive and falling above 1 MeV; the yield per fission is ~ 5-6.5 nu_e-bar
    E = np.linspace(1e-3, 9e-3, 50)
    for iso in rt.VOGEL_ENGEL:
        s = rt.isotope_spectrum(E, iso)
        assert np.all(s > 0) and np.all(np.diff(s) < 0), iso
    assert 5.0 < rt.neutrinos_per_fission() < 6.5
    assert float(rt.reactor_spectrum(rt.E_HI * 1.01)) == 0.0 and float(rt.reactor_spectrum(-1e-3)) == 0.0


def test_ge_stepping():
    assert sum(n for n, _ in rt.GE_SHELLS) == 32
    assert rt.ge_stepping_fraction(5e-6) == pytest.approx(30 / 32)
    assert rt.ge_stepping_fraction(12e-6) == 1.0
    assert rt.ge_stepping_fraction(1e-9) == 0.0


def test_tables_have_the_solar_layout():
    for name, cfg in rt.REACTOR_EXPERIMENTS.items():
        tab = RT[name]
        assert tab["ln_w"].shape == (st.M_GRID_N, 1) and tab["w0"].tolist() == [1.0]
        assert float(tab["mu90_muB"]) == cfg["mu90"]
    for name in ("lz", "pandax4t"):
        assert float(np.sum(ST[name]["w0"])) == pytest.approx(1.0, abs=1e-15)
    assert float(ST["lz"]["mu90_muB"]) == 1.1e-11 and math.isnan(float(ST["pandax4t"]["mu90_muB"]))


# --- recast ----------------------------------------------------------------------------------------------------
def _w_reference(name, m):
    """Independent W(m)/W(0) of a reactor experiment by nested adaptive quadrature."""
    t1, t2 = rt.REACTOR_EXPERIMENTS[name]["window"]

    def k(T):
        f = quad(lambda e: float(rt.reactor_spectrum(e)) * (1 / T - 1 / e), st.e_min(T), rt.E_HI, limit=200)[0]
        return f * float(rt.ge_stepping_fraction(T))

    def s2(T):
        a = 2 * C.M_E * T
        return (a / (a + m * m)) ** 2

    pts = [b for _, b in rt.GE_SHELLS if t1 < b < t2]
    num = quad(lambda T: k(T) * s2(T), t1, t2, points=pts or None, limit=100, epsrel=1e-10)[0]
    den = quad(k, t1, t2, points=pts or None, limit=100, epsrel=1e-10)[0]
    return num / den


@pytest.mark.parametrize("name", tuple(rt.REACTOR_EXPERIMENTS))
@pytest.mark.parametrize("m", (3e-5, 1.5e-4, 2e-3))
def test_reactor_weight_matches_direct_integration(name, m):
    got = float(so.solar_weights(m, RT[name])[0])
    assert got == pytest.approx(_w_reference(name, m), rel=2e-6)


def test_massless_limit_is_the_flavour_moment():
    """m_A' -> 0: reactor mu_equiv = mu_e = sqrt(sum_b |eps lambda_eb/mu_B|^2); LZ/PandaX-4T = sqrt(sum_k w_k(0) mu_k^2)."""
    mu_e = math.sqrt(sum(abs(complex(GENERIC[0, b])) ** 2 for b in range(3))) * EPS / C.MU_BOHR
    for fn in (rx.gemma_mu_equiv_muB, rx.texono_mu_equiv_muB):
        assert float(fn(GENERIC, EPS, 0.0, RT)) == pytest.approx(mu_e, rel=1e-13)
        assert float(fn(GENERIC, EPS, 1e-9, RT)) == pytest.approx(mu_e, rel=1e-8)
    mu_k2 = np.asarray(so.mass_state_moments_sq_muB(GENERIC, EPS, U))
    for name, fn in (("lz", so.lz_mu_equiv_muB), ("pandax4t", so.pandax4t_mu_equiv_muB)):
        want = math.sqrt(float(np.sum(ST[name]["w0"] * mu_k2)))
        assert float(fn(GENERIC, EPS, 0.0, ST)) == pytest.approx(want, rel=1e-12)
    # through djax.observables: lambda_dark_GeV gives mu_e; the solar ones agree with the mass-state formula
    p = Params.default().replace(m_Aprime=jnp.asarray(1e-9))
    obs = djax.observables(p)
    lam = np.asarray(obs["lambda_dark_GeV"])
    mu_e_obs = float(p.epsilon) * math.sqrt(float(np.sum(np.abs(lam[0]) ** 2))) / C.MU_BOHR
    for key in ("gemma_mu_equiv_muB", "texono_mu_equiv_muB"):
        assert float(obs[key]) == pytest.approx(mu_e_obs, rel=1e-8)
    mu_k2 = np.asarray(so.mass_state_moments_sq_muB(np.conj(lam), float(p.epsilon), U))
    assert float(obs["lz_mu_equiv_muB"]) == pytest.approx(math.sqrt(float(np.sum(ST["lz"]["w0"] * mu_k2))), rel=1e-8)


def test_universal_moment_gives_mu_at_zero_mass():
    a = 2.0e-11 * C.MU_BOHR / EPS / math.sqrt(2.0)
    lm = np.array([[0, a, 1j * a], [-a, 0, -a], [-1j * a, a, 0]], dtype=complex)
    lam = U.conj() @ lm @ U.conj().T  # every mass state has mu_k = 2e-11 mu_B
    for fn in (so.lz_mu_equiv_muB, so.pandax4t_mu_equiv_muB):
        assert float(fn(jnp.asarray(lam), EPS, 0.0, ST)) == pytest.approx(2.0e-11, rel=1e-12)


@pytest.mark.parametrize("name", ("lz", "pandax4t", "gemma", "texono"))
def test_suppression_decreases_monotonically(name):
    tab = RT[name] if name in RT else ST[name]
    t2 = (rt.REACTOR_EXPERIMENTS if name in RT else st.EXPERIMENTS)[name]["window"][1]
    m = np.geomspace(1e-7, 10.0, 400)
    w = np.asarray(jax.vmap(lambda x: jnp.sum(so.solar_weights(x, tab)))(jnp.asarray(m)))
    assert w[0] == pytest.approx(1.0, rel=1e-4) and np.all(np.diff(w) < 0)
    # S(T)^2 <= (2 m_e T_2 / m^2)^2 on the whole window bounds the average
    assert np.all(w <= (2 * C.M_E * t2) ** 2 / m**4)


@pytest.mark.parametrize("name", tuple(rt.REACTOR_EXPERIMENTS))
def test_heavy_mediator_scaling(name):
    """m_A'^2 >> 2 m_e T_2: S^2 -> (2 m_e T)^2/m^4, so w(m) m^4 -> <(2 m_e T)^2> (massless-spectrum average)."""
    T, wT = rt.reactor_t_nodes(rt.REACTOR_EXPERIMENTS[name]["window"])
    K = rt.reactor_kernel(T) * wT
    avg = float(np.sum(K * (2 * C.M_E * T) ** 2) / np.sum(K))
    t1, t2 = rt.REACTOR_EXPERIMENTS[name]["window"]
    assert (2 * C.M_E * t1) ** 2 < avg < (2 * C.M_E * t2) ** 2
    for m in (0.5, 3.0, 50.0, 300.0):  # inside the table grid and above it (analytic m^-4 tail)
        w = float(so.solar_weights(m, RT[name])[0])
        assert w * m**4 == pytest.approx(avg, rel=1e-5), m
    # the moment itself falls as m^-2
    r = float(
        rx.reactor_mu_equiv_muB(GENERIC, EPS, 2.0, RT[name]) / rx.reactor_mu_equiv_muB(GENERIC, EPS, 1.0, RT[name])
    )
    assert r == pytest.approx(0.25, rel=1e-6)


def test_low_windows_are_suppressed_earlier_than_borexino():
    """The lower the recoil window, the lighter the dark photon at which the suppression sets in."""
    m = 3e-4
    w = {n: float(np.sum(so.solar_weights(m, (RT | ST)[n]))) for n in ("borexino", "texono", "gemma", "lz")}
    assert w["lz"] < w["gemma"] < w["texono"] < w["borexino"]


# --- gradients -------------------------------------------------------------------------------------------------
def test_gradients_finite_and_correct():
    def f(v, m):
        lam = _antisym(v[0] + 1j * v[1], v[2], v[3] - 0.5j * v[0])
        tot = rx.gemma_mu_equiv_muB(lam, EPS, m, RT) + rx.texono_mu_equiv_muB(lam, EPS, m, RT)
        return 1e11 * (tot + so.lz_mu_equiv_muB(lam, EPS, m, ST) + so.pandax4t_mu_equiv_muB(lam, EPS, m, ST))

    v = jnp.array([0.7e-6, 0.2e-6, -0.3e-6, 1.1e-6])
    grad = jax.jit(jax.grad(f, argnums=(0, 1)))
    for m in (0.0, 3e-5, 2e-4, 5e-3, 200.0):
        g = grad(v, jnp.asarray(m))
        assert all(np.all(np.isfinite(np.asarray(x))) for x in g), m
    check_grads(lambda m: f(v, m), (jnp.asarray(2e-4),), order=1, modes=("rev",), eps=1e-7, rtol=1e-5)
    # zero moment: value 0 and finite (zero) gradient
    g0 = grad(jnp.zeros(4), jnp.asarray(1e-4))
    assert all(np.all(np.isfinite(np.asarray(x))) for x in g0)


# --- spectral shape diagnostic ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ("gemma", "texono", "lz", "pandax4t", "borexino"))
def test_recoil_shape_matches_tables_and_normalises(name):
    tab = RT[name] if name in RT else ST[name]
    for m in (1e-5, 1e-4, 1e-3):
        r = recoil_shape(name, m, n_T=4001)
        assert r["window_factor"] == pytest.approx(float(np.sum(so.solar_weights(m, tab))), rel=1e-6)
        T = r["T_GeV"]
        for pdf in ("massless_pdf", "massive_pdf"):
            assert float(np.trapezoid(r[pdf], T)) == pytest.approx(1.0, rel=5e-3), (name, m, pdf)
        np.testing.assert_allclose(r["massive_pdf"] / r["massless_pdf"], r["shape_factor"], rtol=1e-12)
        assert r["mean_T_massive_GeV"] >= r["mean_T_massless_GeV"]
    d = [recoil_shape(name, m)["distortion"] for m in (1e-7, 1e-5, 1e-4, 1e-3, 1e-2)]
    assert d[0] < 1e-4 and all(a < b for a, b in zip(d, d[1:]))


def test_recoil_shape_errors():
    with pytest.raises(DjaxError, match="did you mean 'gemma'"):
        recoil_shape("gema", 1e-3)
    with pytest.raises(DjaxError, match="m_Aprime"):
        recoil_shape("lz", -1.0)
    with pytest.raises(DjaxError, match="mu_sq"):
        recoil_shape("texono", 1e-3, mu_sq=(1.0, 0.0, 0.0))
    a = recoil_shape("lz", 1e-4, mu_sq=(1.0, 0.0, 0.0))
    b = recoil_shape("lz", 1e-4, mu_sq=(0.0, 0.0, 1.0))
    assert a["window_factor"] != b["window_factor"]  # the mass states see different source mixes


# --- catalogue, presets, registry terms ------------------------------------------------------------------------
def test_catalogue_and_direct_flags():
    for k in NEW:
        info = observable_info(k)
        assert info["units"] == "mu_B" and info["shape"] == () and k in DIRECT_DETECTION_OBSERVABLES
    assert set(NEW) <= set(djax.observables(Params.default()))
    assert not set(NEW) & set(djax.observables(Params.default(), solar=False))


def test_registry_entries_and_presets():
    reg = load_registry()
    want = {"lz_mueff": (1.1e-11, "verified"), "gemma_mueff": (2.9e-11, "memory"), "texono_mueff": (7.4e-11, "memory")}
    for tid, (value, status) in want.items():
        e = reg[tid]
        assert (
            e.value == value
            and e.cl == 0.9
            and e.status == status
            and e.power == 2.0
            and e.form == "poisson_zero_count"
        )
        assert e.reference.experiment and e.notes
    assert reg["lz_mueff"].reference.arxiv == "2207.05036" and reg["texono_mueff"].reference.arxiv == "hep-ex/0605006"
    full = preset_ids("full")
    assert "lz_mueff" in full and "gemma_mueff" not in full and "texono_mueff" not in full
    assert "option" in reg["gemma_mueff"].tags and "option" in reg["texono_mueff"].tags


@pytest.mark.parametrize(
    "tid, key",
    [("lz_mueff", "lz_mu_equiv_muB"), ("gemma_mueff", "gemma_mu_equiv_muB"), ("texono_mueff", "texono_mu_equiv_muB")],
)
def test_term_at_its_limit_sits_at_the_cl_threshold(tid, key):
    """Scale epsilon (mu_equiv ∝ epsilon) so the observable equals the limit: ln L = the 90 % CL threshold."""
    p = Params.default()
    spec = djax.resolve_terms("paper", include=(tid,))
    lim = float(load_registry()[tid].value)
    mu = float(djax.observables(p)[key])
    p90 = p.replace(epsilon=p.epsilon * (lim / mu))
    assert float(djax.observables(p90)[key]) == pytest.approx(lim, rel=1e-12)
    thr = dict(zip(spec.ids, cl_thresholds(spec, 0.9)))
    assert dict(zip(spec.ids, is_direct(spec)))[tid]
    terms = djax.likelihood_terms(p90, spec)
    assert float(terms[tid]) == pytest.approx(thr[tid], rel=1e-10)
    assert thr[tid] == pytest.approx(math.log(0.1), rel=1e-14)
    half = djax.likelihood_terms(p.replace(epsilon=p.epsilon * (0.5 * lim / mu)), spec)
    assert float(half[tid]) == pytest.approx(math.log(0.1) / 4, rel=1e-10)
