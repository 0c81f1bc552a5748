"""The certified profile: the identity behind the factorisation, the certificate against a brute-force maximum on
a reduced problem, feasibility of the lower value, and the job's outputs (hierarchy.csv, Dataset, resume)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

import djax
from djax import constants as C
from djax.cli import main
from djax.inference import CertifiedProfiler, omega_matrix, point_observables
from djax.inference._certified import classify_terms, l_vector
from djax.io import read_hierarchy_table
from djax.jobs import load_config, prepare
from djax.model import params_from_values
from djax.observables import observables, solar_tables, solar_weights

REDUCED = (Path(__file__).parent / "data" / "reduced_model.toml").read_text()
# three free dark-sector parameters (y_e, y_mu, yp_mu), the masses and the angle fixed: brute force is cheap
BRUTE = REDUCED.replace("[priors.y_mu]\nvalue = 0.0\n", "").replace(
    '[priors.yp_mu]\ntype = "log_uniform"\nlow = 1e-6\nhigh = 3.0\n',
    '[priors.yp_mu]\ntype = "signed_log_uniform"\nlow = -3.0\nhigh = 3.0\nscale = 1e-12\n'
    '[priors.y_mu]\ntype = "signed_log_uniform"\nlow = -3.0\nhigh = 3.0\nscale = 1e-12\n',
)
BRUTE += '[model]\ndark_photon_decays = "invisible"\n'
MASSES = np.array([0.012, 0.02, 0.035])


@pytest.fixture(scope="module")
def reduced():
    prep = prepare(load_config(BRUTE), "optimize")
    prof = CertifiedProfiler(prep.spec, prep.priors, cl=0.9, n_random=2, n_polish=4, outer_iters=4, inner_steps=40)
    cands = prof.inner()
    rows = prof.rows(MASSES, cands)
    return prep, prof, rows


def test_moment_from_omega_equals_the_observable():
    """mu_X^2 = eps^2 l^T Omega_X l / mu_B^2 (Omega = Tr W - W, W = Re U diag(w) U^dagger) at random points."""
    rng = np.random.default_rng(4)
    t = solar_tables()
    for _ in range(4):
        vals = {
            "M_F": 10 ** rng.uniform(2, 4),
            "m_S1": 10 ** rng.uniform(1, 4),
            "m_S2": 10 ** rng.uniform(1, 4),
            "theta": rng.uniform(0, 1.5),
            "g_D": 1.3,
            "epsilon": 1e-4,
            "m_Aprime": 10 ** rng.uniform(-3, 0.5),
            **{k: rng.normal() for k in ("y_e", "y_mu", "y_tau", "yp_e", "yp_mu", "yp_tau")},
        }
        obs = observables(params_from_values({k: jnp.asarray(v) for k, v in vals.items()}))
        lv = np.asarray(l_vector(obs["lambda_dark_GeV"]))
        for exp in ("borexino", "xenonnt"):
            om = omega_matrix(np.asarray(solar_weights(jnp.asarray(vals["m_Aprime"]), t[exp])), t["U"])
            mu = vals["epsilon"] * math.sqrt(lv @ om @ lv) / C.MU_BOHR
            assert mu == pytest.approx(float(obs[f"{exp}_mu_equiv_muB"]), rel=1e-12)


def test_terms_are_classified_by_what_they_depend_on():
    prep = prepare(load_config(None), "optimize")
    roles = classify_terms(prep.spec, prep.priors)
    ids = prep.spec.ids
    assert [ids[i] for i in roles["direct"]] == ["borexino_mueff"]
    assert [ids[i] for i in roles["dark"]] == ["meg2_mueg"]
    assert sorted(ids[i] for i in roles["kinetic"]) == ["babar2017", "na64_2023"]


def _brute_force_max(prep, m, eps):
    """Dense grid over the latents of (y_e, y_mu, yp_mu), then a finer grid around the best cell."""
    free = {p.name: p for p in prep.priors if not p.is_fixed and p.name not in ("epsilon", "m_Aprime")}
    fixed = {p.name: p.value for p in prep.priors if p.is_fixed}
    names = sorted(free)
    thr_meg = math.log(0.1)  # Poisson zero-count 90% CL

    import jax

    @jax.jit
    def value(U):
        def one(u):
            v = {k: jnp.asarray(fv, dtype=float) for k, fv in fixed.items()}
            for i, n in enumerate(names):
                v[n] = free[n].to_physical(u[i])
            v["epsilon"], v["m_Aprime"] = jnp.asarray(eps), jnp.asarray(m)
            obs, lnl = point_observables(v, prep.spec)
            ok = lnl[prep.spec.ids.index("meg2_mueg")] >= thr_meg
            return jnp.where(ok, obs["borexino_mu_equiv_muB"], 0.0)

        return jax.vmap(one)(U)

    lo = np.array([free[n].latent_bounds()[0] for n in names])
    hi = np.array([free[n].latent_bounds()[1] for n in names])
    best = 0.0
    for _ in range(3):
        axes = [np.linspace(a, b, 41) for a, b in zip(lo, hi)]
        U = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, len(names))
        v = np.asarray(value(jnp.asarray(U)))
        i = int(np.argmax(v))
        best = max(best, float(v[i]))
        step = (hi - lo) / 40
        lo, hi = np.maximum(U[i] - 2 * step, lo), np.minimum(U[i] + 2 * step, hi)
    return best


def test_certified_interval_contains_the_brute_force_maximum(reduced):
    prep, prof, rows = reduced
    for r in rows:
        brute = _brute_force_max(prep, r["m_Aprime_GeV"], r["epsilon_max"])
        assert r["borexino_lower_muB"] <= r["borexino_upper_muB"]
        assert brute <= r["borexino_upper_muB"] * (1 + 1e-9)
        assert r["borexino_lower_muB"] >= 0.5 * brute  # the inner solver finds the maximum the grid finds


def test_lower_value_is_feasible_when_re_evaluated(reduced):
    prep, prof, rows = reduced
    from djax.likelihood import cl_thresholds

    thr = cl_thresholds(prep.spec, 0.9)
    direct = {"borexino_mueff"}
    for r in rows:
        point = dict(r["argmax_borexino"])
        point.update({"epsilon": r["epsilon_max"], "m_Aprime": r["m_Aprime_GeV"]})
        point.update({p.name: p.value for p in prep.priors if p.is_fixed})
        obs, lnl = point_observables({k: jnp.asarray(v) for k, v in point.items()}, prep.spec)
        for tid, v, t in zip(prep.spec.ids, np.asarray(lnl), thr):
            if tid not in direct:
                assert v >= t - 1e-8, tid
        assert float(obs["borexino_mu_equiv_muB"]) == pytest.approx(r["borexino_lower_muB"], rel=1e-10)


def test_xenonnt_over_borexino_follows_the_suppression_factors(reduced):
    """The two maximisations are separate; their ratio must still be the ratio of the experiments' suppression
    factors for the maximising point's flavour content, sqrt(l^T Omega_Xe l / l^T Omega_Bx l), to 1 %."""
    prep, prof, rows = reduced
    t = solar_tables()
    for r in rows:
        point = dict(r["argmax_borexino"])
        point.update({"epsilon": r["epsilon_max"], "m_Aprime": r["m_Aprime_GeV"]})
        point.update({p.name: p.value for p in prep.priors if p.is_fixed})
        obs = observables(params_from_values({k: jnp.asarray(v) for k, v in point.items()}))
        lv = np.asarray(l_vector(obs["lambda_dark_GeV"]))
        m = jnp.asarray(r["m_Aprime_GeV"])
        s = {e: lv @ omega_matrix(np.asarray(solar_weights(m, t[e])), t["U"]) @ lv for e in ("borexino", "xenonnt")}
        ratio = r["xenonnt_lower_muB"] / r["borexino_lower_muB"]
        assert ratio == pytest.approx(math.sqrt(s["xenonnt"] / s["borexino"]), rel=0.01)


