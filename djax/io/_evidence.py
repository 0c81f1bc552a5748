r"""``evidence.json`` of an evidence run (``djax evidence``): one writer and one reader.

The file holds the evidence ``Z = \int L(theta) pi(theta) dtheta`` of the run's likelihood and priors from
nested sampling (Skilling, Bayesian Analysis 1 (2006) 833): ``log_Z``, its standard error ``log_Z_err =
sqrt(H / n_live)``, the simulated-shrinkage spread ``log_Z_err_mc``, the information ``H`` (nats), the live points,
dead points, iterations and likelihood evaluations, the effective sample size, whether ``dlogz`` was reached, the
sampler settings, and the likelihood terms and priors the evidence belongs to (see ``docs/outputs.md``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import DjaxError
from ._atomic import atomic_write_json

EVIDENCE_FILE = "evidence.json"
EVIDENCE_FORMAT = "djax-evidence"
EVIDENCE_VERSION = 1

#: Keys every evidence record holds, with their JSON types.
EVIDENCE_KEYS: Mapping[str, tuple[type, ...]] = {
    "log_Z": (int, float),
    "log_Z_err": (int, float),
    "log_Z_err_mc": (int, float),
    "information": (int, float),
    "n_live": (int,),
    "n_dead": (int,),
    "n_iterations": (int,),
    "n_likelihood_evals": (int,),
    "ess": (int, float),
    "converged": (bool,),
    "termination": (str,),
    "settings": (dict,),
    "terms": (dict,),
    "priors": (dict,),
}


def _check(p: Path, d: Any) -> dict:
    if not isinstance(d, dict):
        raise DjaxError(p, "evidence", "expected a JSON object")
    for k, types in EVIDENCE_KEYS.items():
        if k not in d:
            raise DjaxError(p, k, "missing from the evidence record")
        val = d[k]
        ok = isinstance(val, types) and not (bool not in types and isinstance(val, bool))
        if not ok:
            names = " or ".join(t.__name__ for t in types)
            raise DjaxError(p, k, f"expected {names}, got {type(val).__name__} {val!r}")
    return d


def write_evidence(path: str | Path, record: Mapping[str, Any]) -> Path:
    """Write ``evidence.json`` (``path``: the file or the run folder) atomically; the record must hold every key
    of :data:`EVIDENCE_KEYS` (``ValueError`` naming the key otherwise). Adds ``format`` and ``format_version``."""
    p = Path(path)
    if p.is_dir():
        p = p / EVIDENCE_FILE
    d = {"format": EVIDENCE_FORMAT, "format_version": EVIDENCE_VERSION, **dict(record)}
    for k in ("log_Z", "log_Z_err", "log_Z_err_mc", "information", "ess"):
        if k in d:
            d[k] = float(d[k])
    for k in ("n_live", "n_dead", "n_iterations", "n_likelihood_evals"):
        if k in d:
            d[k] = int(d[k])
    try:
        _check(p, d)
    except DjaxError as exc:
        raise ValueError(f"write_evidence: {exc.key}: {exc.what}") from None
    return atomic_write_json(p, d)


def read_evidence(path: str | Path) -> dict[str, Any]:
    """``evidence.json`` (``path``: the file or the run folder), checked: format, version and every key of
    :data:`EVIDENCE_KEYS` with its type; :class:`djax.errors.DjaxError` naming the key otherwise."""
    p = Path(path)
    if p.is_dir():
        p = p / EVIDENCE_FILE
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DjaxError(p, "evidence", "evidence file not found (an evidence run writes evidence.json)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DjaxError(p, "evidence", f"corrupt evidence file (not JSON: {exc})") from None
    if not isinstance(d, dict) or d.get("format") != EVIDENCE_FORMAT:
        raise DjaxError(p, "format", f"not a djax evidence file (expected format {EVIDENCE_FORMAT!r})")
    if d.get("format_version") != EVIDENCE_VERSION:
        raise DjaxError(
            p, "format_version", f"unsupported version {d.get('format_version')!r} (this djax reads {EVIDENCE_VERSION})"
        )
    d = _check(p, d)
    if math.isfinite(d["log_Z"]) and not (math.isfinite(d["log_Z_err"]) and d["log_Z_err"] >= 0):
        raise DjaxError(p, "log_Z_err", f"expected a non-negative number, got {d['log_Z_err']!r}")
    return d


__all__ = ["EVIDENCE_FILE", "EVIDENCE_FORMAT", "EVIDENCE_VERSION", "EVIDENCE_KEYS", "write_evidence", "read_evidence"]
