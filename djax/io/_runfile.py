"""Versioned TOML run files: parse, validate, fill defaults, write back.

A run file describes one analysis (model preset, priors, likelihood preset and overrides, job settings,
seed, output folder). ``load_run`` / ``parse_run`` turn it into a frozen :class:`RunConfig` tree with every
default filled; any problem raises :class:`RunFileError` naming the dotted key, e.g.
``sample.num_chains: expected a positive integer, got -2``. ``resolved_toml(config)`` writes the fully
resolved file back (``parse_run(resolved_toml(c)) == c``).

Schema version 1 (``schema = 1``), sections::

    [run]        name, seed, output_dir, job = sample | optimize | scan, overwrite, resume
    [model]      preset = vll_two_scalar, Q_F, br_invisible, dark_coupling = g_D | alpha_D
    [priors.X]   type = uniform | log_uniform | fixed, low, high (or value for fixed)
    [likelihood] preset = paper | full | future, include, exclude, registry, [likelihood.overrides.TERM]
    [sample]     num_warmup, num_samples, num_chains, chain_method, target_accept, max_tree_depth,
                 checkpoint_every, dense_mass
    [optimize]   n_starts, steps, learning_rate, method, cl, [optimize.profile]
    [scan]       n_points, method = random | grid | sobol, chunk_size, grid_points_per_dim, bins,
                 projections, store, store_points, criterion, loglike_threshold
    [output]     formats, plots, plot_format

The embedded default run file (``djax/data/default_run.toml``, :func:`default_run_text`) runs the
reference study's analysis (arXiv:2603.25704) and documents every key.
"""
from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

SCHEMA_VERSION = 1

JOBS = ("sample", "optimize", "scan")
MODEL_PRESETS = ("vll_two_scalar",)
LIKELIHOOD_PRESETS = ("paper", "full", "future")
PRIOR_TYPES = ("uniform", "log_uniform", "signed_log_uniform", "fixed")
CHAIN_METHODS = ("vectorized", "parallel", "sequential")
OPT_METHODS = ("adam", "lbfgs")
SCAN_METHODS = ("random", "grid", "sobol")
SCAN_CRITERIA = ("auto", "allowed", "loglike")
OUTPUT_FORMATS = ("netcdf", "zarr")
PLOT_FORMATS = ("pdf", "png", "svg")
DARK_COUPLINGS = ("g_D", "alpha_D")

_SQRT_4PI = math.sqrt(4.0 * math.pi)
#: Linear-core width of the signed-log-uniform Yukawa priors (x = scale sinh(u)).
DEFAULT_SIGNED_LOG_SCALE = 1.0e-12

#: Default prior box (PHYSICS.md section 1): name -> (type, low, high). Masses in GeV.
DEFAULT_PRIORS: Mapping[str, tuple[str, float, float]] = MappingProxyType({
    "M_F": ("log_uniform", 100.0, 1.0e4),
    "m_S1": ("log_uniform", 10.0, 1.0e4),
    "m_S2": ("log_uniform", 10.0, 1.0e4),
    "theta": ("uniform", 0.0, 0.5 * math.pi),
    "y_e": ("signed_log_uniform", -_SQRT_4PI, _SQRT_4PI),
    "y_mu": ("signed_log_uniform", -_SQRT_4PI, _SQRT_4PI),
    "y_tau": ("signed_log_uniform", -_SQRT_4PI, _SQRT_4PI),
    "yp_e": ("signed_log_uniform", -_SQRT_4PI, _SQRT_4PI),
    "yp_mu": ("signed_log_uniform", -_SQRT_4PI, _SQRT_4PI),
    "yp_tau": ("signed_log_uniform", -_SQRT_4PI, _SQRT_4PI),
    "g_D": ("uniform", 0.0, _SQRT_4PI),
    "alpha_D": ("log_uniform", 1.0e-6, 1.0),
    "m_Aprime": ("log_uniform", 1.06e-3, 7.99),  # NA64 2023 + BaBar 2017 common range
    "epsilon": ("log_uniform", 1.0e-7, 1.0e-2),
})
#: Parameters that must stay strictly positive (masses) or non-negative (g_D, alpha_D, epsilon).
_POSITIVE = frozenset({"M_F", "m_S1", "m_S2", "m_Aprime"})
_NONNEGATIVE = frozenset({"g_D", "alpha_D", "epsilon"})


