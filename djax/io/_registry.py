"""The limit registry: named likelihood terms, their data, version and reference.

A :class:`Registry` is an immutable mapping ``id -> LimitEntry``. The packaged default lives in
``djax/data/limits/registry.toml`` (numbers of scalar limits come from ``scalar_limits.csv`` rows via the
``csv`` key, keeping their ``status``). Users add or override entries without editing the package::

    reg = load_registry(extra_toml="my_limits.toml")            # [limit.<id>] tables; remove = [...]
    reg = reg.with_overrides({"meg2_mueg": {"value": 1.2e-13}}, add=[LimitEntry(...)], remove=["meg_mueg"])
    spec = compile_terms(reg, ["meg2_mueg", "na64_2023"])       # pure-array TermSpec for the likelihood

In an extra TOML an existing id is overridden key by key; a new id must give every required key.
Curve files are resolved relative to the TOML file that names them (or given as absolute paths).

Visible dark-photon searches (``form = "visible_curve"``, DarkCast ``.lmt`` limits with the keys
``metadata``, ``channel``, ``two_sided``, ``search``, ``ref_states``) live in the same ``registry.toml`` and
load through the same :func:`load_registry`; their keys and files are checked at load time by the
validation of :mod:`djax.io._darkcast` (checksum, cleaning, agreement with the DarkCast metadata), and
:func:`compile_terms` stacks them into ``TermSpec.visible``.
Every problem raises :class:`LimitFileError` naming the file, the line (TOML: of the offending key,
else of the entry's table header) and the field.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import math
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DjaxError
from ..likelihood import (
    FORM_CODES,
    FORM_NAMES,
    UPPER_LIMIT_SHAPES,
    CurveTerms,
    ScalarTerms,
    TermSpec,
    preset_ids,
    stack_tables,
)
from ._atomic import sha256_file
from ._darkcast import (
    VISIBLE_KEYS,
    VISIBLE_REQUIRED,
    DarkCastFileError,
    check_visible_fields,
    compile_visible_terms,
    load_visible_limit,
    visible_entries,
)
from ._limits import CLEANING_RULES, LimitFileError, curve_table, data_dir, load_curve, read_scalar_limits_csv

__all__ = [
    "OBSERVABLES",
    "FORMS",
    "CURVE_FORMS",
    "STATUSES",
    "KINDS",
    "ENTRY_KEYS",
    "default_power",
    "Reference",
    "LimitEntry",
    "Registry",
    "default_registry_path",
    "load_registry",
    "compile_terms",
    "term_provenance",
    "resolve_likelihood",
]

#: Observables a limit may constrain: keys of ``djax.observables`` output plus the experiment
#: emulations (solar-nu and red-giant equivalent moments) and the kinetic mixing ``epsilon``
#: (curve terms). Extend here (one place) when new observables appear.
OBSERVABLES = (
    "br_mu_e_gamma",
    "br_tau_e_gamma",
    "br_tau_mu_gamma",
    "br_mu_3e",
    "cr_mu_e_Au",
    "cr_mu_e_Ti",
    "cr_mu_e_Al",
    "delta_a_mu",
    "delta_a_e",
    "d_e_ecm",
    "borexino_mu_equiv_muB",
    "xenonnt_mu_equiv_muB",
    "red_giant_mu_equiv_muB",
    "lz_mu_equiv_muB",
    "pandax4t_mu_equiv_muB",
    "gemma_mu_equiv_muB",
    "texono_mu_equiv_muB",
    "epsilon",
    "m_nu_sum_eV",
    "m_Aprime",
    "m_E_GeV",
    "kinetic_mixing_tuning",
    "kappa_portal",
)
#: Entry forms: the likelihood forms of ``djax.likelihood`` plus ``visible_curve`` (a visible dark-photon search
#: read from a DarkCast limit, ``djax.likelihood._visible``).
FORMS = FORM_NAMES + ("visible_curve",)
#: Forms evaluated at (epsilon, m_A') from a limit file rather than from an observable value.
CURVE_FORMS = ("curve", "visible_curve")
STATUSES = ("verified", "memory", "derived", "projection", "unknown")
KINDS = ("data", "projection")
#: Keys allowed in a ``[limit.<id>]`` table.
ENTRY_KEYS = (
    "observable",
    "form",
    "shape",
    "value",
    "uncertainty",
    "cl",
    "power",
    "n_obs",
    "background",
    "experiment",
    "arxiv",
    "journal",
    "year",
    "version",
    "date",
    "status",
    "kind",
    "file",
    "sha256",
    "unit",
    "notes",
    "tags",
    "csv",
    "allow_cleaning",
) + VISIBLE_KEYS
#: Fields that belong to one form: dropped when an override changes an entry's form.
_FORM_FIELDS = ("value", "uncertainty", "cl", "n_obs", "background", "file", "shape", "sha256") + VISIBLE_KEYS
_TOP_KEYS = ("schema", "date", "version", "csv_file", "limit", "remove")
_CSV_FIELDS = ("value", "uncertainty", "cl", "unit", "experiment", "year", "arxiv", "journal", "status", "notes")


#: Forms whose ``uncertainty`` enters the term: the Gaussian 1-sigma, the edge width in ln x of the soft limits.
_SIGMA_FORMS = ("gaussian", "lower_limit", "log_upper_limit")


def default_power(observable: str) -> float:
    """Yield power of an observable: 2 for ``epsilon`` and magnetic moments (``*_muB``), else 1."""
    return 2.0 if (observable == "epsilon" or observable.endswith("_muB")) else 1.0


@dataclass(frozen=True)
class Reference:
    """Where a number comes from (cite the experiment's paper)."""

    experiment: str
    arxiv: str = ""
    journal: str = ""
    year: int | None = None

    def __str__(self) -> str:
        bits = [self.experiment]
        if self.journal:
            bits.append(self.journal)
        if self.arxiv:
            bits.append(f"arXiv:{self.arxiv}")
        return ", ".join(bits)


@dataclass(frozen=True)
class LimitEntry:
    """One likelihood term.

    Attributes:
      id: unique name.  observable: one of :data:`OBSERVABLES`.  form: one of :data:`FORMS`.
      value: x_90 of the quantity (upper limits), mean (gaussian), single-event sensitivity (counting);
        None for curves.
      uncertainty: Gaussian 1-sigma.  cl: confidence level fraction in (0, 1).
      power: signal yield ~ quantity^power.  shape: upper-limit shape of a curve term.
      n_obs, background: counting form.  reference: :class:`Reference`.
      version, date: data version and compile date.  status: provenance quality (:data:`STATUSES`).
      kind: ``data`` or ``projection``.  file: absolute path of a curve file.  sha256: its checksum.
      unit, notes, tags: free text / labels.  origin: where the entry was defined (``file:line``).
      metadata, channel, two_sided, search, ref_states: visible-search entries (form ``visible_curve``) only:
        the DarkCast ``.py`` description (absolute path or None), the searched decay channel(s) and the
        reference model's channels (DarkCast names), two-sided (beam-dump island) or one-sided, prompt or
        displaced (``djax.io._darkcast``, ``djax.likelihood._visible``).
    """

    id: str
    observable: str
    form: str
    value: float | None = None
    uncertainty: float | None = None
    cl: float | None = None
    power: float = 1.0
    shape: str = "poisson_zero_count"
    n_obs: int | None = None
    background: float | None = None
    reference: Reference = Reference("")
    version: str = ""
    date: str = ""
    status: str = "unknown"
    kind: str = "data"
    file: str | None = None
    sha256: str | None = None
    unit: str = ""
    notes: str = ""
    tags: tuple[str, ...] = ()
    allow_cleaning: tuple[str, ...] = ()
    origin: str = ""
    metadata: str | None = None
    channel: tuple[str, ...] = ()
    two_sided: bool | None = None
    search: str = ""
    ref_states: tuple[str, ...] | None = None


# --------------------------------------------------------------------------------------------------
# raw-field handling with source locations
# --------------------------------------------------------------------------------------------------
@dataclass
class _Loc:
    path: str
    line: int | None


class _Source:
    """Raw text of a TOML file, to find the line of a table header or a key."""

    def __init__(self, path: str, text: str | None):
        self.path = path
        self.lines = text.splitlines() if text is not None else None
        self._headers: dict[tuple[str, str], int | None] = {}

    def header_line(self, table: str, name: str) -> int | None:
        if self.lines is None:
            return None
        key = (table, name)
        if key not in self._headers:  # cached: every key lookup of an entry starts at its header
            pat = re.compile(rf"^\s*\[\s*{table}\s*\.\s*[\"']?{re.escape(name)}[\"']?\s*\]")
            self._headers[key] = next((i for i, ln in enumerate(self.lines, start=1) if pat.match(ln)), None)
        return self._headers[key]

    def table_line(self, table: str) -> int | None:
        if self.lines is None:
            return None
        pat = re.compile(rf"^\s*\[+\s*{re.escape(table)}\b")
        for i, ln in enumerate(self.lines, start=1):
            if pat.match(ln):
                return i
        return None

    def key_line(self, table: str | None, name: str | None, key: str) -> int | None:
        if self.lines is None:
            return None
        start = 0
        if table is not None:
            h = self.header_line(table, name)
            if h is None:
                return None
            start = h
        pat = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for i in range(start, len(self.lines)):
            ln = self.lines[i]
            if i > start and re.match(r"^\s*\[", ln) and table is not None:
                break
            if table is None and re.match(r"^\s*\[", ln):
                break
            if pat.match(ln):
                return i + 1
        return None


def _err(loc: _Loc, field_name: str, msg: str) -> LimitFileError:
    return LimitFileError(loc.path, loc.line, field_name, msg)


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _build_entry(
    eid: str, raw: dict, locs: dict[str, _Loc], header: _Loc, csv_rows, base_dir: Path, defaults: Mapping[str, str]
) -> LimitEntry:
    """Validate merged raw fields of one entry and build the :class:`LimitEntry`."""

    def loc(k):
        return locs.get(k, header)

    for k in raw:
        if k not in ENTRY_KEYS:
            close = difflib.get_close_matches(k, ENTRY_KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise _err(loc(k), k, f"unknown key in entry {eid!r}{hint}")
    f = dict(raw)
    # pull a scalar_limits.csv row
    if "csv" in f:
        row_id = f["csv"]
        if not isinstance(row_id, str) or row_id not in csv_rows:
            raise _err(loc("csv"), "csv", f"no row {row_id!r} in scalar_limits.csv")
        row = csv_rows[row_id]
        vals = dict(
            value=row.value,
            uncertainty=row.uncertainty,
            cl=None if row.cl_percent is None else row.cl_percent / 100.0,
            unit=row.unit,
            experiment=row.experiment,
            year=row.year,
            arxiv=row.arxiv,
            journal=row.journal,
            status=row.status,
            notes=row.notes,
        )
        for k in _CSV_FIELDS:
            if k not in f and vals[k] not in (None, ""):
                f[k] = vals[k]
                locs.setdefault(k, _Loc(csv_rows.path, row.line))
    # required keys
    for k in ("observable", "form", "status", "kind", "experiment"):
        if k not in f:
            raise _err(header, k, f"missing required key {k!r} in entry {eid!r}")
    obs, form = f["observable"], f["form"]
    if form != "visible_curve":
        for k in VISIBLE_KEYS:
            if k in f:
                raise _err(loc(k), k, f"'{k}' applies to visible_curve entries only (form is {form!r})")
    if obs not in OBSERVABLES:
        close = difflib.get_close_matches(str(obs), OBSERVABLES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise _err(loc("observable"), "observable", f"unknown observable {obs!r}{hint}")
    if form not in FORMS:
        raise _err(loc("form"), "form", f"unknown form {form!r}; one of {FORMS}")
    if f["status"] not in STATUSES:
        raise _err(loc("status"), "status", f"unknown status {f['status']!r}; one of {STATUSES}")
    if f["kind"] not in KINDS:
        raise _err(loc("kind"), "kind", f"unknown kind {f['kind']!r}; one of {KINDS}")
    need = {
        "poisson_zero_count": ("value", "cl"),
        "half_gaussian": ("value", "cl"),
        "gaussian": ("value", "uncertainty"),
        "counting": ("value", "n_obs", "background"),
        "lower_limit": ("value", "cl", "uncertainty"),
        "log_upper_limit": ("value", "cl", "uncertainty"),
        "curve": ("file", "cl"),
        "visible_curve": VISIBLE_REQUIRED,
    }[form]
    for k in need:
        if k not in f:
            raise _err(header, k, f"missing required key {k!r} for form {form!r} in entry {eid!r}")
    # numbers
    for k in ("value", "uncertainty", "cl", "power", "background"):
        if k in f and (not _is_num(f[k]) or not math.isfinite(float(f[k]))):
            raise _err(loc(k), k, f"expected a finite number, got {f[k]!r}")
    if form in CURVE_FORMS and "value" in f:
        raise _err(loc("value"), "value", "a curve entry takes its limit from 'file', not 'value'")
    if form in ("poisson_zero_count", "half_gaussian", "counting", "lower_limit", "log_upper_limit") and (
        float(f["value"]) <= 0
    ):
        raise _err(loc("value"), "value", f"limit value must be > 0, got {f['value']!r}")
    if "uncertainty" in f and float(f["uncertainty"]) <= 0:
        raise _err(loc("uncertainty"), "uncertainty", f"must be > 0, got {f['uncertainty']!r}")
    if "cl" in f:
        cl = float(f["cl"])
        if 1.0 <= cl < 100.0:
            raise _err(
                loc("cl"),
                "cl",
                f"confidence level must be a fraction in (0, 1); {cl!r} looks like a percentage (write {cl / 100:g})",
            )
        if not (0.0 < cl < 1.0):
            raise _err(loc("cl"), "cl", f"confidence level must be a fraction in (0, 1), got {cl!r}")
    power = float(f.get("power", default_power(obs)))
    if "power" in f and power < 1.0:
        raise _err(loc("power"), "power", f"yield power must be >= 1, got {f['power']!r}")
    if form == "visible_curve" and power != 2.0:
        raise _err(
            loc("power"),
            "power",
            "a visible search's yield is fixed by the model (eps^2 production and "
            f"decay rates); power must be 2, got {f['power']!r}",
        )
    shape = f.get("shape", "poisson_zero_count")
    if "shape" in f:
        if form not in CURVE_FORMS:
            raise _err(loc("shape"), "shape", "'shape' applies to curve and visible_curve entries only (use 'form')")
        if shape not in UPPER_LIMIT_SHAPES:
            raise _err(loc("shape"), "shape", f"unknown shape {shape!r}; one of {UPPER_LIMIT_SHAPES}")
    n_obs = bg = None
    if form == "counting":
        n = f["n_obs"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise _err(loc("n_obs"), "n_obs", f"expected an integer >= 0, got {n!r}")
        bg = float(f["background"])
        if bg < 0:
            raise _err(loc("background"), "background", f"must be >= 0, got {bg!r}")
        if n > 0 and bg == 0:
            raise _err(loc("background"), "background", "n_obs > 0 needs a background > 0")
        n_obs = n
    if form in CURVE_FORMS and obs != "epsilon":
        raise _err(loc("observable"), "observable", f"{form} entries constrain 'epsilon'")

    def path_of(k):
        if not isinstance(f[k], str) or not f[k]:
            raise _err(loc(k), k, f"expected a path string, got {f[k]!r}")
        fp = Path(f[k]).expanduser()
        base = Path(locs[k].path).parent if k in locs and locs[k].line is not None else base_dir
        return str(fp if fp.is_absolute() else (base / fp).resolve())

    file = path_of("file") if "file" in f else None
    tags = f.get("tags", ())
    if isinstance(tags, str) or not all(isinstance(t, str) for t in tags):
        raise _err(loc("tags"), "tags", f"expected a list of strings, got {tags!r}")
    allow = f.get("allow_cleaning", ())
    if isinstance(allow, str) or not isinstance(allow, (list, tuple)) or not all(a in CLEANING_RULES for a in allow):
        raise _err(
            loc("allow_cleaning"),
            "allow_cleaning",
            f"expected a list of cleaning rules among {CLEANING_RULES}, got {allow!r}",
        )
    if allow and form != "curve":
        raise _err(loc("allow_cleaning"), "allow_cleaning", "applies to curve entries only")
    for k in ("experiment", "arxiv", "journal", "version", "date", "unit", "notes", "sha256"):
        if k in f and not isinstance(f[k], str):
            raise _err(loc(k), k, f"expected a string, got {f[k]!r}")
    year = f.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise _err(loc("year"), "year", f"expected an integer year, got {year!r}")
    vis = {}
    if form == "visible_curve":

        def verr(key, msg):
            where = header if key is None else loc(key)
            return DarkCastFileError(where.path, where.line, key or "form", f"entry {eid!r}: {msg}")

        vis = check_visible_fields(f, verr)
        vis["metadata"] = path_of("metadata") if "metadata" in f else None
        # the DarkCast file and its metadata must agree with the entry (cached; checked at load time)
        load_visible_limit(
            file,
            metadata=vis["metadata"],
            sha256=f.get("sha256"),
            channel=vis["channel"],
            two_sided=vis["two_sided"],
            search=vis["search"],
            err=verr,
        )
    return LimitEntry(
        id=eid,
        observable=obs,
        form=form,
        value=None if "value" not in f else float(f["value"]),
        uncertainty=None if "uncertainty" not in f else float(f["uncertainty"]),
        cl=None if "cl" not in f else float(f["cl"]),
        power=power,
        shape=shape,
        n_obs=n_obs,
        background=bg,
        reference=Reference(f["experiment"], f.get("arxiv", ""), f.get("journal", ""), year),
        version=f.get("version", defaults.get("version", "")),
        date=f.get("date", defaults.get("date", "")),
        status=f["status"],
        kind=f["kind"],
        file=file,
        sha256=f.get("sha256"),
        unit=f.get("unit", ""),
        notes=f.get("notes", ""),
        tags=tuple(tags),
        allow_cleaning=tuple(allow),
        origin=f"{header.path}:{header.line}" if header.line is not None else header.path,
        **vis,
    )


def _entry_to_raw(e: LimitEntry) -> dict:
    """Raw field dict of an entry (inverse of :func:`_build_entry`, without ``csv``)."""
    d: dict[str, Any] = dict(
        observable=e.observable,
        form=e.form,
        status=e.status,
        kind=e.kind,
        experiment=e.reference.experiment,
        power=e.power,
        tags=list(e.tags),
    )
    if e.allow_cleaning:
        d["allow_cleaning"] = list(e.allow_cleaning)
    for k in ("value", "uncertainty", "cl", "n_obs", "background", "file", "sha256"):
        v = getattr(e, k)
        if v is not None:
            d[k] = v
    if e.form in CURVE_FORMS:
        d["shape"] = e.shape
    if e.form == "visible_curve":
        d.update(channel=list(e.channel), two_sided=bool(e.two_sided), search=e.search)
        if e.metadata is not None:
            d["metadata"] = e.metadata
        if e.ref_states is not None:
            d["ref_states"] = list(e.ref_states)
    for k, v in (
        ("arxiv", e.reference.arxiv),
        ("journal", e.reference.journal),
        ("version", e.version),
        ("date", e.date),
        ("unit", e.unit),
        ("notes", e.notes),
    ):
        if v:
            d[k] = v
    if e.reference.year is not None:
        d["year"] = e.reference.year
    return d


class _CsvRows(dict):
    path: str = ""


def _default_csv_rows() -> _CsvRows:
    return _csv_rows(data_dir() / "scalar_limits.csv")


def _csv_rows(path: Path) -> _CsvRows:
    rows = _CsvRows(read_scalar_limits_csv(path))
    rows.path = str(path)
    return rows


# --------------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------------
class Registry(Mapping[str, LimitEntry]):
    """Immutable ``id -> LimitEntry`` mapping with selection and override helpers."""

    def __init__(self, entries: Iterable[LimitEntry] = ()):
        d: dict[str, LimitEntry] = {}
        for e in entries:
            if not isinstance(e, LimitEntry):
                raise TypeError(f"Registry takes LimitEntry objects, got {type(e).__name__}")
            d[e.id] = e
        self._d = d

    def __getitem__(self, key: str) -> LimitEntry:
        try:
            return self._d[key]
        except KeyError:
            close = difflib.get_close_matches(str(key), list(self._d), n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise KeyError(f"no limit entry {key!r} in the registry{hint}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __repr__(self) -> str:
        return f"Registry({len(self)} entries: {', '.join(self._d)})"

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._d)

    def select(
        self,
        *,
        observable: str | None = None,
        kind: str | None = None,
        tag: str | None = None,
        form: str | None = None,
        status: str | None = None,
    ) -> tuple[str, ...]:
        """Ids of the entries matching every given criterion (registry order)."""
        return tuple(
            i
            for i, e in self._d.items()
            if (observable is None or e.observable == observable)
            and (kind is None or e.kind == kind)
            and (tag is None or tag in e.tags)
            and (form is None or e.form == form)
            and (status is None or e.status == status)
        )

    def default_ids(self) -> tuple[str, ...]:
        """Ids tagged ``default`` (current data)."""
        return self.select(tag="default")

    def with_overrides(
        self,
        overrides: Mapping[str, Mapping[str, Any] | LimitEntry] | None = None,
        *,
        add: Iterable[LimitEntry] = (),
        remove: Iterable[str] = (),
    ) -> Registry:
        """A new registry with entries overridden, added or removed (the original is unchanged).

        ``overrides`` maps an id to a dict of fields (keys as in the TOML schema; an unknown id makes
        a new entry and must give all required keys) or to a full :class:`LimitEntry`. Changing an
        entry's ``form`` drops the old form's fields (value, uncertainty, cl, n_obs, background, file,
        shape, sha256), so give the new form's fields with it.
        """
        d = dict(self._d)
        for rid in remove:
            if rid not in d:
                raise LimitFileError("<python override>", None, "remove", f"no entry {rid!r} to remove")
            del d[rid]
        for e in add:
            if not isinstance(e, LimitEntry):
                raise TypeError(f"add= takes LimitEntry objects, got {type(e).__name__}")
            d[e.id] = e
        loc = _Loc("<python override>", None)
        for eid, ov in (overrides or {}).items():
            if isinstance(ov, LimitEntry):
                d[eid] = dataclasses.replace(ov, id=eid)
                continue
            if not isinstance(ov, Mapping):
                raise LimitFileError("<python override>", None, eid, "override must be a dict or a LimitEntry")
            raw = _entry_to_raw(d[eid]) if eid in d else {}
            if "form" in ov and eid in d and ov["form"] != d[eid].form:
                for k in _FORM_FIELDS:
                    raw.pop(k, None)
            raw.update(dict(ov))
            d[eid] = _build_entry(eid, raw, {}, loc, _default_csv_rows(), Path.cwd(), {})
        return Registry(d.values())

    def curve(self, eid: str):
        """The cleaned curve (``djax.io.CleanCurve``) of a curve entry, checksum-verified."""
        e = self[eid]
        if e.form != "curve" or e.file is None:
            raise ValueError(f"entry {eid!r} is not a curve entry")
        if e.sha256:
            digest = hashlib.sha256(Path(e.file).read_bytes()).hexdigest() if Path(e.file).exists() else None
            if digest is None:
                raise LimitFileError(e.file, None, "file", f"curve file of entry {eid!r} not found")
            if digest != e.sha256:
                opath, _, oline = e.origin.rpartition(":")
                where = (opath, int(oline)) if oline.isdigit() else (e.origin, None)
                raise LimitFileError(
                    where[0],
                    where[1],
                    "sha256",
                    f"checksum mismatch for {e.file} (entry {eid!r}): file changed? expected {e.sha256}, got {digest}",
                )
        return load_curve(e.file, allow=e.allow_cleaning)

    def visible_limit(self, eid: str):
        """The cleaned DarkCast limit (``djax.io._darkcast.DarkCastLimit``) of a ``visible_curve`` entry,
        checksum-verified and checked against the entry's channel, two_sided and search."""
        e = self[eid]
        if e.form != "visible_curve" or e.file is None:
            raise ValueError(f"entry {eid!r} is not a visible_curve entry")
        opath, _, oline = e.origin.rpartition(":")
        where = (opath, int(oline)) if oline.isdigit() else (e.origin, None)

        def err(key, msg):
            return DarkCastFileError(where[0], where[1], key or "form", f"entry {eid!r}: {msg}")

        return load_visible_limit(
            e.file,
            metadata=e.metadata,
            sha256=e.sha256,
            channel=e.channel,
            two_sided=bool(e.two_sided),
            search=e.search,
            err=err,
        )


def default_registry_path() -> Path:
    return data_dir() / "registry.toml"


def _parse_toml(
    path: Path, csv_rows, base: dict[str, tuple[dict, dict, _Loc]] | None, defaults: dict
) -> tuple[dict, list[str]]:
    """Merge one TOML registry file into ``base`` (raw fields, locations and header per id)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LimitFileError(path, None, "file", "registry file not found") from None
    except (PermissionError, IsADirectoryError) as exc:
        raise LimitFileError(path, None, "file", exc.strerror or str(exc)) from None
    except UnicodeDecodeError as exc:
        raise LimitFileError(path, None, "file", f"not UTF-8 text ({exc.reason})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise LimitFileError(path, int(m.group(1)) if m else None, "toml", f"invalid TOML: {exc}") from None
    src = _Source(str(path), text)
    for k in data:
        if k not in _TOP_KEYS:
            close = difflib.get_close_matches(k, _TOP_KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise LimitFileError(
                path, src.key_line(None, None, k) or src.table_line(k), k, f"unknown top-level key{hint}"
            )
    if "schema" in data and data["schema"] != 1:
        raise LimitFileError(
            path,
            src.key_line(None, None, "schema"),
            "schema",
            f"unsupported schema {data['schema']!r} (this djax reads schema 1)",
        )
    file_defaults = dict(defaults)
    for k in ("date", "version"):
        if k in data:
            if not isinstance(data[k], str):
                raise LimitFileError(path, src.key_line(None, None, k), k, "expected a string")
            file_defaults[k] = data[k]
    if "csv_file" in data:
        cp = Path(data["csv_file"])
        csv_rows = _csv_rows(cp if cp.is_absolute() else path.parent / cp)
    merged = {} if base is None else dict(base)
    limits = data.get("limit", {})
    if not isinstance(limits, dict):
        raise LimitFileError(path, src.key_line(None, None, "limit"), "limit", "expected [limit.<id>] tables")
    for eid, tbl in limits.items():
        hline = src.header_line("limit", eid)
        header = _Loc(str(path), hline)
        if not isinstance(tbl, dict):
            raise _err(header, eid, "expected a table [limit.<id>]")
        locs = {k: _Loc(str(path), src.key_line("limit", eid, k) or hline) for k in tbl}
        if eid in merged:
            raw0, locs0, header0, rows0 = merged[eid]
            raw = dict(raw0)
            locs_new = dict(locs0)
            if "form" in tbl and tbl["form"] != raw0.get("form"):
                for k in _FORM_FIELDS:
                    raw.pop(k, None)
                    locs_new.pop(k, None)
            raw.update(tbl)
            locs_new.update(locs)
            merged[eid] = (raw, locs_new, header, rows0 if "csv" not in tbl else csv_rows)
        else:
            merged[eid] = (dict(tbl), locs, header, csv_rows)
    removed = data.get("remove", [])
    if not isinstance(removed, list) or not all(isinstance(r, str) for r in removed):
        raise LimitFileError(path, src.key_line(None, None, "remove"), "remove", "expected a list of ids")
    for rid in removed:
        if rid not in merged:
            raise LimitFileError(path, src.key_line(None, None, "remove"), "remove", f"no entry {rid!r} to remove")
        del merged[rid]
    return merged, file_defaults


def load_registry(extra_toml=None, *, path=None, csv_path=None) -> Registry:
    """Load the packaged registry (or ``path``) and merge user TOML file(s) ``extra_toml`` on top.

    Args:
      extra_toml: a path or a list of paths of user registry files ([limit.<id>] tables, optional
        ``remove = [ids]``); later files win.
      path: registry file to start from (default: ``djax/data/limits/registry.toml``).
      csv_path: scalar-limits CSV for ``csv = "<row id>"`` keys (default: beside ``path``).
    """
    p = Path(path) if path is not None else default_registry_path()
    csv_rows = _csv_rows(Path(csv_path) if csv_path is not None else p.parent / "scalar_limits.csv")
    merged, defaults = _parse_toml(p, csv_rows, None, {})
    extras = [] if extra_toml is None else ([extra_toml] if isinstance(extra_toml, (str, Path)) else list(extra_toml))
    file_defaults = {}
    for x in extras:
        merged, file_defaults_x = _parse_toml(Path(x), csv_rows, merged, {})
        file_defaults.update(file_defaults_x)
    entries = []
    for eid, (raw, locs, header, rows) in merged.items():
        base_dir = Path(header.path).parent
        entries.append(_build_entry(eid, raw, dict(locs), header, rows, base_dir, {**defaults}))
    return Registry(entries)


# --------------------------------------------------------------------------------------------------
# registry -> pure arrays
# --------------------------------------------------------------------------------------------------
def compile_terms(registry: Registry, ids: Iterable[str] | None = None, *, tag: str = "default") -> TermSpec:
    """Turn chosen registry entries into the pure-array :class:`TermSpec` the likelihood core needs.

    Args:
      registry: a :class:`Registry`.
      ids: entry ids (default: all entries tagged ``tag``). Scalar terms keep the given order, then curve
        terms (invisible-decay searches) in the given order, then visible-search terms (``spec.ids``).
    Returns:
      TermSpec with float64 arrays (ScalarTerms for scalar entries, CurveTerms with stacked cleaned curve
      tables for curve entries, VisibleTerms with stacked DarkCast boundaries for visible_curve entries)
      and the ids/observable names as static metadata.
    """
    ids = registry.select(tag=tag) if ids is None else tuple(ids)
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise DjaxError("<likelihood>", "likelihood", f"duplicate term ids {dup}")
    entries = [registry[i] for i in ids]
    scal = [e for e in entries if e.form not in CURVE_FORMS]
    curv = [e for e in entries if e.form == "curve"]
    vis = [e for e in entries if e.form == "visible_curve"]
    f64 = np.float64
    scalar = None
    if scal:
        scalar = ScalarTerms(
            form=np.array([FORM_CODES[e.form] for e in scal], dtype=np.int32),
            value=np.array([e.value for e in scal], dtype=f64),
            sigma=np.array([e.uncertainty if e.form in _SIGMA_FORMS else 1.0 for e in scal], dtype=f64),
            cl=np.array([e.cl if e.cl is not None else 0.9 for e in scal], dtype=f64),
            power=np.array([e.power for e in scal], dtype=f64),
            n_obs=np.array([e.n_obs if e.form == "counting" else 0 for e in scal], dtype=f64),
            background=np.array(
                [e.background if e.form == "counting" and e.background else 1.0 for e in scal], dtype=f64
            ),
        )
    curves = None
    if curv:
        tables = stack_tables([curve_table(registry.curve(e.id)) for e in curv])
        curves = CurveTerms(
            tables=tables,
            power=np.array([e.power for e in curv], dtype=f64),
            cl=np.array([e.cl for e in curv], dtype=f64),
            shape=np.array([FORM_CODES[e.shape] for e in curv], dtype=np.int32),
        )
    visible = None
    if vis:
        vids = tuple(e.id for e in vis)
        visible, _ = compile_visible_terms(visible_entries(registry, vids), vids)
    return TermSpec(
        scalar=scalar,
        curves=curves,
        visible=visible,
        scalar_ids=tuple(e.id for e in scal),
        observables=tuple(e.observable for e in scal),
        curve_ids=tuple(e.id for e in curv),
        visible_ids=tuple(e.id for e in vis),
    )


def term_provenance(registry: Registry, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Everything about each term that determines results (for fingerprints and output files): the entry's
    fields and, for curves and visible searches, the names and SHA-256 of their data (and metadata) files."""
    out = {}
    for i in ids:
        e = registry[i]
        d = _entry_to_raw(e)
        d.pop("file", None)
        d.pop("metadata", None)
        if e.form in CURVE_FORMS and e.file:
            d["file_name"] = Path(e.file).name
            d["file_sha256"] = sha256_file(e.file)
        if e.form == "visible_curve":
            meta = registry.visible_limit(i).meta
            if meta is not None:
                d["metadata_name"] = Path(meta.path).name
                d["metadata_sha256"] = sha256_file(meta.path)
        out[i] = d
    return out


def resolve_likelihood(
    *,
    preset: str = "paper",
    include=(),
    exclude=(),
    alpha_e: str = "Rb",
    edm: str = "JILA2023",
    mnu: str = "Planck2018",
    mnu_cancellation: bool = False,
    registry=None,
    overrides=None,
    source: str = "<likelihood>",
):
    """The one place where a likelihood description becomes terms: ``(registry, ids, TermSpec)``.

    ``registry``: None (packaged), a path to a user TOML that extends/overrides the packaged registry, or a
    :class:`Registry`; ``overrides``: ``{term id: {field: value}}``. Unknown term ids raise a
    :class:`djax.errors.DjaxError` naming ``source`` (the run file) and the key.
    """
    if registry is None or registry == "":
        reg = load_registry()
    elif isinstance(registry, (str, Path)):
        reg = load_registry(registry)
    else:
        reg = registry
    if overrides:
        for t in overrides:
            if t not in reg:
                raise DjaxError(
                    source, f"likelihood.overrides.{t}", f"unknown term id; known ids: {', '.join(reg.ids)}"
                )
        reg = reg.with_overrides({k: dict(v) for k, v in overrides.items()})
    try:
        ids = preset_ids(
            preset,
            alpha_e=alpha_e,
            edm=edm,
            mnu=mnu,
            mnu_cancellation=mnu_cancellation,
            include=include,
            exclude=exclude,
        )
    except ValueError as exc:
        raise DjaxError(source, "likelihood.preset", str(exc)) from None
    for key, group in (("likelihood.include", include), ("likelihood.exclude", exclude)):
        for tid in group:
            if tid not in reg:
                close = difflib.get_close_matches(tid, list(reg.ids), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise DjaxError(source, key, f"unknown term id {tid!r}{hint}")
    missing = [i for i in ids if i not in reg]
    if missing:
        raise DjaxError(source, "likelihood.preset", f"the registry lacks term(s) {missing} of preset {preset!r}")
    return reg, ids, compile_terms(reg, ids)
