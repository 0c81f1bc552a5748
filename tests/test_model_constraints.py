"""Constraints the model implies on itself: sum m_nu choices and the cancellation switch, BBN on m_A', the VLL
mass splitting and collider bounds, the loop-induced kinetic mixing and the portal size of the scalar mixing."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from jax.test_util import check_grads

import djax
from djax import constants as C
from djax.io import load_registry, resolve_likelihood
from djax.likelihood import (
    MNU_CHOICES,
    MNU_TERMS,
    MODEL_CONSTRAINTS,
    cl_thresholds,
    evaluate_terms,
    preset_ids,
    soft_log_limit,
)
from djax.observables import (
    epsilon_loop,
    kappa_portal,
    kinetic_mixing_tuning,
    splitting_function,
    theta_vev_max,
    vll_mass_splitting,
)
from djax.observables._constraints import ALPHA_MZ, M_Z
from djax.precision import enable_x64

enable_x64()

REG = load_registry()
NEW_TERMS = (
    "desi2025_mnu",
    "bbn_cmb_mass",
    "lep_l3_heavy_lepton",
    "atlas2022_disappearing",
    "atlas2026_disappearing",
    "eps_loop_naturalness",
    "theta_vev_portal",
)


def _at(p, **changes):
    return p.replace(**{k: jnp.asarray(v) for k, v in changes.items()})


# ------------------------------------------------------------------------------------------ CL points of the terms
def _point_at(tid):
    """A parameter point whose observable sits exactly at the term's quoted value."""
    e = REG[tid]
    p = djax.Params.default()
    if e.observable == "m_nu_sum_eV":
        obs = djax.observables(p, solar=False)
        scale = e.value / float(obs["m_nu_sum_eV"])  # m_nu is linear in yp
        return p.replace(yp=p.yp * scale)
    if e.observable == "m_Aprime":
        return _at(p, m_Aprime=e.value)
    if e.observable == "m_E_GeV":
        # solve M_F + Delta M(M_F) = value (Delta M varies slowly: two fixed-point steps are exact to 1e-12)
        m = e.value
        for _ in range(6):
            m = e.value - float(vll_mass_splitting(m))
        return _at(p, M_F=m)
    if e.observable == "kinetic_mixing_tuning":
        return _at(p, epsilon=float(epsilon_loop(p.g_D, p.Q_F, p.M_F)) / e.value)
    if e.observable == "kappa_portal":
        # choose theta so that kappa = value: sin 2 theta = 2 kappa v^2 / (m2^2 - m1^2)
        s2t = 2 * e.value * C.V_HIGGS**2 / (float(p.m_S2) ** 2 - float(p.m_S1) ** 2)
        return _at(p, theta=0.5 * math.asin(s2t))
    raise AssertionError(e.observable)


@pytest.mark.parametrize("tid", NEW_TERMS)
def test_term_reproduces_its_cl_point(tid):
    e = REG[tid]
    spec = resolve_likelihood(preset="paper", include=[tid], exclude=["meg2_mueg", "borexino_mueff"])[2]
    assert spec.ids[-1] == tid or tid in spec.ids
    p = _point_at(tid)
    obs = djax.observables(p, solar=False)
    assert float(obs[e.observable]) == pytest.approx(e.value, rel=1e-10)
    lnl = float(evaluate_terms(p, spec, br_inv=0.0)[tid])
    thr = cl_thresholds(spec, e.cl)[spec.ids.index(tid)]
    assert lnl == pytest.approx(thr, rel=1e-9)
    assert thr == pytest.approx(-0.5 * (mp.sqrt(2) * mp.erfinv(e.cl)) ** 2, rel=1e-12)


def test_quoted_values():
    assert REG["desi2025_mnu"].value == 0.0642 and REG["desi2025_mnu"].cl == 0.95
    assert REG["planck2018_mnu"].value == 0.12
    assert REG["bbn_cmb_mass"].value == pytest.approx(3.7e-3) and REG["bbn_cmb_mass"].form == "lower_limit"
    assert REG["lep_l3_heavy_lepton"].value == 100.8
    assert REG["atlas2022_disappearing"].value == 210.0 and REG["atlas2022_disappearing"].cl == 0.95
    for tid in NEW_TERMS:
        e = REG[tid]
        assert e.reference.experiment and e.notes and e.status in ("verified", "derived")
        assert "paper" not in e.tags


