"""DarkCast limit files: reader, cleaning and the checks of visible-search registry entries (host side, numpy).

DarkCast (Ilten, Soreq, Williams, Xue, arXiv:1801.04847; GPL-2.0-or-later) stores every limit as

* ``<name>.lmt`` -- whitespace-separated columns under one ``#`` header line naming them:
  ``mass lower`` (one-sided: eps > lower excluded), ``mass lower upper`` (two-sided island: excluded for
  lower < eps < upper, beam dumps), or ``mass g r`` (an r-value grid: r = limit / expected yield of the
  minimal dark photon at (m, g); excluded where r < 1). Mass in GeV, couplings = epsilon.
* ``<name>.py`` -- metadata written as Python that imports darkcast. It is **parsed as text here, never
  imported or executed**: ``notes`` and ``bibtex`` (triple-quoted strings), ``model``
  (``darkcast.Model("dark_photon", states=[...])``), ``production``, ``decay`` (channel string or list),
  ``bounds`` (``Dataset``/``Datasets`` and the ``.lmt`` name) and ``efficiency`` (``t0``, ``t1``,
  ``lratio``, ``rvals``; arithmetic constants are evaluated, expressions and functions kept as text).

Cleaning (:func:`clean_lmt`) turns a file into well-defined boundaries eps_lo(m) [and eps_hi(m)], in this
order, recording what each rule did:

1. ``nonpositive_mass`` -- rows with m <= 0 are dropped (BelleII_Adachi2019otg has an m = 0 row).
2. ``no_limit`` -- a one-sided row with eps >= ``gmax`` (DarkCast's sentinel 1e5 for "no limit at this
   mass", e.g. BaBar's vetoed J/psi and Upsilon windows) is *kept* as a knot at eps = 1e5 (the term is
   ~0 there and rises continuously, in log-log, to the neighbouring limits); a two-sided row with a
   sentinel is dropped (no island there).
3. ``duplicate`` -- rows with equal mass: the *last* one in file order is kept (DarkCast's ``Dataset``
   overwrites earlier values).
4. ``sort`` -- sort by mass (removes nothing; ``reordered`` counts moved rows).
5. ``empty_island`` -- two-sided rows with lower >= upper are dropped.

Malformed files raise :class:`DarkCastFileError` (a ``ValueError`` via ``LimitFileError``) carrying
``path``, ``line``, ``key`` and ``message``.
"""

from __future__ import annotations

import ast
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import numpy as np

from ._limits import LimitFileError, data_dir

__all__ = [
    "DarkCastFileError",
    "GMAX",
    "LMT_KINDS",
    "DarkCastMeta",
    "RawLmt",
    "DarkCastLimit",
    "darkcast_dir",
    "parse_darkcast_meta",
    "read_lmt",
    "clean_lmt",
    "load_darkcast_limit",
    "rvalue_islands",
    "format_lmt",
    "channel_of_decay",
    "VISIBLE_KEYS",
    "VISIBLE_ENTRY_KEYS",
    "VISIBLE_REQUIRED",
    "SEARCHES",
    "check_visible_fields",
    "load_visible_limit",
    "reference_channels",
    "VisibleEntry",
    "default_visible_registry_path",
    "visible_entries",
    "load_visible_registry",
    "compile_visible_terms",
]

#: DarkCast's "no limit" coupling sentinel (``Limit.recast(gmax=1e5)``).
GMAX = 1.0e5
#: Column layouts of ``.lmt`` files.
LMT_KINDS = {("mass", "lower"): "one_sided", ("mass", "lower", "upper"): "two_sided", ("mass", "g", "r"): "rvalues"}
MIN_ROWS = 2
#: DarkCast decay-channel names -> djax channel names (``djax.observables``).
_CHANNEL_MAP = {"e_e": "ee", "mu_mu": "mumu", "tau_tau": "tautau", "invisible": "invisible", "none": "none"}


class DarkCastFileError(LimitFileError):
    """A DarkCast ``.lmt``/``.py`` file or a visible-registry entry is malformed.

    Carries ``path``, ``line`` (1-based or None), ``key`` (also ``field``) and ``message``.
    """

    def __init__(self, path, line, key, message):
        super().__init__(path, line, key, message)
        self.key = key
        self.message = message


def darkcast_dir() -> Path:
    """The packaged DarkCast folder, ``djax/data/limits/darkcast``."""
    return data_dir() / "darkcast"


def channel_of_decay(decay: str) -> str:
    """djax channel name of a DarkCast decay string (hadronic final states such as ``pi+_pi-`` ->
    ``hadrons``)."""
    return _CHANNEL_MAP.get(decay, "hadrons")


