"""End-to-end jobs on CPU with small settings: sample, optimize (best fit + upper-bound profile), scan, plot."""
import json
import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import djax
from djax.cli import main
from djax.inference import load_config, upper_bound_profile
from djax.inference._jobs import build_point_fn, cl_thresholds

# A reduced problem: everything fixed but (y_e, yp_mu, epsilon) -- small enough for a brute-force reference.
REDUCED = """
schema = 1
[run]
name = "reduced"
seed = 3
[priors.M_F]
value = 1000.0
[priors.m_S1]
value = 300.0
[priors.m_S2]
value = 900.0
[priors.theta]
value = 0.6
[priors.y_mu]
value = 0.0
[priors.y_tau]
value = 0.0
[priors.yp_e]
value = 0.0
[priors.yp_tau]
value = 0.0
[priors.g_D]
value = 1.0
[priors.m_Aprime]
type = "log_uniform"
low = 0.01
high = 0.04
[priors.y_e]
type = "log_uniform"
low = 1e-6
high = 3.0
[priors.yp_mu]
type = "log_uniform"
low = 1e-6
high = 3.0
[priors.epsilon]
type = "log_uniform"
low = 1e-7
high = 1e-2
[optimize]
n_starts = 4
steps = 200
[optimize.profile]
parameter = "m_Aprime"
low = 0.01
high = 0.04
n_points = 2
n_starts = 4
outer_iters = 10
inner_steps = 60
[sample]
num_warmup = 60
num_samples = 60
num_chains = 2
checkpoint_every = 30
[scan]
n_points = 4000
chunk_size = 1000
method = "sobol"
projections = [["y_e", "epsilon"]]
[output]
plots = false
"""


@pytest.fixture(scope="module")
def reduced_config():
    return load_config(REDUCED)


def test_profile_matches_brute_force(reduced_config):
    """max mu_equiv(Borexino) s.t. MEG II + NA64 + BaBar at 90% CL: profile vs a dense grid.

    With y_mu = y'_e = 0 the indirect constraints factorise: BR(mu->e gamma) bounds |y_e y'_mu| (plus the
    non-enhanced y_e y_mu term, zero here) and NA64/BaBar bound epsilon, while mu_equiv ∝ epsilon |y_e y'_mu|,
    so the maximum sits on the corner of both bounds. A 600 x 400 log-grid locates it to ~1%."""
    prof = upper_bound_profile(reduced_config, grid=[0.02])
    best = prof["borexino"][0]
    assert prof["feasible_borexino"][0] and best > 0

    point_fn = jax.jit(jax.vmap(build_point_fn(reduced_config)))
    spec = djax.inference.spec_from_config(reduced_config)
    direct = np.array(djax.likelihood.is_direct(spec))
    thr = cl_thresholds(spec, 0.9)

    def grid_max(ye, eps):
        Y, E = np.meshgrid(ye, eps, indexing="ij")
        n = Y.size
        out = point_fn({"y_e": jnp.asarray(Y.ravel()), "yp_mu": jnp.full(n, 1e-3), "epsilon": jnp.asarray(E.ravel()),
                        "m_Aprime": jnp.full(n, 0.02)})
        lnl = np.stack([np.asarray(out[f"lnL_{t}"]) for t in spec.ids], axis=1)
        ok = np.all(lnl[:, ~direct] >= thr[~direct] - 1e-12, axis=1)
        mu = np.where(ok, np.asarray(out["borexino_mu_equiv_muB"]), -np.inf)
        k = int(np.argmax(mu))
        return float(mu[k]), Y.ravel()[k], E.ravel()[k]

    # stage 1: log grid over the whole box; stage 2: zoom into +-3 cells of the best cell
    ye, eps = np.geomspace(1e-6, 3.0, 600), np.geomspace(1e-7, 1e-2, 400)
    brute, y0, e0 = grid_max(ye, eps)
    dy, de = ye[1] / ye[0], eps[1] / eps[0]
    brute2, _, _ = grid_max(np.geomspace(y0 / dy**3, y0 * dy**3, 400), np.geomspace(e0 / de**3, e0 * de**3, 400))
    brute = max(brute, brute2)
    # the optimiser may use y'_mu too, but only the product y_e y'_mu enters: same maximum
    assert brute <= best * (1 + 1e-6)
    assert best <= brute * 1.005, (best, brute)
    assert best < 2.8e-11 * 1e-3  # the reference study's hierarchy, orders of magnitude below Borexino


def test_cli_sample_plot_and_resume_refusal(tmp_path):
    run = tmp_path / "reduced.toml"
    run.write_text(REDUCED)
    out = tmp_path / "s"
    assert main(["sample", str(run), "--out", str(out)]) == 0
    for name in ("posterior.nc", "summary.txt", "summary.csv", "run.toml", "metadata.json"):
        assert (out / name).is_file(), name
    from djax.inference._arviz import read_datatree

    dt = read_datatree(out / "posterior.nc")
    assert dt["posterior"]["y_e"].shape == (2, 60)
    assert "lnL_meg2_mueg" in dt["posterior"] and "diverging" in dt["sample_stats"]
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["seed"] == 3 and "jax" in json.dumps(meta["versions"]) and meta["status"] == "done"
    # an existing run folder is never overwritten silently
    assert main(["sample", str(run), "--out", str(out)]) == 2
    assert main(["plot", str(out)]) == 0
    assert any(p.suffix == ".png" for p in (out / "plots").iterdir())


def test_cli_optimize_writes_profile_and_hierarchy(tmp_path):
    run = tmp_path / "reduced.toml"
    run.write_text(REDUCED)
    out = tmp_path / "o"
    assert main(["optimize", str(run), "--out", str(out)]) == 0
    best = json.loads((out / "best_fit.json").read_text())
    assert set(best["terms"]) == {"meg2_mueg", "borexino_mueff", "na64_2023", "babar2017"}
    assert 0 <= best["neg_log_likelihood"] < 1e-3  # the data prefer no signal: zero-signal ln L = 0
    rows = (out / "profile.csv").read_text().strip().splitlines()
    assert rows[0].startswith("m_Aprime_GeV,borexino_mu_equiv_max_muB") and len(rows) == 3
    assert "log10(lim/max)" in (out / "hierarchy.txt").read_text()


def test_cli_scan_resume_equals_uninterrupted(tmp_path, reduced_config):
    from djax.inference._scan import read_scan, run_scan_config

    fn = build_point_fn(reduced_config)
    full = run_scan_config(fn, reduced_config, tmp_path / "full", resume=False)

    calls = {"n": 0}

    def stop_after_two(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt

    from djax.inference._scan import run_scan

    with pytest.raises(KeyboardInterrupt):
        run_scan(fn, reduced_config.priors, n_points=4000, method="sobol", chunk_size=1000, seed=3,
                 out_dir=tmp_path / "part", projections=[("y_e", "epsilon")], on_chunk=stop_after_two,
                 progress=False)
    res = run_scan(fn, reduced_config.priors, n_points=4000, method="sobol", chunk_size=1000, seed=3,
                   out_dir=tmp_path / "part", projections=[("y_e", "epsilon")], resume=True, progress=False)
    a = read_scan(tmp_path / "full")
    b = read_scan(tmp_path / "part")
    assert res.n_done == full.n_done == 4000
    np.testing.assert_array_equal(a["outputs/loglike"], b["outputs/loglike"])
    np.testing.assert_array_equal(a["params/y_e"], b["params/y_e"])
    assert 0.0 < full.allowed_fraction < 1.0
