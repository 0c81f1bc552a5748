"""The jobs from Python and the command line, on a reduced problem: profile against brute force, run-folder
lifecycle (status, default folders per job, refusals), and the job fingerprint."""

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import djax
from djax.cli import main
from djax.errors import FolderError, ResumeRefused
from djax.inference import build_point_fn, profile_solver
from djax.io import read_metadata
from djax.jobs import load_config, prepare
from djax.likelihood import cl_thresholds, is_direct

# A reduced problem: everything fixed but (y_e, yp_mu, m_Aprime, epsilon) -- small enough for brute force.
REDUCED = (
    (Path(__file__).parent / "data" / "reduced_model.toml").read_text()
    + """
[optimize]
n_starts = 4
steps = 200
[optimize.profile]
method = "direct"
parameter = "m_Aprime"
low = 0.01
high = 0.04
n_points = 2
n_starts = 4
outer_iters = 10
inner_steps = 60
[sample]
num_warmup = 30
num_samples = 30
num_chains = 2
checkpoint_every = 30
[scan]
n_points = 2000
chunk_size = 1000
method = "sobol"
projections = [["y_e", "epsilon"]]
[output]
plots = false
"""
)


@pytest.fixture(scope="module")
def prepared():
    djax.enable_x64()
    return prepare(load_config(REDUCED), "optimize")


def test_profile_matches_brute_force(prepared):
    """max mu_equiv(Borexino) s.t. MEG II + NA64 + BaBar at 90% CL: profile vs a dense grid.

    With y_mu = y'_e = 0 the indirect constraints factorise: BR(mu->e gamma) bounds |y_e y'_mu| and NA64/BaBar
    bound epsilon, while mu_equiv ∝ epsilon |y_e y'_mu|, so the maximum sits on the corner of both bounds. A
    600 x 400 log grid, refined around its best cell, locates it to ~1%."""
    spec, priors = prepared.spec, prepared.priors
    row = profile_solver(spec, priors, parameter="m_Aprime", n_starts=4, seed=3, outer_iters=10, inner_steps=60).solve(
        0.02
    )
    best = row["borexino"]
    assert row["feasible_borexino"] and best > 0

    point_fn = jax.jit(jax.vmap(build_point_fn(spec, priors)))
    direct = np.array(is_direct(spec))
    thr = cl_thresholds(spec, 0.9)

    def grid_max(ye, eps):
        Y, E = np.meshgrid(ye, eps, indexing="ij")
        n = Y.size
        out = point_fn(
            {
                "y_e": jnp.asarray(Y.ravel()),
                "yp_mu": jnp.full(n, 1e-3),
                "epsilon": jnp.asarray(E.ravel()),
                "m_Aprime": jnp.full(n, 0.02),
            }
        )
        lnl = np.stack([np.asarray(out[f"lnL_{t}"]) for t in spec.ids], axis=1)
        ok = np.all(lnl[:, ~direct] >= thr[~direct] - 1e-12, axis=1)
        mu = np.where(ok, np.asarray(out["borexino_mu_equiv_muB"]), -np.inf)
        k = int(np.argmax(mu))
        return float(mu[k]), Y.ravel()[k], E.ravel()[k]

    ye, eps = np.geomspace(1e-6, 3.0, 600), np.geomspace(1e-7, 1e-2, 400)
    brute, y0, e0 = grid_max(ye, eps)
    dy, de = ye[1] / ye[0], eps[1] / eps[0]
    brute2, _, _ = grid_max(np.geomspace(y0 / dy**3, y0 * dy**3, 400), np.geomspace(e0 / de**3, e0 * de**3, 400))
    brute = max(brute, brute2)
    # the optimiser may use y'_mu too, but only the product y_e y'_mu enters: same maximum
    assert brute <= best * (1 + 1e-6)
    assert best <= brute * 1.005, (best, brute)
    assert best < 2.8e-11 * 1e-3  # the reference study's hierarchy, orders of magnitude below Borexino


def test_python_jobs_record_their_lifecycle(tmp_path):
    """Jobs started from Python end as done (not 'running' forever), in folders named by job."""
    out = djax.sample(REDUCED, overrides={"run.output_dir": str(tmp_path / "{name}-{job}")}, progress=False, quiet=True)
    assert out.folder == tmp_path / "reduced-sample"
    meta = read_metadata(out.folder)
    assert meta["status"] == "done" and meta["job"] == "sample" and meta["fingerprint"]["seed"] == 3
    assert out.datatree["posterior"]["y_e"].shape == (2, 30)
    res = djax.scan(REDUCED, overrides={"run.output_dir": str(tmp_path / "{name}-{job}")}, quiet=True)
    assert res.complete and read_metadata(tmp_path / "reduced-scan")["status"] == "done"
    # the optimize job of the same run file gets its own folder: no collision with the sample run
    opt = djax.optimize(
        REDUCED,
        overrides={"run.output_dir": str(tmp_path / "{name}-{job}"), "optimize.profile.enabled": False},
        quiet=True,
    )
    assert opt.folder == tmp_path / "reduced-optimize" and opt.best_fit["neg_log_likelihood"] < 1e-3
    with pytest.raises(FolderError, match="already holds results"):
        djax.scan(REDUCED, overrides={"run.output_dir": str(tmp_path / "{name}-{job}")}, quiet=True)
    with pytest.raises(FolderError, match="belongs to a 'scan' job"):
        djax.sample(REDUCED, out=tmp_path / "reduced-scan", resume=True, quiet=True)
    before = (tmp_path / "reduced-scan" / "metadata.json").read_bytes()
    with pytest.raises(ResumeRefused, match="scan.n_points"):
        djax.scan(REDUCED, out=tmp_path / "reduced-scan", resume=True, overrides={"scan.n_points": 3000}, quiet=True)
    assert (tmp_path / "reduced-scan" / "metadata.json").read_bytes() == before


