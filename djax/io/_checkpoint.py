"""NUTS checkpoints: one writer and one reader (``checkpoints/`` of a sample run folder).

Layout: ``manifest.json`` (format, progress of warm-up and sampling, file names and SHA-256 of every stored
file), ``state_<warmup>_<draws>.npz`` (the whole Markov-chain state, adaptation and PRNG keys included) and
``draws_<k>.npz`` (the draws and statistics of sampling segment k). Every file is written atomically and
verified against its checksum when read, so a corrupt or truncated checkpoint is reported, never used.
"""

from __future__ import annotations

import io as _io
import json
import os
from pathlib import Path

import numpy as np

from ..errors import CheckpointError
from ._atomic import atomic_write_bytes, atomic_write_json, sha256_bytes

MANIFEST = "manifest.json"
FORMAT = "djax-nuts-checkpoint"
VERSION = 2


def _npz_bytes(arrays: dict) -> bytes:
    buf = _io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _read_npz(path: Path, sha: str) -> dict:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(path, "file", "checkpoint file listed in the manifest is missing") from None
    if sha256_bytes(data) != sha:
        raise CheckpointError(path, "sha256", "checksum mismatch: the checkpoint file is corrupt or was changed")
    try:
        with np.load(_io.BytesIO(data)) as z:
            return {k: z[k] for k in z.files}
    except (ValueError, OSError, EOFError) as exc:
        raise CheckpointError(path, "npz", f"not a readable array file ({exc})") from None


class NutsCheckpoint:
    """A folder of NUTS checkpoints (implements :class:`djax.inference.CheckpointStore`)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._manifest: dict | None = None

    @property
    def manifest_path(self) -> Path:
        return self.folder / MANIFEST

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def read_manifest(self) -> dict:
        p = self.manifest_path
        try:
            m = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CheckpointError(p, "manifest", "no checkpoint manifest") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CheckpointError(p, "manifest", f"corrupt checkpoint manifest (not JSON: {exc})") from None
        if not isinstance(m, dict) or m.get("format") != FORMAT:
            raise CheckpointError(p, "format", f"not a djax NUTS checkpoint manifest (format {FORMAT!r})")
        if m.get("version") != VERSION:
            raise CheckpointError(
                p, "version", f"checkpoint format version {m.get('version')!r}; this djax reads version {VERSION}"
            )
        for k in ("progress", "state", "segments"):
            if k not in m:
                raise CheckpointError(p, k, "missing from the checkpoint manifest")
        return m

    def load(self) -> dict | None:
        """The stored checkpoint (progress, state arrays, segment arrays), checksums verified; None if empty."""
        if not self.exists():
            return None
        m = self.read_manifest()
        state = _read_npz(self.folder / m["state"]["file"], m["state"]["sha256"])
        segs = [_read_npz(self.folder / s["file"], s["sha256"]) for s in m["segments"]]
        self._manifest = m
        return {"progress": m["progress"], "state": state, "segments": segs}

    def save(self, progress: dict, state_arrays: dict, segment_arrays: dict | None) -> None:
        """Store a completed segment: draws (sampling phase), then the state, then the manifest (atomic)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        m = self._manifest or {"format": FORMAT, "version": VERSION, "progress": {}, "state": None, "segments": []}
        segments = list(m["segments"])
        if segment_arrays is not None:
            data = _npz_bytes(segment_arrays)
            name = f"draws_{len(segments):05d}.npz"
            atomic_write_bytes(self.folder / name, data)
            segments.append({"file": name, "sha256": sha256_bytes(data)})
        data = _npz_bytes(state_arrays)
        name = f"state_{progress['warmup_done']:07d}_{progress['draws_done']:07d}.npz"
        atomic_write_bytes(self.folder / name, data)
        old = m["state"]["file"] if m.get("state") else None
        m = {
            "format": FORMAT,
            "version": VERSION,
            "progress": dict(progress),
            "state": {"file": name, "sha256": sha256_bytes(data)},
            "segments": segments,
        }
        atomic_write_json(self.manifest_path, m)
        self._manifest = m
        if old is not None and old != name:
            try:
                os.remove(self.folder / old)
            except FileNotFoundError:
                pass


__all__ = ["NutsCheckpoint", "MANIFEST"]