# --------------------------------------------------------------------------------------------------
# .py metadata, parsed as text
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DarkCastMeta:
    """Metadata of one DarkCast limit (from its ``.py`` file, parsed as text).

    Attributes:
      path, name: the file and its stem.
      header: the leading ``#`` lines (licence and copyright notice of DarkCast).
      notes, bibtex: the two triple-quoted strings (stripped).
      bibtex_fields: ``key`` and the BibTeX fields (lower-case names: ``eprint``, ``journal``, ...).
      model, model_args: model name (``dark_photon``) and the rest of the call's arguments as text.
      states: DarkCast decay states the limit's model is restricted to (``Model(..., states=[...])``),
        else None (all states).
      production: production string, ``dataset:<file>`` for a ``.prd`` table, or the call argument text.
      decay: tuple of DarkCast decay channels (``e_e``, ``mu_mu``, ``pi+_pi-``, ``invisible``...).
      bounds_class, bounds_file: ``Dataset`` / ``Datasets`` and the named ``.lmt`` (base name).
      efficiency: keyword -> float (constant expressions evaluated) or str (expression / function name).
      t0, t1, lratio: floats where constant, else None; ``rvals``: True for an r-value limit.
      search: ``prompt`` (t0 = 0 window) or ``displaced`` (lratio or r-values).
      lines: key -> 1-based line of its assignment.
    """

    path: str
    name: str
    header: tuple
    notes: str
    bibtex: str
    bibtex_fields: Mapping[str, str]
    model: str
    model_args: str
    states: tuple | None
    production: str
    decay: tuple
    bounds_class: str
    bounds_file: str
    efficiency: Mapping[str, object]
    t0: float | None
    t1: float | None
    lratio: float | None
    rvals: bool
    search: str
    lines: Mapping[str, int]

    @property
    def arxiv(self) -> str:
        return self.bibtex_fields.get("eprint", "")

    @property
    def reference(self) -> str:
        """``Journal volume (year) pages`` from the BibTeX (what is there)."""
        b = self.bibtex_fields
        bits = [b.get("journal", ""), b.get("volume", "")]
        s = " ".join(x for x in bits if x)
        if b.get("year"):
            s += f" ({b['year']})"
        if b.get("pages"):
            s += f" {b['pages']}"
        return s.strip()


_TRIPLE = re.compile(r'^([A-Za-z_]\w*)\s*=\s*[rRuU]?("""|\'\'\')(.*?)\2', re.S | re.M)
_ASSIGN = re.compile(r"^([A-Za-z_]\w*)\s*=\s*(.*)$", re.S)


def _blank(text: str, start: int, end: int) -> str:
    """Replace text[start:end] by spaces, keeping newlines (line numbers stay valid)."""
    seg = "".join("\n" if c == "\n" else " " for c in text[start:end])
    return text[:start] + seg + text[end:]


def _depth_change(line: str) -> int:
    """Net bracket depth of a line, ignoring brackets inside string literals and comments."""
    d, q, i = 0, None, 0
    while i < len(line):
        c = line[i]
        if q:
            if c == "\\":
                i += 2
                continue
            if c == q:
                q = None
        elif c in "\"'":
            q = c
        elif c == "#":
            break
        elif c in "([{":
            d += 1
        elif c in ")]}":
            d -= 1
        i += 1
    return d


def _statements(text: str, path):
    """Top-level ``(line, text)`` statements of Python-like source (bracket-joined), plus ``def`` blocks
    as ``(line, 'def <name>')``."""
    out = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        s = raw.strip()
        if not s or s.startswith("#"):
            i += 1
            continue
        if raw[0] in " \t":
            raise DarkCastFileError(path, i + 1, "syntax", f"unexpected indented line: {s!r}")
        if s.startswith("def "):
            m = re.match(r"def\s+([A-Za-z_]\w*)\s*\(", s)
            if not m:
                raise DarkCastFileError(path, i + 1, "syntax", f"cannot read function header {s!r}")
            out.append((i + 1, f"def {m.group(1)}"))
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i][0] in " \t"):
                i += 1
            continue
        start, depth, buf = i, 0, []
        while True:
            buf.append(lines[i])
            depth += _depth_change(lines[i])
            i += 1
            if depth <= 0:
                break
            if i >= len(lines):
                raise DarkCastFileError(path, start + 1, "syntax", "unbalanced brackets (statement never ends)")
        out.append((start + 1, " ".join(x.strip() for x in buf)))
    return out


def _split_top(args: str) -> list[str]:
    """Split a call's argument text at top-level commas."""
    parts, depth, q, cur = [], 0, None, []
    for c in args:
        if q:
            cur.append(c)
            if c == q:
                q = None
            continue
        if c in "\"'":
            q = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
            continue
        cur.append(c)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def _call_args(expr: str, func: str, path, line, key) -> str:
    """Argument text of ``darkcast.<func>( ... )`` (or ``<func>(...)``)."""
    m = re.match(rf"^(?:darkcast\.)?{func}\s*\((.*)\)\s*$", expr.strip(), re.S)
    if not m:
        raise DarkCastFileError(path, line, key, f"expected darkcast.{func}(...), got {expr.strip()[:60]!r}")
    return m.group(1)


