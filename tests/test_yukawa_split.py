"""Separate B-type Yukawas of the VLL members (``model.yukawa_structure = "separate"``, ``Params.yp_E``): the
charged-lepton observables follow y'_E, the transition moment and m_nu follow y'_N = yp, and the option is
threaded through the schema, run files, the NumPyro model, point files and the job fingerprint."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import djax
from djax import constants as C
from djax import loops
from djax.cli import main
from djax.dipoles import dirac_dipole, majorana_transition_moment
from djax.io import RunFileError, load_run, parse_run, resolved_toml, validate_run
from djax.model import (
    DEFAULT_PRIORS,
    PRIOR_BOX,
    YUKAWA_E_NAMES,
    couplings,
    parameter_names,
    params_from_values,
    resolve_priors,
)
from djax.observables import dark_transition_moment, dipole_coefficients, neutrino_mass_matrix

djax.enable_x64()

# a point with every flavour and a complex phase, so that every observable is non-zero
P = djax.Params.default().replace(
    y=jnp.asarray([4.0e-4 + 1.0e-5j, 8.0e-4, 3.0e-4]),
    yp=jnp.asarray([8.0e-4, -4.0e-4 + 2.0e-5j, 2.0e-4]),
)
YP_E = jnp.asarray([-3.0e-4, 6.0e-4, 5.0e-4 - 1.0e-5j])


def _obs(p):
    return djax.observables(p)


def _assert_same(a, b, keys=None):
    for k in keys or a:
        np.testing.assert_allclose(np.asarray(a[k]), np.asarray(b[k]), rtol=1e-15, atol=0, err_msg=k)


# ---------------------------------------------------------------------------------------------------------------
# physics
# ---------------------------------------------------------------------------------------------------------------
def test_yp_E_equal_to_yp_is_the_shared_model():
    shared = _obs(P)
    assert P.yp_E is None
    _assert_same(shared, _obs(P.replace(yp_E=P.yp)))
    assert float(shared["br_tau_mu_gamma"]) > 0 and float(shared["d_e_ecm"]) != 0  # the comparison sees them


def test_charged_observables_follow_yp_E_and_neutral_ones_yp():
    shared = _obs(P)
    split = _obs(P.replace(yp_E=YP_E))
    _assert_same(shared, split, ["lambda_dark_GeV", "m_nu_eV", "borexino_mu_equiv_muB", "xenonnt_mu_equiv_muB"])
    # y'_E = YP_E is the shared model with yp = YP_E for every charged-lepton observable
    swapped = _obs(P.replace(yp=YP_E))
    charged = ["dipole_C_GeV", "br_mu_e_gamma", "br_tau_mu_gamma", "br_mu_3e", "cr_mu_e_Au", "delta_a_mu", "d_e_ecm"]
    _assert_same(swapped, split, charged)
    assert abs(float(split["br_mu_e_gamma"]) / float(shared["br_mu_e_gamma"]) - 1) > 0.1


def test_yp_E_zero_switches_off_the_enhanced_dipoles_only():
    shared = _obs(P)
    p0 = P.replace(yp_E=jnp.zeros(3))
    obs = _obs(p0)
    dip = dipole_coefficients(p0)
    assert float(jnp.max(jnp.abs(dip["C_enhanced"]))) == 0.0
    # what is left: the m-suppressed A-A part, e/(64 pi^2) m_i y*_j y_i (c^2 L_1 + s^2 L_2)
    c, s = math.cos(float(P.theta)), math.sin(float(P.theta))
    L1 = float(loops.scaled(loops.L_F, P.M_F, P.m_S1))
    L2 = float(loops.scaled(loops.L_F, P.M_F, P.m_S2))
    y = np.asarray(P.y)
    m = np.asarray(C.M_LEPTONS)
    ref = C.E_CHARGE / (64 * math.pi**2) * np.conj(y)[:, None] * (m * y)[None, :] * (c**2 * L1 + s**2 * L2)
    np.testing.assert_allclose(np.asarray(obs["dipole_C_GeV"]), ref, rtol=1e-12, atol=0)
    width = C.GAMMA_LEPTONS[1]
    ps = (1 - C.M_E**2 / C.M_MU**2) ** 3
    br_ref = C.M_MU**3 / (4 * math.pi * width) * ps * (abs(ref[0, 1]) ** 2 + abs(ref[1, 0]) ** 2)
    assert float(obs["br_mu_e_gamma"]) == pytest.approx(br_ref, rel=1e-12)
    assert float(obs["br_mu_e_gamma"]) < 1e-6 * float(shared["br_mu_e_gamma"])
    _assert_same(shared, obs, ["lambda_dark_GeV", "lambda_dark_max_muB", "m_nu_eV", "m_nu_sum_eV"])


def test_yp_zero_with_yp_E_keeps_the_dipoles_and_removes_the_moment_and_m_nu():
    shared = _obs(P)
    q = P.replace(yp=jnp.zeros(3), yp_E=P.yp)
    obs = _obs(q)
    assert float(jnp.max(jnp.abs(obs["lambda_dark_GeV"]))) == 0.0
    assert float(jnp.max(jnp.abs(dark_transition_moment(q)["fermion"]))) == 0.0
    assert float(jnp.max(jnp.abs(obs["m_nu_eV"]))) == 0.0 and float(obs["m_nu_sum_eV"]) == 0.0
    assert float(jnp.max(jnp.abs(shared["lambda_dark_GeV"]))) > 0 and float(shared["m_nu_sum_eV"]) > 0
    _assert_same(shared, obs, ["dipole_C_GeV", "br_mu_e_gamma", "delta_a_mu", "d_e_ecm", "cr_mu_e_Al"])


def test_generic_engine_with_member_couplings():
    """djax.model.couplings(p, member) feeds the generic engine: E -> the dipole matrix, N -> lambda^D."""
    q = P.replace(yp_E=YP_E)
    cE, cN = couplings(q, "E"), couplings(q, "N")
    np.testing.assert_array_equal(np.asarray(couplings(q).B), np.asarray(cE.B))
    Ce = dirac_dipole(q.M_F, cE.m_S, cE.A, cE.B, -1.0, 0.0, jnp.asarray(C.M_LEPTONS), C.E_CHARGE).total
    np.testing.assert_allclose(np.asarray(Ce), np.asarray(dipole_coefficients(q)["C"]), rtol=1e-9, atol=0)
    lam = majorana_transition_moment(q.M_F, cN.m_S, cN.A, cN.B, q.Q_F, -q.Q_F, q.g_D).total
    ref = dark_transition_moment(q)["total"]
    np.testing.assert_allclose(np.abs(np.asarray(lam)), np.abs(np.asarray(ref)), rtol=1e-9, atol=1e-30)
    # the neutral couplings are those of y' alone: y'_E does not leak into N
    np.testing.assert_array_equal(np.asarray(cN.B), np.asarray(couplings(P, "N").B))
    with pytest.raises(ValueError, match="member"):
        couplings(q, "nu")


def test_pytree_vmap_stack_jit():
    pts = [P.replace(yp_E=YP_E * k) for k in (0.5, 1.0, 2.0)]
    batch = jax.tree.map(lambda *x: jnp.stack(x), *pts)
    assert batch.yp_E.shape == (3, 3)
    f = jax.jit(lambda b: djax.observables(b, solar=False)["br_mu_e_gamma"])
    got = np.asarray(f(batch))
    one = [float(djax.observables(p, solar=False)["br_mu_e_gamma"]) for p in pts]
    np.testing.assert_allclose(got, one, rtol=1e-14)
    # yp_E = None stacks and maps as an empty subtree
    shared = jax.tree.map(lambda *x: jnp.stack(x), P, P)
    assert shared.yp_E is None
    got = jax.vmap(lambda p: dipole_coefficients(p)["C"])(shared)
    np.testing.assert_array_equal(np.asarray(got[1]), np.asarray(dipole_coefficients(P)["C"]))
    assert jax.jit(lambda p: neutrino_mass_matrix(p))(P).shape == (3, 3)


def test_check_params_checks_yp_E():
    djax.check_params(P.replace(yp_E=YP_E))
    with pytest.raises(ValueError, match=r"Params.yp_E: expected shape \(3,\)"):
        djax.check_params(P.replace(yp_E=jnp.zeros(2)))
    with pytest.raises(ValueError, match="Params.yp_E: .* exceeds the perturbativity bound"):
        djax.check_params(P.replace(yp_E=jnp.asarray([0.0, 4.0, 0.0])))
    d = P.to_dict()
    assert d["yp_E"] is None
    assert djax.Params.from_dict(d).yp_E is None


def test_grad_of_br_mu_e_gamma_wrt_yp_E():
    def br(ypE):  # BR / 1e-13: O(1), so the finite-difference comparison is not trivially inside atol
        return djax.observables(P.replace(yp_E=ypE), solar=False)["br_mu_e_gamma"] / 1e-13

    x = jnp.real(YP_E)
    g = jax.grad(br)(x)
    assert float(jnp.max(jnp.abs(g))) > 0
    check_grads(br, (x,), order=1, modes=("rev",))


# ---------------------------------------------------------------------------------------------------------------
# schema, run files, NumPyro model
# ---------------------------------------------------------------------------------------------------------------
def test_schema_names_and_priors():
    names = parameter_names(yukawa_structure="separate")
    assert names[7:13] == ("yp_e", "yp_mu", "yp_tau", "ypE_e", "ypE_mu", "ypE_tau") and len(names) == 16
    assert parameter_names() == parameter_names(yukawa_structure="shared") and len(parameter_names()) == 13
    for n in YUKAWA_E_NAMES:
        assert PRIOR_BOX[n] == djax.model.make_prior(
            n, "signed_log_uniform", -math.sqrt(4 * math.pi), math.sqrt(4 * math.pi), scale=1e-12
        )
        assert djax.model.PARAMETER_INFO[n].long_name.startswith("B-type Yukawa of the charged VLL member E to ")
    assert DEFAULT_PRIORS["ypE_tau"].is_fixed and DEFAULT_PRIORS["ypE_tau"].value == 0.0
    assert DEFAULT_PRIORS["ypE_e"] == PRIOR_BOX["ypE_e"]
    assert len(resolve_priors(PRIOR_BOX)) == 13
    assert all(not p.is_fixed for p in resolve_priors(PRIOR_BOX, yukawa_structure="separate"))
    with pytest.raises(djax.model.SchemaError) as info:
        resolve_priors({"ypE_e": ("uniform", 0.0, 1.0)})
    assert info.value.key == "priors.ypE_e" and "yukawa_structure is 'shared'" in str(info.value)
    with pytest.raises(djax.model.SchemaError) as info:
        parameter_names(yukawa_structure="split")
    assert info.value.key == "model.yukawa_structure"


def test_params_from_values_fills_yp_E():
    base = {n: 0.1 for n in parameter_names()}
    assert params_from_values(base).yp_E is None
    vals = dict(base, ypE_e=0.2, ypE_mu=-0.3, ypE_tau=0.0)
    np.testing.assert_array_equal(np.asarray(params_from_values(vals).yp_E), [0.2, -0.3, 0.0])
    with pytest.raises(djax.model.SchemaError, match="ypE_tau"):
        params_from_values(dict(base, ypE_e=0.2, ypE_mu=0.1))


def test_run_file_separate_has_13_free_parameters():
    cfg = validate_run({"schema": 1, "model": {"yukawa_structure": "separate"}})
    assert cfg.model.yukawa_structure == "separate"
    emu = ("M_F", "m_S1", "m_S2", "theta", "y_e", "y_mu", "yp_e", "yp_mu", "ypE_e", "ypE_mu")
    assert cfg.free_parameters == emu + ("g_D", "m_Aprime", "epsilon")
    assert cfg.prior("ypE_tau").is_fixed and cfg.prior("ypE_e") == PRIOR_BOX["ypE_e"]
    assert parse_run(resolved_toml(cfg)) == cfg
    shared = load_run()
    assert shared.model.yukawa_structure == "shared" and len(shared.free_parameters) == 11
    assert not any(n.startswith("ypE") for n in shared.parameter_names)
    # a ypE prior in a separate run is read, with the box filling the missing bounds
    cfg = validate_run(
        {"schema": 1, "model": {"yukawa_structure": "separate"}, "priors": {"ypE_tau": {"type": "signed_log_uniform"}}}
    )
    assert cfg.prior("ypE_tau") == PRIOR_BOX["ypE_tau"] and len(cfg.free_parameters) == 14


def test_run_file_errors_name_the_key(tmp_path):
    with pytest.raises(RunFileError) as info:
        validate_run({"schema": 1, "priors": {"ypE_e": {"type": "signed_log_uniform"}}})
    assert info.value.key == "priors.ypE_e" and "model.yukawa_structure is 'shared'" in str(info.value)
    with pytest.raises(RunFileError) as info:
        validate_run({"schema": 1, "model": {"yukawa_structure": "split"}})
    assert info.value.key == "model.yukawa_structure" and "'separate'" in str(info.value)
    # the certified profile assumes the shared structure: refused when asked for, direct by default
    with pytest.raises(RunFileError) as info:
        validate_run(
            {
                "schema": 1,
                "model": {"yukawa_structure": "separate"},
                "optimize": {"profile": {"method": "certified"}},
            }
        )
    assert info.value.key == "optimize.profile.method" and "shared" in str(info.value)
    assert load_run().optimize.profile.method == "certified"
    sep = validate_run({"schema": 1, "model": {"yukawa_structure": "separate"}})
    assert sep.optimize.profile.method == "direct"
    # the CLI line: file, line and key
    path = tmp_path / "run.toml"
    path.write_text('schema = 1\n[priors.ypE_e]\ntype = "signed_log_uniform"\n', encoding="utf-8")
    with pytest.raises(RunFileError) as info:
        load_run(path)
    assert info.value.line == 2


def test_cli_error_line(tmp_path, capsys):
    path = tmp_path / "run.toml"
    path.write_text("schema = 1\n[priors.ypE_mu]\nvalue = 0.1\n", encoding="utf-8")
    assert main(["check", str(path)]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith(f"djax: error: {path}:2: priors.ypE_mu: model.yukawa_structure is 'shared'"), line


def test_fingerprint_changes_with_the_option():
    from djax.jobs import load_config, prepare

    a = prepare(load_config(None), "sample").fingerprint
    b = prepare(load_config(None, {"model.yukawa_structure": "separate"}), "sample").fingerprint
    assert a["model"]["yukawa_structure"] == "shared" and b["model"]["yukawa_structure"] == "separate"
    assert "ypE_e" in b["priors"] and "ypE_e" not in a["priors"]
    assert a != b


def test_numpyro_model_samples_ypE_and_uses_them():
    from numpyro.handlers import seed, substitute, trace

    model = djax.numpyro_model("paper", yukawa_structure="separate")
    tr = trace(seed(model, 0)).get_trace()
    sampled = {k for k, v in tr.items() if v["type"] == "sample" and not v["is_observed"]}
    assert {"ypE_e__u", "ypE_mu__u"} <= sampled and "ypE_tau__u" not in sampled and len(sampled) == 13
    assert "ypE_e" in tr and tr["ypE_e"]["type"] == "deterministic"
    shared_sites = trace(seed(djax.numpyro_model("paper"), 0)).get_trace()
    assert not any(k.startswith("ypE") for k in shared_sites)
    # the ypE sites reach the likelihood: lnL of MEG at substituted latents equals the direct evaluation
    lat = {k: tr[k]["value"] for k in sampled}
    for n, x in (("yp_e", 8e-4), ("yp_mu", -4e-4), ("ypE_e", -3e-4), ("ypE_mu", 6e-4)):
        lat[f"{n}__u"] = jnp.arcsinh(x / 1e-12)
    tr2 = trace(substitute(seed(model, 1), data=lat)).get_trace()
    vals = {n: tr2[n]["value"] for n in parameter_names(yukawa_structure="separate") if n in tr2}
    vals.update(y_tau=0.0, yp_tau=0.0, ypE_tau=0.0)
    p = params_from_values({k: jnp.asarray(v) for k, v in vals.items()})
    assert p.yp_E is not None
    ref = djax.likelihood_terms(p, "paper")["meg2_mueg"]
    assert float(tr2["lnL_meg2_mueg"]["value"]) == pytest.approx(float(ref), rel=1e-12)
    shared_p = p.replace(yp_E=None)
    assert float(djax.likelihood_terms(shared_p, "paper")["meg2_mueg"]) != pytest.approx(float(ref), rel=1e-3)


# ---------------------------------------------------------------------------------------------------------------
# point files
# ---------------------------------------------------------------------------------------------------------------
def test_point_file_round_trip(tmp_path):
    from djax.report import read_point, read_point_values, write_point

    p = djax.Params.default().replace(yp_E=jnp.asarray([1e-3, -2e-4, 3e-5]))
    q = read_point(write_point(tmp_path / "p.toml", p))
    np.testing.assert_array_equal(np.asarray(q.yp_E), np.asarray(p.yp_E))
    np.testing.assert_array_equal(np.asarray(q.yp), np.asarray(p.yp))
    shared = read_point(write_point(tmp_path / "s.toml", djax.Params.default()))
    assert shared.yp_E is None and "ypE" not in (tmp_path / "s.toml").read_text(encoding="utf-8")
    # a single ypE key: the other entries follow y' of the point
    (tmp_path / "one.toml").write_text("yp_e = 2e-4\nypE_mu = 5e-4\n", encoding="utf-8")
    assert read_point_values(tmp_path / "one.toml") == {"yp_e": 2e-4, "ypE_mu": 5e-4}
    one = read_point(tmp_path / "one.toml")
    np.testing.assert_array_equal(np.asarray(one.yp_E), [2e-4, 5e-4, 0.0])
    np.testing.assert_array_equal(np.asarray(one.yp), [2e-4, -4e-4, 0.0])
    (tmp_path / "bad.toml").write_text("ypE = [1.0, 2.0]\n", encoding="utf-8")
    with pytest.raises(djax.errors.DjaxError, match="3 real numbers"):
        read_point(tmp_path / "bad.toml")


def test_tau_terms_act_through_ypE_tau():
    """With separate Yukawas the charged tau coupling is ypE_tau: freeing it lets the tau decays act even with
    yp_tau = y_tau = 0 fixed (C^{mu tau} ∝ y*_mu y'_E,tau)."""
    from djax.likelihood import terms_blocked_by_fixed

    spec = djax.resolve_terms("full")
    sep = {"ypE_tau": {"type": "signed_log_uniform"}}
    free_E = resolve_priors(sep, yukawa_structure="separate")
    assert not any("tau" in tid for tid in terms_blocked_by_fixed(spec, free_E))
    blocked = terms_blocked_by_fixed(spec, resolve_priors(yukawa_structure="separate"))
    assert blocked and all("y_tau = ypE_tau = 0" in why for why in blocked.values())
    assert all("y_tau = yp_tau = 0" in why for why in terms_blocked_by_fixed(spec, resolve_priors()).values())
    p = P.replace(y=P.y.at[2].set(0.0), yp=P.yp.at[2].set(0.0), yp_E=P.yp.at[2].set(3e-4))
    assert float(djax.observables(p, solar=False)["br_tau_mu_gamma"]) > 0
