"""Compiled-program store: one writer and one reader for the serialised ``jax.export`` programs that let a later
process skip tracing and lowering (the sampler's initialisation and segment functions).

Layout under the store's folder (``$DJAX_CACHE_DIR/programs`` for jobs): ``<environment>/<key>.jaxexport`` (the
``jax.export`` serialisation, StableHLO bytecode) and ``<key>.json`` (format, SHA-256 of the program, and the
host-side data the caller stored with it). ``<environment>`` digests everything the caller's key cannot see:
djax's own source files, the versions of Python, jax, jaxlib and numpyro, the default backend and the x64 flag,
so editing djax or upgrading JAX never reuses an old program. A missing, truncated or corrupt entry reads as
absent (the caller then traces afresh and writes it again): this is a cache, never a source of truth.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
from pathlib import Path

from ._atomic import atomic_write_bytes, atomic_write_json, sha256_bytes

FORMAT = "djax-exported-program"
VERSION = 1


@functools.lru_cache(maxsize=1)
def _source_digest() -> str:
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def environment_digest() -> str:
    """SHA-256 (first 16 hex digits) of djax's source and the software and backend a program was compiled for."""
    import jax
    import jaxlib
    import numpyro

    parts = (
        _source_digest(),
        platform.python_version(),
        jax.__version__,
        jaxlib.__version__,
        numpyro.__version__,
        jax.default_backend(),
        bool(jax.config.jax_enable_x64),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


class ProgramFolder:
    """A folder of exported programs (see the module docstring); ``load(key)`` / ``save(key, program, meta)``."""

    def __init__(self, folder: str | Path):
        self.root = Path(folder)

    @property
    def path(self) -> Path:
        return self.root / environment_digest()

    def _files(self, key: str) -> tuple[Path, Path]:
        if not key or any(c not in "0123456789abcdefghijklmnopqrstuvwxyz-_" for c in key):
            raise ValueError(f"program key must be lower-case letters, digits, '-' or '_', got {key!r}")
        return self.path / f"{key}.jaxexport", self.path / f"{key}.json"

    def load(self, key: str) -> tuple[bytes, dict] | None:
        """``(program bytes, meta)`` of a stored entry, or None when it is absent or does not verify."""
        prog, head = self._files(key)
        try:
            info = json.loads(head.read_text())
            data = prog.read_bytes()
        except (OSError, ValueError):
            return None
        if info.get("format") != FORMAT or info.get("version") != VERSION or info.get("sha256") != sha256_bytes(data):
            return None
        return data, info.get("meta", {})

    def save(self, key: str, program: bytes, meta: dict) -> None:
        """Store an entry atomically (program first, then the JSON that vouches for it); a full or read-only disk
        only loses the cache entry."""
        prog, head = self._files(key)
        try:
            atomic_write_bytes(prog, program)
            atomic_write_json(
                head, {"format": FORMAT, "version": VERSION, "sha256": sha256_bytes(program), "meta": meta}
            )
        except OSError:
            return


__all__ = ["ProgramFolder", "environment_digest", "FORMAT", "VERSION"]
