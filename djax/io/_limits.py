"""Reading, validating and cleaning limit data files (host side, numpy; no JAX tracing).

Curve files (``m_Aprime_GeV,epsilon_max``, 90 % CL kinetic-mixing limits for invisible A' decays) are
digitisations of published figures: the digitiser traced the drawn contour of the excluded region,
sometimes out of order, along folds, and closing the contour. :func:`clean_curve` turns the raw points
into a single-valued upper boundary eps_90(m) (strictly increasing masses, eps > 0) by these rules,
applied in this order; each rule records the file lines it removed:

1. ``closing`` -- the file's trailing rows reached by a jump *back* in mass by more than a factor
   ``close_jump`` (default 1.5) close the drawn contour onto its start; they are dropped.
   (na64_positron_2023data: the last row jumps from 0.409 GeV back to 0.083 GeV.)
2. ``fold`` -- the raw rows, in file order, form the drawn polyline. Since the excluded region lies
   above the curve, eps_90(m) is the lowest crossing of that polyline at m. A row that lies strictly
   above a segment of the polyline not touching it (log-log interpolation at its mass; a vertical
   segment counts with its lower end) is on the far side of a fold and is dropped: back-strokes,
   retraced vertical columns and out-of-order clicks keep only the lowest (strongest) strand.
   Segments longer than ``max_chord`` in ln m (default 0.1, i.e. ~10 % in mass) are straight chords
   across an untraced stretch (typically a jump between strands) and do not count.
3. ``duplicate`` -- rows with equal mass: keep the smallest eps (the stronger limit).
4. ``sort`` -- sort by mass (removes nothing; ``reordered`` counts rows that moved).
5. ``wall`` -- at either end of the mass range, a point joined to its neighbour by a near-vertical
   stroke, |d ln eps / d ln m| > ``wall_slope`` (default 200), is the line drawn to close the filled
   region at the edge of the mass range, not a limit; dropped (repeatedly).
   (babar2017 NA64 tabulation: the 7.98 GeV point at eps = 9.4e-3.)

Clean files (the DarkCast digitisations, the NA64mu tables) pass through unchanged. Errors raise
:class:`LimitFileError` naming the file, the line and the field.
"""

from __future__ import annotations

import csv
import io as _io
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import numpy as np

from ..errors import DjaxError

__all__ = [
    "ARTEFACT_RULES",
    "CLEANING_RULES",
    "LimitFileError",
    "CURVE_HEADER",
    "RawCurve",
    "CleanCurve",
    "read_curve_csv",
    "clean_curve",
    "load_curve",
    "curve_table",
    "cleaning_report",
    "SCALAR_CSV_COLUMNS",
    "ScalarRow",
    "read_scalar_limits_csv",
    "data_dir",
]

CURVE_HEADER = ("m_Aprime_GeV", "epsilon_max")
SCALAR_CSV_COLUMNS = (
    "id",
    "observable",
    "value",
    "uncertainty",
    "unit",
    "cl_percent",
    "form",
    "experiment",
    "year",
    "arxiv",
    "journal",
    "status",
    "notes",
)
MIN_CURVE_ROWS = 2


class LimitFileError(DjaxError, ValueError):
    """A limit data or registry file is malformed. Carries ``path``, ``line`` (1-based or None), ``field``."""

    def __init__(self, path, line, field_name, message):
        self.path = str(path)
        self.field = field_name
        super().__init__(path, field_name, message, line=line)


#: Cleaning rules that only remove drawing artefacts (always applied, and reported); every other rule
#: removes rows that look like data and must be allowed per curve (registry key ``allow_cleaning``).
ARTEFACT_RULES = ("closing", "duplicate", "wall")
CLEANING_RULES = ("closing", "fold", "duplicate", "wall")


def data_dir() -> Path:
    """The package's limit-data folder (``djax/data/limits``)."""
    return Path(__file__).resolve().parents[1] / "data" / "limits"


# --------------------------------------------------------------------------------------------------
# curve files
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RawCurve:
    """A curve file as read: provenance lines and the rows in file order with their line numbers."""

    path: str
    provenance: Mapping[str, str]
    lines: np.ndarray  # int, 1-based file line of each row
    m: np.ndarray
    eps: np.ndarray


@dataclass(frozen=True)
class CleanCurve:
    """A cleaned curve: strictly increasing ``m`` (GeV), ``eps`` > 0, and what the cleaning removed.

    ``removed`` maps rule name -> tuple of (line, m, eps) for every dropped row; ``reordered`` is the
    number of kept rows whose position changed when sorting by mass.
    """

    path: str
    provenance: Mapping[str, str]
    lines: np.ndarray
    m: np.ndarray
    eps: np.ndarray
    removed: Mapping[str, tuple]
    reordered: int
    n_raw: int

    @property
    def n_removed(self) -> int:
        return sum(len(v) for v in self.removed.values())


