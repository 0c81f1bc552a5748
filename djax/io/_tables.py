"""Result tables of the optimize job: one writer and one reader each.

* ``profile.csv`` -- the upper-bound profile, one row per value of the profiled parameter; the first column is
  named ``<parameter>_<unit>`` (``m_Aprime_GeV``, ``epsilon_1``), then the maximal Borexino- and
  XENONnT-equivalent moments (mu_B) and their feasibility flags. ``#`` lines carry provenance.
* ``best_fit.json`` -- the best fit (parameters, per-term ln L, observables, start statistics).
* ``limits.json`` -- the direct limits and settings the profile is compared with.
* ``hierarchy.csv`` -- a certified profile of the effective moments: per m_A', the best feasible value (lower)
  and the certified upper bound (upper) for Borexino and XENONnT, and whether the certificate converged.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DjaxError
from ._atomic import atomic_write_json, atomic_write_text

PROFILE_FILE = "profile.csv"
BEST_FIT_FILE = "best_fit.json"
LIMITS_FILE = "limits.json"
HIERARCHY_FILE = "hierarchy.csv"
#: Columns of ``hierarchy.csv``, in this order (moments in mu_B).
HIERARCHY_COLUMNS = (
    "m_Aprime_GeV",
    "borexino_lower_muB",
    "borexino_upper_muB",
    "xenonnt_lower_muB",
    "xenonnt_upper_muB",
    "status",
)
#: Values of the ``status`` column: the certificate converged, did not converge (the bound is still valid but
#: loose), or the mass is excluded (no parameter point satisfies the constraints; no values).
HIERARCHY_STATUSES = ("converged", "not converged", "excluded")
PROFILE_VALUE_COLUMNS = (
    "borexino_mu_equiv_max_muB",
    "xenonnt_mu_equiv_max_muB",
    "feasible_borexino",
    "feasible_xenonnt",
)


def profile_column(parameter: str) -> str:
    """``<parameter>_<unit>`` (unit from the parameter schema; ``1`` for dimensionless)."""
    from ..model import PARAMETER_INFO

    unit = PARAMETER_INFO[parameter].units if parameter in PARAMETER_INFO else "1"
    return f"{parameter}_{unit}"


def write_profile_csv(
    path: str | Path, parameter: str, rows: Sequence[Mapping[str, Any]], comments: Sequence[str] = ()
) -> Path:
    """Write profile rows (``value``, ``borexino``, ``xenonnt``, ``feasible_*``) as ``profile.csv``."""
    lines = [f"# {c}" for c in comments]
    lines.append(",".join((profile_column(parameter),) + PROFILE_VALUE_COLUMNS))
    for r in rows:
        vals = [r["value"], r["borexino"], r["xenonnt"], r["feasible_borexino"], r["feasible_xenonnt"]]
        lines.append(",".join(f"{v:.10e}" if isinstance(v, float) else str(v) for v in vals))
    return atomic_write_text(path, "\n".join(lines) + "\n")


def _as_bool(v: str, path, line) -> bool:
    s = v.strip().lower()
    if s in ("true", "1"):
        return True
    if s in ("false", "0"):
        return False
    raise DjaxError(path, "feasible", f"not a boolean: {v!r}", line=line)


def read_profile_csv(path: str | Path) -> dict[str, Any]:
    """``{"parameter", "column", "values", "borexino", "xenonnt", "feasible_borexino", "feasible_xenonnt"}``."""
    p = Path(path)
    if not p.is_file():
        raise DjaxError(p, "profile", "profile file not found (an optimize run writes profile.csv)")
    header, rows = None, []
    with p.open(newline="", encoding="utf-8") as f:
        for i, rec in enumerate(csv.reader(f), start=1):
            if not rec or rec[0].lstrip().startswith("#"):
                continue
            if header is None:
                header = rec
                if tuple(header[1:]) != PROFILE_VALUE_COLUMNS or not header[0]:
                    raise DjaxError(
                        p, "header", f"expected <parameter>_<unit>,{','.join(PROFILE_VALUE_COLUMNS)}", line=i
                    )
                continue
            if len(rec) != len(header):
                raise DjaxError(p, "row", f"expected {len(header)} columns, got {len(rec)}", line=i)
            try:
                nums = (float(rec[0]), float(rec[1]), float(rec[2]))
            except ValueError:
                raise DjaxError(p, "row", f"not a number in {rec!r}", line=i) from None
            rows.append(nums + (_as_bool(rec[3], p, i), _as_bool(rec[4], p, i)))
    if header is None:
        raise DjaxError(p, "header", "no header line")
    col = header[0]
    parameter = col.rsplit("_", 1)[0]
    a = list(zip(*rows)) if rows else [[]] * 5
    return {
        "parameter": parameter,
        "column": col,
        "values": np.asarray(a[0], float),
        "borexino": np.asarray(a[1], float),
        "xenonnt": np.asarray(a[2], float),
        "feasible_borexino": np.asarray(a[3], bool),
        "feasible_xenonnt": np.asarray(a[4], bool),
    }


def write_best_fit(path: str | Path, best_fit: Mapping[str, Any]) -> Path:
    """``best_fit.json``: keys ``parameters`` (name -> value), ``terms``, ``observables``, ``neg_log_likelihood``."""
    return atomic_write_json(path, dict(best_fit))


def read_best_fit(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DjaxError(p, "best_fit", "best-fit file not found") from None
    except json.JSONDecodeError as exc:
        raise DjaxError(p, "best_fit", f"not valid JSON ({exc})") from None
    if not isinstance(d, dict) or not isinstance(d.get("parameters"), dict):
        raise DjaxError(p, "parameters", "missing the 'parameters' table")
    return d


def write_limits(path: str | Path, limits: Mapping[str, Any]) -> Path:
    return atomic_write_json(path, dict(limits))


def read_limits(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DjaxError(p, "limits", "limits file not found (an optimize run writes limits.json)") from None
    except json.JSONDecodeError as exc:
        raise DjaxError(p, "limits", f"not valid JSON ({exc})") from None
    for k in ("borexino_mu_limit_muB", "xenonnt_mu_limit_muB"):
        if not isinstance(d.get(k), (int, float)) or not math.isfinite(d[k]) or d[k] <= 0:
            raise DjaxError(p, k, "expected a positive number")
    return d


def _hierarchy_columns(table: Any) -> dict[str, Any]:
    """Column name -> 1-D values from a mapping or an xarray Dataset (``m_Aprime_GeV`` may be its coordinate)."""
    out = {}
    for c in HIERARCHY_COLUMNS:
        try:
            v = table[c]
        except KeyError:
            raise DjaxError("<hierarchy table>", c, f"missing column; expected {','.join(HIERARCHY_COLUMNS)}") from None
        out[c] = np.ravel(np.asarray(getattr(v, "values", v)))
    n = {c: v.size for c, v in out.items()}
    if len(set(n.values())) != 1:
        raise DjaxError("<hierarchy table>", "columns", f"columns differ in length: {n}")
    return out


def write_hierarchy_table(path: str | Path, table: Any, metadata: Mapping[str, Any] | None = None) -> Path:
    """Write a certified profile as ``hierarchy.csv`` (columns :data:`HIERARCHY_COLUMNS`), atomically.

    ``table``: mapping or xarray Dataset with those columns (``status`` one of :data:`HIERARCHY_STATUSES`, or a
    boolean ``True`` = converged). ``metadata``: provenance written as leading ``# key: value`` lines.
    Rows are sorted by m_A'; an upper bound below its lower value is refused (it would not bound it).
    """
    cols = _hierarchy_columns(table)
    status = [
        ("converged" if bool(v) else "not converged") if isinstance(v, (bool, np.bool_)) else str(v).strip()
        for v in cols["status"]
    ]
    for s in status:
        if s not in HIERARCHY_STATUSES:
            raise DjaxError(path, "status", f"expected one of {HIERARCHY_STATUSES}, got {s!r}")
    num = {c: np.asarray(cols[c], dtype=float) for c in HIERARCHY_COLUMNS[:-1]}
    m = num["m_Aprime_GeV"]
    if not np.all(np.isfinite(m) & (m > 0)):
        raise DjaxError(path, "m_Aprime_GeV", "every mass must be a positive number")
    for exp in ("borexino", "xenonnt"):
        lo, hi = num[f"{exp}_lower_muB"], num[f"{exp}_upper_muB"]
        bad = np.isfinite(lo) & np.isfinite(hi) & (hi < lo * (1 - 1e-12))
        if np.any(bad):
            raise DjaxError(
                path, f"{exp}_upper_muB", f"upper bound below the lower value at m_Aprime = {m[bad][0]:.6g} GeV"
            )
    lines = []
    for k, v in (metadata or {}).items():
        text = json.dumps(v) if not isinstance(v, str) else v
        lines.append(f"# {k}: {' '.join(text.splitlines())}")
    lines.append(",".join(HIERARCHY_COLUMNS))
    for i in np.argsort(m, kind="stable"):
        vals = [f"{num[c][i]:.10e}" for c in HIERARCHY_COLUMNS[:-1]]
        lines.append(",".join(vals + [status[i]]))
    return atomic_write_text(path, "\n".join(lines) + "\n")


def read_hierarchy_table(path: str | Path) -> dict[str, Any]:
    """Read ``hierarchy.csv``: ``{column: array}`` for :data:`HIERARCHY_COLUMNS` (``status`` as strings), plus
    ``converged`` (bool array), ``excluded`` (bool array) and ``metadata`` (the ``# key: value`` header lines)."""
    p = Path(path)
    if not p.is_file():
        raise DjaxError(p, "hierarchy", "hierarchy table not found")
    header, rows, meta = None, [], {}
    with p.open(newline="", encoding="utf-8") as f:
        for i, rec in enumerate(csv.reader(f), start=1):
            if not rec or not "".join(rec).strip():
                continue
            if rec[0].lstrip().startswith("#"):
                text = ",".join(rec).lstrip()[1:].strip()
                key, sep, val = text.partition(":")
                if sep and key.strip():
                    meta[key.strip()] = val.strip()
                continue
            rec = [r.strip() for r in rec]
            if header is None:
                if tuple(rec) != HIERARCHY_COLUMNS:
                    raise DjaxError(p, "header", f"expected {','.join(HIERARCHY_COLUMNS)}", line=i)
                header = rec
                continue
            if len(rec) != len(header):
                raise DjaxError(p, "row", f"expected {len(header)} columns, got {len(rec)}", line=i)
            try:
                nums = tuple(float(x) for x in rec[:-1])
            except ValueError:
                raise DjaxError(p, "row", f"not a number in {rec!r}", line=i) from None
            if not (math.isfinite(nums[0]) and nums[0] > 0):
                raise DjaxError(p, "m_Aprime_GeV", f"expected a positive mass, got {rec[0]!r}", line=i)
            if rec[-1] not in HIERARCHY_STATUSES:
                raise DjaxError(p, "status", f"expected one of {HIERARCHY_STATUSES}, got {rec[-1]!r}", line=i)
            rows.append(nums + (rec[-1],))
    if header is None:
        raise DjaxError(p, "header", "no header line")
    cols = list(zip(*rows)) if rows else [()] * len(HIERARCHY_COLUMNS)
    out: dict[str, Any] = {c: np.asarray(v, dtype=float) for c, v in zip(HIERARCHY_COLUMNS[:-1], cols)}
    out["status"] = np.asarray(cols[-1], dtype=str)
    out["converged"] = out["status"] == "converged"
    out["excluded"] = out["status"] == "excluded"
    out["metadata"] = meta
    return out


__all__ = [
    "HIERARCHY_FILE",
    "HIERARCHY_COLUMNS",
    "HIERARCHY_STATUSES",
    "write_hierarchy_table",
    "read_hierarchy_table",
    "PROFILE_FILE",
    "BEST_FIT_FILE",
    "LIMITS_FILE",
    "PROFILE_VALUE_COLUMNS",
    "profile_column",
    "write_profile_csv",
    "read_profile_csv",
    "write_best_fit",
    "read_best_fit",
    "write_limits",
    "read_limits",
]