def test_soft_limits_are_one_sided_and_smooth():
    # lower limit: 0 far above, Gaussian in ln x far below; upper in log: mirror image
    x = jnp.geomspace(1e-3, 1e3, 61)
    lo = soft_log_limit(x, 1.0, 0.95, 0.1, -1.0)
    up = soft_log_limit(x, 1.0, 0.95, 0.1, +1.0)
    assert np.all(np.diff(np.asarray(lo)) > 0) and np.all(np.diff(np.asarray(up)) < 0)
    assert float(lo[-1]) > -1e-20 and float(up[0]) > -1e-20
    np.testing.assert_allclose(np.asarray(lo), np.asarray(up)[::-1], rtol=1e-12)
    z = 1.959963984540054
    far = float(soft_log_limit(1e-3, 1.0, 0.95, 0.1, -1.0))
    assert far == pytest.approx(-0.5 * (z * math.log(1e3) / 0.1 / math.log(2)) ** 2, rel=1e-12)
    g = jax.grad(lambda t: soft_log_limit(t, 1.0, 0.95, 0.1, -1.0))
    assert all(np.isfinite(float(g(t))) for t in (0.0, 1e-300, 0.5, 1.0, 3.0))


# ---------------------------------------------------------------------------------------------------- sum m_nu
def test_mnu_choice_and_cancellation_switch():
    assert MNU_CHOICES == {"Planck2018": "planck2018_mnu", "DESI2025": "desi2025_mnu"}
    full = preset_ids("full")
    assert "planck2018_mnu" in full and "desi2025_mnu" not in full
    desi = preset_ids("full", mnu="DESI2025")
    assert "desi2025_mnu" in desi and "planck2018_mnu" not in desi
    assert not any(t in preset_ids("paper") for t in MNU_TERMS)
    for mnu in MNU_CHOICES:
        ids = preset_ids("full", mnu=mnu, mnu_cancellation=True, include=["planck2018_mnu", "desi2025_mnu"])
        assert not any(t in ids for t in MNU_TERMS)
        assert len(ids) == len(preset_ids("full", mnu=mnu)) - 1
    with pytest.raises(ValueError, match="mnu"):
        preset_ids("full", mnu="KATRIN")


def test_mnu_cancellation_in_a_run(tmp_path):
    from djax.errors import DjaxError
    from djax.jobs import load_config, prepare

    cfg = load_config(None, {"likelihood.preset": "full", "likelihood.mnu": "DESI2025"})
    prep = prepare(cfg, "sample")
    assert "desi2025_mnu" in prep.ids
    assert not any(n.startswith("model.mnu_cancellation") for n in prep.notes)
    cfg = load_config(None, {"likelihood.preset": "full", "model.mnu_cancellation": True})
    prep = prepare(cfg, "sample")
    assert not any(t in prep.ids for t in MNU_TERMS)
    assert any(n.startswith("model.mnu_cancellation = true: assuming") for n in prep.notes)
    assert prep.fingerprint["model"]["mnu_cancellation"] is True
    with pytest.raises(DjaxError, match="likelihood.mnu"):
        load_config(None, {"likelihood.mnu": "KATRIN"})
    with pytest.raises(DjaxError, match="model.kinetic_mixing_cutoff"):
        load_config(None, {"model.kinetic_mixing_cutoff": -1.0})


def test_full_preset_has_the_model_constraints():
    full = preset_ids("full")
    assert all(t in full for t in MODEL_CONSTRAINTS)
    assert not any(t in preset_ids("paper") for t in MODEL_CONSTRAINTS)
    for opt in ("eps_loop_naturalness", "theta_vev_portal", "atlas2026_disappearing"):
        assert opt not in full and "option" in REG[opt].tags


def test_bbn_note_for_invisible_decays():
    from djax.jobs import load_config, prepare

    prep = prepare(load_config(None, {"likelihood.preset": "full"}), "sample")  # the default file: "invisible"
    assert any(n.startswith("model.dark_photon_decays = 'invisible': term bbn_cmb_mass") for n in prep.notes)
    prep = prepare(load_config(None, {"likelihood.preset": "full", "model.dark_photon_decays": "visible"}), "sample")
    assert not any("bbn_cmb_mass" in n for n in prep.notes)


