"""Model observables: independent mpmath reference, physics identities, safety over the prior box."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import djax
from djax import Params
from djax import constants as C
from djax.observables import dark_transition_moment, neutrino_mass_matrix
from tests.reference.model_reference import reference

SQ4PI = math.sqrt(4 * math.pi)


def _p(**kw):
    return Params.default().replace(**{k: jnp.asarray(v) for k, v in kw.items()})


def _rel(a, b):
    a, b = complex(a), complex(b)
    return abs(a - b) / max(abs(b), 1e-300)


POINTS = [
    dict(M_F=1000.0, m_S1=400.0, m_S2=700.0, theta=math.pi / 4, y=[4e-4, 8e-4, 0.0], yp=[8e-4, -4e-4, 0.0], g_D=0.3),
    dict(M_F=150.0, m_S1=5000.0, m_S2=20.0, theta=0.3, y=[0.5, -1.2, 2.0], yp=[1.0, 0.1, -0.7], g_D=1.1),
    dict(
        M_F=8000.0, m_S1=15.0, m_S2=9000.0, theta=1.2, y=[1e-3 + 2e-3j, 0.4, 0.02j], yp=[0.3, 0.5 - 0.1j, 1.5], g_D=3.0
    ),
]


@pytest.mark.parametrize("pt", POINTS)
def test_against_mpmath_reference(pt):
    ref = reference(pt["M_F"], pt["m_S1"], pt["m_S2"], pt["theta"], pt["y"], pt["yp"], pt["g_D"])
    p = _p(**pt)
    obs = djax.observables(p, solar=False)
    for k in ("br_mu_e_gamma", "br_tau_e_gamma", "br_tau_mu_gamma"):
        assert _rel(obs[k], ref[k]) < 1e-11, k
    Cm = np.asarray(obs["dipole_C_GeV"])
    lam = np.asarray(obs["lambda_dark_muB"])
    mnu = np.asarray(obs["m_nu_eV"]) / C.GEV_TO_EV
    for j in range(3):
        for i in range(3):
            assert _rel(Cm[j, i], ref["C"][j][i]) < 1e-11
            if i != j:
                assert _rel(lam[j, i], ref["lambda_muB"][j][i]) < 1e-11
            assert _rel(mnu[j, i], ref["m_nu_GeV"][j][i]) < 1e-10
    for l, key in enumerate(("delta_a_e", "delta_a_mu", "delta_a_tau")):
        assert _rel(obs[key], ref["delta_a"][l]) < 1e-11


def test_lambda_antisymmetric_and_parts_add_up():
    p = _p(**POINTS[2])
    tm = dark_transition_moment(p)
    for part in ("total", "fermion", "scalar"):
        m = np.asarray(tm[part])
        np.testing.assert_allclose(m, -m.T, rtol=0, atol=1e-30)
    np.testing.assert_allclose(np.asarray(tm["fermion"] + tm["scalar"]), np.asarray(tm["total"]), rtol=1e-14)
    obs = djax.observables(p, solar=False)
    ratio = np.asarray(obs["lambda_dark_fermion_muB"])[0, 1] / np.asarray(obs["lambda_dark_scalar_muB"])[0, 1]
    assert np.isclose(ratio, float(obs["fermion_to_scalar_ratio"]), rtol=1e-12)


@pytest.mark.parametrize(
    "change,misaligned",
    [
        (dict(yp=[1.2e-3, 2.4e-3, 0.0]), dict(yp=[2.4e-3, -1.2e-3, 0.0])),  # y' = 3 y: aligned
        (dict(y=[0.3, -0.2, 0.1], yp=[-0.6, 0.4, -0.2]), dict(y=[0.3, -0.2, 0.1], yp=[0.4, 0.6, -0.2])),
        (dict(theta=0.0), dict(theta=0.7)),
        (dict(theta=math.pi / 2), dict(theta=0.7)),
        (dict(m_S2=400.0), dict(m_S2=700.0)),  # degenerate scalars
    ],
)
def test_lambda_vanishes(change, misaligned):
    ref = Params.default().replace(**{k: jnp.asarray(v) for k, v in {**change, **misaligned}.items()})
    p = Params.default().replace(**{k: jnp.asarray(v) for k, v in change.items()})
    scale = np.max(np.abs(np.asarray(dark_transition_moment(ref)["total"])))
    lam = np.asarray(dark_transition_moment(p)["total"])
    assert scale > 0
    assert np.max(np.abs(lam)) <= 1e-14 * scale


def test_lambda_linear_in_M_F_at_fixed_r():
    """lambda = M_F x [K(r_1)/m_1^2 - K(r_2)/m_2^2] (...): at fixed m_S and fixed r it scales linearly with M_F.

    Fixed r and m_S means the loop bracket is fixed, so rescaling the prefactor's M_F alone: compare
    lambda / (M_F [K(r1)/m1^2 - K(r2)/m2^2]) at two masses."""
    from djax import loops

    vals = []
    for M in (200.0, 3000.0):
        p = _p(M_F=M, m_S1=M / 2, m_S2=M / 3)
        lam = np.asarray(dark_transition_moment(p)["total"])[0, 1]
        bracket = float(loops.K(4.0)) / (M / 2) ** 2 - float(loops.K(9.0)) / (M / 3) ** 2
        vals.append(lam / (M * bracket))
    assert np.isclose(vals[0], vals[1], rtol=1e-13)


def test_B_zero_limit_formula():
    """With y' = 0: BR(mu -> e gamma) = 3 alpha/(64 pi G_F^2) |Σ_k A*_ek A_muk L_F(r_k)/m_k^2|^2 (tree-level width)."""
    from djax import loops

    p = _p(M_F=700.0, m_S1=300.0, m_S2=2500.0, theta=0.4, y=[0.3, -0.8, 0.1], yp=[0.0, 0.0, 0.0])
    obs = djax.observables(p, solar=False)
    c, s = math.cos(0.4), math.sin(0.4)
    S = (
        0.3
        * -0.8
        * (
            c**2 * float(loops.L_F(700.0**2 / 300.0**2)) / 300.0**2
            + s**2 * float(loops.L_F(700.0**2 / 2500.0**2)) / 2500.0**2
        )
    )
    formula = 3 * C.ALPHA_EM / (64 * math.pi * C.G_F**2) * S**2
    gamma_tree = C.G_F**2 * C.M_MU**5 / (192 * math.pi**3)
    ps = (1 - C.M_E**2 / C.M_MU**2) ** 3  # phase space; the formula is for m_e -> 0
    ours = float(obs["br_mu_e_gamma"]) * C.GAMMA_MU / gamma_tree / (1 + C.M_E**2 / C.M_MU**2) / ps
    assert np.isclose(ours, formula, rtol=1e-12)


