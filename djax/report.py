"""Reports (edge layer): what ``djax list``, ``djax run`` and ``djax export`` compute and print.

* :func:`list_terms`, :func:`list_observables`, :func:`list_parameters`, :func:`list_presets` (plain data) and
  :func:`list_report` (table or JSON) -- ``djax list [terms|presets|observables|parameters] [--preset P]
  [--format table|json]``: the registry's likelihood terms (observable, form, value, CL, experiment, paper,
  status, presets containing each), the observables with units and the terms constraining them, the parameters
  with their physical ranges and default priors, the presets with their term ids;
* :func:`bibtex_entries` / :func:`bibtex_report` -- ``djax list --bibtex [--preset P]``: BibTeX of djax, the
  reference study and a preset's inputs, built from the registry's experiment / arXiv / journal / year fields and,
  for the visible dark-photon searches, the BibTeX of their DarkCast metadata (no network, nothing invented);
  :func:`references_bib` -- every registry entry (``docs/references.bib``, ``scripts/gen_references_bib.py``);
* :func:`evaluate_point` (plain data) / :func:`run_report` -- ``djax run [RUNFILE] [--point FILE]
  [--set params.K=V] [--format table|json]``: the observables of one point with units and, for every likelihood
  term of the run file, the prediction, the limit, their ratio and ln L, most constraining first;
* :func:`export_point_wcxf` / :func:`export_report` -- ``djax export wcxf [RUNFILE] [--point FILE] --out FILE
  [--scale S]``: the point's dipole coefficients as a WCxf file (:func:`djax.export.wcxf`);
* :func:`read_point` / :func:`write_point` -- point files;
* :func:`benchmark_table` -- the observables of one point as a short table (Python use).

Point files (TOML) give any of these keys, at the top level or in a ``[params]`` table; every key a file does not
give keeps its value of the benchmark point :meth:`djax.Params.default`::

    M_F = 1000.0          # GeV
    m_S1 = 400.0          # GeV
    m_S2 = 700.0          # GeV
    theta = 0.785398      # rad
    y_e = 4e-4            # or  y  = [4e-4, 8e-4, 0.0]   (e, mu, tau)
    yp_mu = -4e-4         # or  yp = [8e-4, -4e-4, 0.0]
    ypE_mu = -4e-4        # or  ypE = [...]: an own y'_E of the charged member E (absent: y'_E = y', shared)
    g_D = 0.3             # or  alpha_D = 0.00716 (= g_D^2 / 4 pi)
    m_Aprime = 0.05       # GeV
    epsilon = 1e-5
    Q_F = 1.0             # dark charge of F (default: the run file's model.Q_F)

Values are real numbers inside the physical ranges of :data:`djax.model.PARAMETER_INFO`; ``--set
params.<key>=<value>`` applies on top of the file. Every problem raises :class:`djax.errors.DjaxError` naming the
file (``--set`` for options), the line and the key.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DjaxError

LIST_KINDS = ("terms", "presets", "observables", "parameters")
FORMATS = ("table", "json")

_ROWS = [
    ("br_mu_e_gamma", "BR(mu -> e gamma)", ""),
    ("br_tau_e_gamma", "BR(tau -> e gamma)", ""),
    ("br_tau_mu_gamma", "BR(tau -> mu gamma)", ""),
    ("br_mu_3e", "BR(mu -> 3e) [dipole dominance]", ""),
    ("cr_mu_e_Au", "CR(mu Au -> e Au) [dipole dominance]", ""),
    ("delta_a_e", "Delta a_e", ""),
    ("delta_a_mu", "Delta a_mu", ""),
    ("d_e_ecm", "d_e", "e cm"),
    ("lambda_dark_max_muB", "max |lambda^D_ab|", "mu_B"),
    ("lambda_em_max_muB", "max |epsilon lambda^D_ab|", "mu_B"),
    ("fermion_to_scalar_ratio", "lambda fermion/scalar-radiated ratio", ""),
    ("borexino_mu_equiv_muB", "Borexino-equivalent moment", "mu_B"),
    ("xenonnt_mu_equiv_muB", "XENONnT-equivalent moment", "mu_B"),
    ("m_nu_sum_eV", "sum of |m_nu| (loop)", "eV"),
]


def _fmt(x) -> str:
    x = float(np.real(x))
    return f"{x: .4e}"


def _num(x, digits: int = 4) -> str:
    if x is None:
        return ""
    if isinstance(x, str):
        return x
    x = float(x) + 0.0  # no "-0"
    if not math.isfinite(x):
        return "inf" if x > 0 else ("-inf" if x < 0 else "nan")
    return f"{x:.{digits}g}"


def json_safe(v: Any):
    """Plain JSON data: non-finite floats become the strings ``"inf"``, ``"-inf"``, ``"nan"``."""
    if isinstance(v, float) or isinstance(v, np.floating):
        v = float(v)
        return v if math.isfinite(v) else _num(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, Mapping):
        return {str(k): json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    return v


def to_json(data: Any) -> str:
    return json.dumps(json_safe(data), indent=2, ensure_ascii=False)


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, float, np.number)):
        return _num(v)
    if isinstance(v, (list, tuple)):
        return ", ".join(map(str, v))
    return str(v)


def text_table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str | Callable]], *, indent: str = ""
) -> str:
    """Aligned text table: ``columns`` is ``[(header, key or function of the row)]``."""
    cells = [[h for h, _ in columns]]
    for r in rows:
        line = []
        for _, c in columns:
            line.append(_cell(c(r) if callable(c) else r.get(c, "")))
        cells.append(line)
    widths = [max(len(c[j]) for c in cells) for j in range(len(columns))]
    out = []
    for n, c in enumerate(cells):
        out.append(indent + "  ".join(x.ljust(w) for x, w in zip(c, widths)).rstrip())
        if n == 0:
            out.append(indent + "  ".join("-" * w for w in widths))
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------------------
# point files
# ----------------------------------------------------------------------------------------------------------
FLAVOURS = ("e", "mu", "tau")
#: Scalar keys of a point file (the 13 real parameters, y'_E, alpha_D and Q_F) and the vector keys.
SCALAR_KEYS = (
    "M_F",
    "m_S1",
    "m_S2",
    "theta",
    "y_e",
    "y_mu",
    "y_tau",
    "yp_e",
    "yp_mu",
    "yp_tau",
    "ypE_e",
    "ypE_mu",
    "ypE_tau",
    "g_D",
    "alpha_D",
    "m_Aprime",
    "epsilon",
    "Q_F",
)
VECTOR_KEYS = ("y", "yp", "ypE")
POINT_KEYS = SCALAR_KEYS + VECTOR_KEYS
_POINT_TABLES = ("params", "point")


def _key_line(text: str | None, dotted: str) -> int | None:
    """1-based line of ``dotted`` (``M_F`` or ``params.M_F``) in a point file's TOML text."""
    if not text:
        return None
    want = dotted.split(".")
    table = ""
    for i, line in enumerate(text.splitlines(), start=1):
        h = re.match(r"^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]", line)
        if h:
            table = h.group(1)
            if want == [table]:
                return i
            continue
        a = re.match(r"^\s*([A-Za-z0-9_\-]+)\s*=", line)
        if a and ([table, a.group(1)] if table else [a.group(1)]) == want:
            return i
    return None


def _decode_error_line(exc) -> int | None:
    m = re.search(r"line (\d+)", str(exc))
    return int(m.group(1)) if m else None


def _number(file, key: str, v: Any, line) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise DjaxError(file, key, f"expected a real number, got {v!r}", line=line)
    x = float(v)
    if not math.isfinite(x):
        raise DjaxError(file, key, f"expected a finite number, got {v!r}", line=line)
    return x


def _check_range(file, key: str, name: str, x: float, line) -> None:
    from .model import PARAMETER_INFO

    info = PARAMETER_INFO.get(name)
    if info is not None and not info.contains(x):
        raise DjaxError(
            file,
            key,
            f"{x!r} is outside the physical range {info.range_text()} of {name} ({info.long_name})",
            line=line,
        )