def _num(path, line, field_name, text):
    t = text.strip()
    try:
        v = float(t)
    except ValueError:
        raise LimitFileError(path, line, field_name, f"not a number: {t!r}") from None
    if not math.isfinite(v):
        raise LimitFileError(path, line, field_name, f"not finite: {t!r}")
    return v


def read_curve_csv(path) -> RawCurve:
    """Parse a curve CSV: ``# key: value`` provenance lines, the header ``m_Aprime_GeV,epsilon_max``,
    then at least two rows of positive, finite numbers. Blank lines are skipped."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LimitFileError(p, None, "file", "curve file not found") from None
    except (PermissionError, IsADirectoryError) as exc:
        raise LimitFileError(p, None, "file", exc.strerror or str(exc)) from None
    except UnicodeDecodeError as exc:
        raise LimitFileError(p, None, "file", f"not UTF-8 text ({exc.reason})") from None
    prov: dict[str, str] = {}
    notes: list[str] = []
    header_seen = False
    rows = []
    for i, raw in enumerate(text.splitlines(), start=1):
        s = raw.strip()
        if not s:
            continue
        if s.startswith("#"):
            body = s[1:].strip()
            key, sep, val = body.partition(":")
            if sep and key.strip() and " " not in key.strip():
                prov[key.strip()] = val.strip()
            elif body:
                notes.append(body)
            continue
        if not header_seen:
            cols = tuple(c.strip() for c in s.split(","))
            if cols != CURVE_HEADER:
                raise LimitFileError(p, i, "header", f"expected {','.join(CURVE_HEADER)!r}, got {s!r}")
            header_seen = True
            continue
        parts = s.split(",")
        if len(parts) != 2:
            raise LimitFileError(p, i, "row", f"expected 2 columns ({','.join(CURVE_HEADER)}), got {len(parts)}: {s!r}")
        m = _num(p, i, CURVE_HEADER[0], parts[0])
        e = _num(p, i, CURVE_HEADER[1], parts[1])
        if m <= 0:
            raise LimitFileError(p, i, CURVE_HEADER[0], f"mass must be > 0, got {m!r}")
        if e <= 0:
            raise LimitFileError(p, i, CURVE_HEADER[1], f"epsilon must be > 0, got {e!r}")
        rows.append((i, m, e))
    if not header_seen:
        raise LimitFileError(p, None, "header", f"missing header line {','.join(CURVE_HEADER)!r}")
    if len(rows) < MIN_CURVE_ROWS:
        raise LimitFileError(p, None, "rows", f"need at least {MIN_CURVE_ROWS} data rows, got {len(rows)}")
    if notes:
        prov["comment"] = " | ".join(notes)
    a = np.array(rows, dtype=np.float64)
    return RawCurve(str(p), MappingProxyType(prov), a[:, 0].astype(np.int64), a[:, 1], a[:, 2])


def _fold_mask(lm: np.ndarray, le: np.ndarray, rtol: float, max_chord: float) -> np.ndarray:
    """True for rows strictly above a non-adjacent, traced (|d ln m| <= max_chord) polyline segment."""
    n = lm.size
    if n < 3:
        return np.zeros(n, dtype=bool)
    a, b = lm[:-1], lm[1:]
    ea, eb = le[:-1], le[1:]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    dm = b - a
    vert = dm == 0
    x = lm[:, None]  # (n, 1) against (n-1,) segments
    spans = (lo[None, :] <= x) & (x <= hi[None, :])
    idx = np.arange(n)[:, None]
    seg = np.arange(n - 1)[None, :]
    spans &= (seg != idx) & (seg != idx - 1)  # segments touching the row do not count
    spans &= (hi - lo <= max_chord)[None, :]  # long chords were not traced
    t = np.where(vert[None, :], 0.0, (x - a[None, :]) / np.where(vert, 1.0, dm)[None, :])
    val = np.where(vert[None, :], np.minimum(ea, eb)[None, :], ea[None, :] + t * (eb - ea)[None, :])
    env = np.where(spans, val, np.inf).min(axis=1)
    return le > env + rtol


def clean_curve(
    raw: RawCurve,
    *,
    allow: tuple[str, ...] = (),
    close_jump: float = 1.5,
    wall_slope: float = 200.0,
    max_chord: float = 0.1,
    rtol: float = 1e-9,
) -> CleanCurve:
    """Apply the cleaning rules of this module's docstring; see :class:`CleanCurve` for the result.

    Rows removed as drawing artefacts (``closing``, ``duplicate``, ``wall``) are always dropped and reported in
    ``removed``; rows the ``fold`` rule would drop look like data (a point out of mass order may be a real
    point), so they are dropped only if ``"fold"`` is in ``allow`` (the registry key ``allow_cleaning``) and
    otherwise the file is refused with a :class:`LimitFileError` naming the lines.

    Args:
      raw: the parsed file.
      allow: rules beyond the artefact rules that may remove rows (``("fold",)``).
      close_jump: mass factor of a backward jump that marks trailing contour-closing rows.
      wall_slope: |d ln eps / d ln m| above which an end point is a drawn closing wall.
      max_chord: segments longer than this in ln m are chords, not traces, and do not count in the
        fold rule.
      rtol: tolerance in ln eps for the fold rule.
    """
    lines, m, e = raw.lines.copy(), raw.m.copy(), raw.eps.copy()
    removed: dict[str, list] = {"closing": [], "fold": [], "duplicate": [], "wall": []}

    def drop(rule, mask):
        nonlocal lines, m, e
        for ln, mm, ee in zip(lines[mask], m[mask], e[mask]):
            removed[rule].append((int(ln), float(mm), float(ee)))
        keep = ~mask
        lines, m, e = lines[keep], m[keep], e[keep]

    # 1. closing: trailing rows after a large backward jump in mass
    lm = np.log(m)
    jumps = np.where(np.diff(lm) < -math.log(close_jump))[0]
    if jumps.size:
        j = int(jumps[-1]) + 1
        tail = lm[j:]
        # the tail is a closing stroke if it never comes back past the jump origin
        if tail.size <= 3 and np.all(tail < lm[j - 1] - math.log(close_jump)):
            mask = np.zeros(m.size, dtype=bool)
            mask[j:] = True
            drop("closing", mask)
    # 2. fold: lower envelope of the drawn polyline
    fold = _fold_mask(np.log(m), np.log(e), rtol, max_chord)
    if fold.any() and "fold" not in allow:
        rows = ", ".join(
            f"{int(ln)} (m = {mm:.4g} GeV, eps = {ee:.3g})"
            for ln, mm, ee in zip(lines[fold][:5], m[fold][:5], e[fold][:5])
        )
        more = "" if fold.sum() <= 5 else f" and {int(fold.sum()) - 5} more"
        raise LimitFileError(
            raw.path,
            int(lines[fold][0]),
            CURVE_HEADER[0],
            f"{int(fold.sum())} row(s) lie above another strand of the drawn curve and would be "
            f"dropped by the fold rule: line {rows}{more}; fix the file, or allow the rule for "
            'this curve with allow_cleaning = ["fold"] in its registry entry',
        )
    drop("fold", fold)
    # 3. duplicates: keep the smallest eps at equal mass
    order = np.lexsort((e, m))
    dup = np.zeros(m.size, dtype=bool)
    sm = m[order]
    same = np.concatenate([[False], sm[1:] == sm[:-1]])
    dup[order[same]] = True
    drop("duplicate", dup)
    # 4. sort
    order = np.argsort(m, kind="stable")
    reordered = int(np.sum(order != np.arange(m.size)))
    lines, m, e = lines[order], m[order], e[order]
    # 5. walls at the ends of the mass range
    while m.size > MIN_CURVE_ROWS:
        s = np.diff(np.log(e)) / np.diff(np.log(m))
        if abs(s[-1]) > wall_slope:
            mask = np.zeros(m.size, dtype=bool)
            mask[-1] = True
        elif abs(s[0]) > wall_slope:
            mask = np.zeros(m.size, dtype=bool)
            mask[0] = True
        else:
            break
        drop("wall", mask)
    if m.size < MIN_CURVE_ROWS:
        raise LimitFileError(raw.path, None, "rows", f"fewer than {MIN_CURVE_ROWS} rows left after cleaning ({m.size})")
    if not (np.all(np.diff(m) > 0) and np.all(e > 0)):  # guaranteed by the rules; kept as a guard
        raise LimitFileError(raw.path, None, "rows", "cleaning did not give a single-valued curve")
    return CleanCurve(
        path=raw.path,
        provenance=raw.provenance,
        lines=lines,
        m=m,
        eps=e,
        removed=MappingProxyType({k: tuple(v) for k, v in removed.items()}),
        reordered=reordered,
        n_raw=int(raw.m.size),
    )


@lru_cache(maxsize=64)
def _load_curve_cached(path: str, mtime_ns: int, size: int, allow: tuple[str, ...]) -> CleanCurve:
    return clean_curve(read_curve_csv(path), allow=allow)


def load_curve(path, *, allow: tuple[str, ...] = ()) -> CleanCurve:
    """Read and clean a curve file (cached on path, modification time, size and the allowed rules)."""
    p = Path(path).resolve()
    try:
        st = p.stat()
    except FileNotFoundError:
        raise LimitFileError(p, None, "file", "curve file not found") from None
    except PermissionError:
        raise LimitFileError(p, None, "file", "permission denied") from None
    return _load_curve_cached(str(p), st.st_mtime_ns, st.st_size, tuple(sorted(allow)))


def curve_table(curve: CleanCurve):
    """The pure-array :class:`djax.likelihood._curves.CurveTable` of a cleaned curve."""
    from ..likelihood import make_table

    return make_table(curve.m, curve.eps)


def cleaning_report(curve: CleanCurve) -> str:
    """One human-readable paragraph: rows kept, rows removed per rule (file line, m, eps)."""
    name = Path(curve.path).name
    out = [
        f"{name}: {curve.n_raw} raw rows -> {curve.m.size} kept "
        f"(m = {curve.m[0]:.4g} .. {curve.m[-1]:.4g} GeV); {curve.reordered} kept rows reordered"
    ]
    for rule, rows in curve.removed.items():
        if rows:
            lines = ", ".join(f"{ln} ({mm:.4g}, {ee:.3g})" for ln, mm, ee in rows)
            out.append(f"  {rule}: {len(rows)} removed: line (m, eps) {lines}")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------
# scalar_limits.csv
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScalarRow:
    """One row of ``scalar_limits.csv`` (numbers parsed, empty fields -> None) and its file line."""

    line: int
    id: str
    observable: str
    value: float | None
    uncertainty: float | None
    unit: str
    cl_percent: float | None
    form: str
    experiment: str
    year: int | None
    arxiv: str
    journal: str
    status: str
    notes: str


SCALAR_STATUSES = ("verified", "memory", "derived", "unknown", "projection")


def read_scalar_limits_csv(path=None) -> dict[str, ScalarRow]:
    """Parse ``scalar_limits.csv`` (default: the packaged copy) into ``{id: ScalarRow}``."""
    p = Path(path) if path is not None else data_dir() / "scalar_limits.csv"
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LimitFileError(p, None, "file", "scalar limits file not found") from None
    rows: dict[str, ScalarRow] = {}
    header = None
    for i, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        rec = next(csv.reader(_io.StringIO(raw)))
        if header is None:
            if tuple(c.strip() for c in rec) != SCALAR_CSV_COLUMNS:
                raise LimitFileError(p, i, "header", f"expected columns {','.join(SCALAR_CSV_COLUMNS)}")
            header = SCALAR_CSV_COLUMNS
            continue
        if len(rec) != len(header):
            raise LimitFileError(p, i, "row", f"expected {len(header)} columns, got {len(rec)}")
        d = dict(zip(header, (c.strip() for c in rec)))

        def opt_num(key):
            return None if d[key] == "" else _num(p, i, key, d[key])

        if not d["id"]:
            raise LimitFileError(p, i, "id", "empty id")
        if d["id"] in rows:
            raise LimitFileError(p, i, "id", f"duplicate id {d['id']!r}")
        value, unc, clp = opt_num("value"), opt_num("uncertainty"), opt_num("cl_percent")
        if unc is not None and unc <= 0:
            raise LimitFileError(p, i, "uncertainty", f"must be > 0, got {unc!r}")
        if clp is not None and not (0 < clp < 100):
            raise LimitFileError(p, i, "cl_percent", f"must be in (0, 100), got {clp!r}")
        if d["status"] not in SCALAR_STATUSES:
            raise LimitFileError(p, i, "status", f"unknown status {d['status']!r}; one of {SCALAR_STATUSES}")
        year = None
        if d["year"]:
            try:
                year = int(d["year"])
            except ValueError:
                raise LimitFileError(p, i, "year", f"not an integer: {d['year']!r}") from None
        rows[d["id"]] = ScalarRow(
            line=i,
            id=d["id"],
            observable=d["observable"],
            value=value,
            uncertainty=unc,
            unit=d["unit"],
            cl_percent=clp,
            form=d["form"],
            experiment=d["experiment"],
            year=year,
            arxiv=d["arxiv"],
            journal=d["journal"],
            status=d["status"],
            notes=d["notes"],
        )
    if header is None:
        raise LimitFileError(p, None, "header", "missing header line")
    return rows
