"""The joint likelihood: presets, per-term behaviour on physics observables, the NumPyro model."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import djax
from djax import Params, numpyro_model
from djax.likelihood import PRESETS, cl_thresholds, is_direct, preset_ids
from djax.likelihood import gaussian as gaussian_lnl
from djax.model import DEFAULT_PRIORS, resolve_priors


def test_presets_resolve_and_differ():
    ids = {p: preset_ids(p) for p in PRESETS}
    assert ids["paper"] == ("meg2_mueg", "na64_2023", "babar2017", "borexino_mueff")
    assert set(ids["paper"]) < set(ids["full"])
    assert "planck2018_mnu" in ids["full"] and "planck2018_mnu" not in ids["paper"]
    assert "proj_meg2_final" in ids["future"] and "meg2_mueg" not in ids["future"]
    assert "dae_cs" in preset_ids("full", alpha_e="Cs")
    assert "acme2018_de" in preset_ids("full", edm="ACME2018")
    with pytest.raises(ValueError, match="preset 'nope'"):
        preset_ids("nope")
    with pytest.raises(ValueError, match="alpha_e"):
        preset_ids("full", alpha_e="H")


def test_terms_of_each_preset_are_finite_at_default():
    p = Params.default()
    for preset in PRESETS:
        terms = djax.likelihood_terms(p, preset)
        assert set(terms) == set(djax.resolve_terms(preset).ids)
        assert all(np.isfinite(float(v)) and float(v) <= 0 for v in terms.values()), preset


def test_meg_term_at_its_limit_and_monotone():
    """Scale the Yukawas so that BR(mu->e gamma) hits the MEG II limit: ln L = ln(0.1) (Poisson, 90% CL)."""
    p = Params.default()
    br0 = float(djax.observables(p, solar=False)["br_mu_e_gamma"])
    # BR ∝ (y y')^2 ~ s^4 for a common scale s of y and y' (the non-enhanced m_mu y_e y_mu part is ∝ s^4 too)
    s = (1.5e-13 / br0) ** 0.25
    p90 = p.replace(y=p.y * s, yp=p.yp * s)
    br = float(djax.observables(p90, solar=False)["br_mu_e_gamma"])
    assert math.isclose(br, 1.5e-13, rel_tol=1e-9)
    t = djax.likelihood_terms(p90, "paper")
    assert math.isclose(float(t["meg2_mueg"]), math.log(0.1), rel_tol=1e-9)
    vals = [
        float(djax.likelihood_terms(p.replace(y=p.y * k, yp=p.yp * k), "paper")["meg2_mueg"])
        for k in (0.0, 0.5, 1.0, 2.0, 4.0)
    ]
    assert vals[0] == 0.0 and all(a > b for a, b in zip(vals, vals[1:]))


def test_kinetic_mixing_terms_at_curve():
    from djax.io import load_registry

    curve = load_registry().curve("na64_2023")
    m = float(curve.m[40])
    p = Params.default().replace(m_Aprime=jnp.asarray(m), epsilon=jnp.asarray(float(curve.eps[40])))
    t = djax.likelihood_terms(p, "paper")
    assert math.isclose(float(t["na64_2023"]), math.log(0.1), rel_tol=1e-6)


def test_gradients_finite_at_and_around_zero_signal():
    for y, yp in (
        ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
        ([1e-9, 0.0, 0.0], [0.0, 1e-9, 0.0]),
        ([4e-4, 8e-4, 0.0], [8e-4, -4e-4, 0.0]),
    ):
        p = Params.default().replace(y=jnp.asarray(y), yp=jnp.asarray(yp))
        for preset in ("paper", "full"):
            g = jax.grad(lambda q: djax.log_likelihood(q, preset))(p)
            assert all(np.all(np.isfinite(np.asarray(leaf))) for leaf in jax.tree.leaves(g)), (preset, y)


def test_log_likelihood_vmaps_over_batches():
    p = Params.default()
    batch = jax.tree.map(lambda x: jnp.stack([x, x * 1.01]), p)
    ll = djax.log_likelihood(batch, "paper")
    assert ll.shape == (2,)
    assert math.isclose(float(ll[0]), float(djax.log_likelihood(p, "paper")), rel_tol=1e-14)


def test_cl_thresholds_and_direct_flags():
    spec = djax.resolve_terms("full")
    thr = cl_thresholds(spec, 0.9)
    forms = dict(zip(spec.ids, thr))
    assert math.isclose(forms["meg2_mueg"], math.log(0.1))
    assert math.isclose(forms["damu_2025"], -0.5 * 1.6448536269514722**2, rel_tol=1e-12)
    direct = dict(zip(spec.ids, is_direct(spec)))
    assert direct["borexino_mueff"] and direct["xenonnt_mueff"] and not direct["meg2_mueg"]


def test_measurement_in_tension_never_excludes_the_sm_limit():
    """Delta a_e from alpha(Rb) sits ~2.1 sigma above zero: its allowed region widens to the SM's own pull, so
    the model's SM limit (every coupling -> 0) stays allowed, while a worse fit (pull beyond both) is excluded."""
    spec = djax.resolve_terms("full")
    thr = dict(zip(spec.ids, cl_thresholds(spec, 0.9)))
    i = spec.scalar_ids.index("dae_rb")
    mean, sigma = float(spec.scalar.value[i]), float(spec.scalar.sigma[i])
    assert abs(mean) / sigma > 1.6448536269514722  # the premise: zero lies outside the two-sided 90 % region
    p0 = Params.default()
    sm_point = p0.replace(y=jnp.zeros(3), yp=jnp.zeros(3), m_Aprime=0.1, epsilon=1e-9)
    sm = {k: float(v) for k, v in djax.likelihood_terms(sm_point, "full").items()}
    low = {k: (sm[k], thr[k]) for k in sm if sm[k] < thr[k] - 1e-12}
    assert not low, low
    assert math.isclose(thr["dae_rb"], -0.5 * (mean / sigma) ** 2, rel_tol=1e-12)
    worse = mean - 1.01 * abs(mean)  # x slightly below zero: farther from the measurement than the SM
    assert gaussian_lnl(worse, mean, sigma) < thr["dae_rb"]