_NUM_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Constant,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.USub,
    ast.UAdd,
    ast.Pow,
)


def _const_number(text: str):
    """Value of an arithmetic constant expression (numbers, + - * / **, float("inf")), else None.
    The expression is parsed with ``ast`` and evaluated node by node; nothing is executed."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return None

    def ev(n):
        if isinstance(n, ast.Expression):
            return ev(n.body)
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)) and not isinstance(n.value, bool):
            return float(n.value)
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)):
            v = ev(n.operand)
            return -v if isinstance(n.op, ast.USub) else v
        if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            a, b = ev(n.left), ev(n.right)
            if isinstance(n.op, ast.Add):
                return a + b
            if isinstance(n.op, ast.Sub):
                return a - b
            if isinstance(n.op, ast.Mult):
                return a * b
            if isinstance(n.op, ast.Div):
                return a / b
            return a**b
        if (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Name)
            and n.func.id == "float"
            and len(n.args) == 1
            and isinstance(n.args[0], ast.Constant)
            and isinstance(n.args[0].value, str)
        ):
            return float(n.args[0].value)
        raise ValueError("not a constant")

    try:
        return ev(tree)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None


def _literal(text: str):
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return None


def _bibtex_fields(bib: str) -> dict:
    out = {}
    m = re.search(r"@\w+\s*\{\s*([^,\s]+)\s*,", bib)
    if m:
        out["key"] = m.group(1)
    for fm in re.finditer(r'(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"', bib, re.S):
        out[fm.group(1).lower()] = " ".join(fm.group(2).split())
    return out


def parse_darkcast_meta(path) -> DarkCastMeta:
    """Parse a DarkCast ``.py`` limit description as text (never imported); see :class:`DarkCastMeta`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DarkCastFileError(p, None, "file", "metadata file not found") from None
    except UnicodeDecodeError as exc:
        raise DarkCastFileError(p, None, "file", f"not UTF-8 text ({exc.reason})") from None
    header = []
    for ln in text.splitlines():
        if ln.startswith("#"):
            header.append(ln[1:].strip())
        elif ln.strip():
            break
    strings, lines = {}, {}
    for m in list(_TRIPLE.finditer(text)):
        key = m.group(1)
        strings[key] = m.group(3).strip()
        lines[key] = text.count("\n", 0, m.start()) + 1
    for m in sorted(_TRIPLE.finditer(text), key=lambda mm: -mm.start()):
        text = _blank(text, m.start(), m.end())
    values, funcs = {}, set()
    for line, stmt in _statements(text, p):
        if stmt.startswith("def "):
            name = stmt[4:]
            funcs.add(name)
            lines.setdefault(name, line)
            continue
        if stmt.startswith("import ") or stmt.startswith("from "):
            continue
        m = _ASSIGN.match(stmt)
        if not m:
            raise DarkCastFileError(p, line, "syntax", f"expected 'name = value', got {stmt[:60]!r}")
        values[m.group(1)] = m.group(2).strip()
        lines[m.group(1)] = line
    for key in ("model", "production", "decay", "bounds", "efficiency"):
        if key not in values:
            raise DarkCastFileError(p, None, key, f"missing '{key} = ...' (a DarkCast limit needs it)")

    def loc(k):
        return lines.get(k)

    # model
    margs = _split_top(_call_args(values["model"], "Model", p, loc("model"), "model"))
    model = _literal(margs[0]) if margs else None
    if not isinstance(model, str):
        raise DarkCastFileError(p, loc("model"), "model", "first argument of Model must be a string")
    states = None
    for a in margs[1:]:
        k, sep, v = a.partition("=")
        if sep and k.strip() == "states":
            lv = _literal(v)
            if not (isinstance(lv, list) and all(isinstance(x, str) for x in lv)):
                raise DarkCastFileError(p, loc("model"), "model", f"states must be a list of strings, got {v!r}")
            states = tuple(lv)
    # production
    pargs = _call_args(values["production"], "Production", p, loc("production"), "production").strip()
    lit = _literal(pargs)
    if isinstance(lit, str):
        production = lit
    else:
        dm = re.search(r'Datasets?\s*\(\s*["\']([^"\']+)["\']\s*\)', pargs)
        production = f"dataset:{Path(dm.group(1)).name}" if dm else " ".join(pargs.split())
    # decay
    dec = _literal(values["decay"])
    if isinstance(dec, str):
        decay = (dec,)
    elif isinstance(dec, (list, tuple)) and dec and all(isinstance(x, str) for x in dec):
        decay = tuple(dec)
    else:
        raise DarkCastFileError(
            p, loc("decay"), "decay", f"expected a channel string or a list of them, got {values['decay'][:60]!r}"
        )
    for d in decay:
        if not re.fullmatch(r"[A-Za-z0-9_+\-']+", d):
            raise DarkCastFileError(p, loc("decay"), "decay", f"malformed channel name {d!r}")
    # bounds
    bm = re.match(r'^(?:darkcast\.)?(Datasets?)\s*\(\s*["\']([^"\']+)["\']\s*\)\s*$', values["bounds"])
    if not bm:
        raise DarkCastFileError(
            p, loc("bounds"), "bounds", f'expected darkcast.Dataset(s)("<file>.lmt"), got {values["bounds"][:60]!r}'
        )
    bounds_class, bounds_file = bm.group(1), Path(bm.group(2)).name
    # efficiency
    eff: dict[str, object] = {}
    for a in _split_top(_call_args(values["efficiency"], "Efficiency", p, loc("efficiency"), "efficiency")):
        k, sep, v = a.partition("=")
        if not sep:
            raise DarkCastFileError(p, loc("efficiency"), "efficiency", f"expected keyword arguments, got {a!r}")
        k, v = k.strip(), v.strip()
        if k not in ("t0", "t1", "lratio", "rvals"):
            raise DarkCastFileError(p, loc("efficiency"), "efficiency", f"unknown efficiency argument {k!r}")
        num = _const_number(v)
        if k == "rvals":
            eff[k] = v == "True"
        elif num is not None:
            eff[k] = num
        elif v in funcs:
            eff[k] = f"function {v}"
        else:
            eff[k] = " ".join(v.split())
    t0 = eff.get("t0") if isinstance(eff.get("t0"), float) else None
    t1 = eff.get("t1") if isinstance(eff.get("t1"), float) else None
    lratio = eff.get("lratio") if isinstance(eff.get("lratio"), float) else None
    if "lratio" in eff and (lratio is None or not lratio > 0):
        raise DarkCastFileError(p, loc("efficiency"), "lratio", f"expected a positive constant, got {eff['lratio']!r}")
    rvals = bool(eff.get("rvals", False))
    if rvals or "lratio" in eff:
        search = "displaced"
    elif "t0" in eff and t0 == 0.0:
        search = "prompt"
    elif not eff:
        raise DarkCastFileError(p, loc("efficiency"), "efficiency", "no efficiency window given")
    else:
        search = "displaced"
    notes = strings.get("notes", "")
    bib = strings.get("bibtex", "")
    return DarkCastMeta(
        path=str(p),
        name=p.stem,
        header=tuple(header),
        notes=notes,
        bibtex=bib,
        bibtex_fields=MappingProxyType(_bibtex_fields(bib)),
        model=model,
        model_args=", ".join(margs[1:]),
        states=states,
        production=production,
        decay=decay,
        bounds_class=bounds_class,
        bounds_file=bounds_file,
        efficiency=MappingProxyType(eff),
        t0=t0,
        t1=t1,
        lratio=lratio,
        rvals=rvals,
        search=search,
        lines=MappingProxyType(lines),
    )