def parameter_names(dark_coupling: str = "g_D") -> tuple[str, ...]:
    """The 13 real parameters of the default model, with ``g_D`` or ``alpha_D`` as dark coupling."""
    drop = "alpha_D" if dark_coupling == "g_D" else "g_D"
    return tuple(n for n in DEFAULT_PRIORS if n != drop)


class RunFileError(ValueError):
    """Invalid run file. ``key`` is the dotted key at fault (e.g. ``"sample.num_chains"``)."""

    def __init__(self, key: str, message: str, *, source: str | None = None):
        self.key = key
        self.message = message
        self.source = source
        text = message if message.startswith("unknown ") else f"{key}: {message}"
        super().__init__(f"{source}: {text}" if source else text)


# ----------------------------------------------------------------------------------------------
# Config tree (frozen dataclasses)


@dataclass(frozen=True)
class RunSection:
    name: str = "reference"
    seed: int = 0
    output_dir: str = "runs/{name}"
    job: str = "sample"
    overwrite: bool = False
    resume: bool = False


@dataclass(frozen=True)
class ModelSection:
    preset: str = "vll_two_scalar"
    Q_F: float = 1.0
    br_invisible: float = 1.0
    dark_coupling: str = "g_D"


@dataclass(frozen=True)
class Prior:
    """One parameter's prior: ``uniform``/``log_uniform``/``signed_log_uniform`` on [low, high] (the last with a
    linear core of width ``scale``: x = scale sinh(u), u uniform), or ``fixed`` at value."""

    name: str
    type: str
    low: float | None = None
    high: float | None = None
    value: float | None = None
    scale: float | None = None

    @property
    def is_fixed(self) -> bool:
        return self.type == "fixed"


@dataclass(frozen=True)
class LikelihoodSection:
    preset: str = "paper"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    registry: str = ""
    alpha_e: str = "Rb"
    edm: str = "JILA2023"
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class SampleSection:
    num_warmup: int = 500
    num_samples: int = 500
    num_chains: int = 4
    chain_method: str = "vectorized"
    target_accept: float = 0.99
    max_tree_depth: int = 10
    checkpoint_every: int = 100
    dense_mass: bool = False


@dataclass(frozen=True)
class ProfileSection:
    enabled: bool = True
    parameter: str = "m_Aprime"
    low: float = 1.06e-3
    high: float = 7.99
    n_points: int = 24
    scale: str = "log"
    n_starts: int = 8
    outer_iters: int = 15
    inner_steps: int = 100


@dataclass(frozen=True)
class OptimizeSection:
    n_starts: int = 64
    steps: int = 2000
    learning_rate: float = 1.0e-2
    method: str = "adam"
    cl: float = 0.9
    profile: ProfileSection = ProfileSection()


@dataclass(frozen=True)
class ScanSection:
    n_points: int = 1_000_000
    method: str = "sobol"
    chunk_size: int = 65536
    grid_points_per_dim: int = 0
    bins: int = 50
    projections: tuple[tuple[str, str], ...] = (("m_Aprime", "epsilon"), ("M_F", "m_S1"))
    store: tuple[str, ...] = ("all",)
    store_points: bool = True
    criterion: str = "auto"
    loglike_threshold: float = -2.302585092994046


@dataclass(frozen=True)
class OutputSection:
    formats: tuple[str, ...] = ("netcdf",)
    plots: bool = True
    plot_format: str = "pdf"


@dataclass(frozen=True)
class RunConfig:
    """A validated run file (every default filled). Priors are in canonical parameter order."""

    schema: int
    run: RunSection
    model: ModelSection
    priors: tuple[Prior, ...]
    likelihood: LikelihoodSection
    sample: SampleSection
    optimize: OptimizeSection
    scan: ScanSection
    output: OutputSection

    def prior(self, name: str) -> Prior:
        for p in self.priors:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.priors)

    @property
    def free_parameters(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.priors if not p.is_fixed)

    @property
    def output_path(self) -> Path:
        """``run.output_dir`` with ``{name}``, ``{job}`` and ``{seed}`` filled in."""
        r = self.run
        return Path(r.output_dir.format(name=r.name, job=r.job, seed=r.seed)).expanduser()