def test_user_registry_override(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text("schema = 1\n[limit.meg2_mueg]\nvalue = 3.0e-13\n")
    p = Params.default()
    a = float(djax.likelihood_terms(p, "paper")["meg2_mueg"])
    b = float(djax.likelihood_terms(p, "paper", registry=str(f))["meg2_mueg"])
    assert math.isclose(b, a / 2, rel_tol=1e-12)


def test_unknown_include_id_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown term id"):
        djax.likelihood_terms(Params.default(), "paper", include=("not_a_limit",))


def test_numpyro_model_density_matches_likelihood():
    from numpyro.handlers import substitute
    from numpyro.infer.util import log_density

    model = numpyro_model("paper")
    priors = resolve_priors()
    p = Params.default()
    vals = {
        "M_F": 1000.0,
        "m_S1": 400.0,
        "m_S2": 700.0,
        "theta": math.pi / 4,
        "y_e": 4e-4,
        "y_mu": 8e-4,
        "y_tau": 0.0,
        "yp_e": 8e-4,
        "yp_mu": -4e-4,
        "yp_tau": 0.0,
        "g_D": 0.3,
        "m_Aprime": 0.05,
        "epsilon": 1e-5,
    }
    latent = {}
    logprior = 0.0
    for pr in priors:
        if pr.is_fixed:
            assert vals[pr.name] == pr.value
            continue
        lo, hi = pr.latent_bounds()
        x = vals[pr.name]
        u = float(pr.to_latent(float(x)))
        latent[pr.name if pr.type == "uniform" else f"{pr.name}__u"] = jnp.asarray(u)
        logprior -= math.log(hi - lo)
    ld, trace = log_density(substitute(model, latent), (), {}, {})
    ll = float(djax.log_likelihood(p, "paper"))
    assert math.isclose(float(ld), ll + logprior, rel_tol=1e-10, abs_tol=1e-10)
    assert "lnL_meg2_mueg" in trace and "br_mu_e_gamma" in trace and "borexino_mu_equiv_muB" in trace


def test_defaults_are_the_same_from_cli_and_python():
    """One default prior set: the embedded run file (CLI), resolve_priors() and numpyro_model() resolve the same
    13 priors, y_tau = yp_tau = 0 fixed, the other 11 free over the box."""
    from numpyro.handlers import seed, trace

    from djax.io import load_run
    from djax.model import DEFAULT_FIXED, PRIOR_BOX

    cli = load_run(None).priors
    py = resolve_priors()
    assert cli == py
    assert [p.name for p in py if p.is_fixed] == ["y_tau", "yp_tau"] == list(DEFAULT_FIXED)
    for p in py:
        if not p.is_fixed:
            assert p == PRIOR_BOX[p.name]
    sites = trace(seed(numpyro_model("paper"), 0)).get_trace()
    sampled = {k.removesuffix("__u") for k, v in sites.items() if v["type"] == "sample" and not v["is_observed"]}
    assert sampled == {p.name for p in cli if not p.is_fixed}
    assert len(sampled) == 11
    # the box frees all 13
    assert all(not p.is_fixed for p in resolve_priors(PRIOR_BOX))


def test_tau_terms_warn_when_the_default_fixes_tau():
    with pytest.warns(UserWarning, match="term belle_taumug: cannot act"):
        numpyro_model("full")
    import warnings

    from djax.model import PRIOR_BOX

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        numpyro_model("full", priors=PRIOR_BOX)
        numpyro_model("paper")


def test_default_priors_cover_the_physics_box():
    assert DEFAULT_PRIORS["M_F"].latent_bounds() == (math.log(100.0), math.log(1e4))
    y = DEFAULT_PRIORS["y_e"]
    assert math.isclose(float(y.from_unit(1.0)), math.sqrt(4 * math.pi), rel_tol=1e-12)
    assert math.isclose(float(y.from_unit(0.5)), 0.0, abs_tol=1e-20)
    with pytest.raises(ValueError, match="priors.m_S3: unknown parameter"):
        resolve_priors({"m_S3": ("uniform", 0, 1)})
