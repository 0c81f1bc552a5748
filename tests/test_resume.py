"""End-to-end resume of the real jobs in new processes (nothing mocked): each job is stopped by SIGINT, then by
SIGTERM, then by SIGKILL, each time after a new checkpoint became durable, resumed with ``--resume`` and finally
compared with an uninterrupted run (sample and scan bit for bit, optimize per grid value). A resume with any
result-changing setting changed is refused with exit 2 and leaves every file byte-identical."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from djax.io import read_datatree, read_profile_csv, read_scan

# Many small units of work (20 sampling checkpoints, 24 profile rows, 24 scan chunks): after compilation a unit
# takes milliseconds, so three stops must each cost a few units and still land well before the end.
REDUCED = (
    (Path(__file__).parent / "data" / "reduced_model.toml").read_text()
    + """
[sample]
num_warmup = 40
num_samples = 40
num_chains = 2
checkpoint_every = 4
[optimize]
n_starts = 2
steps = 30
[optimize.profile]
method = "direct"
low = 0.01
high = 0.04
n_points = 24
n_starts = 2
outer_iters = 3
inner_steps = 15
batch = 1
[scan]
n_points = 6000
chunk_size = 250
method = "sobol"
projections = [["y_e", "epsilon"]]
[output]
plots = false
"""
)

PROGRESS = {
    "sample": ("checkpoints/manifest.json", lambda d: d["progress"]["warmup_done"] + d["progress"]["draws_done"]),
    "scan": ("scan_state.json", lambda d: d["completed_chunks"]),
    "optimize": ("profile_state.json", lambda d: len(d["rows"])),
}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    cache = tmp_path_factory.mktemp("jax-cache")
    e = dict(os.environ, DJAX_CACHE_DIR=str(cache), JAX_PLATFORMS="cpu")
    e.pop("XLA_FLAGS", None)
    return e


@pytest.fixture(scope="module")
def runfile(tmp_path_factory):
    p = tmp_path_factory.mktemp("runs") / "reduced.toml"
    p.write_text(REDUCED)
    return p


def _djax(*args, env):
    return [sys.executable, "-m", "djax.cli", *map(str, args)]


def _progress(folder: Path, job: str) -> int:
    name, fn = PROGRESS[job]
    try:
        return fn(json.loads((folder / name).read_text()))
    except (OSError, ValueError, KeyError):
        return -1


def _stop_after_next_checkpoint(cmd, folder, job, sig, env) -> int:
    before = _progress(folder, job)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 600
    while _progress(folder, job) <= before and proc.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, f"the job finished before it could be stopped: {proc.stderr.read()[-2000:]}"
    proc.send_signal(sig)
    proc.wait(timeout=600)
    return proc.returncode


def _hashes(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _interrupted_three_ways(job, runfile, tmp_path, env):
    out = tmp_path / f"{job}-cut"
    cmd = _djax(job, runfile, "--out", out, "--resume", env=env)
    for sig, expected_rc, status in (
        (signal.SIGINT, 130, "interrupted"),
        (signal.SIGTERM, 130, "interrupted"),
        (signal.SIGKILL, -9, "running"),
    ):
        rc = _stop_after_next_checkpoint(cmd, out, job, sig, env)
        assert rc == expected_rc, (sig, rc)
        meta = json.loads((out / "metadata.json").read_text())
        assert meta["status"] == status  # SIGKILL leaves the status stale; the lock died with the process
    # a resume with a result-changing setting is refused and touches nothing
    before = _hashes(out)
    for setting in (
        "likelihood.preset=full",
        "run.seed=4",
        "priors.epsilon.low=2e-7",
        f"{job}.cl=0.95" if job != "sample" else "sample.target_accept=0.9",
    ):
        proc = subprocess.run([*cmd, "--set", setting], env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 2, proc.stderr[-2000:]
        assert "cannot resume" in proc.stderr and "Traceback" not in proc.stderr
    assert _hashes(out) == before
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["status"] == "done" and [s["status"] for s in meta["sessions"]][:3] == [
        "interrupted",
        "interrupted",
        "running",
    ]
    ref = tmp_path / f"{job}-ref"
    proc = subprocess.run(
        _djax(job, runfile, "--out", ref, env=env), env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return ref, out


def test_sample_resume_is_bit_identical(runfile, tmp_path, env):
    ref, cut = _interrupted_three_ways("sample", runfile, tmp_path, env)
    a, b = read_datatree(ref / "posterior.nc"), read_datatree(cut / "posterior.nc")
    for group in ("posterior", "sample_stats"):
        for name in a[group].data_vars:
            np.testing.assert_array_equal(a[group][name].values, b[group][name].values, err_msg=name)


def test_scan_resume_is_bit_identical(runfile, tmp_path, env):
    ref, cut = _interrupted_three_ways("scan", runfile, tmp_path, env)
    a, b = read_scan(ref), read_scan(cut)
    assert sorted(a) == sorted(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_optimize_resume_equals_uninterrupted(runfile, tmp_path, env):
    ref, cut = _interrupted_three_ways("optimize", runfile, tmp_path, env)
    a, b = read_profile_csv(ref / "profile.csv"), read_profile_csv(cut / "profile.csv")
    for k in ("values", "borexino", "xenonnt", "feasible_borexino", "feasible_xenonnt"):
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert json.loads((ref / "best_fit.json").read_text()) == json.loads((cut / "best_fit.json").read_text())


def test_second_job_cannot_write_a_locked_folder(runfile, tmp_path, env):
    out = tmp_path / "locked"
    proc = subprocess.Popen(
        _djax("scan", runfile, "--out", out, env=env), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.time() + 300
        while not (out / "metadata.json").is_file() and time.time() < deadline:
            time.sleep(0.02)
        second = subprocess.run(
            _djax("scan", runfile, "--out", out, "--resume", env=env),
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if proc.poll() is None:  # the first job still holds the lock
            assert second.returncode == 2 and "another djax job is writing" in second.stderr
    finally:
        proc.kill()
        proc.wait()
