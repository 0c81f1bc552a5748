"""Streamed, sharded, resumable scans, tested with a toy Gaussian likelihood."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

from djax.errors import CheckpointError
from djax.inference import ScanBox, ScanError, ScanPlan, ShardedEvaluator, benchmark_point_fn
from djax.inference import run_scan as _run_scan
from djax.io import SCAN_STATE_FILE, SCAN_SUMMARY_FILE, ScanStore, read_scan, read_scan_summary
from djax.plotting import scan_map_plots


def run_scan(point_fn, priors, *, out_dir=None, store=("all",), **kw):
    """run_scan with a Zarr store in ``out_dir`` (a store holding a scan continues it)."""
    return _run_scan(point_fn, priors, store=None if out_dir is None else ScanStore(out_dir), store_keys=store, **kw)


# The toy is kept as source so that the 4-device subprocess evaluates exactly the same function.
TOY_SRC = textwrap.dedent("""
    import jax.numpy as jnp

    PRIORS = {"m": ("log_uniform", 1e-3, 10.0), "a": ("uniform", -1.0, 1.0), "c": 2.0}

    def toy(p):
        # Gaussian in (log10 m, a); allowed inside the 2-sigma ellipse (loglike > -2)
        ll = -0.5 * ((jnp.log10(p["m"]) + 1.0) / 0.5) ** 2 - 0.5 * ((p["a"] - 0.3) / 0.2) ** 2
        return {"loglike": ll, "allowed": ll > -2.0, "terms": jnp.stack([ll, p["c"] * ll])}