# ----------------------------------------------------------------------------------------------
# Validators


def _tname(v: Any) -> str:
    if isinstance(v, bool):
        return f"boolean {str(v).lower()}"
    if isinstance(v, str):
        return f"string {v!r}"
    if isinstance(v, dict):
        return "a table"
    if isinstance(v, list):
        return f"array {v!r}"
    if isinstance(v, (int, float)):
        return repr(v)
    return f"{type(v).__name__} {v!r}"


def _int(key, v, *, lo=None, hi=None, what=None, allow_integral_float=False):
    if allow_integral_float and isinstance(v, float) and not isinstance(v, bool) and math.isfinite(v) \
            and v == int(v):
        v = int(v)
    ok = isinstance(v, int) and not isinstance(v, bool)
    if ok and lo is not None and v < lo:
        ok = False
    if ok and hi is not None and v > hi:
        ok = False
    if not ok:
        if what is None:
            what = {0: "a non-negative integer", 1: "a positive integer"}.get(lo, "an integer")
            if hi is not None:
                what = f"an integer in [{lo}, {hi}]"
        raise RunFileError(key, f"expected {what}, got {_tname(v)}")
    return v


def _float(key, v, *, lo=None, hi=None, lo_open=False, hi_open=False, what=None):
    ok = isinstance(v, (int, float)) and not isinstance(v, bool)
    if ok:
        v = float(v)
        ok = math.isfinite(v)
        if ok and lo is not None:
            ok = v > lo if lo_open else v >= lo
        if ok and hi is not None:
            ok = v < hi if hi_open else v <= hi
    if not ok:
        if what is None:
            if lo is None and hi is None:
                what = "a finite number"
            else:
                lb = ("(" if lo_open else "[") + ("-inf" if lo is None else f"{lo:g}")
                ub = ("inf" if hi is None else f"{hi:g}") + (")" if hi_open else "]")
                what = f"a number in {lb}, {ub}"
        raise RunFileError(key, f"expected {what}, got {_tname(v)}")
    return v


def _bool(key, v):
    if not isinstance(v, bool):
        raise RunFileError(key, f"expected true or false, got {_tname(v)}")
    return v


def _str(key, v, *, pattern=None, what="a string"):
    if not isinstance(v, str) or (pattern is not None and not re.fullmatch(pattern, v)):
        raise RunFileError(key, f"expected {what}, got {_tname(v)}")
    return v


def _choice(key, v, allowed):
    if not isinstance(v, str) or v not in allowed:
        hint = ""
        if isinstance(v, str):
            close = difflib.get_close_matches(v, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise RunFileError(key, f"expected one of {', '.join(map(repr, allowed))}, got {_tname(v)}{hint}")
    return v


def _str_list(key, v, *, allowed=None, allow_empty=True):
    if isinstance(v, str):
        v = [v]
    if isinstance(v, tuple):
        v = list(v)
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v) or (not allow_empty and not v):
        raise RunFileError(key, f"expected {'a non-empty' if not allow_empty else 'an'} array of strings, "
                                f"got {_tname(v)}")
    for i, s in enumerate(v):
        if allowed is not None:
            _choice(f"{key}[{i}]", s, allowed)
        if v.index(s) != i:
            raise RunFileError(f"{key}[{i}]", f"duplicate entry {s!r}")
    return tuple(v)


def _table(key, v):
    if not isinstance(v, dict):
        raise RunFileError(key, f"expected a table ([{key}]), got {_tname(v)}")
    return v


