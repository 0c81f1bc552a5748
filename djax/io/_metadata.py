"""``metadata.json`` of a run folder: one writer and one reader.

Holds the job, its status (``created``, ``running``, ``done``, ``interrupted``, ``failed``), package versions,
JAX devices, platform, seed, command line, timings, the fingerprint of everything that determines the results,
and the earlier sessions of a resumed run.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata as _md
from pathlib import Path
from typing import Any

from ..errors import DjaxError
from ._atomic import atomic_write_json

METADATA_FILE = "metadata.json"
VERSIONED_PACKAGES = ("djax", "jax", "jaxlib", "numpyro", "optax", "arviz", "numpy", "scipy", "zarr", "xarray")
STATUSES = ("created", "running", "done", "interrupted", "failed")


def now_utc(timespec: str = "seconds") -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec=timespec)


def package_versions(names: Sequence[str] = VERSIONED_PACKAGES) -> dict[str, str | None]:
    """Installed versions (``None`` when a package is not installed)."""
    out: dict[str, str | None] = {}
    for n in names:
        try:
            out[n] = _md.version(n)
        except _md.PackageNotFoundError:
            out[n] = None
    return out


def device_info() -> dict[str, Any]:
    """JAX backend, process layout and the global device list."""
    import jax

    return {
        "backend": jax.default_backend(),
        "process_index": jax.process_index(),
        "process_count": jax.process_count(),
        "device_count": jax.device_count(),
        "local_device_count": jax.local_device_count(),
        "devices": [str(d) for d in jax.devices()],
        "x64": bool(jax.config.read("jax_enable_x64")),
    }


def platform_info() -> dict[str, str]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "hostname": platform.node(),
    }


def read_metadata(path: str | Path) -> dict[str, Any]:
    """``metadata.json`` of a run folder (``path`` is the file or the folder)."""
    p = Path(path)
    if p.is_dir():
        p = p / METADATA_FILE
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DjaxError(p, "metadata", "metadata file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DjaxError(p, "metadata", f"corrupt metadata (not JSON: {exc})") from None
    if not isinstance(d, dict):
        raise DjaxError(p, "metadata", "expected a JSON object")
    return d


def write_metadata(
    folder: str | Path,
    *,
    job: str | None,
    status: str,
    session_started: str,
    argv: Sequence[str] | None = None,
    seed: int | None = None,
    config: Mapping | None = None,
    fingerprint: Mapping | None = None,
    timings: Mapping[str, float] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``metadata.json``; on resume the first creation time and the earlier sessions are kept."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    folder = Path(folder)
    meta_path = folder / METADATA_FILE
    previous: dict[str, Any] = {}
    if meta_path.is_file():
        try:
            previous = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = {}
    meta = {
        "djax_metadata_version": 2,
        "job": job,
        "status": status,
        "session_started": session_started,
        "created": previous.get("created", session_started),
        "updated": now_utc(),
        "command_line": list(sys.argv if argv is None else argv),
        "seed": seed,
        "versions": package_versions(),
        "jax": device_info(),
        "platform": platform_info(),
        "timings_s": dict(timings or {}),
        "fingerprint": dict(fingerprint or {}),
        "config": config,
    }
    sessions = list(previous.get("sessions", []))
    if previous and previous.get("session_started") != session_started:
        sessions.append(
            {k: previous.get(k) for k in ("session_started", "updated", "status", "command_line", "timings_s")}
        )
    if sessions:
        meta["sessions"] = sessions
    if extra:
        meta.update(dict(extra))
    return atomic_write_json(meta_path, meta)


__all__ = [
    "METADATA_FILE",
    "VERSIONED_PACKAGES",
    "STATUSES",
    "now_utc",
    "package_versions",
    "device_info",
    "platform_info",
    "read_metadata",
    "write_metadata",
]
