"""The ``djax`` command line: init, --set validation, job dispatch, run folders, scan + resume, plot."""
from __future__ import annotations

import importlib
import json
import sys
import types

import jax.numpy as jnp
import numpy as np
import pytest

import djax.cli
from djax.cli import main
from djax.inference import _scan
from djax.io._runfile import default_run_text, load_run, parse_run

inference = importlib.import_module("djax.inference")


def toy_build_point_fn(config):
    """A toy 'likelihood' over the full default box: Gaussian in log10(epsilon) and theta."""
    def point_fn(p):
        ll = -0.5 * ((jnp.log10(p["epsilon"]) + 4.0) / 0.5) ** 2 - 0.5 * ((p["theta"] - 0.8) / 0.3) ** 2
        return {"loglike": ll, "allowed": ll > -2.0, "mu": p["g_D"] * p["epsilon"]}
    return point_fn


def test_console_script_target():
    assert djax.cli.main is main and callable(main)


def test_init_writes_commented_default(tmp_path, capsys):
    path = tmp_path / "my_run.toml"
    assert main(["init", str(path)]) == 0
    assert path.read_text() == default_run_text()
    assert load_run(path) == load_run()
    assert main(["init", str(path)]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["init", str(path), "--overwrite"]) == 0
    assert main(["init", str(tmp_path)]) == 0 and (tmp_path / "djax_run.toml").is_file()


@pytest.mark.parametrize("setting, key", [
    ("sample.num_chains=-2", "sample.num_chains: expected a positive integer, got -2"),
    ("sample.num_chain=2", "unknown key 'sample.num_chain'; did you mean 'num_chains'?"),
    ("likelihood.preset=paperz", "likelihood.preset"),
    ("priors.M_F.low=2e4", "priors.M_F"),
])
def test_set_is_validated(setting, key, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(inference, "sample", lambda config: None, raising=False)
    rc = main(["sample", "--out", str(tmp_path / "r"), "--set", setting])
    assert rc == 2
    assert key in capsys.readouterr().err
    assert not (tmp_path / "r").exists()  # nothing written for bad input


def test_sample_dispatch_and_run_folder(tmp_path, capsys, monkeypatch):
    calls, existed = [], []

    def fake_sample(config, run_folder=None):
        calls.append((config, run_folder))
        existed.append((run_folder.path / "posterior.json").exists())
        run_folder.write_json("posterior.json", {"ok": True})

    monkeypatch.setattr(inference, "sample", fake_sample, raising=False)
    out = tmp_path / "run"
    assert main(["sample", "--out", str(out), "--set", "sample.num_chains=2", "--set", "run.seed=17"]) == 0
    (config, folder), = calls
    assert config.sample.num_chains == 2 and config.run.seed == 17 and config.run.job == "sample"
    assert folder.path == out.absolute()
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["status"] == "done" and meta["seed"] == 17 and "sample" in meta["timings_s"]
    assert meta["command_line"][:2] == ["djax", "sample"]
    assert parse_run((out / "run.toml").read_text()).sample.num_chains == 2
    # never overwrite without being asked
    assert main(["sample", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err and (out / "posterior.json").is_file()
    assert main(["sample", "--out", str(out), "--resume"]) == 0
    assert calls[-1][0].run.resume is True and (out / "posterior.json").is_file()
    assert main(["sample", "--out", str(out), "--overwrite"]) == 0
    assert existed == [False, True, False]  # --overwrite started from an empty folder


def test_missing_job_function_gives_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.delattr(inference, "optimize", raising=False)
    assert main(["optimize", "--out", str(tmp_path / "o")]) == 2
    assert "djax.inference.optimize() is not available" in capsys.readouterr().err
    monkeypatch.delattr(inference, "build_point_fn", raising=False)
    assert main(["scan", "--out", str(tmp_path / "s")]) == 2
    assert "build_point_fn" in capsys.readouterr().err


def test_optimize_without_run_folder_argument(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(inference, "optimize", lambda config: seen.append(config), raising=False)
    assert main(["optimize", "--out", str(tmp_path / "o"), "--set", "optimize.n_starts=3"]) == 0
    assert seen[0].optimize.n_starts == 3 and seen[0].output_path == (tmp_path / "o").absolute()


def test_run_prints_benchmark_table(capsys, monkeypatch):
    mod = types.ModuleType("djax.report")
    mod.benchmark_table = lambda: "observable | value\nBR(mu->e gamma) | 1e-14"
    monkeypatch.setitem(sys.modules, "djax.report", mod)
    assert main(["run"]) == 0
    assert "BR(mu->e gamma)" in capsys.readouterr().out
    monkeypatch.setitem(sys.modules, "djax.report", None)
    assert main(["run"]) == 2
    assert "benchmark_table" in capsys.readouterr().err


def test_scan_interrupt_resume_and_plot(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(inference, "build_point_fn", toy_build_point_fn, raising=False)
    opts = ["--set", "scan.n_points=500", "--set", "scan.chunk_size=100", "--set", "scan.method=random",
            "--set", "output.plot_format='png'", "--set", "scan.projections=[['m_Aprime','epsilon']]"]
    ref = tmp_path / "ref"
    assert main(["scan", "--out", str(ref), *opts]) == 0
    text = capsys.readouterr().out
    assert "allowed fraction" in text and (ref / "plots" / "scan_m_Aprime__epsilon.png").is_file()
    summary = json.loads((ref / _scan.SUMMARY_FILE).read_text())
    assert summary["complete"] and summary["n_done"] == 500

    # Ctrl-C during chunk 3: exit 130, resumable state; --resume finishes; results equal the reference
    orig = _scan.ScanPlan.unit_points

    def interrupting(self, i):
        if i == 3:
            raise KeyboardInterrupt
        return orig(self, i)

    monkeypatch.setattr(_scan.ScanPlan, "unit_points", interrupting)
    cut = tmp_path / "cut"
    assert main(["scan", "--out", str(cut), *opts]) == 130
    err = capsys.readouterr().err
    assert "--resume" in err
    assert json.loads((cut / "metadata.json").read_text())["status"] == "interrupted"
    assert json.loads((cut / _scan.STATE_FILE).read_text())["completed_chunks"] == 3
    monkeypatch.setattr(_scan.ScanPlan, "unit_points", orig)
    assert main(["scan", "--out", str(cut), "--resume", *opts]) == 0
    meta = json.loads((cut / "metadata.json").read_text())
    assert meta["status"] == "done" and meta["sessions"][-1]["status"] == "interrupted"
    a, b = _scan.read_scan(ref), _scan.read_scan(cut)
    assert sorted(a) == sorted(b) and "params/epsilon" in a and "outputs/mu" in a
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)

    for f in (ref / "plots").iterdir():
        f.unlink()
    assert main(["plot", str(ref)]) == 0
    assert (ref / "plots" / "scan_m_Aprime__epsilon.png").is_file()
    assert main(["plot", str(tmp_path / "nowhere")]) == 2


def test_bench_rejects_unknown_suite(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--quick", "--suite", "no_such_suite"])
    assert exc.value.code == 2
    assert "no_such_suite" in capsys.readouterr().err
