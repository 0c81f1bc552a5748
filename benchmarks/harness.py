"""Shared pieces of the benchmark suites: machine metadata, timing, prior points, result files.

Every suite returns a dict with ``suite``, ``figures`` (list of row dicts), ``markdown`` (a table) and
``meta`` (:func:`machine_info` plus suite settings); :func:`write_results` stores it as
``<out_dir>/<suite>-<device>.json`` and ``.md``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: Keys every result's ``meta`` carries (checked by the tests).
REQUIRED_META = (
    "jax_version",
    "jaxlib_version",
    "device_kind",
    "device_count",
    "backend",
    "xla_flags",
    "dtype",
    "processor",
    "cpu_count",
    "cpu_model",
    "python",
    "numpy_version",
    "timestamp_utc",
)

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def cpu_model() -> str:
    """``lscpu`` model name (or /proc/cpuinfo), '' if unavailable."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def machine_info() -> dict:
    """Versions, devices and machine description for the result files."""
    import jax
    import jaxlib

    devs = jax.devices()
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    return {
        "jax_version": jax.__version__,
        "jaxlib_version": jaxlib.__version__,
        "backend": jax.default_backend(),
        "device_kind": devs[0].device_kind,
        "device_count": len(devs),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "jax_enable_x64_env": os.environ.get("JAX_ENABLE_X64", ""),
        "dtype": "float64" if jax.config.jax_enable_x64 else "float32",
        "processor": platform.processor(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "load_average_at_start": list(load),
        "python": sys.version.split()[0],
        "numpy_version": np.__version__,
        "timestamp_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def device_tag() -> str:
    import jax

    return jax.default_backend()


def time_call(fn: Callable[[], Any], repeats: int, *, warmup: int = 1) -> dict:
    """Median wall time of ``fn()`` (which must block until its result is ready) over ``repeats``.

    The first ``warmup`` calls (compilation, caches) are timed separately and excluded.
    """
    t0 = time.perf_counter()
    for _ in range(warmup):
        fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(max(1, repeats)):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "times_s": times,
        "repeats": len(times),
        "warmup_s": first,
    }


# ------------------------------------------------------------------------------------------------------
# prior points: uniform in the latent variables of the default prior box
# ------------------------------------------------------------------------------------------------------
def prior_box():
    """The 13 priors of the box (``djax.model.PRIOR_BOX``, every parameter free): names, latent bounds, specs."""
    from djax.model import PRIOR_BOX, resolve_priors

    pri = resolve_priors(PRIOR_BOX)
    lo = np.array([p.latent_bounds()[0] for p in pri])
    hi = np.array([p.latent_bounds()[1] for p in pri])
    return pri, lo, hi


def unit_to_values(u):
    """Unit-cube points ``u`` (..., 13) -> dict of the 13 physical values (jnp or numpy, by input type)."""
    pri, lo, hi = prior_box()
    lat = lo + u * (hi - lo)
    return {p.name: p.to_physical(lat[..., j]) for j, p in enumerate(pri)}


def random_unit(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((int(n), 13))


# ------------------------------------------------------------------------------------------------------
# output
# ------------------------------------------------------------------------------------------------------
def fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return f"{v:,d}" if abs(v) >= 10000 else str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        return f"{v:.3g}"
    return str(v)


def markdown_table(rows: Sequence[dict], cols: Sequence[str] | None = None) -> str:
    if not rows:
        return "(no rows)\n"
    cols = list(cols or rows[0].keys())
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in rows:
        out.append("| " + " | ".join(fmt(r.get(c, "")) for c in cols) + " |")
    return "\n".join(out) + "\n"


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


def write_results(result: dict, out_dir: str | os.PathLike | None = None) -> dict:
    """Write ``<suite>-<device>.json`` and ``.md`` (atomically); returns the paths."""
    out = Path(out_dir) if out_dir is not None else RESULTS_DIR
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{result['suite']}-{result['meta']['backend']}"
    paths = {"json": out / f"{stem}.json", "md": out / f"{stem}.md"}
    meta = result["meta"]
    md = [
        f"# djax benchmark: {result['suite']} ({meta['backend']}, {meta['device_kind']} x{meta['device_count']})",
        "",
        f"jax {meta['jax_version']} / jaxlib {meta['jaxlib_version']}, {meta['dtype']}, "
        f"CPU {meta['cpu_model'] or meta['processor']} ({meta['cpu_count']} logical cores), "
        f"XLA_FLAGS={meta['xla_flags']!r}, load average at start {meta.get('load_average_at_start')}, "
        f"{meta['timestamp_utc']}, quick={meta.get('quick')}",
        "",
        result["markdown"].rstrip(),
        "",
    ]
    for note in result.get("notes", []):
        md.append(f"* {note}")
    text_md = "\n".join(md) + "\n"
    text_json = json.dumps(_jsonable(result), indent=1, sort_keys=False)
    for path, text in ((paths["json"], text_json), (paths["md"], text_md)):
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return {k: str(v) for k, v in paths.items()}
