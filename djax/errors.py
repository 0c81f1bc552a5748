"""User-facing errors: every failure a user can cause names a file, a key and what is wrong.

All of them derive from :class:`DjaxError`; the command line prints ``djax: error: <file>[:<line>]: <key>:
<what>`` and exits with status 2, without a traceback.
"""

from __future__ import annotations


class DjaxError(ValueError):
    """A user-caused failure. ``file`` (path or a ``<...>`` description), ``line`` (1-based or None), ``key``
    (dotted key or field name) and ``what`` (the message)."""

    def __init__(self, file, key: str, what: str, *, line: int | None = None):
        self.file = "<unknown>" if file is None else str(file)
        self.line = line
        self.key = str(key)
        self.what = str(what)
        super().__init__(self.format())

    @property
    def where(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"

    def format(self) -> str:
        return f"{self.where}: {self.key}: {self.what}"

    def __str__(self) -> str:
        return self.format()


class FolderError(DjaxError):
    """A run folder cannot be created, reused, locked or resumed as asked."""


class CheckpointError(DjaxError):
    """A checkpoint or stored chunk is missing, corrupt or does not belong to this job."""


class ResumeRefused(DjaxError):
    """``--resume`` with settings that determine results changed; ``differences`` lists the keys."""

    def __init__(self, file, differences: dict, *, job: str = ""):
        self.differences = dict(differences)
        keys = ", ".join(sorted(self.differences))
        detail = "; ".join(
            f"{k}: stored {_short(v[0])}, now {_short(v[1])}" for k, v in sorted(self.differences.items())[:4]
        )
        more = "" if len(self.differences) <= 4 else f"; ... ({len(self.differences) - 4} more)"
        super().__init__(
            file,
            "fingerprint",
            f"cannot resume this {job or 'job'}: settings that determine the results changed "
            f"({keys}): {detail}{more}; the folder was left untouched",
        )


def _short(v, n: int = 60) -> str:
    r = repr(v)
    return r if len(r) <= n else r[: n - 3] + "..."


def os_error(exc: OSError, key: str = "io") -> DjaxError:
    """A :class:`DjaxError` from an ``OSError`` (permissions, missing folders, disk full)."""
    what = exc.strerror or str(exc)
    return DjaxError(exc.filename or "<file system>", key, what)


__all__ = ["DjaxError", "FolderError", "CheckpointError", "ResumeRefused", "os_error"]
