"""Benchmark harness: the plain-NumPy peer agrees with djax, and ``djax bench`` writes valid result files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import harness as H  # noqa: E402
from benchmarks import numpy_reference as R  # noqa: E402
from benchmarks import suite_peers, suite_throughput  # noqa: E402


@pytest.fixture(scope="module")
def inputs():
    return R.load_inputs("paper")


def test_closed_form_loop_functions_match_djax():
    import jax.numpy as jnp

    from djax import loops

    r = np.concatenate(
        [np.geomspace(1e-6, 1e6, 301), 1.0 + np.array([-0.2, -0.1, -1e-3, -1e-9, 0.0, 1e-9, 1e-3, 0.0999, 0.1, 0.2])]
    )
    for ours, theirs in ((R.I_F, loops.I_F), (R.K, loops.K), (R.L_F, loops.L_F)):
        a, b = ours(r), np.asarray(theirs(jnp.asarray(r)))
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


def test_numpy_reference_agrees_with_djax(inputs):
    agree = suite_peers.agreement(n=400, seed=5, inputs=inputs)
    worst = {k: v["max_rel"] for k, v in agree.items() if not k.startswith("_")}
    assert set(worst) >= {"br_mu_e_gamma", "borexino_mu_equiv_muB", "lnL_total", "lnL_na64_2023", "lnL_babar2017"}
    assert max(worst.values()) < suite_peers.AGREEMENT_RTOL, worst


def test_numpy_reference_terms_are_sensible(inputs):
    # the default benchmark point: below every paper limit, so every term is in (ln 0.1, 0]
    vals = {
        "M_F": 1000.0,
        "m_S1": 400.0,
        "m_S2": 700.0,
        "theta": np.pi / 4,
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
    vals = {k: np.array([v]) for k, v in vals.items()}
    terms = R.log_likelihood(vals, inputs, terms=True)
    assert set(terms) == {"meg2_mueg", "borexino_mueff", "na64_2023", "babar2017"}
    for v in terms.values():
        assert np.log(0.1) < v[0] <= 0.0
    # a curve term is zero outside its mass range
    cv = inputs["curves"][0]
    assert R.curve_loglike(np.array([1e-3]), np.array([np.exp(cv["log_m_hi"]) * 10]), cv)[0] == 0.0


def _check_result_files(res, out):
    for suite, r in res.items():
        data = json.loads(Path(r["files"]["json"]).read_text())
        assert Path(r["files"]["json"]).parent == Path(out)
        assert Path(r["files"]["md"]).read_text().startswith("# djax benchmark")
        for key in H.REQUIRED_META:
            assert key in data["meta"], key
        assert data["meta"]["dtype"] == "float64"
        assert data["meta"]["device_count"] >= 1
        assert data["figures"]
        return data


def test_run_bench_writes_json_fast(tmp_path, monkeypatch):
    import jax

    from djax import bench

    full = suite_throughput.make_functions

    def only_loglike(spec=None):
        return {"loglike": full(spec)["loglike"]}

    monkeypatch.setattr(suite_throughput, "QUICK_N", (64, 128))
    monkeypatch.setattr(suite_throughput, "make_functions", only_loglike)
    res = bench.run_bench(quick=True, out_dir=tmp_path, suites=["throughput"])
    data = _check_result_files(res, tmp_path)
    assert [r["N"] for r in data["figures"]] == [64, 128]
    for row in data["figures"]:
        assert row["points_per_s"] > 0 and row["repeats"] == 3
    assert data["meta"]["backend"] == jax.default_backend()
    assert (tmp_path / f"throughput-{jax.default_backend()}.md").is_file()


@pytest.mark.slow
def test_run_bench_quick_throughput_all_quantities(tmp_path, monkeypatch):
    from djax import bench

    monkeypatch.setattr(suite_throughput, "QUICK_N", (256,))
    res = bench.run_bench(quick=True, out_dir=tmp_path, suites=["throughput"])
    data = _check_result_files(res, tmp_path)
    assert {r["quantity"] for r in data["figures"]} == {"observables", "loglike", "loglike_value_and_grad"}


def test_cli_bench_options(tmp_path, monkeypatch):
    import djax.bench
    from djax.cli._main import main

    seen = {}

    def fake(quick, out_dir, suites):
        seen.update(quick=quick, out_dir=out_dir, suites=suites)
        return {s: {"files": {"json": f"{out_dir}/{s}.json", "md": f"{out_dir}/{s}.md"}} for s in suites}

    monkeypatch.setattr(djax.bench, "run_bench", fake)
    assert main(["bench", "--quick", "--out", str(tmp_path), "--suite", "throughput", "--suite", "peers"]) == 0
    assert seen == {"quick": True, "out_dir": str(tmp_path), "suites": ["throughput", "peers"]}
    with pytest.raises(SystemExit):
        main(["bench", "--suite", "nonsense"])


def test_unknown_suite_is_refused(tmp_path):
    from benchmarks.run import run_bench

    with pytest.raises(ValueError, match="unknown benchmark suite"):
        run_bench(quick=True, out_dir=tmp_path, suites=["nope"])


@pytest.mark.slow
def test_djax_bench_quick_cli_writes_every_suite(tmp_path):
    """`djax bench --quick` as CI runs it (a fresh process, x64 enabled by the CLI after import): all four
    suites complete and write JSON with the machine description. Runtime is reported, never asserted."""
    import json
    import subprocess
    import sys
    import time

    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "djax.cli", "bench", "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.returncode == 0, out.stderr[-3000:]
    for suite in ("throughput", "peers", "sampling", "scaling"):
        files = list(tmp_path.glob(f"{suite}-*.json"))
        assert files, suite
        meta = json.loads(files[0].read_text())
        assert "jax" in json.dumps(meta)
    print(f"djax bench --quick: {time.perf_counter() - t0:.0f} s")