# --------------------------------------------------------------------------------------------------
# .lmt data
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RawLmt:
    """An ``.lmt`` file as read: ``columns`` (from the header line), ``kind`` (:data:`LMT_KINDS`),
    ``provenance`` (``# key: value`` lines), ``comments`` (other ``#`` lines), rows with file lines."""

    path: str
    columns: tuple
    kind: str
    provenance: Mapping[str, str]
    comments: tuple
    lines: np.ndarray
    data: np.ndarray  # (n, len(columns))


def _num(path, line, key, text):
    try:
        v = float(text)
    except ValueError:
        raise DarkCastFileError(path, line, key, f"not a number: {text!r}") from None
    if not math.isfinite(v):
        raise DarkCastFileError(path, line, key, f"not finite: {text!r}")
    return v


def read_lmt(path) -> RawLmt:
    """Parse a DarkCast ``.lmt`` file (columns named by its ``#`` header line; see the module docstring)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DarkCastFileError(p, None, "file", "limit file not found") from None
    except UnicodeDecodeError as exc:
        raise DarkCastFileError(p, None, "file", f"not UTF-8 text ({exc.reason})") from None
    columns, prov, comments, rows, lines = None, {}, [], [], []
    for i, raw in enumerate(text.splitlines(), start=1):
        body, _, comment = raw.partition("#")
        if not body.strip():
            c = comment.strip()
            if raw.strip().startswith("#") and c:
                toks = tuple(c.split())
                if toks in LMT_KINDS and not rows:
                    columns = toks
                    continue
                key, sep, val = c.partition(":")
                if sep and key.strip() and " " not in key.strip():
                    prov[key.strip()] = val.strip()
                else:
                    comments.append(c)
            continue
        if columns is None:
            raise DarkCastFileError(
                p, i, "header", f"data before the column header line (one of {[' '.join(k) for k in LMT_KINDS]})"
            )
        toks = body.split()
        if len(toks) != len(columns):
            raise DarkCastFileError(
                p, i, "row", f"expected {len(columns)} columns ({' '.join(columns)}), got {len(toks)}: {raw.strip()!r}"
            )
        rows.append([_num(p, i, col, t) for col, t in zip(columns, toks)])
        lines.append(i)
    if columns is None:
        raise DarkCastFileError(p, None, "header", "missing column header line, e.g. '#  mass  lower'")
    if len(rows) < MIN_ROWS:
        raise DarkCastFileError(p, None, "rows", f"need at least {MIN_ROWS} data rows, got {len(rows)}")
    data = np.array(rows, dtype=np.float64)
    for j, col in enumerate(columns[1:], start=1):
        bad = np.where(data[:, j] <= 0)[0]
        if bad.size:
            k = int(bad[0])
            raise DarkCastFileError(p, lines[k], col, f"must be > 0, got {data[k, j]!r}")
    return RawLmt(
        str(p),
        columns,
        LMT_KINDS[columns],
        MappingProxyType(prov),
        tuple(comments),
        np.array(lines, dtype=np.int64),
        data,
    )


@dataclass(frozen=True)
class DarkCastLimit:
    """A cleaned DarkCast limit: strictly increasing ``m`` (GeV), ``eps_lo`` and (two-sided) ``eps_hi``.

    ``removed`` maps rule -> tuple of (line, m, lower[, upper]) of dropped rows; ``no_limit`` lists the
    lines of kept sentinel knots (eps_lo = :data:`GMAX`); ``meta`` is the parsed ``.py`` (or None);
    ``sha256`` the checksum of the ``.lmt``.
    """

    path: str
    name: str
    kind: str
    m: np.ndarray
    eps_lo: np.ndarray
    eps_hi: np.ndarray | None
    lines: np.ndarray
    removed: Mapping[str, tuple]
    no_limit: tuple
    reordered: int
    n_raw: int
    provenance: Mapping[str, str]
    meta: DarkCastMeta | None
    sha256: str

    @property
    def two_sided(self) -> bool:
        return self.eps_hi is not None

    @property
    def mass_range(self) -> tuple[float, float]:
        return float(self.m[0]), float(self.m[-1])

    @property
    def search(self) -> str:
        """``prompt`` / ``displaced`` (from the metadata; two-sided without metadata: displaced)."""
        if self.meta is not None:
            return self.meta.search
        return "displaced" if self.two_sided else "prompt"

    def table(self):
        """The pure-array :class:`djax.likelihood._visible.VisibleTable`."""
        from ..likelihood import make_visible_table

        return make_visible_table(self.m, self.eps_lo, self.eps_hi)


def clean_lmt(raw: RawLmt, *, gmax: float = GMAX):
    """Apply the cleaning rules of the module docstring to a one- or two-sided file.

    Returns ``(lines, m, eps_lo, eps_hi | None, removed, no_limit, reordered)``.
    """
    if raw.kind == "rvalues":
        raise DarkCastFileError(raw.path, None, "columns", "an r-value grid has no boundaries; use rvalue_islands")
    two = raw.kind == "two_sided"
    lines = raw.lines.copy()
    d = raw.data.copy()
    removed: dict[str, list] = {"nonpositive_mass": [], "no_limit": [], "duplicate": [], "empty_island": []}

    def drop(rule, mask):
        nonlocal lines, d
        for ln, row in zip(lines[mask], d[mask]):
            removed[rule].append((int(ln), *map(float, row)))
        lines, d = lines[~mask], d[~mask]

    drop("nonpositive_mass", d[:, 0] <= 0)
    sentinel = d[:, 1] >= gmax
    if two:
        sentinel |= d[:, 2] >= gmax
        drop("no_limit", sentinel)
        no_limit = ()
    else:
        no_limit = tuple(int(x) for x in lines[sentinel])
        d[sentinel, 1] = gmax
    # duplicates: keep the last row of each mass in file order
    dup = np.zeros(len(d), dtype=bool)
    seen = {}
    for k, mm in enumerate(d[:, 0]):
        if mm in seen:
            dup[seen[mm]] = True
        seen[mm] = k
    drop("duplicate", dup)
    order = np.argsort(d[:, 0], kind="stable")
    reordered = int(np.sum(order != np.arange(len(d))))
    lines, d = lines[order], d[order]
    if two:
        drop("empty_island", d[:, 1] >= d[:, 2])
    if len(d) < MIN_ROWS:
        raise DarkCastFileError(raw.path, None, "rows", f"fewer than {MIN_ROWS} rows left after cleaning")
    removed_t = MappingProxyType({k: tuple(v) for k, v in removed.items()})
    return lines, d[:, 0], d[:, 1], (d[:, 2] if two else None), removed_t, no_limit, reordered


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@lru_cache(maxsize=128)
def _load_cached(lmt: str, meta: str | None, mtime: int, size: int, meta_stat=None) -> DarkCastLimit:
    raw = read_lmt(lmt)
    md = parse_darkcast_meta(meta) if meta is not None else None
    if raw.kind == "rvalues":
        raise DarkCastFileError(lmt, None, "columns", "r-value grid: derive islands with rvalue_islands first")
    if md is not None and not md.rvals:
        want = "two_sided" if md.bounds_class == "Datasets" else "one_sided"
        if want != raw.kind:
            raise DarkCastFileError(
                lmt,
                None,
                "columns",
                f"metadata {Path(meta).name} declares {md.bounds_class} ({want}) but the file is {raw.kind}",
            )
    lines, m, lo, hi, removed, no_limit, reordered = clean_lmt(raw)
    return DarkCastLimit(
        path=lmt,
        name=Path(lmt).stem,
        kind=raw.kind,
        m=m,
        eps_lo=lo,
        eps_hi=hi,
        lines=lines,
        removed=removed,
        no_limit=no_limit,
        reordered=reordered,
        n_raw=int(raw.data.shape[0]),
        provenance=raw.provenance,
        meta=md,
        sha256=_sha256(Path(lmt)),
    )


@lru_cache(maxsize=256)
def _provenance_metadata(lmt: str, mtime: int, size: int) -> str | None:
    """The ``# metadata: <file>`` provenance value of an ``.lmt`` (cached on path, mtime and size)."""
    return read_lmt(lmt).provenance.get("metadata")