def test_mu3e_and_conversion_ratios():
    obs = djax.observables(Params.default(), solar=False)
    ratio = float(obs["br_mu_3e"] / obs["br_mu_e_gamma"])
    assert np.isclose(ratio, C.ALPHA_EM / (3 * math.pi) * (math.log(C.M_MU**2 / C.M_E**2) - 2.75), rtol=1e-14)
    assert 0.0055 < ratio < 0.0065  # the familiar ~ 1/165
    assert 1 / 420 < float(obs["cr_mu_e_Al"] / obs["br_mu_e_gamma"]) < 1 / 330


def test_default_point_numbers_are_sane():
    obs = djax.observables(Params.default(), solar=False)
    assert 1e-14 < float(obs["br_mu_e_gamma"]) < 1.5e-13  # below MEG II by construction of the benchmark
    assert float(obs["br_tau_e_gamma"]) == 0.0  # tau couplings off
    assert float(obs["lambda_dark_max_muB"]) > 0


def test_neutrino_mass_symmetric():
    p = _p(**POINTS[2])
    m = np.asarray(neutrino_mass_matrix(p))
    np.testing.assert_allclose(m, m.T, rtol=1e-14)
    s = np.linalg.svd(m, compute_uv=False)
    obs = djax.observables(p, solar=False)
    assert np.isclose(float(obs["m_nu_sum_eV"]), s.sum() * C.GEV_TO_EV, rtol=1e-10)
    assert s[-1] <= 1e-12 * s[0]  # rank <= 2


def test_batched_params_are_vmapped():
    p = Params.default()
    stacked = jax.tree.map(lambda *x: jnp.stack(x), p, p.replace(M_F=jnp.asarray(2000.0)), p)
    obs = djax.observables(stacked, solar=False)
    assert obs["br_mu_e_gamma"].shape == (3,)
    assert obs["lambda_dark_GeV"].shape == (3, 3, 3)
    single = djax.observables(p, solar=False)
    assert np.isclose(float(obs["br_mu_e_gamma"][2]), float(single["br_mu_e_gamma"]), rtol=1e-15)