def test_neighbouring_masses_differ_only_by_epsilon_max_and_suppression(reduced):
    """lower(m) / (epsilon_max(m) S(m)) is the same at every mass (S from the maximising point's flavour content)."""
    prep, prof, rows = reduced
    t = solar_tables()
    point = dict(rows[0]["argmax_borexino"])
    point.update({p.name: p.value for p in prep.priors if p.is_fixed})
    point.update({"epsilon": 1.0, "m_Aprime": 0.02})
    obs = observables(params_from_values({k: jnp.asarray(v) for k, v in point.items()}))
    lv = np.asarray(l_vector(obs["lambda_dark_GeV"]))
    ratios = []
    for r in rows:
        om = omega_matrix(np.asarray(solar_weights(jnp.asarray(r["m_Aprime_GeV"]), t["borexino"])), t["U"])
        ratios.append(r["borexino_lower_muB"] / (r["epsilon_max"] * math.sqrt(lv @ om @ lv)))
    assert np.ptp(ratios) / np.mean(ratios) < 0.01


def test_optimize_job_writes_the_certified_table_and_resumes(tmp_path):
    run = tmp_path / "b.toml"
    run.write_text(
        BRUTE + "[optimize]\nn_starts = 2\nsteps = 20\n[optimize.profile]\nlow = 0.012\nhigh = 0.035\nn_points = 3\n"
        "n_starts = 1\nn_polish = 2\nouter_iters = 2\ninner_steps = 20\nbatch = 2\n[output]\nplots = false\n"
    )
    out = tmp_path / "o"
    res = djax.optimize(str(run), out=str(out), progress=False, quiet=True)
    table = read_hierarchy_table(out / "hierarchy.csv")
    assert list(table["m_Aprime_GeV"]) == pytest.approx([0.012, math.sqrt(0.012 * 0.035), 0.035])
    assert set(table["status"]) <= {"converged", "not converged", "excluded"}
    assert np.all(np.asarray(table["borexino_lower_muB"]) <= np.asarray(table["borexino_upper_muB"]))
    ds = res.hierarchy
    assert ds["borexino_upper"].attrs["units"] == "mu_B" and ds["m_Aprime"].attrs["units"] == "GeV"
    np.testing.assert_allclose(ds["borexino_lower"].values, table["borexino_lower_muB"], rtol=1e-9)
    cert = json.loads((out / "hierarchy_certificate.json").read_text())
    assert cert["terms"]["dark"] == ["meg2_mueg"] and len(cert["rows"]) == 3
    # a resumed finished run recomputes nothing and writes the same table
    before = (out / "hierarchy.csv").read_text()
    assert main(["optimize", str(run), "--out", str(out), "--resume"]) == 0
    assert (out / "hierarchy.csv").read_text() == before
    # a non-separable term set is refused with the key named (the tuning eps_loop / eps couples eps and g_D)
    run2 = tmp_path / "c.toml"
    text = run.read_text().replace(
        "[priors.g_D]\nvalue = 1.0\n", '[priors.g_D]\ntype = "uniform"\nlow = 0.1\nhigh = 1.0\n'
    )
    run2.write_text(text + '[likelihood]\ninclude = ["eps_loop_naturalness"]\n')  # eps_loop/eps: eps and g_D
    assert main(["optimize", str(run2), "--out", str(tmp_path / "o2")]) == 2