def load_darkcast_limit(lmt_path, meta_path=None) -> DarkCastLimit:
    """Read, check and clean a DarkCast ``.lmt`` with its metadata.

    ``meta_path`` defaults to the ``# metadata: <file>`` provenance line of the ``.lmt`` if present, else to
    ``<stem>.py`` beside it (None if that does not exist). Cached on the paths, modification times and sizes.
    """
    p = Path(lmt_path).resolve()
    try:
        st = p.stat()
    except FileNotFoundError:
        raise DarkCastFileError(p, None, "file", "limit file not found") from None
    if meta_path is None:
        prov = _provenance_metadata(str(p), st.st_mtime_ns, st.st_size)
        if prov is not None:
            meta_path = p.parent / prov
            if not Path(meta_path).exists():
                raise DarkCastFileError(p, None, "metadata", f"metadata file {prov!r} not found")
        elif p.with_suffix(".py").exists():
            meta_path = p.with_suffix(".py")
    meta = None if meta_path is None else str(Path(meta_path).resolve())
    mst = None
    if meta is not None:
        try:
            ms = Path(meta).stat()
        except FileNotFoundError:
            raise DarkCastFileError(meta, None, "file", "metadata file not found") from None
        mst = (ms.st_mtime_ns, ms.st_size)
    return _load_cached(str(p), meta, st.st_mtime_ns, st.st_size, mst)


