"""Run folders and their lifecycle: create, resume, overwrite, lock, status, signals.

A run folder belongs to one job (``.djax_run`` names it). Life cycle, recorded in ``metadata.json``::

    created -> running -> done | interrupted | failed

:func:`open_run_folder` refuses an existing folder unless asked (``resume`` continues it when the job
fingerprint is unchanged, ``overwrite`` deletes a djax run folder first), compares fingerprints *before*
writing anything, and holds an exclusive ``flock`` on ``.djax_lock`` while the job runs, so a second job cannot
write the same folder. SIGTERM (what batch schedulers send) is handled like Ctrl-C: the job stops after its last
durable checkpoint and the folder is marked ``interrupted``. The signal handler raises at once and also records
the signal; :meth:`RunFolder.checkpointed`, called after every durable checkpoint, raises it again if the first
exception was lost (Python discards exceptions raised inside finalizers and weakref callbacks, where a handler may
happen to run), so a stop request is never silently ignored.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import FolderError, ResumeRefused
from ..io import (
    atomic_write_json,
    atomic_write_text,
    config_to_dict,
    now_utc,
    read_metadata,
    resolved_toml,
    write_metadata,
)

MARKER = ".djax_run"
LOCK = ".djax_lock"
RUN_FILE = "run.toml"


class JobInterrupted(KeyboardInterrupt):
    """The job was stopped by SIGINT or SIGTERM; its last checkpoint is durable."""


def fingerprint_diff(old: Any, new: Any, prefix: str = "") -> dict[str, tuple[Any, Any]]:
    """Dotted keys whose values differ between two JSON-like trees: ``{key: (old, new)}``."""
    out: dict[str, tuple[Any, Any]] = {}
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new)):
            key = f"{prefix}.{k}" if prefix else str(k)
            if k not in old or k not in new:
                out[key] = (old.get(k), new.get(k))
            else:
                out.update(fingerprint_diff(old[k], new[k], key))
        return out
    if json.dumps(old, sort_keys=True, default=str) != json.dumps(new, sort_keys=True, default=str):
        out[prefix or "<root>"] = (old, new)
    return out


def _read_marker(path: Path) -> dict | None:
    p = path / MARKER
    if not p.is_file():
        return None
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
        return d if isinstance(d, dict) else {}
    except (json.JSONDecodeError, UnicodeDecodeError, OSError):
        return {}


def _lock(path: Path):
    """An exclusive, non-blocking flock on ``path/.djax_lock`` (released when the file is closed or the process
    dies, SIGKILL included)."""
    fd = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise FolderError(
            path,
            "lock",
            "another djax job is writing this run folder (its metadata.json names "
            "the command); wait for it or choose another output folder",
        ) from None
    return fd


@dataclass
class RunFolder:
    """An open run folder (locked). Write results through :mod:`djax.io` into :attr:`path`."""

    path: Path
    job: str
    resumed: bool
    config: Any
    fingerprint: dict
    argv: list[str] | None
    started: str = field(default_factory=lambda: now_utc("microseconds"))
    timings: dict[str, float] = field(default_factory=dict)
    status: str = "created"
    _fd: int | None = None
    _t0: float = field(default_factory=time.perf_counter)
    _stop: StopRequest | None = None

    def file(self, name: str) -> Path:
        return self.path / name

    @contextlib.contextmanager
    def timer(self, label: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            self.timings[label] = self.timings.get(label, 0.0) + time.perf_counter() - t

    def write_status(self, status: str, extra: dict | None = None) -> None:
        self.status = status
        self.timings["total"] = time.perf_counter() - self._t0
        write_metadata(
            self.path,
            job=self.job,
            status=status,
            session_started=self.started,
            argv=self.argv,
            seed=self.config.run.seed,
            config=config_to_dict(self.config),
            fingerprint=self.fingerprint,
            timings=self.timings,
            extra=extra,
        )

    def checkpointed(self, *_args: Any) -> None:
        """Call after each durable checkpoint: raises :class:`JobInterrupted` if SIGINT/SIGTERM arrived while the
        job ran (normally already raised by the handler; this catches an exception Python discarded)."""
        if self._stop is not None:
            self._stop.raise_if_requested()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def open_run_folder(config, job: str, fingerprint: dict, *, argv=None) -> RunFolder:
    """Create, resume or overwrite the run folder of ``config`` (``run.resume`` / ``run.overwrite``).

    Refusals raise :class:`djax.errors.FolderError` or :class:`djax.errors.ResumeRefused` and leave an existing
    folder byte-identical.
    """
    path = config.output_path.absolute()
    resume, overwrite = config.run.resume, config.run.overwrite
    if path.exists() and not path.is_dir():
        raise FolderError(path, "run.output_dir", "exists and is not a folder")
    nonempty = path.is_dir() and any(path.iterdir())
    marker = _read_marker(path) if nonempty else None
    resumed = False
    fd = None
    try:
        if nonempty:
            if marker is None:
                what = "resume in" if resume else ("delete" if overwrite else "use")
                raise FolderError(
                    path,
                    "run.output_dir",
                    f"refusing to {what} it: not a djax run folder (no {MARKER}); choose another output folder (--out)",
                )
            owner = marker.get("job")
            if resume:
                if owner not in (None, job):
                    raise FolderError(
                        path,
                        "run.job",
                        f"this folder belongs to a {owner!r} job, not {job!r}; a folder belongs to one job",
                    )
                fd = _lock(path)
                try:
                    stored = read_metadata(path).get("fingerprint", {})
                except Exception as exc:  # noqa: BLE001 -- a corrupt file is reported as such
                    raise FolderError(path / "metadata.json", "metadata", f"cannot read it ({exc})") from None
                diff = fingerprint_diff(stored, fingerprint)
                if diff:
                    raise ResumeRefused(path / "metadata.json", diff, job=job)
                resumed = True
            elif overwrite:
                fd = _lock(path)
                os.close(fd)
                fd = None
                shutil.rmtree(path)
            else:
                raise FolderError(
                    path,
                    "run.output_dir",
                    f"already holds results of a {owner or 'djax'} job; "
                    "pass --resume to continue that run, --overwrite to "
                    "replace it, or choose another output folder (--out)",
                )
        path.mkdir(parents=True, exist_ok=True)
        if fd is None:
            fd = _lock(path)
        folder = RunFolder(
            path=path, job=job, resumed=resumed, config=config, fingerprint=fingerprint, argv=argv, _fd=fd
        )
        if not resumed:
            atomic_write_json(path / MARKER, {"job": job, "created": now_utc(), "djax": __version__})
        atomic_write_text(path / RUN_FILE, resolved_toml(config))
        folder.write_status("created")
        return folder
    except BaseException:
        if fd is not None:
            os.close(fd)
        raise


@dataclass
class StopRequest:
    """The first SIGINT/SIGTERM received inside :func:`handle_signals` (``signum`` None: none)."""

    signum: int | None = None

    def raise_if_requested(self) -> None:
        if self.signum is not None:
            raise JobInterrupted(f"stopped by {signal.Signals(self.signum).name}")


@contextlib.contextmanager
def handle_signals() -> Iterator[StopRequest]:
    """Inside: SIGTERM (and SIGINT) raise :class:`JobInterrupted` in the main thread and are recorded in the
    yielded :class:`StopRequest`."""
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def _raise(signum, frame):
        if stop.signum is None:
            stop.signum = signum
        stop.raise_if_requested()

    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in old:
        signal.signal(s, _raise)
    try:
        yield stop
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@contextlib.contextmanager
def running(folder: RunFolder) -> Iterator[RunFolder]:
    """Mark the folder ``running``; on exit ``done``, ``interrupted`` (SIGINT/SIGTERM) or ``failed``; unlock."""
    status = "failed"
    try:
        with handle_signals() as folder._stop:
            folder.write_status("running")
            yield folder
        status = "done"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        try:
            with handle_signals():
                folder.write_status(status)
        finally:
            folder.close()


__all__ = [
    "RunFolder",
    "JobInterrupted",
    "open_run_folder",
    "running",
    "handle_signals",
    "StopRequest",
    "fingerprint_diff",
    "MARKER",
    "LOCK",
    "RUN_FILE",
]