# ------------------------------------------------------------------------------------------- VLL mass splitting
def _f_mpmath(r):
    """CFS eq. 5 function with complex arithmetic (no branch continuation by hand)."""
    r = mp.mpf(r)
    s = mp.sqrt(r**2 - 4 + 0j)
    return (r / 2) * (2 * r**3 * mp.log(r) - 2 * r + s * (r**2 + 2) * mp.log((r**2 - 2 - r * s) / 2))


def _f_integral(r):
    """Independent form: f(r) = int_0^1 2 (1 + x) ln(1 + (1 - x) r^2 / x^2) dx (vector self-energy difference)."""
    r = mp.mpf(r)
    return mp.quad(lambda x: 2 * (1 + x) * mp.log(1 + (1 - x) * r**2 / x**2), [0, min(r, 0.5), 1])


@pytest.mark.parametrize("r", [1e-4, 1e-2, 0.09, 0.3, 0.9, 1.7, 1.9999999, 2.0, 2.0000001, 3.0])
def test_splitting_function_vs_mpmath(r):
    with mp.workdps(30):
        ref_c = _f_mpmath(r)
        ref_i = _f_integral(r)
    assert abs(ref_c.imag) < 1e-20
    assert float(splitting_function(r)) == pytest.approx(float(ref_c.real), rel=1e-11, abs=1e-14)
    assert float(splitting_function(r)) == pytest.approx(float(ref_i), rel=1e-10)


def test_splitting_values_and_heavy_limit():
    limit = ALPHA_MZ * M_Z / 2.0
    assert limit == pytest.approx(0.35634, abs=1e-5)
    for M in (1e5, 1e6, 1e8):
        # f(r) = 2 pi r - 3 r^2 + O(r^3 ln r): Delta M = limit (1 - 3 r / (2 pi)) (1 + O(r^2))
        r = M_Z / M
        assert float(vll_mass_splitting(M)) == pytest.approx(limit * (1 - 3 * r / (2 * math.pi)), rel=r**2)
    assert float(vll_mass_splitting(1e8)) == pytest.approx(limit, rel=1e-5)
    assert float(vll_mass_splitting(1000.0)) == pytest.approx(0.3418, abs=2e-4)
    assert float(vll_mass_splitting(100.0)) == pytest.approx(0.2580, abs=2e-4)
    # monotonically increasing towards the limit over the prior box
    m = jnp.geomspace(100.0, 1e4, 50)
    d = np.asarray(jax.vmap(vll_mass_splitting)(m))
    assert np.all(np.diff(d) > 0) and np.all(d < limit)
    obs = djax.observables(djax.Params.default(), solar=False)
    assert float(obs["m_E_GeV"]) == pytest.approx(1000.0 + float(obs["vll_mass_splitting_GeV"]), rel=1e-15)


# --------------------------------------------------------------------------------------- loop kinetic mixing
def test_epsilon_loop_formula():
    e = math.sqrt(4 * math.pi / 137.035999084)
    for g, q, M, lam in ((0.3, 1.0, 1000.0, 1e16), (1.0, -2.0, 250.0, 1e4), (0.01, 0.5, 5e3, 2.4e18)):
        ref = e * abs(g * q) / (12 * math.pi**2) * math.log(lam**2 / M**2)
        assert float(epsilon_loop(g, q, M, lam)) == pytest.approx(ref, rel=1e-13)
        assert float(kinetic_mixing_tuning(g, q, M, 1e-5, lam)) == pytest.approx(ref / 1e-5, rel=1e-13)
    p = djax.Params.default()
    o16 = djax.observables(p, solar=False)
    o4 = djax.observables(p, solar=False, kinetic_mixing_cutoff=1e4)
    assert float(o4["epsilon_loop"]) / float(o16["epsilon_loop"]) == pytest.approx(math.log(10) / math.log(1e13))
    assert float(o16["kinetic_mixing_tuning"]) == pytest.approx(float(o16["epsilon_loop"]) / 1e-5)


