"""``scaling``: ln L throughput vs number of (virtual CPU) devices, and peak host memory of a streamed scan.

Each measurement runs in a fresh subprocess (``python -m benchmarks.suite_scaling --worker ...``):

* devices: ``XLA_FLAGS=--xla_force_host_platform_device_count=D`` for D in (1, 2, 4); the batch of unit-cube
  points is sharded with ``NamedSharding(Mesh(devices, ("batch",)), P("batch"))`` and the jitted "paper" ln L is
  timed (compilation excluded, median over repeats). Virtual CPU devices share the machine's cores, so this shows
  the sharding overhead and the use of the available cores, not multi-accelerator scaling.
* memory: ``djax.inference.run_scan`` over n points (random method, chunk 65536, writing a zarr store to a
  temporary folder) with a point function returning ``{"loglike": ...}``; peak RSS from
  ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after the scan, and before it (after imports and one compiled
  call) for reference.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from . import harness as H

REPO = Path(__file__).resolve().parent.parent


def _worker_devices(n_points: int, repeats: int) -> dict:
    import jax
    import numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    from djax import resolve_terms
    from djax.likelihood import evaluate_log_likelihood
    from djax.model import params_from_values

    spec = resolve_terms("paper")
    devs = jax.devices()
    mesh = Mesh(np.asarray(devs), ("batch",))
    sh = NamedSharding(mesh, PartitionSpec("batch"))
    fn = jax.jit(
        lambda u: evaluate_log_likelihood(params_from_values(H.unit_to_values(u)), spec),
        in_shardings=sh,
        out_shardings=sh,
    )
    n = -(-n_points // len(devs)) * len(devs)
    u_host = H.random_unit(n, 0)
    u = jax.device_put(u_host, sh)
    t0 = time.perf_counter()
    jax.block_until_ready(fn(u))
    first = time.perf_counter() - t0
    t = H.time_call(lambda: jax.block_until_ready(fn(u)), repeats, warmup=0)
    return {
        "devices": len(devs),
        "N": n,
        "repeats": t["repeats"],
        "median_s": t["median_s"],
        "points_per_s": n / t["median_s"],
        "first_call_s": first,
    }


def _worker_memory(n_points: int, chunk: int, out_dir: str) -> dict:
    import resource

    import jax

    from djax import resolve_terms
    from djax.inference import run_scan
    from djax.io import ScanStore
    from djax.likelihood import evaluate_log_likelihood
    from djax.model import PRIOR_BOX, params_from_values, resolve_priors

    spec = resolve_terms("paper")

    def point_fn(v):
        return {"loglike": evaluate_log_likelihood(params_from_values(v), spec)}

    priors = resolve_priors(PRIOR_BOX)  # the 13 priors of the box, all free (g_D, not alpha_D)
    # one tiny scan first: imports, compilation of the chunk shape, zarr set-up (baseline RSS)
    run_scan(
        point_fn,
        priors,
        n_points=chunk,
        method="random",
        chunk_size=chunk,
        seed=1,
        store=ScanStore(os.path.join(out_dir, "warm")),
        progress=False,
    )
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    res = run_scan(
        point_fn,
        priors,
        n_points=n_points,
        method="random",
        chunk_size=chunk,
        seed=0,
        store=ScanStore(os.path.join(out_dir, "scan")),
        progress=False,
    )
    wall = time.perf_counter() - t
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del jax
    return {
        "N": int(res.n_done),
        "chunk": chunk,
        "wall_s": wall,
        "points_per_s": res.n_done / wall,
        "maxrss_before_MiB": rss0 / 1024.0,
        "maxrss_after_MiB": rss1 / 1024.0,
        "timings": {k: v for k, v in res.timings.items() if isinstance(v, (int, float))},
    }


def _spawn(args: list[str], env_extra: dict, timeout: float) -> dict:
    env = dict(os.environ)
    env.update(env_extra)
    env.setdefault("JAX_PLATFORMS", "cpu")
    cmd = [sys.executable, "-m", "benchmarks.suite_scaling", "--worker", *args]
    p = subprocess.run(cmd, cwd=str(REPO), env=env, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"scaling worker {args} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def run(
    quick: bool = False, device_counts=(1, 2, 4), n_points: int | None = None, scan_ns=None, timeout: float = 1800.0
) -> dict:
    import tempfile

    n_points = n_points or (100_000 if quick else 1_000_000)
    scan_ns = scan_ns or ((100_000,) if quick else (100_000, 1_000_000, 10_000_000))
    repeats = 3
    dev_rows = []
    for d in device_counts:
        flags = (os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={d}").strip()
        r = _spawn(["devices", str(n_points), str(repeats)], {"XLA_FLAGS": flags, "JAX_PLATFORMS": "cpu"}, timeout)
        r["xla_flags"] = flags
        dev_rows.append(r)
    base = dev_rows[0]["points_per_s"]
    for r in dev_rows:
        r["speedup_vs_1"] = r["points_per_s"] / base
    mem_rows = []
    for n in scan_ns:
        with tempfile.TemporaryDirectory(prefix="djax_bench_scan_") as tmp:
            mem_rows.append(_spawn(["memory", str(n), "65536", tmp], {"JAX_PLATFORMS": "cpu"}, timeout))
    cols_d = ["devices", "N", "repeats", "median_s", "points_per_s", "speedup_vs_1", "first_call_s"]
    cols_m = ["N", "chunk", "wall_s", "points_per_s", "maxrss_before_MiB", "maxrss_after_MiB"]
    md = (
        "ln L throughput vs virtual CPU devices (batch sharded over a 1D mesh):\n\n"
        + H.markdown_table(dev_rows, cols_d)
        + "\nPeak host memory (ru_maxrss) of a streamed run_scan (zarr output, chunk 65536):\n\n"
        + H.markdown_table(mem_rows, cols_m)
    )
    notes = [
        f"Virtual devices share the machine's {os.cpu_count()} logical cores; speed-ups are bounded by the cores, "
        "not by djax.",
        "Memory: a scan holds one chunk (65536 points) of inputs/outputs plus the streaming summaries, so peak RSS "
        "is independent of N; measured values above, nothing extrapolated. 1e8 points would have the same peak "
        "RSS (flat, chunked); its run time at the measured rate is N / points_per_s.",
    ]
    if max(scan_ns) < 100_000_000:
        rate = mem_rows[-1]["points_per_s"]
        notes.append(
            f"Largest scan measured: {max(scan_ns):.0e} points; 1e8 points was not run (it would take about "
            f"{1e8 / rate / 60:.0f} min at the measured {rate:.3g} points/s, and write ~10 GB of points)."
        )
    return {
        "suite": "scaling",
        "figures": {"devices": dev_rows, "memory": mem_rows},
        "markdown": md,
        "notes": notes,
        "settings": {
            "device_counts": list(device_counts),
            "n_points": n_points,
            "scan_ns": list(scan_ns),
            "repeats": repeats,
        },
    }


def _worker_main(argv) -> int:
    from djax import enable_x64

    enable_x64()
    kind = argv[0]
    if kind == "devices":
        out = _worker_devices(int(argv[1]), int(argv[2]))
    elif kind == "memory":
        out = _worker_memory(int(argv[1]), int(argv[2]), argv[3])
    else:
        raise SystemExit(f"unknown worker {kind}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", nargs="+", required=True)
    raise SystemExit(_worker_main(ap.parse_args().worker))