def test_anomalous_moment_bound_holds_and_is_nearly_reached():
    """With |Delta a_e| <= A_e, |P_C y_e y'_e| <= nu_e: the box bound on lambda_{tau e} is then about half the plain
    one (y_e and y'_e cannot both sit at the box edge), it holds at points on the Delta a_e boundary with the tau
    Yukawas at the box edge, and such points reach it to 20 %."""
    import jax

    from djax.inference._certified import _cell_ingredients, _pair_bound

    obs_fn = jax.jit(lambda v: observables(params_from_values(v), solar=False))
    A_e = 1e-12
    d_e = A_e * C.E_CHARGE / (4.0 * C.M_E)
    T = math.sqrt(4.0 * math.pi)
    rng = np.random.default_rng(7)
    for _ in range(5):
        M, m1 = 10 ** rng.uniform(2.3, 3.0), 10 ** rng.uniform(1.0, 2.0)
        m2, th = m1 * 10 ** rng.uniform(0.05, 0.5), rng.uniform(0.1, 1.4)
        P_C, P_l, R, _, na, nb = (
            float(x) for x in _cell_ingredients(jnp.asarray(M), jnp.asarray(m1), jnp.asarray(m2), th, th, T, 1.0)
        )
        num_e = d_e + C.M_E * (na + nb) * T**2
        args = (P_C, P_l, R, na, nb, math.inf, C.M_E, C.M_TAU, T, T, T, T)
        bound, plain = float(_pair_bound(*args, num_a=num_e)), float(_pair_bound(*args))
        assert bound < 0.6 * plain

        def at(ype, s, M=M, m1=m1, m2=m2, th=th):
            v = dict(M_F=M, m_S1=m1, m_S2=m2, theta=th, g_D=T, epsilon=1e-4, m_Aprime=0.01)
            v.update(y_e=T, y_mu=0.0, y_tau=s * T, yp_e=ype, yp_mu=0.0, yp_tau=-s * T)
            obs = obs_fn({k: jnp.asarray(float(x)) for k, x in v.items()})
            return abs(float(obs["delta_a_e"])), abs(float(np.asarray(l_vector(obs["lambda_dark_GeV"]))[1]))

        reached = 0.0
        for s in (1.0, -1.0):
            for sign in (1.0, -1.0):
                if at(sign * T, s)[0] <= A_e:
                    continue
                lo, hi = 0.0, T  # |Delta a_e| crosses A_e between y'_e = 0 and the box edge
                for _ in range(80):
                    mid = 0.5 * (lo + hi)
                    lo, hi = (mid, hi) if at(sign * mid, s)[0] <= A_e else (lo, mid)
                da, lam = at(sign * lo, s)
                assert da <= A_e * (1 + 1e-9)
                assert lam <= bound * (1 + 1e-9)
                reached = max(reached, lam)
        assert reached >= 0.8 * bound