def rvalue_islands(raw: RawLmt):
    """Two-sided islands from an r-value grid (DarkCast ``rvals`` limits, e.g. LHCb displaced).

    At each mass the excluded band is [smallest, largest] eps with r < 1 -- the rule of DarkCast's own
    recast (``Limit.recast``) for the model the grid was made for -- with each edge refined by linear
    interpolation of ln r in ln eps between the two grid points around r = 1 (an edge at the grid border
    stays at the border). Consecutive masses with a band form one island; masses without one split
    islands. Returns a list of ``(m, eps_lo, eps_hi)`` arrays, one per island.
    """
    if raw.kind != "rvalues":
        raise DarkCastFileError(raw.path, None, "columns", "not an r-value grid (columns mass g r)")
    d = raw.data
    ms = np.unique(d[:, 0])
    gs = np.unique(d[:, 1])
    if ms.size * gs.size != d.shape[0]:
        raise DarkCastFileError(
            raw.path, None, "rows", f"not a complete grid: {ms.size} masses x {gs.size} couplings != {d.shape[0]} rows"
        )
    islands, cur = [], []
    for mm in ms:
        sel = d[d[:, 0] == mm]
        sel = sel[np.argsort(sel[:, 1])]
        g, r = sel[:, 1], sel[:, 2]
        ok = r < 1.0
        if not ok.any():
            if cur:
                islands.append(cur)
                cur = []
            continue
        idx = np.where(ok)[0]
        i0, i1 = int(idx[0]), int(idx[-1])

        def cross(a, b):
            la, lb = math.log(r[a]), math.log(r[b])
            if la == lb:
                return g[b]
            t = la / (la - lb)
            return math.exp(math.log(g[a]) + t * (math.log(g[b]) - math.log(g[a])))

        lo = g[0] if i0 == 0 else cross(i0 - 1, i0)
        hi = g[-1] if i1 == g.size - 1 else cross(i1, i1 + 1)
        cur.append((float(mm), float(lo), float(hi)))
    if cur:
        islands.append(cur)
    return [tuple(np.array(c, dtype=np.float64).T) for c in islands if len(c) >= MIN_ROWS]