def _unknown(prefix: str, table: dict, allowed) -> None:
    for k in table:
        if k not in allowed:
            full = f"{prefix}.{k}" if prefix else k
            close = difflib.get_close_matches(k, list(allowed), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; allowed keys: {', '.join(allowed)}"
            kind = "section" if not prefix else "key"
            raise RunFileError(full, f"unknown {kind} {full!r}{hint}")


def _with_defaults(prefix: str, table: dict, cls) -> dict:
    """Unknown-key check against a dataclass's fields, then merge with its defaults."""
    names = [f.name for f in dataclasses.fields(cls)]
    _unknown(prefix, table, names)
    default = cls()
    return {n: table.get(n, getattr(default, n)) for n in names}


_NAME_RE = r"[A-Za-z0-9][A-Za-z0-9_.\-]*"
_TERM_RE = r"[A-Za-z0-9][A-Za-z0-9_.:\-]*"
_MAX_SEED = 2**63 - 1


def _parse_run(t: dict) -> RunSection:
    d = _with_defaults("run", _table("run", t), RunSection)
    d["name"] = _str("run.name", d["name"], pattern=_NAME_RE,
                     what="a name of letters, digits, '_', '.', '-' (not starting with a symbol)")
    d["seed"] = _int("run.seed", d["seed"], lo=0, hi=_MAX_SEED, what="a non-negative integer (< 2**63)")
    out = _str("run.output_dir", d["output_dir"], what="a non-empty path")
    if not out.strip():
        raise RunFileError("run.output_dir", "expected a non-empty path, got an empty string")
    try:
        out.format(name="n", job="j", seed=0)
    except (KeyError, IndexError, ValueError) as exc:
        raise RunFileError("run.output_dir", f"only {{name}}, {{job}} and {{seed}} may be substituted "
                                             f"(problem: {exc!r})") from None
    d["job"] = _choice("run.job", d["job"], JOBS)
    d["overwrite"] = _bool("run.overwrite", d["overwrite"])
    d["resume"] = _bool("run.resume", d["resume"])
    if d["overwrite"] and d["resume"]:
        raise RunFileError("run.resume", "cannot be true together with run.overwrite")
    return RunSection(**d)


def _parse_model(t: dict) -> ModelSection:
    d = _with_defaults("model", _table("model", t), ModelSection)
    d["preset"] = _choice("model.preset", d["preset"], MODEL_PRESETS)
    d["Q_F"] = _float("model.Q_F", d["Q_F"])
    if d["Q_F"] == 0.0:
        raise RunFileError("model.Q_F", "expected a non-zero dark charge, got 0")
    d["br_invisible"] = _float("model.br_invisible", d["br_invisible"], lo=0.0, hi=1.0)
    d["dark_coupling"] = _choice("model.dark_coupling", d["dark_coupling"], DARK_COUPLINGS)
    return ModelSection(**d)


def _parse_prior(name: str, t: Any) -> Prior:
    key = f"priors.{name}"
    t = _table(key, t)
    _unknown(key, t, ("type", "low", "high", "value", "scale"))
    if "value" in t and "type" not in t:
        kind = "fixed"
    else:
        default_type = DEFAULT_PRIORS[name][0]
        kind = _choice(f"{key}.type", t.get("type", default_type), PRIOR_TYPES)
    if kind == "fixed":
        for k in ("low", "high"):
            if k in t:
                raise RunFileError(f"{key}.{k}", "not allowed for a fixed prior (give only value)")
        if "value" not in t:
            raise RunFileError(f"{key}.value", "a fixed prior needs value = <number>")
        v = _float(f"{key}.value", t["value"])
        if name in _POSITIVE and v <= 0:
            raise RunFileError(f"{key}.value", f"expected a positive number, got {v!r}")
        if name in _NONNEGATIVE and v < 0:
            raise RunFileError(f"{key}.value", f"expected a non-negative number, got {v!r}")
        return Prior(name, "fixed", value=v)
    if "value" in t:
        raise RunFileError(f"{key}.value", f"only allowed with type = 'fixed' (type is {kind!r})")
    _, dlo, dhi = DEFAULT_PRIORS[name]
    lo = _float(f"{key}.low", t.get("low", dlo))
    hi = _float(f"{key}.high", t.get("high", dhi))
    if not lo < hi:
        raise RunFileError(key, f"low ({lo!r}) must be smaller than high ({hi!r})")
    scale = None
    if kind == "signed_log_uniform":
        scale = _float(f"{key}.scale", t.get("scale", DEFAULT_SIGNED_LOG_SCALE))
        if not scale > 0:
            raise RunFileError(f"{key}.scale", f"must be positive, got {scale!r}")
    elif "scale" in t:
        raise RunFileError(f"{key}.scale", f"only allowed with type = 'signed_log_uniform' (type is {kind!r})")
    if (kind == "log_uniform" or name in _POSITIVE) and lo <= 0:
        why = "a log_uniform prior" if kind == "log_uniform" else f"{name}"
        raise RunFileError(f"{key}.low", f"must be positive for {why}, got {lo!r}")
    if name in _NONNEGATIVE and lo < 0:
        raise RunFileError(f"{key}.low", f"must be non-negative for {name}, got {lo!r}")
    return Prior(name, kind, low=lo, high=hi, scale=scale)


def _parse_priors(t: Any, dark_coupling: str) -> tuple[Prior, ...]:
    t = _table("priors", t)
    names = parameter_names(dark_coupling)
    for k in t:
        if k not in names:
            other = "alpha_D" if dark_coupling == "g_D" else "g_D"
            if k == other:
                raise RunFileError(f"priors.{k}", f"model.dark_coupling is {dark_coupling!r}, so the dark "
                                                  f"coupling parameter is {dark_coupling!r}, not {k!r}")
            _unknown("priors", {k: None}, names)
    out = []
    for n in names:
        if n in t:
            out.append(_parse_prior(n, t[n]))
        else:
            kind, lo, hi = DEFAULT_PRIORS[n]
            out.append(Prior(n, kind, low=lo, high=hi,
                             scale=DEFAULT_SIGNED_LOG_SCALE if kind == "signed_log_uniform" else None))
    if all(p.is_fixed for p in out):
        raise RunFileError("priors", "every parameter is fixed; at least one must be free")
    return tuple(out)


def _scalar_or_list(key, v):
    if isinstance(v, (bool, int, float, str)):
        if isinstance(v, float) and not math.isfinite(v):
            raise RunFileError(key, f"expected a finite number, got {v!r}")
        return v
    if isinstance(v, list) and all(isinstance(x, (bool, int, float, str)) for x in v):
        return tuple(v)
    raise RunFileError(key, f"expected a number, string, boolean or array of those, got {_tname(v)}")


def _parse_likelihood(t: Any) -> LikelihoodSection:
    d = _with_defaults("likelihood", _table("likelihood", t), LikelihoodSection)
    d["preset"] = _choice("likelihood.preset", d["preset"], LIKELIHOOD_PRESETS)
    for k in ("include", "exclude"):
        d[k] = _str_list(f"likelihood.{k}", d[k])
        for i, s in enumerate(d[k]):
            _str(f"likelihood.{k}[{i}]", s, pattern=_TERM_RE, what="a term id")
    both = [s for s in d["exclude"] if s in d["include"]]
    if both:
        raise RunFileError("likelihood.exclude", f"term {both[0]!r} is also in likelihood.include")
    d["registry"] = _str("likelihood.registry", d["registry"], what="a path to a registry TOML file (or '')")
    d["alpha_e"] = _choice("likelihood.alpha_e", d["alpha_e"], ("Rb", "Cs"))
    d["edm"] = _choice("likelihood.edm", d["edm"], ("JILA2023", "ACME2018"))
    ov = d["overrides"]
    if not isinstance(ov, Mapping):
        raise RunFileError("likelihood.overrides", f"expected a table, got {_tname(ov)}")
    res = {}
    for term, fields in ov.items():
        key = f"likelihood.overrides.{term}"
        _str(key, term, pattern=_TERM_RE, what="a term id")
        if not isinstance(fields, Mapping) or not fields:
            raise RunFileError(key, f"expected a non-empty table of field = value, got {_tname(fields)}")
        res[term] = MappingProxyType({f: _scalar_or_list(f"{key}.{f}", v) for f, v in fields.items()})
    d["overrides"] = MappingProxyType(res)
    return LikelihoodSection(**d)


def _parse_sample(t: Any) -> SampleSection:
    d = _with_defaults("sample", _table("sample", t), SampleSection)
    d["num_warmup"] = _int("sample.num_warmup", d["num_warmup"], lo=0)
    d["num_samples"] = _int("sample.num_samples", d["num_samples"], lo=1)
    d["num_chains"] = _int("sample.num_chains", d["num_chains"], lo=1)
    d["chain_method"] = _choice("sample.chain_method", d["chain_method"], CHAIN_METHODS)
    d["target_accept"] = _float("sample.target_accept", d["target_accept"], lo=0.0, hi=1.0,
                                lo_open=True, hi_open=True)
    d["max_tree_depth"] = _int("sample.max_tree_depth", d["max_tree_depth"], lo=1, hi=20)
    d["checkpoint_every"] = _int("sample.checkpoint_every", d["checkpoint_every"], lo=0)
    d["dense_mass"] = _bool("sample.dense_mass", d["dense_mass"])
    return SampleSection(**d)


def _parse_optimize(t: Any, names: tuple[str, ...], free: tuple[str, ...]) -> OptimizeSection:
    t = _table("optimize", t)
    d = _with_defaults("optimize", t, OptimizeSection)
    d["n_starts"] = _int("optimize.n_starts", d["n_starts"], lo=1)
    d["steps"] = _int("optimize.steps", d["steps"], lo=1)
    d["learning_rate"] = _float("optimize.learning_rate", d["learning_rate"], lo=0.0, lo_open=True)
    d["method"] = _choice("optimize.method", d["method"], OPT_METHODS)
    d["cl"] = _float("optimize.cl", d["cl"], lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    p = d["profile"]
    if isinstance(p, ProfileSection):
        p = dataclasses.asdict(p)
    explicit = isinstance(t.get("profile"), dict) and "parameter" in t["profile"]
    p = _with_defaults("optimize.profile", _table("optimize.profile", p), ProfileSection)
    if not explicit and p["parameter"] not in free and "enabled" not in t.get("profile", {}):
        p["enabled"] = False  # default profile parameter fixed by the user: no profile unless asked
    p["enabled"] = _bool("optimize.profile.enabled", p["enabled"])
    p["parameter"] = _choice("optimize.profile.parameter", p["parameter"], names)
    if p["enabled"] and p["parameter"] not in free:
        raise RunFileError("optimize.profile.parameter", f"{p['parameter']!r} is fixed in [priors]; "
                                                         "profile a free parameter")
    p["scale"] = _choice("optimize.profile.scale", p["scale"], ("log", "linear"))
    p["low"] = _float("optimize.profile.low", p["low"])
    p["high"] = _float("optimize.profile.high", p["high"])
    if not p["low"] < p["high"]:
        raise RunFileError("optimize.profile", f"low ({p['low']!r}) must be smaller than high ({p['high']!r})")
    if p["scale"] == "log" and p["low"] <= 0:
        raise RunFileError("optimize.profile.low", f"must be positive for scale = 'log', got {p['low']!r}")
    p["n_points"] = _int("optimize.profile.n_points", p["n_points"], lo=2, what="an integer >= 2")
    p["n_starts"] = _int("optimize.profile.n_starts", p["n_starts"], lo=1)
    p["outer_iters"] = _int("optimize.profile.outer_iters", p["outer_iters"], lo=1)
    p["inner_steps"] = _int("optimize.profile.inner_steps", p["inner_steps"], lo=1)
    d["profile"] = ProfileSection(**p)
    return OptimizeSection(**d)


def _parse_scan(t: Any, free: tuple[str, ...], fixed: tuple[str, ...]) -> ScanSection:
    t = _table("scan", t)
    d = _with_defaults("scan", t, ScanSection)
    if "projections" not in t:  # defaults: keep only the pairs whose axes are free
        d["projections"] = tuple(q for q in d["projections"] if q[0] in free and q[1] in free)
    d["n_points"] = _int("scan.n_points", d["n_points"], lo=1, hi=2**53, allow_integral_float=True,
                         what="a positive integer (at most 2**53)")
    d["method"] = _choice("scan.method", d["method"], SCAN_METHODS)
    d["chunk_size"] = _int("scan.chunk_size", d["chunk_size"], lo=1, hi=2**31,
                           allow_integral_float=True, what="a positive integer (at most 2**31)")
    g = _int("scan.grid_points_per_dim", d["grid_points_per_dim"], lo=0,
             what="a non-negative integer (0: derive from n_points)")
    if g == 1:
        raise RunFileError("scan.grid_points_per_dim", "expected 0 (derive from n_points) or an integer >= 2, "
                                                       "got 1")
    d["grid_points_per_dim"] = g
    d["bins"] = _int("scan.bins", d["bins"], lo=2, hi=10_000, what="an integer in [2, 10000]")
    proj = d["projections"]
    if not isinstance(proj, (list, tuple)):
        raise RunFileError("scan.projections", f"expected an array of [x, y] parameter-name pairs, got "
                                               f"{_tname(proj)}")
    out = []
    for i, pair in enumerate(proj):
        key = f"scan.projections[{i}]"
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(s, str) for s in pair)):
            raise RunFileError(key, f"expected a pair of parameter names like [\"m_Aprime\", \"epsilon\"], "
                                    f"got {_tname(list(pair) if isinstance(pair, tuple) else pair)}")
        for s in pair:
            if s in fixed:
                raise RunFileError(key, f"{s!r} is fixed in [priors]; project onto free parameters")
            if s not in free:
                close = difflib.get_close_matches(s, free, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; free parameters: {', '.join(free)}"
                raise RunFileError(key, f"{s!r} is not a parameter{hint}")
        if pair[0] == pair[1]:
            raise RunFileError(key, f"the two axes must differ, got {pair[0]!r} twice")
        out.append((pair[0], pair[1]))
    d["projections"] = tuple(out)
    store = _str_list("scan.store", d["store"], allow_empty=False)
    for i, s in enumerate(store):
        _str(f"scan.store[{i}]", s, pattern=r"[A-Za-z_][A-Za-z0-9_.\-]*", what="an output name")
    if "all" in store and len(store) > 1:
        raise RunFileError("scan.store", "'all' cannot be combined with other names")
    d["store"] = store
    d["store_points"] = _bool("scan.store_points", d["store_points"])
    d["criterion"] = _choice("scan.criterion", d["criterion"], SCAN_CRITERIA)
    d["loglike_threshold"] = _float("scan.loglike_threshold", d["loglike_threshold"])
    return ScanSection(**d)


def _parse_output(t: Any) -> OutputSection:
    d = _with_defaults("output", _table("output", t), OutputSection)
    d["formats"] = _str_list("output.formats", d["formats"], allowed=OUTPUT_FORMATS)
    d["plots"] = _bool("output.plots", d["plots"])
    d["plot_format"] = _choice("output.plot_format", d["plot_format"], PLOT_FORMATS)
    return OutputSection(**d)


_SECTIONS = ("schema", "run", "model", "priors", "likelihood", "sample", "optimize", "scan", "output")


def validate_run(data: Mapping[str, Any], *, source: str | None = None) -> RunConfig:
    """Validate a parsed run-file mapping and fill defaults. Raises :class:`RunFileError`."""
    try:
        return _validate(dict(data))
    except RunFileError as exc:
        if source is not None and exc.source is None:
            raise RunFileError(exc.key, exc.message, source=source) from None
        raise


def _validate(data: dict) -> RunConfig:
    if "schema" not in data:
        raise RunFileError("schema", f"missing; put `schema = {SCHEMA_VERSION}` at the top of the run file")
    schema = data["schema"]
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise RunFileError("schema", f"expected the integer {SCHEMA_VERSION}, got {_tname(schema)}")
    if schema != SCHEMA_VERSION:
        raise RunFileError("schema", f"unsupported run-file schema version {schema} (this djax reads "
                                     f"schema {SCHEMA_VERSION})")
    _unknown("", data, _SECTIONS)
    run = _parse_run(data.get("run", {}))
    model = _parse_model(data.get("model", {}))
    priors = _parse_priors(data.get("priors", {}), model.dark_coupling)
    names = tuple(p.name for p in priors)
    free = tuple(p.name for p in priors if not p.is_fixed)
    fixed = tuple(p.name for p in priors if p.is_fixed)
    return RunConfig(
        schema=schema, run=run, model=model, priors=priors,
        likelihood=_parse_likelihood(data.get("likelihood", {})),
        sample=_parse_sample(data.get("sample", {})),
        optimize=_parse_optimize(data.get("optimize", {}), names, free),
        scan=_parse_scan(data.get("scan", {}), free, fixed),
        output=_parse_output(data.get("output", {})),
    )


def parse_run(text: str, *, source: str | None = None,
              overrides: Mapping[str, Any] | None = None) -> RunConfig:
    """Parse run-file TOML text. ``overrides`` maps dotted keys to values (applied before validation)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RunFileError("<toml>", f"not valid TOML: {exc}", source=source) from None
    for k, v in (overrides or {}).items():
        set_dotted(data, k, v)
    return validate_run(data, source=source)


def load_run(path: str | Path | None = None, *, overrides: Mapping[str, Any] | None = None) -> RunConfig:
    """Read and validate a run file; ``None`` loads the embedded default (the reference analysis)."""
    if path is None:
        return parse_run(default_run_text(), source="<default run file>", overrides=overrides)
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunFileError("<file>", f"run file {str(p)!r} does not exist") from None
    return parse_run(text, source=str(p), overrides=overrides)


def default_run_text() -> str:
    """The embedded, commented default run file (``djax init`` writes a copy)."""
    return (resources.files("djax") / "data" / "default_run.toml").read_text(encoding="utf-8")


def set_dotted(data: dict, key: str, value: Any) -> None:
    """Set ``data[a][b][c] = value`` for ``key = "a.b.c"`` (creating tables), as ``--set`` does."""
    parts = key.split(".")
    if not key or any(not s for s in parts):
        raise RunFileError(key or "<empty>", "expected a dotted key like sample.num_chains")
    cur = data
    for i, s in enumerate(parts[:-1]):
        nxt = cur.setdefault(s, {})
        if not isinstance(nxt, dict):
            raise RunFileError(".".join(parts[: i + 1]), f"is {_tname(nxt)}, not a table; cannot set {key}")
        cur = nxt
    cur[parts[-1]] = value


def parse_set_option(item: str) -> tuple[str, Any]:
    """``"sample.num_chains=2"`` -> ``("sample.num_chains", 2)``; the value is read as a TOML value,
    falling back to a plain string (so ``run.name=test`` works without quotes)."""
    if "=" not in item:
        raise RunFileError(item, "expected KEY=VALUE (e.g. sample.num_chains=2)")
    key, raw = item.split("=", 1)
    key, raw = key.strip(), raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


# ----------------------------------------------------------------------------------------------
# Writing back


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_\-]+", k) else json.dumps(k)


def _section(lines: list[str], header: str, items: Mapping[str, Any]) -> None:
    lines.append(f"\n[{header}]")
    for k, v in items.items():
        lines.append(f"{_toml_key(k)} = {_toml_value(v)}")


def resolved_toml(config: RunConfig) -> str:
    """The fully resolved run file (every key, every default) as TOML text; re-parses to ``config``."""
    lines = ["# Resolved djax run file: every key with its effective value.",
             f"schema = {config.schema}"]
    _section(lines, "run", dataclasses.asdict(config.run))
    _section(lines, "model", dataclasses.asdict(config.model))
    for p in config.priors:
        if p.is_fixed:
            _section(lines, f"priors.{p.name}", {"type": "fixed", "value": p.value})
        else:
            sec = {"type": p.type, "low": p.low, "high": p.high}
            if p.type == "signed_log_uniform":
                sec["scale"] = p.scale
            _section(lines, f"priors.{p.name}", sec)
    lk = config.likelihood
    _section(lines, "likelihood", {"preset": lk.preset, "include": lk.include, "exclude": lk.exclude,
                                   "registry": lk.registry, "alpha_e": lk.alpha_e, "edm": lk.edm})
    for term, fields in lk.overrides.items():
        _section(lines, f"likelihood.overrides.{_toml_key(term)}", dict(fields))
    _section(lines, "sample", dataclasses.asdict(config.sample))
    opt = {f.name: getattr(config.optimize, f.name) for f in dataclasses.fields(config.optimize)}
    profile = dataclasses.asdict(opt.pop("profile"))
    _section(lines, "optimize", opt)
    _section(lines, "optimize.profile", profile)
    _section(lines, "scan", dataclasses.asdict(config.scan))
    _section(lines, "output", dataclasses.asdict(config.output))
    return "\n".join(lines) + "\n"


def config_to_dict(config: RunConfig) -> dict[str, Any]:
    """Plain-dict view (JSON-friendly) of a resolved config, e.g. for metadata."""
    return tomllib.loads(resolved_toml(config))


__all__ = [
    "SCHEMA_VERSION", "DEFAULT_PRIORS", "RunFileError", "RunConfig", "RunSection", "ModelSection", "Prior",
    "LikelihoodSection", "SampleSection", "OptimizeSection", "ProfileSection", "ScanSection", "OutputSection",
    "parameter_names", "validate_run", "parse_run", "load_run", "default_run_text", "resolved_toml",
    "set_dotted", "parse_set_option", "config_to_dict",
]