def test_bound_at_a_mass_is_the_reference_bound_times_the_weight_ratio(reduced):
    """Omega(m) <= rho Omega(m_ref) (rho = max_k w_k(m) / w_k(m_ref), the difference positive semi-definite), so
    the bound at m is rho F(m_ref); at a reference mass it is the certificate there, unchanged."""
    prep, prof, rows = reduced
    refs = prof.reference_masses()
    assert len(refs) == prof.n_reference and np.all(np.diff(np.log(refs)) > 0)
    for key in ("borexino", "xenonnt"):
        for m in [*MASSES, 0.5 * (refs[1] + refs[2])]:
            F, info = prof.bound_at(key, m)
            m_ref, rho = info["reference_m_Aprime_GeV"], info["weight_ratio"]
            assert m_ref in refs and m_ref in refs[max(np.searchsorted(refs, m) - 1, 0) : np.searchsorted(refs, m) + 1]
            w, w_ref = prof.weights(key, m), prof.weights(key, m_ref)
            assert rho == pytest.approx(float(np.max(w / w_ref)), rel=1e-14)
            diff = rho * prof.omega(key, m_ref) - prof.omega(key, m)
            assert np.linalg.eigvalsh(diff).min() >= -1e-13 * np.abs(prof.omega(key, m)).max()
            assert F == pytest.approx(rho * prof.cert.bound(prof.omega(key, m_ref))[0], rel=1e-14)
        F_ref, info = prof.bound_at(key, refs[2])
        assert info["weight_ratio"] == 1.0 and F_ref == prof.cert.bound(prof.omega(key, refs[2]))[0]


def test_best_first_certificate_exceeds_the_bound_function_everywhere_it_is_sampled():
    """The certificate over the default (M_F, m_S1, m_S2, theta) box with the MEG II bound on the e-mu dipoles is
    above the bound function at 40000 points (theta cells of zero width: the function itself), half of them near
    the GIM line m_S1 = m_S2 where it varies fastest, and the best-first refinement ends at a node whose margin
    factor is within the tolerance, before its budget."""
    from djax.inference._certified import _bound_cells_jit, certificate
    from djax.model import DEFAULT_PRIORS

    bounds = {"c": np.array([2.2e-14, np.inf, np.inf]), "d": np.full(3, np.inf), "mnu_sum_GeV": math.inf}
    cert = certificate(tuple(DEFAULT_PRIORS.values()), bounds)
    t = solar_tables()
    om = omega_matrix(np.asarray(solar_weights(jnp.asarray(0.01), t["borexino"])), t["U"])
    F, info = cert.bound(om)
    assert info["margin_factor"] <= cert.margin_tol and info["regions_covered"] < cert.refine + cert.extra
    (_, axM), (_, ax1), (_, ax2), (_, edges) = cert.axes
    rng = np.random.default_rng(3)
    n = 20_000

    def log_u(ax, size):
        return np.exp(rng.uniform(math.log(ax[0]), math.log(ax[-1]), size))

    M = np.concatenate([log_u(axM, n), axM[0] * np.exp(rng.uniform(0.0, 0.5, n))])
    m1 = np.concatenate([log_u(ax1, n), ax1[0] * np.exp(rng.uniform(0.0, 1.0, n))])
    m2 = np.concatenate([log_u(ax2, n), np.clip(m1[n:] * np.exp(rng.uniform(-0.15, 0.15, n)), ax2[0], ax2[-1])])
    th = rng.uniform(edges[0], edges[-1], 2 * n)
    vals = np.asarray(_bound_cells_jit(M, m1, m2, th, th, om, **cert.settings))
    assert np.isfinite(vals).all() and vals.max() <= F
    assert vals.max() >= 0.3 * F  # the sample comes near the maximum: the bound is not vacuous
