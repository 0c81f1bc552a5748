"""Run folders: atomic writes, metadata, and refusal to overwrite earlier results.

Every run folder holds ``run.toml`` (the resolved run file), ``metadata.json`` (package versions, JAX
device list, platform, seed, command line, timings) and a ``.djax_run`` marker that identifies it as a
djax run folder. :meth:`RunFolder.create` refuses an existing non-empty folder unless ``overwrite=True``
(which only ever deletes a folder carrying the marker) or ``resume=True``. Files are written atomically:
to a temporary file in the same folder, flushed and fsynced, then ``os.replace``-d into place, so a
crash or Ctrl-C leaves either the old or the new file, never a truncated one.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata as _md
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

MARKER = ".djax_run"
RUN_FILE = "run.toml"
METADATA_FILE = "metadata.json"
VERSIONED_PACKAGES = ("djax", "jax", "jaxlib", "numpyro", "optax", "arviz", "numpy", "scipy", "zarr")


class RunFolderError(RuntimeError):
    """A run folder cannot be created or reused as asked."""


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (tmp file in the same folder + fsync + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Atomic text write (UTF-8); see :func:`atomic_write_bytes`."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def _json_default(obj: Any) -> Any:
    try:
        import numpy as np
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    """Atomic JSON write (indented, floats round-trip exactly)."""
    return atomic_write_text(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it is ``os.replace``-d onto ``path``.

    For writers that want a file name (NetCDF, matplotlib): ``with atomic_path(p) as tmp: fig.savefig(tmp)``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{time.monotonic_ns()}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def package_versions(names: Sequence[str] = VERSIONED_PACKAGES) -> dict[str, str | None]:
    """``pip``-style installed versions (``None`` when a package is not installed)."""
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
    return {"python": sys.version.split()[0], "platform": platform.platform(), "machine": platform.machine(),
            "hostname": platform.node()}


def _now(timespec: str = "seconds") -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec=timespec)


def _now_us() -> str:
    return _now("microseconds")


@dataclass
class RunFolder:
    """A run's output folder. Create with :meth:`create`; write through the atomic helpers."""

    path: Path
    resumed: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    _t0: float = field(default_factory=time.perf_counter, repr=False)
    started: str = field(default_factory=_now_us)

    @classmethod
    def create(cls, path: str | Path, *, overwrite: bool = False, resume: bool = False) -> "RunFolder":
        """Make (or reuse) a run folder.

        * new or empty folder: created;
        * existing non-empty folder: ``RunFolderError`` unless ``resume=True`` (reuse it; it must be a
          djax run folder) or ``overwrite=True`` (delete it first; only folders carrying the
          ``.djax_run`` marker are ever deleted).
        """
        if overwrite and resume:
            raise RunFolderError("choose either overwrite or resume, not both")
        p = Path(path).expanduser().absolute()
        if p.exists() and not p.is_dir():
            raise RunFolderError(f"{p} exists and is not a folder")
        nonempty = p.is_dir() and any(p.iterdir())
        is_run = (p / MARKER).is_file()
        resumed = False
        if nonempty:
            if resume:
                if not is_run:
                    raise RunFolderError(f"cannot resume in {p}: it is not a djax run folder (no {MARKER})")
                resumed = True
            elif overwrite:
                if not is_run:
                    raise RunFolderError(f"refusing to delete {p}: it is not a djax run folder (no {MARKER}); "
                                         "remove it yourself or choose another --out")
                shutil.rmtree(p)
            else:
                raise RunFolderError(f"{p} already holds results; pass --resume to continue that run, "
                                     "--overwrite to replace it, or choose another output folder (--out)")
        p.mkdir(parents=True, exist_ok=True)
        if not is_run or not resumed:
            atomic_write_text(p / MARKER, f"djax run folder, created {_now()}\n")
        return cls(path=p, resumed=resumed)

    # -- file helpers -------------------------------------------------------------------------
    def file(self, name: str | Path) -> Path:
        return self.path / name

    def exists(self, name: str | Path) -> bool:
        return (self.path / name).exists()

    def write_text(self, name: str | Path, text: str) -> Path:
        return atomic_write_text(self.path / name, text)

    def write_bytes(self, name: str | Path, data: bytes) -> Path:
        return atomic_write_bytes(self.path / name, data)

    def write_json(self, name: str | Path, obj: Any) -> Path:
        return atomic_write_json(self.path / name, obj)

    def read_json(self, name: str | Path) -> Any:
        return json.loads((self.path / name).read_text(encoding="utf-8"))

    @contextmanager
    def atomic(self, name: str | Path) -> Iterator[Path]:
        with atomic_path(self.path / name) as tmp:
            yield tmp

    # -- timings ------------------------------------------------------------------------------
    @contextmanager
    def timer(self, label: str) -> Iterator[None]:
        """Accumulate wall-clock seconds under ``label`` in :attr:`timings`."""
        t = time.perf_counter()
        try:
            yield
        finally:
            self.timings[label] = self.timings.get(label, 0.0) + time.perf_counter() - t

    # -- metadata -----------------------------------------------------------------------------
    def write_metadata(self, config: Any = None, *, argv: Sequence[str] | None = None,
                       status: str = "running", extra: Mapping[str, Any] | None = None) -> Path:
        """Write ``run.toml`` and ``metadata.json``; see :func:`write_metadata`."""
        self.timings["total"] = time.perf_counter() - self._t0
        return write_metadata(self.path, config, argv=argv, timings=self.timings, status=status, extra=extra,
                              session_started=self.started)