def format_lmt(m, eps_lo, eps_hi=None, *, header=()) -> str:
    """Text of an ``.lmt`` file (``#`` header lines, the column line, rows in ``%.6e``)."""
    out = [f"# {h}" if h else "#" for h in header]
    cols = ("mass", "lower") if eps_hi is None else ("mass", "lower", "upper")
    out.append("#" + "".join(f"{c:>14}" for c in cols))
    arrs = [m, eps_lo] if eps_hi is None else [m, eps_lo, eps_hi]
    for row in zip(*arrs):
        out.append("".join(f"{v:14.6e}" for v in row))
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------------
# visible-search entries of the limit registry (form = "visible_curve" in registry.toml)
# --------------------------------------------------------------------------------------------------
#: Keys a ``form = "visible_curve"`` entry adds to those of ``registry.toml`` (``djax.io.ENTRY_KEYS``).
VISIBLE_KEYS = ("metadata", "channel", "two_sided", "search", "ref_states")
#: Keys of a ``[limit.<id>]`` table with ``form = "visible_curve"``.
VISIBLE_ENTRY_KEYS = (
    "observable",
    "form",
    "shape",
    "cl",
    "power",
    "file",
    "metadata",
    "sha256",
    "channel",
    "two_sided",
    "search",
    "ref_states",
    "experiment",
    "arxiv",
    "journal",
    "year",
    "version",
    "date",
    "status",
    "kind",
    "tags",
    "notes",
    "unit",
)
#: Required keys of a visible-search entry (besides ``observable``, ``form``, ``status``, ``kind``,
#: ``experiment`` that every registry entry needs).
VISIBLE_REQUIRED = ("file", "cl", "channel", "two_sided", "search")
SEARCHES = ("prompt", "displaced")
_CHANNEL_RE = re.compile(r"[A-Za-z0-9_+\-']+")


def check_visible_fields(raw: Mapping, err) -> dict:
    """Check the visible-search keys of one registry entry (no file access).

    ``raw`` is the entry's table; ``err(key, message)`` returns the exception to raise (it knows the file and
    line). Returns the normalised values: ``channel`` (tuple of DarkCast decay names), ``two_sided`` (bool),
    ``search``, ``ref_states`` (tuple of DarkCast names or None).
    """
    for k in ("channel", "two_sided", "search"):
        if k not in raw:
            raise err(None, f"missing required key {k!r} for form 'visible_curve'")
    chan = raw["channel"]
    chan = (chan,) if isinstance(chan, str) else chan
    if (
        not isinstance(chan, (list, tuple))
        or not chan
        or not all(isinstance(c, str) and _CHANNEL_RE.fullmatch(c) for c in chan)
    ):
        raise err(
            "channel",
            f"expected a DarkCast decay name or a list of them (e_e, mu_mu, pi+_pi-...), got {raw['channel']!r}",
        )
    if not isinstance(raw["two_sided"], bool):
        raise err("two_sided", f"expected true or false, got {raw['two_sided']!r}")
    if raw["search"] not in SEARCHES:
        raise err("search", f"expected one of {SEARCHES}, got {raw['search']!r}")
    ref = raw.get("ref_states")
    if ref is not None:
        from ..observables import VISIBLE_CHANNELS

        if (
            isinstance(ref, str)
            or not isinstance(ref, (list, tuple))
            or not ref
            or not all(isinstance(s, str) for s in ref)
        ):
            raise err("ref_states", f"expected a non-empty list of DarkCast decay names, got {ref!r}")
        bad = [s for s in ref if channel_of_decay(s) not in VISIBLE_CHANNELS]
        if bad:
            raise err("ref_states", f"{bad} are not visible decay channels")
        ref = tuple(ref)
    for k in ("metadata",):
        if k in raw and (not isinstance(raw[k], str) or not raw[k]):
            raise err(k, f"expected a path string, got {raw[k]!r}")
    return {"channel": tuple(chan), "two_sided": raw["two_sided"], "search": raw["search"], "ref_states": ref}


def load_visible_limit(file, *, metadata=None, sha256=None, channel, two_sided, search, err) -> DarkCastLimit:
    """Load the cleaned DarkCast limit of a visible-search entry and check it against the entry.

    ``file``/``metadata``: absolute paths (metadata None: ``<stem>.py`` or the ``.lmt``'s ``# metadata:`` line);
    ``sha256``: expected checksum of the ``.lmt`` (None: not checked). The entry's ``channel``, ``two_sided`` and
    ``search`` must agree with the file and its metadata. ``err(key, message)`` builds the entry's exception;
    problems inside the DarkCast files raise :class:`DarkCastFileError` naming those files.
    """
    fp = Path(file)
    if not fp.is_file():
        raise err("file", f"limit file {str(file)!r} not found")
    if sha256:
        got = _sha256(fp)
        if got != sha256:
            raise err("sha256", f"checksum mismatch for {fp.name} (file changed?): expected {sha256}, got {got}")
    if metadata is not None and not Path(metadata).is_file():
        raise err("metadata", f"metadata file {str(metadata)!r} not found")
    lim = load_darkcast_limit(fp, metadata)
    if lim.two_sided != two_sided:
        raise err("two_sided", f"file {fp.name} is {lim.kind}")
    if lim.meta is not None:
        if tuple(lim.meta.decay) != tuple(channel):
            raise err("channel", f"metadata decay is {list(lim.meta.decay)}, entry says {list(channel)}")
        if lim.meta.search != search:
            raise err("search", f"metadata efficiency window makes it {lim.meta.search!r}")
    return lim