def test_failed_job_is_marked_failed(tmp_path, monkeypatch):
    """A job that fails after its folder exists says so in metadata.json."""
    out = tmp_path / "f"
    cfg = load_config(REDUCED, {"scan.store": ["no_such_output"]})
    with pytest.raises(djax.errors.DjaxError, match="scan.store"):
        djax.scan(cfg, out=out, quiet=True)
    assert read_metadata(out)["status"] == "failed"


def test_fingerprint_covers_what_determines_results(prepared):
    fp = prepared.fingerprint
    terms = fp["likelihood"]["terms"]
    assert set(terms) == set(prepared.ids)
    assert len(terms["na64_2023"]["file_sha256"]) == 64 and terms["meg2_mueg"]["value"] == 1.5e-13
    assert fp["priors"]["y_e"] == {"type": "log_uniform", "low": 1e-6, "high": 3.0}
    assert fp["optimize"]["profile"]["n_points"] == 2 and fp["djax_version"] == djax.__version__
    json.dumps(fp)  # plain data only
    other = prepare(load_config(REDUCED, {"likelihood.overrides.meg2_mueg.value": 1.0e-13}), "optimize")
    assert other.fingerprint["likelihood"]["terms"]["meg2_mueg"]["value"] == 1.0e-13


def test_cli_optimize_writes_profile_and_hierarchy(tmp_path):
    run = tmp_path / "reduced.toml"
    run.write_text(REDUCED)
    out = tmp_path / "o"
    assert main(["optimize", str(run), "--out", str(out)]) == 0
    best = json.loads((out / "best_fit.json").read_text())
    assert set(best["terms"]) == {"meg2_mueg", "borexino_mueff", "na64_2023", "babar2017"}
    assert 0 <= best["neg_log_likelihood"] < 1e-3  # the data prefer no signal: zero-signal ln L = 0
    rows = (out / "profile.csv").read_text().strip().splitlines()
    assert [r for r in rows if not r.startswith("#")][0].startswith("m_Aprime_GeV,borexino_mu_equiv_max_muB")
    assert len([r for r in rows if not r.startswith("#")]) == 3
    assert "log10(lim/max)" in (out / "hierarchy.txt").read_text()
    assert main(["plot", str(out)]) == 0
    assert (out / "plots" / "hierarchy.png").is_file() and (out / "plots" / "epsilon_mass_plane.pdf").is_file()


def test_scan_allowed_criterion_uses_the_run_files_cl(prepared):
    """The 'allowed' output of a scan point follows scan.cl (it was once fixed at 90%)."""
    from djax.io import load_registry

    eps90 = float(
        np.interp(
            np.log(0.02), np.log(load_registry().curve("na64_2023").m), np.log(load_registry().curve("na64_2023").eps)
        )
    )
    point = {
        "y_e": jnp.asarray(1e-6),
        "yp_mu": jnp.asarray(1e-6),
        "m_Aprime": jnp.asarray(0.02),
        "epsilon": jnp.asarray(0.8 * np.exp(eps90)),
    }  # NA64: ln L = ln(0.1) * 0.64 = -1.47
    spec, priors = prepared.spec, prepared.priors
    assert bool(build_point_fn(spec, priors, cl=0.9)(point)["allowed"])
    assert not bool(build_point_fn(spec, priors, cl=0.5)(point)["allowed"])  # threshold ln(0.5) = -0.69


def test_tau_terms_that_cannot_act_are_flagged():
    """The embedded run file fixes y_tau = yp_tau = 0: with the full preset its tau decay terms cannot act, and
    prepare says so; freeing the tau Yukawas silences the warning."""
    notes = prepare(load_config(None, {"likelihood.preset": "full"}), "optimize").notes
    flagged = [n for n in notes if "needs a tau Yukawa" in n]
    assert {n.split(":")[0] for n in flagged} == {"term babar_taueg", "term belle_taumug"}
    free = {"priors.y_tau": {"type": "signed_log_uniform"}, "priors.yp_tau": {"type": "signed_log_uniform"}}
    notes = prepare(load_config(None, {"likelihood.preset": "full", **free}), "optimize").notes
    assert not [n for n in notes if "needs a tau Yukawa" in n]


def test_a_stop_request_whose_exception_python_discarded_stops_the_job_at_its_next_checkpoint(tmp_path):
    """A signal handler that happens to run inside a finalizer raises into nothing (Python reports the exception
    as unraisable and goes on): the job must still stop at its next durable checkpoint and say interrupted."""
    import os
    import signal
    import sys

    from djax.jobs import JobInterrupted, open_run_folder, running

    cfg = load_config(REDUCED, {"run.output_dir": str(tmp_path / "f")})
    folder = open_run_folder(cfg, "scan", prepare(cfg, "scan").fingerprint)

    class SignalsInItsFinalizer:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(10_000):  # bytecode for the interpreter to run the handler in
                pass

    lost = []
    hook, sys.unraisablehook = sys.unraisablehook, lambda u: lost.append(u.exc_type)
    try:
        with pytest.raises(JobInterrupted, match="SIGINT"), running(folder):
            SignalsInItsFinalizer()  # freed at once: the handler runs in __del__ and its exception is discarded
            assert lost == [JobInterrupted]
            folder.checkpointed()
            raise AssertionError("the discarded stop request was ignored")
    finally:
        sys.unraisablehook = hook
    assert read_metadata(tmp_path / "f")["status"] == "interrupted"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
