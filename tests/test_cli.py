"""The ``djax`` command line and its errors: a corpus of bad inputs (run files, --set values, registry TOMLs, curve
and scalar CSVs, paths, permissions, corrupt run folders), each through ``djax check`` and a job command, each
ending as ``djax: error: <file>[:<line>]: <key>: <what>`` with exit status 2 and no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import test_limits as limits_cases

from djax.cli import main
from djax.io import default_run_text, load_run

HERE = Path(__file__).parent
RUNS = sorted((HERE / "data" / "invalid_runs").glob("*.toml"))
LIMITS = HERE / "data" / "invalid_limits"
TINY = ["--set", "scan.n_points=64", "--set", "scan.chunk_size=32", "--set", "output.plots=false"]


def _expected_key(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# key: "), f"{path.name}: first line must be '# key: <dotted key>'"
    return first[len("# key: ") :].strip()


def _registry_run(tmp_path: Path, registry: Path, include=()) -> Path:
    p = tmp_path / "run.toml"
    inc = ", ".join(f'"{i}"' for i in include)
    p.write_text(
        f'schema = 1\n[likelihood]\nregistry = "{registry}"\ninclude = [{inc}]\n'
        "[output]\nplots = false\n[scan]\nn_points = 64\nchunk_size = 32\n"
    )
    return p


def _curve_registry(tmp_path: Path, csv: Path) -> Path:
    reg = tmp_path / "reg.toml"
    reg.write_text(
        f'[limit.my_curve]\nobservable = "epsilon"\nform = "curve"\ncl = 0.9\nfile = "{csv}"\n'
        'experiment = "mine"\nstatus = "verified"\nkind = "data"\n'
    )
    return reg


def _corpus():
    cases = []  # (id, builder(tmp_path) -> (argv_after_command, file named, key named))
    for p in RUNS:
        cases.append((f"run-{p.stem}", lambda t, p=p: ([str(p)], str(p), _expected_key(p))))
    for fname, (field, _line) in sorted(limits_cases.REG_CASES.items()):
        cases.append((f"registry-{fname}", lambda t, f=fname, k=field: ([str(_registry_run(t, LIMITS / f))], f, k)))
    for fname, (named, field, _line) in sorted(limits_cases.COMPILE_CASES.items()):
        cases.append(
            (
                f"registry-{fname}",
                lambda t, f=fname, n=named, k=field: (
                    [
                        str(
                            _registry_run(
                                t, LIMITS / f, include=("my_curve",) if "my_curve" in (LIMITS / f).read_text() else ()
                            )
                        )
                    ],
                    n,
                    k,
                ),
            )
        )
    for fname, (field, _line) in sorted(limits_cases.CURVE_CASES.items()):
        cases.append(
            (
                f"curve-{fname}",
                lambda t, f=fname, k=field: (
                    [str(_registry_run(t, _curve_registry(t, LIMITS / f), include=("my_curve",)))],
                    f,
                    k,
                ),
            )
        )
    for fname, (field, _line) in sorted(limits_cases.SCALAR_CASES.items()):

        def build(t, f=fname, k=field):
            reg = t / "reg.toml"
            reg.write_text(f'csv_file = "{LIMITS / f}"\n')
            return [str(_registry_run(t, reg))], f, k

        cases.append((f"scalar-{fname}", build))
    sets = [
        ("sample.num_chains=-2", "sample.num_chains"),
        ("sample.num_chain=2", "sample.num_chain"),
        ("likelihood.preset=paperz", "likelihood.preset"),
        ("priors.M_F.low=2e4", "priors.M_F"),
        ("priors.y_e.high=100", "priors.y_e.high"),
        ("priors.g_D.high=100", "priors.g_D.high"),
        ("priors.epsilon.high=10", "priors.epsilon.high"),
        ("no_equals_sign", "no_equals_sign"),
        ("run.seed.x=1", "run.seed"),
        ("likelihood.include=['nope']", "likelihood.include"),
        ("likelihood.overrides.nope.value=1", "likelihood.overrides.nope"),
        ("scan.projections=[['M_F','M_F']]", "scan.projections[0]"),
        ("priors.theta.high=4", "priors.theta.high"),
    ]
    for item, key in sets:
        cases.append(
            (
                f"set-{key}-{item[-6:]}",
                lambda t, i=item, k=key: (["--set", i], "--set" if "=" not in i else "<embedded default run file>", k),
            )
        )
    cases.append(("path-missing-runfile", lambda t: ([str(t / "nope.toml")], str(t / "nope.toml"), "<file>")))
    cases.append(("path-runfile-is-folder", lambda t: ([str(t)], str(t), "<file>")))
    cases.append(("path-registry-missing", lambda t: ([str(_registry_run(t, t / "none.toml"))], "none.toml", "file")))

    def not_utf8(t):
        p = t / "bin.toml"
        p.write_bytes(b"schema = 1\n\xff\xfe\n")
        return [str(p)], str(p), "<file>"

    cases.append(("path-runfile-not-utf8", not_utf8))
    return cases


CORPUS = _corpus()


def _assert_error(capsys, rc, file_named, key):
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    line = [ln for ln in err.splitlines() if ln.startswith("djax: error: ")]
    assert line, err
    assert file_named in line[0] and f"{key}" in line[0], line[0]


@pytest.mark.parametrize("case", CORPUS, ids=[c[0] for c in CORPUS])
def test_bad_input_through_check_and_job(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, build = case
    args, file_named, key = build(tmp_path)
    _assert_error(capsys, main(["check", *args]), file_named, key)
    if key == "run.job":  # a job command sets run.job itself
        return
    out = tmp_path / "out"
    _assert_error(capsys, main(["scan", *args, "--out", str(out)]), file_named, key)
    assert not out.exists()  # checked before the run folder exists


def test_unwritable_output_folder(tmp_path, capsys):
    rc = main(["scan", "--out", "/sys/djax-test-folder", *TINY])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err and "/sys/djax-test-folder: PermissionError: " in err


def test_real_process_exit_code_and_no_traceback(tmp_path):
    """The console entry point in a fresh process: one line on stderr, status 2."""
    bad = RUNS[0]
    proc = subprocess.run(
        [sys.executable, "-m", "djax.cli", "sample", str(bad), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith(f"djax: error: {bad}:")
    assert "Traceback" not in proc.stderr and not (tmp_path / "o").exists()


def test_init_writes_commented_default(tmp_path, capsys):
    path = tmp_path / "my_run.toml"
    assert main(["init", str(path)]) == 0
    assert path.read_text() == default_run_text()
    assert load_run(path).priors == load_run().priors
    assert main(["init", str(path)]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["init", str(path), "--overwrite"]) == 0
    assert main(["init", str(tmp_path)]) == 0 and (tmp_path / "djax_run.toml").is_file()


def test_check_prints_resolved_terms_and_priors(capsys):
    assert main(["check", "--set", "likelihood.preset=full"]) == 0
    out = capsys.readouterr().out
    for term in ("meg2_mueg", "na64_2023", "babar_taueg", "planck2018_mnu"):
        assert term in out
    assert "signed_log_uniform on [-3.54491, 3.54491]" in out and "djax check: OK" in out
    assert "fold: 1 removed" in out  # curve cleaning is reported, never silent


def test_run_prints_benchmark_table(capsys):
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert "BR(mu -> e gamma)" in out and "Borexino-equivalent moment" in out


def test_bench_rejects_unknown_suite(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--quick", "--suite", "no_such_suite"])
    assert exc.value.code == 2
    assert "no_such_suite" in capsys.readouterr().err


def test_plot_of_missing_folder(tmp_path, capsys):
    assert main(["plot", str(tmp_path / "nowhere")]) == 2
    assert f"{tmp_path / 'nowhere'}: run_dir: run folder not found" in capsys.readouterr().err


def test_corrupt_run_folders_are_reported(tmp_path, capsys):
    opts = TINY
    out = tmp_path / "s"
    assert main(["scan", "--out", str(out), *opts]) == 0
    capsys.readouterr()
    state = out / "scan_state.json"
    good = state.read_text()
    state.write_text("{ truncated")
    rc = main(["scan", "--out", str(out), "--resume", *opts])
    _assert_error(capsys, rc, str(state), "state")
    state.write_text(good)
    meta = out / "metadata.json"
    meta.write_text("[")
    _assert_error(capsys, main(["scan", "--out", str(out), "--resume", *opts]), str(meta), "metadata")
    (out / ".djax_run").write_text(json.dumps({"job": "scan"}))
    _assert_error(capsys, main(["sample", "--out", str(out), "--resume"]), str(out), "run.job")