def reference_channels(ref_states, lim: DarkCastLimit):
    """djax channel names of the dark photon a limit was derived for: the entry's ``ref_states`` if given, else
    the metadata's ``Model(states=...)``, else None (all channels)."""
    if ref_states is None and lim.meta is not None and lim.meta.states is not None:
        ref_states = lim.meta.states
    return None if ref_states is None else tuple(channel_of_decay(s) for s in ref_states)


@dataclass(frozen=True)
class VisibleEntry:
    """One visible-search term of the registry with its loaded, checked limit (see :func:`visible_entries`)."""

    id: str
    limit: DarkCastLimit
    channel: tuple
    two_sided: bool
    search: str
    cl: float
    shape: str
    ref_states: tuple | None
    experiment: str
    arxiv: str = ""
    journal: str = ""
    year: int | None = None
    version: str = ""
    status: str = "unknown"
    kind: str = "data"
    tags: tuple = ()
    notes: str = ""
    origin: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)


def default_visible_registry_path() -> Path:
    """The file holding the packaged visible-search entries: the limit registry itself, ``registry.toml``."""
    return data_dir() / "registry.toml"


def visible_entries(registry, ids=None) -> dict[str, VisibleEntry]:
    """``{id: VisibleEntry}`` of the ``visible_curve`` entries of a ``djax.io.Registry`` (``ids``: a selection,
    default all of them), each with its checksum-verified, cleaned limit."""
    ids = registry.select(form="visible_curve") if ids is None else tuple(ids)
    out = {}
    for i in ids:
        e = registry[i]
        if e.form != "visible_curve":
            raise ValueError(f"entry {i!r} is not a visible_curve entry (form {e.form!r})")
        lim = registry.visible_limit(i)
        r = e.reference
        out[i] = VisibleEntry(
            id=i,
            limit=lim,
            channel=tuple(e.channel),
            two_sided=bool(e.two_sided),
            search=e.search,
            cl=float(e.cl),
            shape=e.shape,
            ref_states=reference_channels(e.ref_states, lim),
            experiment=r.experiment,
            arxiv=r.arxiv,
            journal=r.journal,
            year=r.year,
            version=e.version,
            status=e.status,
            kind=e.kind,
            tags=tuple(e.tags),
            notes=e.notes,
            origin=e.origin,
        )
    return out


def load_visible_registry(path=None) -> dict[str, VisibleEntry]:
    """The visible-search entries (``form = "visible_curve"``) of a registry TOML, loaded by
    ``djax.io.load_registry`` (the one registry loader; default: the packaged ``registry.toml``).

    Every entry's ``.lmt`` (``file``, relative to the TOML) is read, cleaned and checksum-verified; its metadata
    (``metadata``, default ``<stem>.py`` or the file's ``# metadata:`` line) must agree with the entry's
    ``channel`` (DarkCast decay names), ``two_sided`` and ``search``. A ``csv = ...`` key of other entries reads
    ``scalar_limits.csv`` beside the TOML, else the packaged one.
    """
    from ._registry import load_registry

    p = Path(path) if path is not None else default_visible_registry_path()
    csv = p.parent / "scalar_limits.csv"
    reg = load_registry(path=p, csv_path=csv if csv.is_file() else data_dir() / "scalar_limits.csv")
    return visible_entries(reg)


def compile_visible_terms(entries: Mapping[str, VisibleEntry], ids=None, *, tag: str | None = None):
    """``(VisibleTerms, ids)`` for the chosen entries (default: all, or those tagged ``tag``)."""
    from ..likelihood import FORM_CODES, make_visible_terms

    if ids is None:
        ids = tuple(i for i, e in entries.items() if tag is None or tag in e.tags)
    ids = tuple(ids)
    if not ids:
        raise ValueError("compile_visible_terms: no entries selected")
    es = [entries[i] for i in ids]
    terms = make_visible_terms(
        [e.limit.table() for e in es],
        [e.two_sided for e in es],
        cl=[e.cl for e in es],
        shape=[FORM_CODES[e.shape] for e in es],
        ref_states=[e.ref_states for e in es],
    )
    return terms, ids
