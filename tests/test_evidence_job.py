"""The evidence job (``djax evidence``) on the shared reduced run file: evidence.json through its reader, the
resampled posterior.nc, the run-folder lifecycle (refusal, resume, overwrite) and the ``[evidence]`` settings.
The sampler itself is tested against analytic evidences in test_evidence.py."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

import djax
from djax.cli import main
from djax.errors import DjaxError, FolderError, ResumeRefused
from djax.io import RunFileError, read_datatree, read_evidence, read_metadata, validate_run, write_evidence
from djax.jobs import load_config, prepare

RUN_FILE = Path(__file__).parent / "data" / "reduced_model.toml"
SETTINGS = """
[evidence]
num_live_points = 30
dlogz = 0.5
[output]
plots = false
"""
REDUCED = RUN_FILE.read_text() + SETTINGS


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    djax.enable_x64()
    base = tmp_path_factory.mktemp("ev")
    out = djax.evidence(REDUCED, overrides={"run.output_dir": str(base / "{name}-{job}")}, progress=False, quiet=True)
    return out


def test_evidence_json_through_the_reader(run):
    assert run.folder.name == "reduced-evidence"
    rec = read_evidence(run.folder)
    assert rec == read_evidence(run.folder / "evidence.json") and rec["log_Z"] == run.log_Z
    assert math.isfinite(rec["log_Z"]) and rec["log_Z_err"] > 0
    assert rec["log_Z_err"] == pytest.approx(math.sqrt(rec["information"] / rec["n_live"]))
    assert rec["n_live"] == 30 and rec["settings"]["num_live_points"] == 30 and rec["settings"]["dlogz"] == 0.5
    assert rec["settings"]["dimension"] == 4 and rec["n_dead"] == rec["n_iterations"] * rec["settings"]["num_delete"]
    assert rec["converged"] and rec["termination"] == "dlogz"
    prep = prepare(load_config(REDUCED), "evidence")
    assert list(rec["terms"]) == list(prep.ids)
    assert rec["terms"]["meg2_mueg"]["arxiv"] and rec["priors"]["y_e"]["type"] == "log_uniform"
    assert set(rec["priors"]) == set(load_config(REDUCED).parameter_names)
    assert rec["free_parameters"] == ["y_e", "yp_mu", "m_Aprime", "epsilon"]
    # every term's ln L <= 0 (normalised to the no-signal point), so Z = E_prior[L] <= 1, and the evidence lies
    # between the prior volume of the posterior bulk times L_max and L_max
    dt = read_datatree(run.folder / "posterior.nc")
    ll = sum(np.asarray(dt["log_likelihood"][t]) for t in prep.ids)
    assert np.all(ll <= 1e-12) and rec["log_Z"] <= float(ll.max()) + 1e-9
    assert rec["log_Z"] >= float(ll.max()) - rec["information"] - 5 * rec["log_Z_err"] - 1.0
    meta = read_metadata(run.folder)
    assert meta["status"] == "done" and meta["job"] == "evidence" and meta["fingerprint"]["evidence"]["dlogz"] == 0.5


def test_posterior_nc_holds_equally_weighted_draws(run):
    dt = read_datatree(run.folder / "posterior.nc")
    post = dt["posterior"]
    n = int(round(run.result.ess))
    assert post["y_e"].shape == (1, n) and post["m_Aprime"].attrs["units"] == "GeV"
    lo, hi = 1e-6, 3.0
    assert np.all((post["y_e"].values >= lo) & (post["y_e"].values <= hi))
    assert set(dt["log_likelihood"].data_vars) == set(run.record["terms"])
    assert json.loads(dt.attrs["settings_json"])["num_live_points"] == 30
    assert dt.attrs["evidence_log_Z"] == pytest.approx(run.log_Z)


def test_refusals_overwrite_and_resume(run, capsys, monkeypatch):
    folder = run.folder
    before = (folder / "metadata.json").read_bytes()
    with pytest.raises(FolderError, match="already holds results"):
        djax.evidence(REDUCED, out=folder, quiet=True)
    with pytest.raises(ResumeRefused, match="evidence.num_live_points"):
        djax.evidence(REDUCED, out=folder, resume=True, overrides={"evidence.num_live_points": 40}, quiet=True)
    with pytest.raises(FolderError, match="belongs to a 'evidence' job"):
        djax.sample(REDUCED, out=folder, resume=True, quiet=True)
    assert (folder / "metadata.json").read_bytes() == before

    # --overwrite deletes the folder first: an interrupted run leaves no old evidence.json behind
    def stop(*a, **k):
        raise KeyboardInterrupt("test")

    monkeypatch.setattr("djax.jobs._evidence.nested_evidence", stop)
    with pytest.raises(KeyboardInterrupt):
        djax.evidence(REDUCED, out=folder, overwrite=True, quiet=True)
    assert not (folder / "evidence.json").exists() and read_metadata(folder)["status"] == "interrupted"
    monkeypatch.undo()
    # --resume (from the command line) runs the sampler again in the same folder: same seed, same ln Z
    capsys.readouterr()
    sets = ["evidence.num_live_points=30", "evidence.dlogz=0.5", "output.plots=false"]
    argv = ["evidence", str(RUN_FILE), *(x for s in sets for x in ("--set", s)), "--out", str(folder), "--resume"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"ln Z = {run.log_Z:.4f} +- {run.log_Z_err:.4f}" in out and "djax: evidence done" in out
    rec = read_evidence(folder)
    assert rec["log_Z"] == run.log_Z and rec["n_likelihood_evals"] == run.record["n_likelihood_evals"]
    meta = read_metadata(folder)
    assert meta["status"] == "done" and [s["status"] for s in meta["sessions"]] == ["interrupted"]


@pytest.mark.parametrize(
    ("table", "key", "what"),
    [
        ({"num_live_points": 1}, "evidence.num_live_points", r"expected an integer >= 2 \(live points\), got 1"),
        ({"dlogz": 0.0}, "evidence.dlogz", r"a number in \(0, inf\]"),
        ({"num_live_points": 10, "num_delete": 10}, "evidence.num_delete", r"0 \(auto\) or an integer in \[1, 9\]"),
        ({"num_live_points": 100, "max_samples": 10}, "evidence.max_samples", "an integer >= 20"),
        ({"slice_width": -1.0}, "evidence.slice_width", "expected a number"),
        ({"num_slice_steps": 1.5}, "evidence.num_slice_steps", r"0 \(auto"),
        ({"num_posterior_draws": -1}, "evidence.num_posterior_draws", "non-negative"),
        ({"n_live": 10}, "evidence.n_live", "unknown key"),
    ],
)
def test_settings_are_validated_naming_the_key(table, key, what):
    with pytest.raises(RunFileError, match=what) as info:
        validate_run({"schema": 1, "evidence": table})
    assert info.value.key == key


def test_defaults_and_the_reader_refuses_bad_files(tmp_path):
    e = validate_run({"schema": 1}).evidence
    assert (e.num_live_points, e.dlogz, e.num_delete, e.num_slice_steps) == (500, 0.1, 0, 0)
    with pytest.raises(DjaxError, match="evidence file not found"):
        read_evidence(tmp_path)
    (tmp_path / "evidence.json").write_text('{"format": "something else"}')
    with pytest.raises(DjaxError, match="not a djax evidence file"):
        read_evidence(tmp_path)
    with pytest.raises(ValueError, match="log_Z"):
        write_evidence(tmp_path / "e.json", {"n_live": 3})