def write_metadata(folder: str | Path, config: Any = None, *, argv: Sequence[str] | None = None,
                   timings: Mapping[str, float] | None = None, status: str = "running",
                   extra: Mapping[str, Any] | None = None, session_started: str | None = None) -> Path:
    """Record a run: the resolved run file (``run.toml``) and ``metadata.json`` with package versions
    (djax, jax, jaxlib, numpyro, optax, arviz, numpy, scipy, zarr), ``jax.devices()``, platform, seed,
    timings (seconds), command line, status and UTC times. On resume, the first start time and the list
    of earlier sessions (told apart by ``session_started``) is kept. ``config`` is a
    :class:`djax.io._runfile.RunConfig` (or None).
    """
    folder = Path(folder)
    session_started = session_started or _now_us()
    meta_path = folder / METADATA_FILE
    previous: dict[str, Any] = {}
    if meta_path.is_file():
        try:
            previous = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = {}
    seed = None
    if config is not None:
        from ._runfile import config_to_dict, resolved_toml

        atomic_write_text(folder / RUN_FILE, resolved_toml(config))
        seed = config.run.seed
        cfg = config_to_dict(config)
    else:
        cfg = None
    meta = {
        "djax_metadata_version": 1,
        "status": status,
        "session_started": session_started,
        "created": previous.get("created", session_started or _now()),
        "updated": _now(),
        "command_line": list(sys.argv if argv is None else argv),
        "seed": seed,
        "job": None if config is None else config.run.job,
        "versions": package_versions(),
        "jax": device_info(),
        "platform": platform_info(),
        "timings_s": dict(timings or {}),
        "config": cfg,
    }
    sessions = list(previous.get("sessions", []))
    if previous and previous.get("session_started") != session_started:  # an earlier session (resume)
        sessions.append({k: previous.get(k) for k in ("session_started", "updated", "status",
                                                        "command_line", "timings_s")})
    if sessions:
        meta["sessions"] = sessions
    if extra:
        meta.update(dict(extra))
    return atomic_write_json(meta_path, meta)


__all__ = ["RunFolder", "RunFolderError", "atomic_write_bytes", "atomic_write_text", "atomic_write_json",
           "atomic_path", "write_metadata", "package_versions", "device_info", "platform_info", "MARKER",
           "RUN_FILE", "METADATA_FILE"]
