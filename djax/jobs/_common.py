"""What every job does around its computation: load, prepare, open the folder, run, record, report."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from ..precision import enable_x64
from ._folder import RunFolder, open_run_folder, running
from ._prepare import Prepared, compilation_cache, load_config, prepare


def say(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, flush=True)


def warn(msg: str) -> None:
    print(f"djax: warning: {msg}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def job(
    name: str,
    config: Any,
    overrides: Mapping[str, Any] | None,
    *,
    resume: bool | None,
    overwrite: bool | None,
    out=None,
    argv=None,
    quiet: bool = False,
) -> Iterator[tuple[Prepared, RunFolder]]:
    """Load and check the run file, prepare the terms (all before any folder exists), open the run folder
    (fingerprint compared on resume) and mark it running; on exit record done / interrupted / failed."""
    enable_x64()
    compilation_cache()
    ov = dict(overrides or {})
    ov["run.job"] = name
    if out is not None:
        ov["run.output_dir"] = str(out).replace("{", "{{").replace("}", "}}")
    if resume is not None:
        ov["run.resume"] = bool(resume)
    if overwrite is not None:
        ov["run.overwrite"] = bool(overwrite)
    cfg = load_config(config, ov)
    prep = prepare(cfg, name)
    for n in prep.notes:
        if "status" in n or "cannot act" in n or n.startswith(("likelihood.preset", "model.")):
            warn(n)
    folder = open_run_folder(cfg, name, prep.fingerprint, argv=argv)
    if folder.resumed:
        say(f"djax {name}: resuming the run in {folder.path}", quiet)
    with running(folder):
        yield prep, folder


def make_plots(path, config, quiet: bool) -> list:
    """All figures of a run folder; a plotting failure never loses a finished run (it is reported)."""
    from ..plotting import plot_run

    try:
        written = plot_run(path, formats=tuple(dict.fromkeys((config.output.plot_format, "png"))))
    except Exception as exc:  # noqa: BLE001 -- the results are saved; say so and go on
        warn(f"plotting failed ({exc}); the results are saved, retry with `djax plot {path}`")
        return []
    for p in written:
        say(f"wrote {p}", quiet)
    return written


__all__ = ["job", "say", "warn", "make_plots"]