""")
_ns: dict = {}
exec(TOY_SRC, _ns)
toy, PRIORS = _ns["toy"], _ns["PRIORS"]
#: fraction of the box inside the ellipse: pi * 1 * 0.4 / (4 decades * 2)
TOY_ALLOWED = math.pi * 1.0 * 0.4 / 8.0

KW = dict(projections=[("m", "a")], bins=8, progress=False)


def _stored(path: Path) -> dict[str, np.ndarray]:
    return read_scan(path)


def _summary(path: Path) -> dict:
    s = json.loads((path / SCAN_SUMMARY_FILE).read_text())
    s.pop("timings_s")
    return s


def _assert_same_scan(a: Path, b: Path) -> None:
    da, db = _stored(a), _stored(b)
    assert sorted(da) == sorted(db)
    for k in da:
        assert da[k].dtype == db[k].dtype
        np.testing.assert_array_equal(da[k], db[k], err_msg=k)  # bit for bit (NaN-free)
    assert _summary(a) == _summary(b)


# ---------------------------------------------------------------------------------------------


def test_box_mapping():
    box = ScanBox.from_priors(PRIORS)
    assert box.free == ("m", "a") and box.fixed == (("c", 2.0),) and box.names == ("m", "a", "c")
    u = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, 0.25]])
    x = box.to_physical(u)
    np.testing.assert_allclose(x[:, 0], [1e-3, 10.0, 10**-1.0], rtol=1e-14)
    np.testing.assert_allclose(x[:, 1], [-1.0, 1.0, -0.5], rtol=1e-14)
    np.testing.assert_allclose(np.asarray(box.to_physical(jnp.asarray(u))), x, rtol=1e-15)
    np.testing.assert_allclose(box.edges("m", 4), [1e-3, 1e-2, 1e-1, 1.0, 10.0], rtol=1e-13)
    with pytest.raises(ScanError):
        ScanBox.from_priors({"m": ("log_uniform", 0.0, 1.0)})
    with pytest.raises(ScanError):
        ScanBox.from_priors({"c": 1.0})


def test_box_from_runfile_priors():
    from djax.io import validate_run

    cfg = validate_run({"schema": 1, "priors": {"M_F": {"value": 1000.0}}})
    box = ScanBox.from_priors(cfg.priors)
    assert box.free == cfg.free_parameters and dict(box.fixed) == {"M_F": 1000.0, "y_tau": 0.0, "yp_tau": 0.0}
    assert box.kinds[box.free.index("epsilon")] == "log_uniform"


@pytest.mark.parametrize("method", ["random", "sobol", "grid"])
def test_chunks_are_reproducible_and_partition_the_scan(method):
    box = ScanBox.from_priors(PRIORS)
    plan = ScanPlan.make(box, n_points=100, method=method, chunk_size=30, seed=7)
    seq = np.concatenate([plan.unit_points(i) for i in range(plan.n_chunks)])
    assert seq.shape == (plan.n_points, 2) and plan.n_chunks == -(-plan.n_points // 30)
    assert np.all((seq >= 0) & (seq <= 1))
    fresh = ScanPlan.make(box, n_points=100, method=method, chunk_size=30, seed=7)
    np.testing.assert_array_equal(fresh.unit_points(2), seq[60:90])  # any chunk on its own
    if method == "sobol":
        from scipy.stats import qmc

        ref = qmc.Sobol(2, scramble=True, bits=32, rng=np.random.default_rng(7)).random(128)[:100]
        np.testing.assert_array_equal(seq, ref)
    if method == "grid":
        assert plan.n_points == 100 and plan.grid_points_per_dim == 10
        assert len({tuple(r) for r in seq}) == 100
        np.testing.assert_allclose(np.unique(seq[:, 0]), np.linspace(0, 1, 10), atol=1e-15)
    if method == "random":
        other = ScanPlan.make(box, n_points=100, method=method, chunk_size=30, seed=8)
        assert not np.array_equal(other.unit_points(0), seq[:30])


def test_grid_size_rules():
    box = ScanBox.from_priors(PRIORS)
    assert ScanPlan.make(box, n_points=99, method="grid", chunk_size=10).grid_points_per_dim == 9
    assert ScanPlan.make(box, n_points=5, method="grid", chunk_size=10, grid_points_per_dim=3).n_points == 9
    with pytest.raises(ScanError, match="scan.n_points"):
        ScanPlan.make(box, n_points=3, method="grid", chunk_size=10)
    with pytest.raises(ScanError, match="scan.method"):
        ScanPlan.make(box, n_points=3, method="latin", chunk_size=10)


def test_scan_results_and_summaries(tmp_path):
    res = run_scan(toy, PRIORS, n_points=4000, method="random", chunk_size=1000, seed=1, out_dir=tmp_path, **KW)
    assert res.complete and res.n_done == 4000 and res.completed_chunks == 4
    d = _stored(tmp_path)
    assert set(d) == {"params/m", "params/a", "outputs/loglike", "outputs/allowed", "outputs/terms"}
    assert d["outputs/terms"].shape == (4000, 2)
    m, a = d["params/m"], d["params/a"]
    ll = -0.5 * ((np.log10(m) + 1.0) / 0.5) ** 2 - 0.5 * ((a - 0.3) / 0.2) ** 2
    np.testing.assert_allclose(d["outputs/loglike"], ll, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(d["outputs/terms"][:, 1], 2.0 * ll, rtol=1e-12, atol=1e-12)  # fixed c = 2
    assert res.n_allowed == int(d["outputs/allowed"].sum())
    assert abs(res.allowed_fraction - TOY_ALLOWED) < 5 * math.sqrt(TOY_ALLOWED / 4000)
    j = int(np.argmax(d["outputs/loglike"]))
    assert res.best_loglike == d["outputs/loglike"][j] and res.best_point["m"] == m[j]
    assert res.best_point["c"] == 2.0
    # exclusion maps: histograms in (log m, a) equal an independent histogram of the stored points
    mp = res.maps["m__a"]
    tot, _, _ = np.histogram2d(np.log10(m), a, bins=[np.log10(mp["x_edges"]), mp["y_edges"]])
    alw, _, _ = np.histogram2d(
        np.log10(m)[d["outputs/allowed"]], a[d["outputs/allowed"]], bins=[np.log10(mp["x_edges"]), mp["y_edges"]]
    )
    np.testing.assert_array_equal(mp["total"], tot)
    np.testing.assert_array_equal(mp["allowed"], alw)
    assert mp["total"].sum() == 4000
    # loglike criterion with a threshold gives the same set here
    res2 = run_scan(
        toy,
        PRIORS,
        n_points=4000,
        method="random",
        chunk_size=1000,
        seed=1,
        criterion="loglike",
        loglike_threshold=-2.0,
        **KW,
    )
    assert res2.n_allowed == int((d["outputs/loglike"] >= -2.0).sum())
    figs = scan_map_plots(read_scan_summary(tmp_path)["maps"])
    assert list(figs) == ["m__a"] and figs["m__a"].axes[0].get_xscale() == "log"


def test_store_selection_and_errors(tmp_path):
    run_scan(
        toy,
        PRIORS,
        n_points=50,
        method="sobol",
        chunk_size=20,
        out_dir=tmp_path / "s",
        store=["loglike"],
        store_points=False,
        **KW,
    )
    assert set(_stored(tmp_path / "s")) == {"outputs/loglike"}
    with pytest.raises(ScanError, match="scan.store.*'nope'"):
        run_scan(toy, PRIORS, n_points=50, chunk_size=20, out_dir=tmp_path / "t", store=["nope"], **KW)
    with pytest.raises(ScanError, match="scan.criterion"):
        run_scan(lambda p: {"chi2": p["a"] ** 2}, PRIORS, n_points=10, chunk_size=10, **KW)
    with pytest.raises(ScanError, match="scan.projections"):
        run_scan(toy, PRIORS, n_points=10, chunk_size=10, projections=[("m", "c")], progress=False)


def test_stored_scan_continues_and_refuses_other_settings(tmp_path):
    run_scan(toy, PRIORS, n_points=100, method="random", chunk_size=50, out_dir=tmp_path, **KW)
    before = _stored(tmp_path)
    with pytest.raises(ScanError, match="plan"):
        run_scan(toy, PRIORS, n_points=100, method="random", chunk_size=40, out_dir=tmp_path, **KW)
    res = run_scan(toy, PRIORS, n_points=100, method="random", chunk_size=50, out_dir=tmp_path, **KW)
    assert res.complete and res.n_done == 100  # complete already: nothing to do
    after = _stored(tmp_path)
    for k in before:
        np.testing.assert_array_equal(before[k], after[k])


def test_corrupt_chunks_are_detected(tmp_path):
    run_scan(toy, PRIORS, n_points=100, method="random", chunk_size=50, out_dir=tmp_path, **KW)
    import zarr

    root = zarr.open_group(str(tmp_path / "scan.zarr"), mode="r+")
    root["outputs"]["loglike"][60] = 123.0
    with pytest.raises(CheckpointError, match="chunk 1.*checksum"):
        read_scan(tmp_path)
    with pytest.raises(CheckpointError, match="chunk 1"):
        run_scan(toy, PRIORS, n_points=100, method="random", chunk_size=50, out_dir=tmp_path, **KW)
    (tmp_path / SCAN_STATE_FILE).write_text("{")
    with pytest.raises(CheckpointError, match="corrupt scan state"):
        read_scan(tmp_path)


def test_store_opens_as_datatree(tmp_path):
    import xarray as xr

    run_scan(toy, PRIORS, n_points=100, method="random", chunk_size=50, out_dir=tmp_path, **KW)
    with xr.open_datatree(str(tmp_path / "scan.zarr"), engine="zarr") as dt:
        assert dt["outputs"]["loglike"].dims == ("point",)
        np.testing.assert_array_equal(dt["outputs"]["point"].values, np.arange(100))
        assert dt["maps/m__a"]["total"].dims == ("x_bin", "y_bin")
        assert dt["params"]["m"].attrs["prior"].startswith("log_uniform")


@pytest.mark.parametrize("method", ["random", "sobol", "grid"])
def test_interrupted_then_resumed_equals_uninterrupted(tmp_path, method):
    n, c = 1000, 128  # 8 chunks, the last one partial
    ref = run_scan(toy, PRIORS, n_points=n, method=method, chunk_size=c, seed=11, out_dir=tmp_path / "ref", **KW)

    def stop_after_3(i, summary):
        if i == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_scan(
            toy,
            PRIORS,
            n_points=n,
            method=method,
            chunk_size=c,
            seed=11,
            out_dir=tmp_path / "cut",
            on_chunk=stop_after_3,
            **KW,
        )
    state = json.loads((tmp_path / "cut" / SCAN_STATE_FILE).read_text())
    assert state["completed_chunks"] == 3 and state["summary"]["n_done"] == 3 * c
    assert _summary(tmp_path / "cut")["complete"] is False
    part = read_scan(tmp_path / "cut")
    assert part["outputs/loglike"].shape == (3 * c,)
    seen = []
    res = run_scan(
        toy,
        PRIORS,
        n_points=n,
        method=method,
        chunk_size=c,
        seed=11,
        out_dir=tmp_path / "cut",
        on_chunk=lambda i, s: seen.append(i),
        **KW,
    )
    assert seen == list(range(3, ref.n_chunks))  # restarted at the first incomplete chunk
    assert res.complete and res.n_allowed == ref.n_allowed and res.best_loglike == ref.best_loglike
    _assert_same_scan(tmp_path / "ref", tmp_path / "cut")


def test_memory_bounded_by_chunk(tmp_path, monkeypatch):
    sizes, batches = [], []
    orig_points, orig_call = ScanPlan.unit_points, ShardedEvaluator.__call__

    def points(self, i):
        u = orig_points(self, i)
        sizes.append(u.shape[0])
        return u

    def call(self, u):
        batches.append(u.shape[0])
        return orig_call(self, u)

    monkeypatch.setattr(ScanPlan, "unit_points", points)
    monkeypatch.setattr(ShardedEvaluator, "__call__", call)
    c = 100
    run_scan(toy, PRIORS, n_points=1050, method="sobol", chunk_size=c, out_dir=tmp_path / "a", **KW)
    assert sizes == [c] * 10 + [50] and batches == sizes

    # a 1e8-point scan: stop after two chunks; nothing scales with n_points (sparse store, O(c) work)
    sizes.clear()

    def stop(i, s):
        if i == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_scan(
            toy, PRIORS, n_points=10**8, method="random", chunk_size=c, out_dir=tmp_path / "big", on_chunk=stop, **KW
        )
    assert sizes == [c, c]
    disk = sum(f.stat().st_size for f in (tmp_path / "big").rglob("*") if f.is_file())
    assert disk < 200_000
    plan = ScanPlan.make(ScanBox.from_priors(PRIORS), n_points=10**8, method="grid", chunk_size=c)
    u = plan.unit_points(plan.n_chunks - 1)  # the last chunk, without generating the others
    assert u.shape == (c, 2) and np.all(u[-1] == 1.0)


def test_padding_and_devices_argument(tmp_path):
    import jax

    # chunk of 7 points on one device; compare with an unpadded, one-shot evaluation
    res = run_scan(
        toy, PRIORS, n_points=7, method="sobol", chunk_size=7, out_dir=tmp_path, devices=jax.devices()[:1], **KW
    )
    d = _stored(tmp_path)
    ll = np.asarray(
        jax.vmap(toy)({"m": jnp.asarray(d["params/m"]), "a": jnp.asarray(d["params/a"]), "c": jnp.full(7, 2.0)})[
            "loglike"
        ]
    )
    np.testing.assert_allclose(d["outputs/loglike"], ll, rtol=1e-14)  # separate compilations: ULPs
    assert res.timings["devices"] == 1


def test_benchmark_point_fn():
    r = benchmark_point_fn(toy, PRIORS, n_points=4096, chunk_size=1024)
    import jax

    assert r["n_points"] == 4096 and r["chunk_size"] == 1024 and r["devices"] == len(jax.devices())
    assert np.isfinite(r["points_per_s"]) and r["evaluate_s"] >= r["first_chunk_s"]


_SUBPROCESS = """
import os, sys, json
import jax
jax.config.update("jax_enable_x64", True)
assert len(jax.devices()) == 4, jax.devices()
sys.path.insert(0, {root!r})
from djax.inference import run_scan
from djax.io import ScanStore
ns = {{}}
exec({toy!r}, ns)
devices = []
for method in ("random", "sobol"):
    res = run_scan(ns["toy"], ns["PRIORS"], n_points=1003, method=method, chunk_size=250, seed=5,
                   store=ScanStore(os.path.join({out!r}, method)), projections=[("m", "a")], bins=8, progress=False)
    devices.append(res.timings["devices"])
print(json.dumps({{"devices": devices}}))
"""


def test_four_cpu_devices_equal_one_device(tmp_path):
    """Sharded over 4 virtual CPU devices (last chunk padded: 1003 = 4 x 250 + 3) == 1 device, bit for bit."""
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    root = str(Path(__file__).resolve().parents[1])
    code = _SUBPROCESS.format(root=root, toy=TOY_SRC, out=str(tmp_path / "four"))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1])["devices"] == [4, 4]
    import jax

    for method in ("random", "sobol"):
        run_scan(
            toy,
            PRIORS,
            n_points=1003,
            method=method,
            chunk_size=250,
            seed=5,
            out_dir=tmp_path / "one" / method,
            devices=jax.devices()[:1],
            **KW,
        )
        _assert_same_scan(tmp_path / "four" / method, tmp_path / "one" / method)
