"""``djax check``: validate a run file exactly as a job would (registry, curves, priors), run nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._prepare import check_text, load_config, prepare


def check(config: Any = None, *, overrides: Mapping[str, Any] | None = None, job: str | None = None) -> str:
    """Load and validate ``config`` (path, text, RunConfig or None), resolve the registry, curves and priors as
    the job would, and return the report ``djax check`` prints. Raises :class:`djax.errors.DjaxError`."""
    ov = dict(overrides or {})
    if job is not None:
        ov["run.job"] = job
    cfg = load_config(config, ov)
    return check_text(prepare(cfg, cfg.run.job))


__all__ = ["check"]