def point_values(data: Mapping[str, Any], *, file="<point>", text: str | None = None, prefix: str = "") -> dict:
    """Checked plain values ``{key: float}`` of a point mapping (``y``/``yp`` lists become ``y_e`` ...,
    ``alpha_D`` becomes ``g_D``); :class:`djax.errors.DjaxError` naming ``file``, the line and the key."""
    out: dict[str, float] = {}
    given: dict[str, str] = {}

    def line_of(k):
        return _key_line(text, k) if text else None

    for k, v in data.items():
        key = f"{prefix}{k}"
        if k not in POINT_KEYS:
            import difflib

            close = difflib.get_close_matches(str(k), POINT_KEYS, n=3)
            hint = f"did you mean {', '.join(map(repr, close))}? " if close else ""
            raise DjaxError(
                file, key, f"unknown parameter; {hint}a point gives {', '.join(POINT_KEYS)}", line=line_of(key)
            )
        if k in VECTOR_KEYS:
            if not isinstance(v, (list, tuple)) or len(v) != 3:
                raise DjaxError(
                    file, key, f"expected a list of 3 real numbers (e, mu, tau), got {v!r}", line=line_of(key)
                )
            for f, x in zip(FLAVOURS, v):
                name = f"{k}_{f}"
                if name in given:
                    raise DjaxError(
                        file, key, f"{name} is given twice (as {given[name]} and in {key})", line=line_of(key)
                    )
                xv = _number(file, key, x, line_of(key))
                _check_range(file, key, name, xv, line_of(key))
                out[name], given[name] = xv, key
            continue
        if k in given:
            raise DjaxError(file, key, f"{k} is given twice (as {given[k]} and as {key})", line=line_of(key))
        x = _number(file, key, v, line_of(key))
        if k != "Q_F":
            _check_range(file, key, k, x, line_of(key))
        out[k], given[k] = x, key
    if "g_D" in out and "alpha_D" in out:
        raise DjaxError(
            file, f"{prefix}alpha_D", "give g_D or alpha_D (= g_D^2 / 4 pi), not both", line=line_of(f"{prefix}alpha_D")
        )
    if "alpha_D" in out:
        out["g_D"] = math.sqrt(4.0 * math.pi * out.pop("alpha_D"))
        _check_range(file, f"{prefix}alpha_D", "g_D", out["g_D"], line_of(f"{prefix}alpha_D"))
    return out