def test_requires_x64():
    jax.config.update("jax_enable_x64", False)
    try:
        with pytest.raises(RuntimeError, match="enable_x64"):
            djax.observables(Params.default(), solar=False)
    finally:
        jax.config.update("jax_enable_x64", True)


# ---------------------------------------------------------------- safety over the whole prior box
FLAT = ("M_F", "m_S1", "m_S2", "theta", "y_e", "y_mu", "y_tau", "yp_e", "yp_mu", "yp_tau", "g_D", "m_Aprime", "epsilon")


def _from_flat(x):
    return Params(
        M_F=x[0], m_S1=x[1], m_S2=x[2], theta=x[3], y=x[4:7], yp=x[7:10], g_D=x[10], m_Aprime=x[11], epsilon=x[12]
    )


_SCALARS = (
    "br_mu_e_gamma",
    "br_tau_e_gamma",
    "br_tau_mu_gamma",
    "br_mu_3e",
    "delta_a_e",
    "delta_a_mu",
    "d_e_ecm",
    "lambda_dark_max_muB",
    "lambda_em_max_muB",
    "m_nu_sum_eV",
    "fermion_to_scalar_ratio",
)


def _scalar_vector(x, solar=False):
    o = djax.observables(_from_flat(x), solar=solar)
    keys = _SCALARS + (("borexino_mu_equiv_muB", "xenonnt_mu_equiv_muB") if solar else ())
    return jnp.stack([o[k] for k in keys])


_value_and_jac = jax.jit(lambda x: (_scalar_vector(x), jax.jacfwd(_scalar_vector)(x)))

log_unif = lambda lo, hi: st.floats(math.log(lo), math.log(hi)).map(math.exp)  # noqa: E731
coupling = st.floats(-SQ4PI, SQ4PI)


@given(
    M_F=log_unif(100, 1e4),
    m1=log_unif(10, 1e4),
    m2=log_unif(10, 1e4),
    theta=st.floats(0, math.pi / 2),
    y=st.tuples(coupling, coupling, coupling),
    yp=st.tuples(coupling, coupling, coupling),
    g_D=st.floats(0, SQ4PI),
    mA=log_unif(1e-3, 8),
    eps=log_unif(1e-7, 1e-2),
)
def test_no_nan_over_prior_box(M_F, m1, m2, theta, y, yp, g_D, mA, eps):
    x = jnp.array([M_F, m1, m2, theta, *y, *yp, g_D, mA, eps])
    v, J = _value_and_jac(x)
    assert np.all(np.isfinite(np.asarray(v))), dict(zip(_SCALARS, np.asarray(v)))
    assert np.all(np.isfinite(np.asarray(J)))


def test_degenerate_corner_gradients_finite():
    # exactly degenerate scalars, theta on the boundary, zero couplings: the GIM and sqrt corners
    for x in (
        [1000, 500, 500, 0.7, 0.1, 0.2, 0.3, 0.3, -0.2, 0.1, 0.5, 0.01, 1e-4],
        [1000, 400, 700, 0.0, 0.1, 0.2, 0.3, 0.3, -0.2, 0.1, 0.5, 0.01, 1e-4],
        [1000, 400, 700, 0.5, 0, 0, 0, 0, 0, 0, 0.5, 0.01, 1e-4],
        [100, 10, 10000, math.pi / 2, 3.5, -3.5, 0.0, 3.5, 3.5, 0.0, 3.5, 8, 1e-2],
    ):
        v, J = _value_and_jac(jnp.array(x, dtype=float))
        assert np.all(np.isfinite(np.asarray(v))) and np.all(np.isfinite(np.asarray(J))), x


def test_million_points_vmapped_shapes_only():
    """jit(vmap(observables)) compiles once for a batch; timing is measured in benchmarks/, not here."""
    n = 1000
    key = jax.random.PRNGKey(0)
    u = jax.random.uniform(key, (n, 13))
    lo = jnp.array([100, 10, 10, 0, -1, -1, -1, -1, -1, -1, 0, 1e-3, 1e-7])
    hi = jnp.array([1e4, 1e4, 1e4, math.pi / 2, 1, 1, 1, 1, 1, 1, 1, 8, 1e-2])
    x = lo + u * (hi - lo)
    out = jax.jit(jax.vmap(lambda xi: djax.observables(_from_flat(xi), solar=False)["br_mu_e_gamma"]))(x)
    assert out.shape == (n,) and bool(jnp.all(jnp.isfinite(out)))