def test_cutoff_reaches_the_likelihood():
    from djax.jobs import load_config, prepare

    over = {"likelihood.include": ["eps_loop_naturalness"], "model.kinetic_mixing_cutoff": 1e4}
    prep = prepare(load_config(None, over), "sample")
    assert dict(prep.spec.model_options) == {"kinetic_mixing_cutoff": 1e4}
    p = djax.Params.default()
    lnl = float(evaluate_terms(p, prep.spec, br_inv=1.0)["eps_loop_naturalness"])
    tuning = float(djax.observables(p, solar=False, kinetic_mixing_cutoff=1e4)["kinetic_mixing_tuning"])
    assert lnl == pytest.approx(float(soft_log_limit(tuning, 10.0, 0.95, 1.0, 1.0)), rel=1e-12)


# -------------------------------------------------------------------------------------- portal scalar mixing
def test_kappa_portal_and_theta_vev_max():
    v = C.V_HIGGS
    k = float(kappa_portal(0.1, 300.0, 500.0))
    assert k == pytest.approx(math.sin(0.2) * (500.0**2 - 300.0**2) / (2 * v**2), rel=1e-14)
    # the mass matrix O diag(m1^2, m2^2) O^T has off-diagonal entry kappa v^2
    th, m1, m2 = 0.37, 200.0, 900.0
    O = np.asarray(djax.model.mixing_matrix(th))
    M2 = O @ np.diag([m1**2, m2**2]) @ O.T
    assert M2[0, 1] == pytest.approx(float(kappa_portal(th, m1, m2)) * v**2, rel=1e-12)
    # theta_vev_max: the angle that kappa = 1 gives, and pi/4 for near-degenerate masses
    tmax = float(theta_vev_max(300.0, 800.0))
    assert float(kappa_portal(tmax, 300.0, 800.0)) == pytest.approx(1.0, rel=1e-12)
    assert float(theta_vev_max(400.0, 400.0)) == pytest.approx(math.pi / 4)
    assert float(theta_vev_max(400.0, 420.0)) == pytest.approx(math.pi / 4)


# ---------------------------------------------------------------------------------------------------- gradients
def test_new_observables_have_finite_gradients():
    check_grads(vll_mass_splitting, (jnp.asarray(350.0),), order=2, modes=("fwd", "rev"))
    check_grads(splitting_function, (jnp.asarray(1.3),), order=2, modes=("fwd", "rev"))
    check_grads(splitting_function, (jnp.asarray(2.5),), order=2, modes=("fwd", "rev"))
    check_grads(lambda g, m: epsilon_loop(g, 1.0, m), (jnp.asarray(0.3), jnp.asarray(800.0)), order=2)
    check_grads(
        lambda g, m, log_eps: kinetic_mixing_tuning(g, 1.0, m, jnp.exp(log_eps)),
        (jnp.asarray(0.3), jnp.asarray(800.0), jnp.asarray(math.log(1e-4))),
        order=2,
    )
    check_grads(kappa_portal, (jnp.asarray(0.4), jnp.asarray(300.0), jnp.asarray(700.0)), order=2)
    check_grads(theta_vev_max, (jnp.asarray(300.0), jnp.asarray(900.0)), order=1)
    # at r = 2 (M_F = M_Z/2) and through m_S1 = m_S2 the gradients stay finite
    assert np.isfinite(float(jax.grad(splitting_function)(2.0)))
    assert np.isfinite(float(jax.grad(lambda m: theta_vev_max(400.0, m))(400.0)))

    # gradient of every new term's ln L through the full observables
    spec = resolve_likelihood(preset="paper", include=list(NEW_TERMS), exclude=["meg2_mueg", "borexino_mueff"])[2]
    p = djax.Params.default()

    def total(m_f, m_a, eps, theta):
        q = _at(p, M_F=m_f, m_Aprime=m_a, epsilon=eps, theta=theta)
        return sum(evaluate_terms(q, spec, br_inv=0.0).values())

    args = (jnp.asarray(230.0), jnp.asarray(0.004), jnp.asarray(1e-3), jnp.asarray(0.3))
    grads = jax.grad(total, argnums=(0, 1, 2, 3))(*args)
    assert all(np.isfinite(float(g)) for g in grads)