def read_point_values(path: str | os.PathLike) -> dict:
    """Checked values of a point file (module docstring), without building :class:`djax.Params`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DjaxError(path, "point", "point file not found") from None
    except IsADirectoryError:
        raise DjaxError(path, "point", "is a folder, not a point file (TOML)") from None
    except UnicodeDecodeError as exc:
        raise DjaxError(path, "point", f"not a text file ({exc.reason})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DjaxError(path, "toml", f"invalid TOML: {exc}", line=_decode_error_line(exc)) from None
    prefix = ""
    tables = [t for t in _POINT_TABLES if isinstance(data.get(t), dict)]
    if tables:
        if len(tables) > 1 or len(data) > 1:
            extra = sorted(k for k in data if k != tables[0])
            bad = extra[0]
            raise DjaxError(
                path,
                bad,
                f"give the point either at the top level or in one [{tables[0]}] table",
                line=_key_line(text, bad),
            )
        prefix = f"{tables[0]}."
        data = data[tables[0]]
    return point_values(data, file=path, text=text, prefix=prefix)


def params_with(values: Mapping[str, float], *, base=None, Q_F: float | None = None, file="<point>"):
    """:class:`djax.Params` from ``base`` (default :meth:`djax.Params.default`) with ``values`` replaced; ``Q_F``
    (the run file's) applies unless the values give one. A ``ypE_*`` value sets ``yp_E`` (its other entries: the
    base's y'_E, i.e. y' when the base shares it). Checked with :func:`djax.check_params`."""
    import jax.numpy as jnp

    from .model import Params, check_params

    p = Params.default() if base is None else base
    d = {f: np.asarray(getattr(p, f)) for f in ("M_F", "m_S1", "m_S2", "theta", "g_D", "m_Aprime", "epsilon", "Q_F")}
    y = np.array(np.asarray(p.y), dtype=np.result_type(np.asarray(p.y).dtype, float))
    yp = np.array(np.asarray(p.yp), dtype=np.result_type(np.asarray(p.yp).dtype, float))
    ypE = (
        None if p.yp_E is None else np.array(np.asarray(p.yp_E), dtype=np.result_type(np.asarray(p.yp_E).dtype, float))
    )
    if Q_F is not None and "Q_F" not in values:
        d["Q_F"] = np.asarray(float(Q_F))
    for k, v in values.items():
        if k.startswith("ypE_"):
            ypE = {} if ypE is None else ypE
            ypE[FLAVOURS.index(k[4:])] = v
        elif k.startswith("yp_"):
            yp[FLAVOURS.index(k[3:])] = v
        elif k.startswith("y_"):
            y[FLAVOURS.index(k[2:])] = v
        else:
            d[k] = np.asarray(v)
    if isinstance(ypE, dict):  # shared in the base: the entries the values do not give follow y'
        given, ypE = ypE, yp.copy()
        for i, v in given.items():
            ypE[i] = v
    q = Params(
        M_F=jnp.asarray(d["M_F"]),
        m_S1=jnp.asarray(d["m_S1"]),
        m_S2=jnp.asarray(d["m_S2"]),
        theta=jnp.asarray(d["theta"]),
        y=jnp.asarray(y),
        yp=jnp.asarray(yp),
        g_D=jnp.asarray(d["g_D"]),
        m_Aprime=jnp.asarray(d["m_Aprime"]),
        epsilon=jnp.asarray(d["epsilon"]),
        Q_F=jnp.asarray(d["Q_F"]),
        yp_E=None if ypE is None else jnp.asarray(ypE),
    )
    try:
        check_params(q)
    except ValueError as exc:
        msg = str(exc)
        key = msg.split(":", 1)[0].replace("Params.", "") if msg.startswith("Params.") else "point"
        raise DjaxError(file, key, msg.split(":", 1)[1].strip() if ":" in msg else msg) from None
    return q


def read_point(path: str | os.PathLike, *, base=None, Q_F: float | None = None):
    """The :class:`djax.Params` of a point file (keys it does not give: from ``base`` or the benchmark point)."""
    return params_with(read_point_values(path), base=base, Q_F=Q_F, file=Path(path))


def write_point(path: str | os.PathLike, params) -> Path:
    """Write one (real) :class:`djax.Params` as a point file that :func:`read_point` reads back."""
    from .io import atomic_write_text

    def real(name, v):
        a = np.asarray(v)
        if np.iscomplexobj(a) and np.any(np.imag(a) != 0):
            raise ValueError(f"write_point: {name} is complex; point files hold real parameters only")
        return np.real(a)

    lines = ["# djax point file (djax run --point FILE); masses in GeV, theta in rad"]
    for f in ("M_F", "m_S1", "m_S2", "theta"):
        lines.append(f"{f} = {float(real(f, getattr(params, f)))!r}")
    for f, v in (("y", params.y), ("yp", params.yp), ("ypE", params.yp_E)):
        if v is not None:  # ypE: only for a point with separate Yukawas (absent: y'_E = y')
            lines.append(f"{f} = [{', '.join(repr(float(x)) for x in real(f, v))}]")
    for f in ("g_D", "m_Aprime", "epsilon", "Q_F"):
        lines.append(f"{f} = {float(real(f, getattr(params, f)))!r}")
    path = Path(path)
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


# ----------------------------------------------------------------------------------------------------------
# listings
# ----------------------------------------------------------------------------------------------------------
#: One line per likelihood preset (djax.likelihood.PRESETS).
PRESET_DESCRIPTIONS = {
    "paper": "the reference study's set (arXiv:2603.25704): MEG II 2025 mu -> e gamma, NA64 2023 and BaBar 2017 "
    "invisible-decay kinetic-mixing curves, Borexino Phase-II",
    "minimal": "the minimal model's set (A' decays visibly): MEG II, Borexino and the visible-decay dark-photon "
    "searches (prompt resonance searches and beam dumps)",
    "full": "paper + tau -> e gamma, tau -> mu gamma, mu -> 3e, mu -> e conversion (dipole dominance), XENONnT "
    "SR0, Delta a_mu (WP25), Delta a_e (alpha_e = Rb | Cs), electron EDM (edm = JILA2023 | ACME2018), "
    "sum m_nu (Planck 2018, naturalness) and the visible-decay searches",
    "future": "full with projections swapped in: MEG II final, Mu3e phase I, Belle II tau -> mu gamma, Mu2e run I, "
    "plus the NA64mu 1e14 MOT projection",
}

#: Short labels of the observables ``djax run`` prints first (the rest follow in catalogue order).
OBSERVABLE_LABELS = {
    "br_mu_e_gamma": "BR(mu -> e gamma)",
    "br_tau_e_gamma": "BR(tau -> e gamma)",
    "br_tau_mu_gamma": "BR(tau -> mu gamma)",
    "br_mu_3e": "BR(mu -> 3e) [dipole dominance]",
    "cr_mu_e_Au": "CR(mu Au -> e Au) [dipole dominance]",
    "cr_mu_e_Ti": "CR(mu Ti -> e Ti) [dipole dominance]",
    "cr_mu_e_Al": "CR(mu Al -> e Al) [dipole dominance]",
    "delta_a_e": "Delta a_e",
    "delta_a_mu": "Delta a_mu",
    "delta_a_tau": "Delta a_tau",
    "d_e_ecm": "d_e",
    "d_mu_ecm": "d_mu",
    "d_tau_ecm": "d_tau",
    "lambda_dark_max_muB": "max |lambda^D_ab|",
    "lambda_em_max_muB": "max |epsilon lambda^D_ab|",
    "fermion_to_scalar_ratio": "lambda fermion/scalar-radiated ratio",
    "borexino_mu_equiv_muB": "Borexino-equivalent moment",
    "xenonnt_mu_equiv_muB": "XENONnT-equivalent moment",
    "red_giant_mu_equiv_muB": "red-giant-equivalent moment",
    "borexino_mu_massless_muB": "Borexino-equivalent moment at m_A' = 0",
    "m_nu_sum_eV": "sum of |m_nu| (loop)",
    "m_nu_max_eV": "max |m_nu^ab| (loop)",
    "epsilon": "epsilon",
    "m_Aprime": "m_A'",
}


def _registry(registry=None):
    from .io import load_registry

    if registry is None or registry == "":
        return load_registry()
    if isinstance(registry, (str, Path)):
        return load_registry(registry)
    return registry


def _variants():
    """(label, preset, alpha_e, edm, mnu) for every preset and option choice."""
    from .likelihood import ALPHA_E_CHOICES, EDM_CHOICES, MNU_CHOICES, PRESETS

    out = []
    for p in PRESETS:
        out.append((p, p, "Rb", "JILA2023", "Planck2018"))
        if p in ("full", "future"):
            out += [(f"{p}[alpha_e={a}]", p, a, "JILA2023", "Planck2018") for a in ALPHA_E_CHOICES if a != "Rb"]
            out += [(f"{p}[edm={e}]", p, "Rb", e, "Planck2018") for e in EDM_CHOICES if e != "JILA2023"]
            out += [(f"{p}[mnu={m}]", p, "Rb", "JILA2023", m) for m in MNU_CHOICES if m != "Planck2018"]
    return out


def preset_membership() -> dict[str, list[str]]:
    """``{term id: [preset labels]}``: ``full`` for the default options, ``full[alpha_e=Cs]`` where a term enters
    only with a non-default option."""
    from .likelihood import preset_ids

    out: dict[str, list[str]] = {}
    plain: dict[str, set[str]] = {}
    for label, p, a, e, m in _variants():
        for i in preset_ids(p, alpha_e=a, edm=e, mnu=m):
            if label == p:
                plain.setdefault(i, set()).add(p)
                out.setdefault(i, []).append(label)
            elif p not in plain.get(i, set()):
                out.setdefault(i, []).append(label)
    return out


def _preset_ids(preset: str | None, alpha_e: str = "Rb", edm: str = "JILA2023"):
    from .likelihood import PRESETS, preset_ids

    if preset is None:
        return None
    if preset not in PRESETS:
        raise DjaxError("--preset", "preset", f"unknown likelihood preset {preset!r}; presets are {', '.join(PRESETS)}")
    return preset_ids(preset, alpha_e=alpha_e, edm=edm)


def _obs_info(name: str) -> dict:
    """Catalogue entry of a parameter (first) or observable; a bare entry for unknown names."""
    from .observables import OBSERVABLE_INFO, PARAMETER_CATALOGUE

    e = PARAMETER_CATALOGUE.get(name) or OBSERVABLE_INFO.get(name)
    return dict(e) if e else {"units": "", "long_name": name, "latex": name, "description": ""}


def _limit_text(e) -> str:
    if e.form == "curve":
        return f"curve {Path(e.file).name}" if e.file else "curve"
    if e.form == "visible_curve":
        kind = "beam-dump island" if getattr(e, "two_sided", False) else "prompt search"
        return f"visible {kind} {Path(e.file).name}" if e.file else f"visible {kind}"
    if e.value is None:
        return ""
    unit = "" if e.unit in ("", "BR", "ratio", "dimensionless", "1") else f" {e.unit}"
    if e.form == "gaussian":
        return f"{e.value:.4g} +- {e.uncertainty:.3g}{unit}"
    if e.form == "counting":
        return f"SES {e.value:.4g}{unit}, n_obs {e.n_obs}, b {e.background:g}"
    if e.form == "lower_limit":
        return f"> {e.value:.4g}{unit}"
    return f"< {e.value:.4g}{unit}"


def _paper(e) -> str:
    r = e.reference
    return "; ".join(b for b in (r.journal, f"arXiv:{r.arxiv}" if r.arxiv else "") if b)


def list_terms(preset: str | None = None, *, registry=None, alpha_e: str = "Rb", edm: str = "JILA2023") -> list[dict]:
    """Every likelihood term of the registry (or of ``preset``, in its order): id, observable (units), form,
    value, limit text, unit, CL, experiment, journal, arXiv, year, paper, status, kind, presets containing it."""
    reg = _registry(registry)
    ids = _preset_ids(preset, alpha_e, edm)
    member = preset_membership()
    rows = []
    for i in ids if ids is not None else reg.ids:
        e = reg[i]
        info = _obs_info(e.observable)
        rows.append(
            {
                "id": i,
                "observable": e.observable,
                "observable_units": info.get("units", ""),
                "observable_long_name": info.get("long_name", e.observable),
                "form": e.form,
                "shape": e.shape if e.form in ("curve", "visible_curve") else None,
                "value": e.value,
                "uncertainty": e.uncertainty,
                "limit": _limit_text(e),
                "unit": e.unit,
                "cl": e.cl,
                "power": e.power,
                "experiment": e.reference.experiment,
                "journal": e.reference.journal,
                "arxiv": e.reference.arxiv,
                "year": e.reference.year,
                "paper": _paper(e),
                "status": e.status,
                "kind": e.kind,
                "file": Path(e.file).name if e.file else None,
                "notes": e.notes,
                "tags": list(e.tags),
                "presets": member.get(i, []),
            }
        )
    return rows


def list_observables(preset: str | None = None, *, registry=None) -> list[dict]:
    """Every observable of :func:`djax.observables` (catalogue order): units, long name, LaTeX, shape, dtype,
    description and the registry terms constraining it (with ``preset``: only observables the preset constrains,
    and only its terms)."""
    from .observables import OBSERVABLE_INFO

    reg = _registry(registry)
    ids = _preset_ids(preset)
    by_obs: dict[str, list[str]] = {}
    for i in ids if ids is not None else reg.ids:
        by_obs.setdefault(reg[i].observable, []).append(i)
    rows = []
    for name, e in OBSERVABLE_INFO.items():
        if ids is not None and name not in by_obs:
            continue
        rows.append(
            {
                "name": name,
                "units": e["units"],
                "long_name": e["long_name"],
                "latex": e["latex"],
                "shape": list(e["shape"]),
                "dtype": e["dtype"],
                "description": e["description"],
                "terms": by_obs.get(name, []),
            }
        )
    return rows


def list_parameters() -> list[dict]:
    """The model parameters (schema order): units, long name, LaTeX, physical range, default prior (table and
    one line) and the latent sampling site."""
    from .model import DEFAULT_PRIORS, PARAMETER_INFO

    rows = []
    for name, info in PARAMETER_INFO.items():
        p = DEFAULT_PRIORS.get(name)
        cat = _obs_info(name)
        rows.append(
            {
                "name": name,
                "units": info.units,
                "long_name": cat.get("long_name", info.long_name),
                "latex": info.latex,
                "range": info.range_text(),
                "default_prior": p.describe() if p else "",
                "prior": p.as_dict() if p else None,
                "latent": None if p is None or p.is_fixed or p.type == "uniform" else f"{name}__u",
                "description": cat.get("description", ""),
            }
        )
    return rows


def list_presets(preset: str | None = None) -> list[dict]:
    """The likelihood presets (or one): description, the A' decay mode it is meant for, term ids (default
    options) and the option variants."""
    from . import likelihood as lk

    if preset is not None:
        _preset_ids(preset)  # DjaxError for an unknown preset
    rows = []
    for p in lk.PRESETS if preset is None else (preset,):
        ids = lk.preset_ids(p)
        options = {}
        if p in ("full", "future"):
            options = {"alpha_e": dict(lk.ALPHA_E_CHOICES), "edm": dict(lk.EDM_CHOICES), "mnu": dict(lk.MNU_CHOICES)}
        rows.append(
            {
                "name": p,
                "description": PRESET_DESCRIPTIONS.get(p, ""),
                "dark_photon_decays": getattr(lk, "PRESET_DECAYS", {}).get(p),
                "n_terms": len(ids),
                "terms": list(ids),
                "options": options,
            }
        )
    return rows


def presets_markdown(registry=None) -> str:
    """Markdown tables of the likelihood presets: one row per preset (decay mode, number of terms, description),
    then one row per registry term (limit, CL, form, experiment, arXiv, status) with the presets and option
    variants it enters (``docs/physics.md`` embeds the text; ``scripts/gen_presets_table.py`` regenerates it)."""
    from . import likelihood as lk

    lines = ["| preset | A' decays it is meant for | terms | description |", "|---|---|---|---|"]
    for r in list_presets():
        desc = str(r["description"]).replace("|", "\\|")
        lines.append(f"| `{r['name']}` | {r['dark_photon_decays'] or 'any'} | {r['n_terms']} | {desc} |")
    lines += [
        "",
        "| term | observable | limit | CL | form | experiment | arXiv | status | kind | presets |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    member = preset_membership()
    order = {p: i for i, p in enumerate(lk.PRESETS)}

    def where(tid):
        labels = member.get(tid, [])
        return sorted(labels, key=lambda x: (order.get(x.split("[")[0], 99), x))

    for r in list_terms(registry=registry):
        cl = f"{100 * r['cl']:g} %" if r.get("cl") else ""
        presets = ", ".join(f"`{x}`" for x in where(r["id"])) or ("option" if "option" in r["tags"] else "none")
        limit = str(r["limit"]).replace("|", "\\|")
        exp = str(r["experiment"] or "").replace("|", "\\|")
        lines.append(
            f"| `{r['id']}` | `{r['observable']}` | {limit} | {cl} | {r['form']} | {exp} | "
            f"{r['arxiv'] or ''} | {r['status']} | {r['kind']} | {presets} |"
        )
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------------------
# BibTeX
# ----------------------------------------------------------------------------------------------------------
_JOURNAL = re.compile(
    r"^\s*(?P<journal>[^\d;:]+?)\s+(?P<volume>\d+[A-Za-z]?)\s+\((?P<year>\d{4})\)\s+"
    r"(?P<pages>[0-9A-Za-z.\-]+)(?:\((?P<suffix>[A-Za-z]+)\))?\s*$"
)
_JOURNAL_NOVOL = re.compile(r"^\s*(?P<journal>[^\d;:]+?)\s+\((?P<year>\d{4})\)\s*(?P<rest>.*)$")


def _bib_escape(s: str) -> str:
    return re.sub(r"([&%#_$])", r"\\\1", str(s)).replace("~", r"\~{}")


def _short_experiment(exp: str) -> str:
    s = re.sub(r"\([^)]*\)", "", exp).strip()
    return re.split(r"\s+(?:minus|\+)\s+|,", s)[0].strip() or exp


def _bib_key(exp: str, year, used: set) -> str:
    base = re.sub(r"[^A-Za-z0-9]", "", _short_experiment(exp)) or "djaxinput"
    key = f"{base}:{year}" if year else base
    k, n = key, 0
    while k in used:
        n += 1
        k = f"{key}{chr(ord('a') + n)}"
    used.add(k)
    return k


def _parse_journal(text: str) -> tuple[dict, str]:
    """(fields journal/volume/year/pages, unparsed rest) of a registry ``journal`` string."""
    if not text:
        return {}, ""
    first, _, rest = text.partition(";")
    rest = rest.strip()
    notes = re.findall(r"\[([^\]]*)\]", first)
    first = re.sub(r"\[[^\]]*\]", "", first).strip()
    tail = [rest] if rest else []
    m = _JOURNAL.match(first)
    if m:
        return {k: v for k, v in m.groupdict().items() if v and k != "suffix"}, "; ".join(notes + tail)
    m = _JOURNAL_NOVOL.match(first)
    if m and "arXiv" not in first:
        extra = [m.group("rest")] if m.group("rest") else []
        return {"journal": m.group("journal"), "year": m.group("year")}, "; ".join(notes + extra + tail)
    return {}, text


#: djax itself, as CITATION.cff cites it (tests check that the two agree).
DJAX_CITATION = {
    "key": "djax",
    "type": "software",
    "fields": {
        "author": "{the djax developers}",
        "title": "{djax: a differentiable JAX fitter for dark-sector Majorana-neutrino dark transition magnetic "
        "moments}",
        "license": "GPL-2.0-or-later",
    },
}
#: The reference study djax makes quantitative (arXiv:2603.25704, hep-ph, 26 March 2026).
STUDY_CITATION = {
    "key": "Zhang:2026",
    "type": "article",
    "fields": {
        "author": "Zhang, Haohao",
        "title": "{Dark Transition Magnetic Moments of Majorana Neutrinos Mediated by a Dark Photon}",
        "year": "2026",
        "eprint": "2603.25704",
        "archivePrefix": "arXiv",
        "primaryClass": "hep-ph",
    },
}

#: BibTeX fields of a DarkCast metadata entry that djax copies (the rest -- slaccitation ... -- is left out).
_DARKCAST_FIELDS = {
    "author": "author",
    "title": "title",
    "collaboration": "collaboration",
    "journal": "journal",
    "volume": "volume",
    "number": "number",
    "pages": "pages",
    "year": "year",
    "doi": "doi",
    "eprint": "eprint",
    "archiveprefix": "archivePrefix",
    "primaryclass": "primaryClass",
    "reportnumber": "reportNumber",
}
#: Fields written as they are (already BibTeX: braces, TeX); every other value is escaped.
_RAW_FIELDS = ("author", "title", "eprint", "pages", "doi")


def _entry_text(etype: str, key: str, fields: Mapping[str, str]) -> str:
    body = ",\n".join(f"  {k:<13} = {{{v if k in _RAW_FIELDS else _bib_escape(v)}}}" for k, v in fields.items())
    return f"@{etype}{{{key},\n{body}\n}}"


def citation_entries() -> list[dict]:
    """The BibTeX entries of djax (this version, from CITATION.cff) and of the reference study, in the form of
    :func:`bibtex_entries` (``terms`` empty)."""
    from . import __version__

    djax_fields = dict(DJAX_CITATION["fields"])
    djax_fields["version"] = __version__
    djax_fields["note"] = f"djax version {__version__}; see its CITATION.cff"
    study = dict(STUDY_CITATION["fields"])
    study["note"] = "The reference study whose statement djax makes quantitative"
    out = []
    for c, f in ((DJAX_CITATION, djax_fields), (STUDY_CITATION, study)):
        out.append(
            {"key": c["key"], "type": c["type"], "fields": f, "terms": [], "text": _entry_text(c["type"], c["key"], f)}
        )
    return out


def _darkcast_fields(reg, ids) -> dict | None:
    """The copied BibTeX fields (and ``key``) of the DarkCast metadata of the first visible search in ``ids``."""
    for t in ids:
        if reg[t].form != "visible_curve":
            continue
        meta = reg.visible_limit(t).meta
        if meta is not None and meta.bibtex_fields.get("key"):
            b = meta.bibtex_fields
            out = {v: b[k] for k, v in _DARKCAST_FIELDS.items() if b.get(k)}
            out["key"] = b["key"]
            return out
    return None


def bibtex_entries(
    preset: str = "paper",
    *,
    registry=None,
    ids: Sequence[str] | None = None,
    alpha_e: str = "Rb",
    edm: str = "JILA2023",
) -> list[dict]:
    """BibTeX entries (``{"key", "type", "fields", "terms", "text"}``) of the inputs of ``preset`` (or of
    ``ids``), one per paper (terms sharing an arXiv number or journal reference share an entry), built from the
    registry's experiment, arXiv, journal and year fields; a visible dark-photon search (``visible_curve``) takes
    the BibTeX of its DarkCast metadata (INSPIRE key, authors, title, DOI). No network: no titles or author lists
    are invented; the entry's ``note`` names the djax terms and the quoted limits."""
    reg = _registry(registry)
    ids = list(ids) if ids is not None else list(_preset_ids(preset, alpha_e, edm))
    groups: dict[str, dict] = {}
    for i in ids:
        r = reg[i].reference
        g = groups.setdefault(r.arxiv or r.journal or f"term:{i}", {"entry": reg[i], "terms": []})
        g["terms"].append(i)
    used: set[str] = set()
    out = []
    for g in groups.values():
        r = g["entry"].reference
        jf, unparsed = _parse_journal(r.journal)
        year = r.year or (int(jf["year"]) if jf.get("year") else None)
        exp = _short_experiment(r.experiment)
        fields: dict[str, str] = {"collaboration": exp, "key": exp}
        if jf.get("journal"):
            fields["journal"] = jf["journal"].strip()
            for k in ("volume", "pages"):
                if jf.get(k):
                    fields[k] = jf[k]
        if year:
            fields["year"] = str(year)
        if r.arxiv:
            fields["eprint"] = r.arxiv
            fields["archivePrefix"] = "arXiv"
        limits = []
        for t in g["terms"]:
            te = reg[t]
            cl = f" at {te.cl:.0%} CL" if te.cl else ""
            limits.append(f"{t} ({te.observable} {_limit_text(te)}{cl}, status {te.status})")
        note = f"{r.experiment}. djax likelihood term(s): " + "; ".join(limits)
        dc = _darkcast_fields(reg, g["terms"])
        if dc is not None:
            key = dc.pop("key")
            if key in used:
                key = _bib_key(key, None, used)
            used.add(key)
            fields = dc
            note += ". BibTeX from the DarkCast limit's metadata"
        elif unparsed:
            note += f". Reference as recorded: {unparsed}"
        fields["note"] = note
        etype = "article" if "journal" in fields else "misc"
        if dc is None:
            key = _bib_key(r.experiment, year, used)
        out.append(
            {
                "key": key,
                "type": etype,
                "fields": fields,
                "terms": list(g["terms"]),
                "text": _entry_text(etype, key, fields),
            }
        )
    return out


def bibtex(preset: str = "paper", *, registry=None, alpha_e: str = "Rb", edm: str = "JILA2023") -> str:
    """The BibTeX text of :func:`bibtex_entries` with a header comment."""
    from . import __version__

    entries = bibtex_entries(preset, registry=registry, alpha_e=alpha_e, edm=edm)
    n_terms = sum(len(e["terms"]) for e in entries)
    head = [
        f"% djax {__version__} (CITATION.cff), the reference study (arXiv:2603.25704) and the inputs of the",
        f"% likelihood preset {preset!r} ({n_terms} terms, {len(entries)} papers) from the limit registry; entries",
        "% without a title or author list have none recorded (complete them from INSPIRE).",
        "",
    ]
    return "\n".join(head) + "\n\n".join(e["text"] for e in citation_entries() + entries) + "\n"


def references_bib(registry=None) -> str:
    """``docs/references.bib``: djax, the reference study and one entry per paper behind every registry term."""
    from . import __version__

    reg = _registry(registry)
    ids = list(reg.ids)
    entries = bibtex_entries(registry=reg, ids=ids)
    head = [
        f"% References of djax {__version__}: djax (CITATION.cff), the reference study (arXiv:2603.25704) and the",
        f"% papers behind all {len(ids)} limit-registry terms ({len(entries)} papers). Generated by",
        "% scripts/gen_references_bib.py from the registry; do not edit by hand.",
        "",
    ]
    return "\n".join(head) + "\n\n".join(e["text"] for e in citation_entries() + entries) + "\n"


# ----------------------------------------------------------------------------------------------------------
# one point: observables and likelihood terms
# ----------------------------------------------------------------------------------------------------------
@dataclass
class PointReport:
    """What :func:`evaluate_point` returns (plain data besides ``params``).

    Attributes:
      params: the :class:`djax.Params` evaluated.  point: its values by name (``y_e`` ...; GeV, rad).
      source: where the point came from (``Params.default()``, a file, ``--set``).
      observables: ``[{name, label, value, units, long_name}]`` (scalar observables).
      matrices: ``{name: {"units", "long_name", "re", "im"}}`` of the 3x3 flavour matrices.
      terms: the run file's likelihood terms, most constraining first (see :func:`evaluate_point`).
      other_terms: terms of the ``full`` preset that the run's likelihood does not include (same fields).
      preset, cl, run_file: the likelihood preset, the confidence level of ``closeness`` and the run file.
      total_lnL: the sum of ln L over ``terms``.  notes: the run file's notes (curve cleaning, statuses).
      dark_photon_decays, br_inv: the run file's A' decay mode and the BR(A' -> invisible) the likelihood uses.
    """

    params: Any
    point: dict
    source: str
    observables: list
    matrices: dict
    terms: list
    other_terms: list
    preset: str
    cl: float
    run_file: str
    total_lnL: float
    notes: list = field(default_factory=list)
    dark_photon_decays: str = ""
    br_inv: float = 1.0

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "run_file": self.run_file,
            "preset": self.preset,
            "cl": self.cl,
            "point": self.point,
            "observables": self.observables,
            "matrices": self.matrices,
            "dark_photon_decays": self.dark_photon_decays,
            "br_inv": self.br_inv,
            "terms": self.terms,
            "other_terms": self.other_terms,
            "total_lnL": self.total_lnL,
            "notes": self.notes,
        }


def load_point(point=None, sets: Mapping[str, Any] | None = None, *, Q_F: float | None = None):
    """(:class:`djax.Params`, source text) from a point file (or None: :meth:`djax.Params.default`) and
    ``--set params.<key>=<value>`` values (``sets`` maps ``<key>`` to the value; they win over the file)."""
    values: dict[str, float] = {}
    src = ["Params.default()"]
    file: Any = "<point>"
    if point is not None:
        values.update(read_point_values(point))
        src = [f"point file {point}"]
        file = Path(point)
    if sets:
        values.update(point_values(dict(sets), file="--set", prefix="params."))
        src.append("--set " + ", ".join(f"{k}={v}" for k, v in sets.items()))
        file = "--set" if point is None else file
    return params_with(values, Q_F=Q_F, file=file), " + ".join(src)


def _point_dict(p) -> dict:
    out: dict[str, Any] = {}
    for f in ("M_F", "m_S1", "m_S2", "theta"):
        out[f] = float(np.real(np.asarray(getattr(p, f))))
    for f, v in (("y", p.y), ("yp", p.yp), ("ypE", p.yp_E)):
        if v is None:
            continue
        for fl, x in zip(FLAVOURS, np.asarray(v)):
            out[f"{f}_{fl}"] = (
                float(np.real(x)) if np.imag(x) == 0 else {"re": float(np.real(x)), "im": float(np.imag(x))}
            )
    for f in ("g_D", "m_Aprime", "epsilon", "Q_F"):
        out[f] = float(np.real(np.asarray(getattr(p, f))))
    return out


def br_invisible(model_section) -> float:
    """BR(A' -> invisible) the likelihood uses for a run file's ``[model]`` section."""
    b = getattr(model_section, "br_inv", None)
    return float(b if b is not None else model_section.br_invisible)


def _yield_ratio(lnl: float, cl: float, shape: int) -> float:
    """Signal yield over its value at the limit, x, from ln L of an upper-limit shape (x = 1 at the limit)."""
    from statistics import NormalDist

    from .likelihood import FORM_CODES

    if lnl >= 0.0:
        return 0.0
    if int(shape) == FORM_CODES["half_gaussian"]:
        z = NormalDist().inv_cdf(0.5 * (1.0 + cl))
        return math.sqrt(-2.0 * lnl) / z
    return lnl / math.log1p(-cl)


def _visible_bounds(m: float, t):
    """(eps_lo, eps_hi) of a visible search's table at mass ``m`` (log-log interpolation, host side); None outside
    its mass range, ``"vetoed"`` on a segment next to a "no limit" knot."""
    lm = math.log(m)
    if not (float(t.log_m_lo) <= lm <= float(t.log_m_hi)):
        return None
    j = int(np.clip(np.searchsorted(t.log_m, lm) - 1, 0, len(t.log_m) - 2))
    if bool(t.no_limit[j]) or bool(t.no_limit[j + 1]):
        return "vetoed"
    lo = float(np.exp(np.interp(lm, t.log_m, t.log_eps_lo)))
    hi = float(np.exp(np.interp(lm, t.log_m, t.log_eps_hi)))
    return lo, hi


def _epsilon_row(i, spec, obs, br_inv, lnl):
    """(limit, limit text, ratio, ratio kind) of a kinetic-mixing term at the point's (epsilon, m_A')."""
    import jax

    from .likelihood import eps90

    m = float(obs["m_Aprime"])
    eps = float(obs["epsilon"])
    if i in spec.curve_ids:
        k = spec.curve_ids.index(i)
        table = jax.tree.map(lambda a: a[k], spec.curves.tables)
        limit = float(eps90(m, table))
        kind = "epsilon / epsilon_90(m_A')" + (f" x sqrt(BR_inv = {br_inv:g})" if br_inv != 1.0 else "")
        if not math.isfinite(limit):
            return None, "no limit at this m_A' (outside the curve)", 0.0, kind
        return limit, f"< {limit:.4g} at m_A' = {m:.4g} GeV", eps * math.sqrt(br_inv) / limit, kind
    k = tuple(spec.visible_ids).index(i)
    vt = spec.visible
    ratio = _yield_ratio(lnl, float(vt.cl[k]), int(vt.shape[k]))
    kind = "signal yield / yield at the limit (1 - BR_inv and the A' lifetime included)"
    bounds = _visible_bounds(m, jax.tree.map(lambda a: np.asarray(a[k]), vt.tables))
    if bounds is None:
        return None, "no limit at this m_A' (outside the search's range)", ratio, kind
    if bounds == "vetoed":
        return None, "no limit at this m_A' (a vetoed mass window of the search)", ratio, kind
    lo, hi = bounds
    if bool(vt.two_sided[k]):
        return lo, f"excluded for {lo:.3g} < epsilon < {hi:.3g} at m_A' = {m:.4g} GeV", ratio, kind
    return lo, f"< {lo:.4g} at m_A' = {m:.4g} GeV (visible decays)", ratio, kind


def _term_rows(obs, spec, reg, ids, *, cl: float, br_inv: float, in_likelihood: bool) -> list[dict]:
    from . import likelihood as lk

    lnl = {k: float(v) + 0.0 for k, v in lk.terms_from_observables(obs, spec, br_inv=br_inv).items()}
    thr = dict(zip(spec.ids, (float(x) for x in lk.cl_thresholds(spec, cl))))
    inactive = lk.inactive_terms(spec, br_inv) if hasattr(lk, "inactive_terms") else {}
    rows = []
    for i in ids:
        e = reg[i]
        info = _obs_info(e.observable)
        pred = float(np.real(np.asarray(obs[e.observable]))) + 0.0
        limit = e.value
        if e.form in ("curve", "visible_curve"):
            limit, limit_text, ratio, ratio_kind = _epsilon_row(i, spec, obs, br_inv, lnl[i])
        elif e.form == "gaussian":
            ratio = (pred - e.value) / e.uncertainty
            ratio_kind = "pull (prediction - mean) / sigma"
            limit_text = _limit_text(e)
        elif e.form == "counting":
            ratio = (abs(pred) / e.value) ** e.power
            ratio_kind = "expected signal events"
            limit_text = _limit_text(e)
        elif e.form == "lower_limit":
            ratio = e.value / abs(pred) if pred != 0 else math.inf
            ratio_kind = "limit / |prediction|"
            limit_text = _limit_text(e)
        else:
            ratio = abs(pred) / e.value
            ratio_kind = "|prediction| / limit"
            limit_text = _limit_text(e)
        t = thr[i]
        closeness = lnl[i] / t + 0.0 if t < 0 else 0.0
        flag = "EXCLUDED" if closeness > 1.0 else ("near limit" if closeness > 0.5 else "")
        if i in inactive:
            flag = "inactive"
        rows.append(
            {
                "id": i,
                "observable": e.observable,
                "units": info.get("units", ""),
                "long_name": info.get("long_name", e.observable),
                "form": e.form,
                "predicted": pred,
                "limit": limit,
                "uncertainty": e.uncertainty,
                "limit_text": limit_text,
                "term_cl": e.cl,
                "ratio": float(ratio),
                "ratio_kind": ratio_kind,
                "lnL": lnl[i],
                "threshold": t,
                "closeness": float(closeness),
                "flag": flag,
                "experiment": e.reference.experiment,
                "paper": _paper(e),
                "status": e.status,
                "in_likelihood": in_likelihood,
                "inactive": inactive.get(i),
            }
        )
    rows.sort(key=lambda r: -r["closeness"])
    return rows


def evaluate_point(
    config: Any = None,
    *,
    point=None,
    sets: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    cl: float = 0.9,
) -> PointReport:
    """Observables of one point and the run file's likelihood terms there (``djax run``).

    Args:
      config: run file (None: the embedded default), path, TOML text or RunConfig: the likelihood preset and
        options (registry, include/exclude, alpha_e, edm, overrides), ``model.Q_F`` and the A' decay mode.
      point: point file (TOML, see the module docstring); None: :meth:`djax.Params.default`.
      sets: ``{parameter key: value}`` applied on top (``--set params.M_F=2000``).
      overrides: run-file ``--set`` overrides (``{"likelihood.preset": "full"}``).
      cl: confidence level of the "allowed" criterion (:func:`djax.likelihood.cl_thresholds`).

    Each term row has the prediction, the limit (for curves: epsilon_90 at the point's m_A'), their ratio, ln L,
    its threshold at ``cl`` and ``closeness = lnL / threshold`` (0: no signal, 1: on the boundary of the ``cl``
    region, > 1: excluded); rows are sorted by closeness, most constraining first. ``other_terms`` holds the
    ``full`` preset's terms that the run's likelihood lacks (e.g. sum m_nu for ``paper``), for information.
    """
    from .io import resolve_likelihood
    from .jobs import load_config, prepare
    from .observables import OBSERVABLE_INFO, observables
    from .precision import enable_x64

    enable_x64()
    if isinstance(cl, bool) or not isinstance(cl, (int, float)) or not 0.0 < float(cl) < 1.0:
        raise DjaxError("--cl", "cl", f"expected a confidence level in (0, 1), got {cl!r}")
    cfg = load_config(config, overrides)
    prep = prepare(cfg, "sample")
    p, source = load_point(point, sets, Q_F=cfg.model.Q_F)
    obs = observables(p, solar=True, **dict(prep.spec.model_options))
    br_inv = br_invisible(cfg.model)
    terms = _term_rows(obs, prep.spec, prep.registry, prep.ids, cl=cl, br_inv=br_inv, in_likelihood=True)
    lk = cfg.likelihood
    reg_full, ids_full, spec_full = resolve_likelihood(
        preset="full",
        alpha_e=lk.alpha_e,
        edm=lk.edm,
        mnu=lk.mnu,
        registry=lk.registry or None,
        overrides=lk.overrides,
        source=cfg.source,
    )
    extra = [i for i in ids_full if i not in prep.ids]
    other = (
        [
            r
            for r in _term_rows(obs, spec_full, reg_full, ids_full, cl=cl, br_inv=br_inv, in_likelihood=False)
            if r["id"] in extra
        ]
        if extra
        else []
    )
    rows, mats = [], {}
    order = list(OBSERVABLE_LABELS) + [k for k in OBSERVABLE_INFO if k not in OBSERVABLE_LABELS]
    for k in order:
        if k not in obs:
            continue
        a = np.asarray(obs[k])
        info = dict(OBSERVABLE_INFO[k]) if k in OBSERVABLE_INFO else _obs_info(k)
        if a.ndim == 0:
            rows.append(
                {
                    "name": k,
                    "label": OBSERVABLE_LABELS.get(k, k),
                    "value": float(np.real(a)) + 0.0,
                    "units": info.get("units", ""),
                    "long_name": info.get("long_name", k),
                }
            )
        else:
            mats[k] = {
                "units": info.get("units", ""),
                "long_name": info.get("long_name", k),
                "re": np.real(a).tolist(),
                "im": np.imag(a).tolist(),
            }
    notes = [n for n in prep.notes if "cannot act with" not in n]  # inactive terms are listed in the table
    return PointReport(
        params=p,
        point=_point_dict(p),
        source=source,
        observables=rows,
        matrices=mats,
        terms=terms,
        other_terms=other,
        preset=lk.preset,
        cl=float(cl),
        run_file=str(cfg.source),
        total_lnL=float(sum(r["lnL"] for r in terms)),
        notes=notes,
        dark_photon_decays=str(getattr(cfg.model, "dark_photon_decays", "")),
        br_inv=br_inv,
    )


def export_point_wcxf(
    config: Any = None,
    *,
    out,
    point=None,
    sets: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    scale: float | None = None,
    eft: str | None = None,
) -> dict:
    """Write the WCxf file of a point's dipole coefficients (:func:`djax.export.wcxf`) to ``out``
    (``.json`` or ``.yaml``/``.yml``); the run file gives ``model.Q_F``. Returns the WCxf dict."""
    from .export import wcxf
    from .jobs import load_config
    from .precision import enable_x64

    enable_x64()
    cfg = load_config(config, overrides)
    p, _ = load_point(point, sets, Q_F=cfg.model.Q_F)
    out = Path(out)
    if out.is_dir():
        raise DjaxError(out, "out", "is a folder; give a file name (.json or .yaml)")
    if not out.parent.exists():
        raise DjaxError(out, "out", f"folder {out.parent} does not exist")
    if out.suffix.lower() not in (".json", ".yaml", ".yml"):
        raise DjaxError(out, "out", "expected a .json, .yaml or .yml file name")
    try:
        return wcxf(p, scale=scale, eft=eft, path=out)
    except ValueError as exc:
        msg = str(exc).replace("wcxf: ", "")
        key = "eft" if msg.startswith("eft") else ("scale" if "scale" in msg else "wcxf")
        raise DjaxError(f"--{key}" if key != "wcxf" else out, key, msg) from None
    except ImportError as exc:
        raise DjaxError(out, "out", str(exc)) from None


# ----------------------------------------------------------------------------------------------------------
# rendering: djax list
# ----------------------------------------------------------------------------------------------------------
def _few(items: Sequence[str], n: int = 6) -> str:
    items = list(items)
    return ", ".join(items) if len(items) <= n else f"{len(items)} terms: " + ", ".join(items[:n]) + ", ..."


def _cl(r) -> str:
    return f"{r['cl']:.0%}" if r.get("cl") is not None else ""


_LIST_COLUMNS = {
    "terms": [
        ("id", "id"),
        ("observable", "observable"),
        ("units", "observable_units"),
        ("form", "form"),
        ("value", "limit"),
        ("CL", _cl),
        ("experiment", "experiment"),
        ("paper", "paper"),
        ("status", "status"),
        ("presets", "presets"),
    ],
    "observables": [
        ("name", "name"),
        ("units", "units"),
        ("long name", "long_name"),
        ("terms", lambda r: _few(r["terms"])),
    ],
    "parameters": [
        ("name", "name"),
        ("units", "units"),
        ("long name", "long_name"),
        ("physical range", "range"),
        ("default prior", "default_prior"),
        ("latent", lambda r: r["latent"] or ""),
    ],
    "presets": [
        ("preset", "name"),
        ("A' decays", lambda r: r.get("dark_photon_decays") or "any"),
        ("n", "n_terms"),
        ("terms", "terms"),
    ],
}


def list_rows(kind: str = "terms", *, preset: str | None = None, registry=None) -> list[dict]:
    """The rows of ``djax list <kind>`` (plain data: :func:`list_terms` ...)."""
    if kind not in LIST_KINDS:
        raise DjaxError("djax list", "kind", f"expected one of {', '.join(LIST_KINDS)}, got {kind!r}")
    if kind == "terms":
        return list_terms(preset, registry=registry)
    if kind == "observables":
        return list_observables(preset, registry=registry)
    if kind == "parameters":
        return list_parameters()
    return list_presets(preset)


def list_report(kind: str = "terms", *, preset: str | None = None, fmt: str = "table", registry=None) -> str:
    """``djax list``: the registry's likelihood terms, the observables, the parameters or the presets."""
    rows = list_rows(kind, preset=preset, registry=registry)
    if fmt == "json":
        return to_json(rows)
    head = {
        "terms": f"likelihood terms ({len(rows)}{', preset ' + repr(preset) if preset else ', registry'})",
        "observables": f"observables ({len(rows)}{', constrained by preset ' + repr(preset) if preset else ''})",
        "parameters": f"model parameters ({len(rows)}) with their default priors",
        "presets": f"likelihood presets ({len(rows)})",
    }[kind]
    text = head + "\n\n" + text_table(rows, _LIST_COLUMNS[kind])
    if kind == "presets":
        text += "\n\n" + "\n".join(f"  {r['name']}: {r['description']}" for r in rows)
    if kind == "terms":
        text += (
            "\n\nstatus: verified = number checked against the paper; memory = quoted from memory, re-check;"
            " derived = computed from verified inputs; projection = expected sensitivity"
        )
    return text


def bibtex_report(preset: str | None = None, *, registry=None) -> str:
    """``djax list --bibtex``: BibTeX entries of djax, the reference study and the preset's inputs (default
    ``paper``)."""
    return bibtex(preset or "paper", registry=registry)


# ----------------------------------------------------------------------------------------------------------
# djax run
# ----------------------------------------------------------------------------------------------------------
def _ratio(r) -> str:
    if r["form"] == "gaussian":
        return f"{r['ratio']:+.3g} sigma"
    return _num(r["ratio"], 3)


def _term_columns():
    return [
        ("term", "id"),
        ("observable", "observable"),
        ("predicted", lambda r: _num(r["predicted"])),
        ("units", "units"),
        ("limit", "limit_text"),
        ("ratio", _ratio),
        ("ln L", lambda r: f"{r['lnL']:.4g}"),
        ("threshold", lambda r: f"{r['threshold']:.4g}"),
        ("lnL/thr", lambda r: f"{r['closeness']:.3g}"),
        ("", "flag"),
        ("status", "status"),
    ]


def point_table(rep) -> str:
    """The text of ``djax run``: the point, its observables and the likelihood terms, most constraining first."""
    decays = (
        f"; A' decays {rep.dark_photon_decays!r} (BR(A' -> invisible) = {rep.br_inv:g})"
        if rep.dark_photon_decays
        else ""
    )
    lines = [f"djax point: {rep.source}", f"run file: {rep.run_file}; likelihood preset {rep.preset!r}{decays}", ""]
    pt = rep.point
    lines.append(
        "  "
        + "  ".join(f"{k} = {_num(v, 6) if not isinstance(v, dict) else v}" for k, v in list(pt.items())[:4])
        + "  [GeV, rad]"
    )
    lines.append("  " + "  ".join(f"{k} = {_num(v, 6)}" for k, v in list(pt.items())[4:10]))
    lines.append("  " + "  ".join(f"{k} = {_num(v, 6)}" for k, v in list(pt.items())[10:]) + "  [m_Aprime in GeV]")
    lines += [
        "",
        "observables:",
        text_table(
            rep.observables,
            [
                ("observable", "label"),
                ("value", lambda r: _fmt(r["value"])),
                ("units", "units"),
                ("key", "name"),
                ("long name", "long_name"),
            ],
            indent="  ",
        ),
    ]
    lam = rep.matrices.get("lambda_dark_muB")
    if lam is not None:
        lines += ["", "  lambda^D_ab / mu_B (flavour basis e, mu, tau):"]
        for re_row, im_row in zip(lam["re"], lam["im"]):
            lines.append("    " + "  ".join(f"{a:+.3e}{b:+.3e}j" for a, b in zip(re_row, im_row)))
    lines += [
        "",
        f"likelihood terms of preset {rep.preset!r} at {rep.cl:.0%} CL, most constraining first "
        f"(lnL/thr: 0 = no signal, 1 = on the {rep.cl:.0%} CL boundary, > 1 = excluded):",
        text_table([r for r in rep.terms if not r.get("inactive")], _term_columns(), indent="  "),
        f"  total ln L = {rep.total_lnL:.6g}",
    ]
    dead = [r for r in rep.terms if r.get("inactive")]
    if dead:
        lines.append(
            f"  inactive with A' decays {rep.dark_photon_decays!r} (ln L = 0 everywhere): "
            + ", ".join(r["id"] for r in dead)
        )
    other = [r for r in rep.other_terms if not r.get("inactive")]
    other_dead = [r["id"] for r in rep.other_terms if r.get("inactive")]
    if other or other_dead:
        lines += ["", "limits outside this likelihood (terms of the 'full' preset, for information):"]
        if other:
            lines.append(text_table(other, _term_columns(), indent="  "))
        if other_dead:
            lines.append(f"  inactive with A' decays {rep.dark_photon_decays!r}: " + _few(other_dead, 8))
    flagged = [r for r in rep.terms + rep.other_terms if r["flag"] in ("EXCLUDED", "near limit")]
    if flagged:
        lines += ["", "flags:"]
        for r in flagged:
            where = "" if r["in_likelihood"] else " (not in this likelihood)"
            unit = "" if r["units"] in ("", "1") else f" {r['units']}"
            lines.append(
                f"  {r['flag']}: {r['id']}{where}: {r['observable']} = {_num(r['predicted'])}{unit} vs "
                f"{r['limit_text']} (ratio {_ratio(r)}, ln L = {r['lnL']:.4g}, threshold "
                f"{r['threshold']:.4g})"
            )
    for n in rep.notes:
        lines.append(f"note: {n}")
    return "\n".join(lines)


def run_report(
    config: Any = None,
    *,
    point=None,
    sets: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    fmt: str = "table",
    cl: float = 0.9,
) -> str:
    """``djax run``: the observables of a point (default :meth:`djax.Params.default`) and the run file's
    likelihood terms there, as a table or JSON (see :func:`evaluate_point`)."""
    rep = evaluate_point(config, point=point, sets=sets, overrides=overrides, cl=cl)
    return to_json(rep.as_dict()) if fmt == "json" else point_table(rep)


def export_report(
    config: Any = None,
    *,
    out,
    point=None,
    sets: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    scale: float | None = None,
    eft: str | None = None,
) -> str:
    """``djax export wcxf``: write the WCxf file and return a one-paragraph summary."""
    d = export_point_wcxf(config, out=out, point=point, sets=sets, overrides=overrides, scale=scale, eft=eft)
    vals = d["values"]
    show = ", ".join(
        f"{k} = {_num(v if not isinstance(v, dict) else complex(v['Re'], v['Im']).real)}"
        for k, v in list(vals.items())[:2]
    )
    return (
        f"wrote {out}: WCxf {d['eft']} at {d['scale']:g} GeV, basis {d['basis']}, {len(vals)} coefficients "
        f"({show}, ...); load with wilson.Wilson.load_wc(open({str(out)!r}))"
    )


def benchmark_table(params=None) -> str:
    """Observables of ``params`` (default: ``Params.default()``) as an aligned text table."""
    from . import precision as _x64
    from .model import Params, check_params
    from .observables import observables

    _x64.enable_x64()
    p = Params.default() if params is None else params
    check_params(p)
    obs = observables(p)
    lines = ["djax benchmark point (Params.default())", ""]
    for f in ("M_F", "m_S1", "m_S2", "theta", "y", "yp", "yp_E", "g_D", "m_Aprime", "epsilon", "Q_F"):
        if getattr(p, f) is not None:
            lines.append(f"  {f:>9} = {np.asarray(getattr(p, f))}")
    lines += ["", f"  {'observable':<40} {'value':>12}  unit", "  " + "-" * 62]
    for key, label, unit in _ROWS:
        if key in obs:
            lines.append(f"  {label:<40} {_fmt(obs[key]):>12}  {unit}")
    lam = np.asarray(obs["lambda_dark_muB"])
    lines += ["", "  lambda^D_ab / mu_B (flavour basis e, mu, tau):"]
    for row in lam:
        lines.append("    " + "  ".join(f"{v.real:+.3e}{v.imag:+.3e}j" for v in row))
    return "\n".join(lines)


__all__ = [
    "LIST_KINDS",
    "FORMATS",
    "list_rows",
    "list_report",
    "bibtex_report",
    "point_table",
    "run_report",
    "export_report",
    "benchmark_table",
    "text_table",
    "to_json",
    "json_safe",
    "PRESET_DESCRIPTIONS",
    "OBSERVABLE_LABELS",
    "preset_membership",
    "list_terms",
    "list_observables",
    "list_parameters",
    "list_presets",
    "bibtex_entries",
    "bibtex",
    "citation_entries",
    "references_bib",
    "DJAX_CITATION",
    "STUDY_CITATION",
    "PointReport",
    "load_point",
    "evaluate_point",
    "export_point_wcxf",
    "br_invisible",
    "POINT_KEYS",
    "point_values",
    "read_point_values",
    "params_with",
    "read_point",
    "write_point",
]
