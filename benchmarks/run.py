"""Run benchmark suites and write ``<out_dir>/<suite>-<device>.json|md``.

Usage: ``djax bench [--quick] [--out DIR] [--suite NAME ...]`` or ``python -m benchmarks.run [--quick] ...``.
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Sequence
from pathlib import Path

from . import harness as H

SUITES = ("throughput", "peers", "sampling", "scaling", "profile", "startup")


def run_suite(name: str, quick: bool, out_dir=None, **kwargs) -> dict:
    """Run one suite, attach the machine metadata, write its files; returns the result dict."""
    if name not in SUITES:
        raise ValueError(f"unknown benchmark suite {name!r}; choose from {list(SUITES)}")
    mod = importlib.import_module(f"benchmarks.suite_{name}")
    meta = H.machine_info()
    t0 = time.perf_counter()
    res = mod.run(quick=quick, **kwargs)
    meta.update({"quick": bool(quick), "suite_wall_s": time.perf_counter() - t0})
    meta.update({k: v for k, v in res.pop("settings", {}).items()})
    res["meta"] = meta
    res["files"] = H.write_results(res, out_dir)
    return res


def run_bench(quick: bool = False, out_dir=None, suites: Sequence[str] | None = None, **kwargs) -> dict:
    """Run ``suites`` (default all) and return ``{suite: result}``; files go to ``out_dir``
    (default ``benchmarks/results``)."""
    suites = list(suites or SUITES)
    for s in suites:
        if s not in SUITES:
            raise ValueError(f"unknown benchmark suite {s!r}; choose from {list(SUITES)}")
    out = {}
    for s in suites:
        t = time.perf_counter()
        print(f"[bench] {s} ...", flush=True)
        out[s] = run_suite(s, quick, out_dir, **kwargs.get(s, {}))
        print(f"[bench] {s} done in {time.perf_counter() - t:.1f} s -> {out[s]['files']['md']}", flush=True)
        print(out[s]["markdown"], flush=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=None)
    ap.add_argument("--suite", action="append", choices=SUITES)
    a = ap.parse_args(argv)
    from djax import enable_x64

    enable_x64()
    run_bench(a.quick, Path(a.out) if a.out else None, a.suite)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
