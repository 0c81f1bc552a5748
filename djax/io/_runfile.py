"""Versioned TOML run files: parse, validate, fill defaults, write back.

A run file describes one job completely (model options, priors, likelihood preset and overrides, job
settings, seed, output folder). :func:`load_run` / :func:`parse_run` turn it into a frozen :class:`RunConfig`
with every default filled; any problem raises :class:`RunFileError` naming the file, the line and the dotted
key, e.g. ``run.toml:12: sample.num_chains: expected a positive integer, got -2``. :func:`resolved_toml`
writes the fully resolved file back (``parse_run(resolved_toml(c)) == c``).

Relative paths in a run file (``run.output_dir``, ``likelihood.registry``) resolve against the folder of the
run file (the working directory for the embedded default and for text without a file).

Schema version 1 (``schema = 1``), sections::

    [run]        name, seed, output_dir, job = sample | optimize | scan | evidence, overwrite, resume
    [model]      preset = vll_two_scalar, Q_F, dark_photon_decays = visible | invisible | mixed,
                 br_invisible (mixed only), dark_coupling = g_D | alpha_D, yukawa_structure = shared |
                 separate, mnu_cancellation, kinetic_mixing_cutoff
    [priors.X]   type = uniform | log_uniform | signed_log_uniform | fixed, low, high, scale (or value)
    [likelihood] preset, include, exclude, registry, alpha_e, edm, mnu, [likelihood.overrides.TERM]
    [sample]     method = chees | nuts, num_warmup, num_samples, num_chains, chain_method, target_accept,
                 max_tree_depth (nuts), max_leapfrog, prior_moves (chees), checkpoint_every, dense_mass
    [optimize]   n_starts, steps, learning_rate, method, cl, [optimize.profile]
    [scan]       n_points, method, chunk_size, grid_points_per_dim, bins, projections, store, store_points,
                 criterion, cl, loglike_threshold
    [evidence]   num_live_points, dlogz, max_samples, num_delete, num_slice_steps, slice_width,
                 num_posterior_draws
    [output]     formats, plots, plot_format

The prior box, its physical bounds and the prior families live in the parameter schema
(:mod:`djax.model`); choice lists come from the packages that own them.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import DjaxError
from ..inference import CHAIN_METHODS, OPT_METHODS, SAMPLE_METHODS, SCAN_CRITERIA, SCAN_METHODS
from ..likelihood import ALPHA_E_CHOICES, DECAY_MODES, EDM_CHOICES, MNU_CHOICES, PRESETS, decay_mode_br_inv
from ..model import (
    DARK_COUPLINGS,
    YUKAWA_E_NAMES,
    YUKAWA_STRUCTURES,
    Prior,
    SchemaError,
    parameter_names,
    prior_from_table,
    resolve_priors,
    shared_yukawa_message,
)
from ..observables import KINETIC_MIXING_CUTOFF_GEV
from . import _validate as v
from ._toml import decode_error_line, key_line, set_dotted, toml_key, toml_section

SCHEMA_VERSION = 1

#: Jobs a run file can describe.
JOBS = ("sample", "optimize", "scan", "evidence")
MODEL_PRESETS = ("vll_two_scalar",)
OUTPUT_FORMATS = ("netcdf", "zarr")
PLOT_FORMATS = ("pdf", "png", "svg")
DEFAULT_OUTPUT_DIR = "runs/{name}-{job}"
EMBEDDED = "<embedded default run file>"


class RunFileError(DjaxError, ValueError):
    """Invalid run file. ``key`` is the dotted key at fault (e.g. ``"sample.num_chains"``), ``file`` the run
    file (or ``<embedded default run file>``, ``<run file text>``), ``line`` the line of the key if known."""

    def __init__(self, key: str, message: str, *, source: str | None = None, line: int | None = None):
        self.message = message
        self.source = source
        super().__init__(source or "<run file>", key, message, line=line)


# ----------------------------------------------------------------------------------------------
# Config tree (frozen dataclasses)


@dataclass(frozen=True)
class RunSection:
    name: str = "reference"
    seed: int = 0
    output_dir: str = DEFAULT_OUTPUT_DIR
    job: str = "sample"
    overwrite: bool = False
    resume: bool = False


@dataclass(frozen=True)
class ModelSection:
    """``[model]``. ``dark_photon_decays``: how the A' decays -- ``"visible"`` (the minimal model: every dark
    state >= 10 GeV > m_A', BR(A' -> invisible) = 0), ``"invisible"`` (BR = 1, what missing-energy searches
    and the reference study assume) or ``"mixed"`` (BR = ``br_invisible``, a light invisible state added by
    hand). ``br_invisible`` is read only for "mixed"; otherwise it holds the mode's value (0 or 1). The
    likelihood's BR(A' -> invisible) is :attr:`br_inv`. ``mnu_cancellation``: assume a tree-level mass cancels the
    one-loop neutrino mass (every sum m_nu term is dropped; the job warns). ``kinetic_mixing_cutoff``: the scale
    Lambda [GeV] where epsilon vanishes, for the observable ``epsilon_loop``. ``yukawa_structure``: one B-type
    Yukawa y' for N and E (``"shared"``, an assumption of the model, docs/physics.md section 1) or an own y'_E
    for the charged member (``"separate"``: priors ``ypE_e, ypE_mu, ypE_tau``)."""

    preset: str = "vll_two_scalar"
    Q_F: float = 1.0
    dark_photon_decays: str = "visible"
    br_invisible: float = 0.0
    dark_coupling: str = "g_D"
    yukawa_structure: str = "shared"
    mnu_cancellation: bool = False
    kinetic_mixing_cutoff: float = KINETIC_MIXING_CUTOFF_GEV

    @property
    def br_inv(self) -> float:
        """BR(A' -> invisible) that the jobs hand to the likelihood (``make_model``, ``build_point_fn``,
        ``profile_solver``, ``point_observables``): ``djax.likelihood.decay_mode_br_inv(dark_photon_decays,
        br_invisible)`` -- visible 0, invisible 1, mixed ``br_invisible``."""
        return decay_mode_br_inv(self.dark_photon_decays, self.br_invisible)


@dataclass(frozen=True)
class LikelihoodSection:
    preset: str = "paper"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    registry: str = ""
    alpha_e: str = "Rb"
    edm: str = "JILA2023"
    mnu: str = "Planck2018"
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class SampleSection:
    method: str = "chees"
    num_warmup: int = 200
    num_samples: int = 500
    num_chains: int = 128
    chain_method: str = "vectorized"
    target_accept: float = 0.99
    max_tree_depth: int = 10
    max_leapfrog: int = 8
    prior_moves: int = 4
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
    batch: int = 4
    method: str = "certified"
    target_gap: float = 2.0
    n_polish: int = 16


#: ``optimize.profile.method``: the certified profile of m_A' (factorised, with an upper bound) or the direct
#: constrained maximisation at every grid value (any parameter, lower values only).
PROFILE_METHODS = ("certified", "direct")


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
    cl: float = 0.9
    loglike_threshold: float = -2.302585092994046


@dataclass(frozen=True)
class EvidenceSection:
    """``[evidence]``: nested sampling of the evidence Z (``djax evidence``; :func:`djax.inference.evidence`).
    ``num_delete`` and ``num_slice_steps`` 0: the sampler's defaults (``num_live_points // 5``, ``max(5, 3 D)``);
    ``num_posterior_draws`` 0: as many equally weighted posterior draws as the effective sample size."""

    num_live_points: int = 500
    dlogz: float = 0.1
    max_samples: int = 100_000
    num_delete: int = 0
    num_slice_steps: int = 0
    slice_width: float = 2.0
    num_posterior_draws: int = 0


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
    evidence: EvidenceSection = EvidenceSection()
    source: str = field(default=EMBEDDED, compare=False)

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
# Sections

_NAME_RE = r"[A-Za-z0-9][A-Za-z0-9_.\-]*"
_TERM_RE = r"[A-Za-z0-9][A-Za-z0-9_.:\-]*"
_MAX_SEED = 2**63 - 1


def _resolve_path(p: str, base: Path) -> str:
    q = Path(p).expanduser()
    return str(q if q.is_absolute() else (base / q))


def _parse_run(t: dict, base: Path) -> RunSection:
    d = v.with_defaults("run", v.as_table("run", t), RunSection)
    d["name"] = v.as_str(
        "run.name",
        d["name"],
        pattern=_NAME_RE,
        what="a name of letters, digits, '_', '.', '-' (not starting with a symbol)",
    )
    d["seed"] = v.as_int("run.seed", d["seed"], lo=0, hi=_MAX_SEED, what="a non-negative integer (< 2**63)")
    out = v.as_str("run.output_dir", d["output_dir"], what="a non-empty path")
    if not out.strip():
        raise v.InvalidValue("run.output_dir", "expected a non-empty path, got an empty string")
    try:
        out.format(name="n", job="j", seed=0)
    except (KeyError, IndexError, ValueError) as exc:
        raise v.InvalidValue(
            "run.output_dir", f"only {{name}}, {{job}} and {{seed}} may be substituted (problem: {exc!r})"
        ) from None
    d["output_dir"] = _resolve_path(out, base)
    d["job"] = v.as_choice("run.job", d["job"], JOBS)
    d["overwrite"] = v.as_bool("run.overwrite", d["overwrite"])
    d["resume"] = v.as_bool("run.resume", d["resume"])
    if d["overwrite"] and d["resume"]:
        raise v.InvalidValue("run.resume", "cannot be true together with run.overwrite")
    return RunSection(**d)


def _parse_model(t: dict) -> ModelSection:
    t = v.as_table("model", t)
    d = v.with_defaults("model", t, ModelSection)
    d["preset"] = v.as_choice("model.preset", d["preset"], MODEL_PRESETS)
    d["Q_F"] = v.as_float("model.Q_F", d["Q_F"])
    if d["Q_F"] == 0.0:
        raise v.InvalidValue("model.Q_F", "expected a non-zero dark charge, got 0")
    mode = d["dark_photon_decays"] = v.as_choice("model.dark_photon_decays", d["dark_photon_decays"], DECAY_MODES)
    d["br_invisible"] = v.as_float("model.br_invisible", d["br_invisible"], lo=0.0, hi=1.0)
    if mode == "mixed":
        if "br_invisible" not in t:
            raise v.InvalidValue(
                "model.br_invisible",
                "missing: model.dark_photon_decays = 'mixed' needs br_invisible = BR(A' -> invisible) in [0, 1]",
            )
    else:
        implied = decay_mode_br_inv(mode)
        if "br_invisible" in t and d["br_invisible"] != implied:
            old_file = "dark_photon_decays" not in t and d["br_invisible"] == 1.0
            legacy = (
                " (run files from before model.dark_photon_decays existed: br_invisible = 1 meant "
                "dark_photon_decays = 'invisible')"
                if old_file
                else ""
            )
            raise v.InvalidValue(
                "model.br_invisible",
                f"is read only with model.dark_photon_decays = 'mixed'; "
                f"with {mode!r} BR(A' -> invisible) is {implied:g}, got "
                f"{d['br_invisible']!r}: remove the key or set "
                f"dark_photon_decays = 'mixed'{legacy}",
            )
        d["br_invisible"] = implied
    d["dark_coupling"] = v.as_choice("model.dark_coupling", d["dark_coupling"], DARK_COUPLINGS)
    d["yukawa_structure"] = v.as_choice("model.yukawa_structure", d["yukawa_structure"], YUKAWA_STRUCTURES)
    d["mnu_cancellation"] = v.as_bool("model.mnu_cancellation", d["mnu_cancellation"])
    d["kinetic_mixing_cutoff"] = v.as_float(
        "model.kinetic_mixing_cutoff", d["kinetic_mixing_cutoff"], lo=0.0, lo_open=True, what="a positive scale in GeV"
    )
    return ModelSection(**d)


def _parse_priors(t: Any, dark_coupling: str, yukawa_structure: str = "shared") -> tuple[Prior, ...]:
    t = v.as_table("priors", t)
    names = parameter_names(dark_coupling, yukawa_structure=yukawa_structure)
    items = []
    for k, tbl in t.items():
        if k not in names:
            other = "alpha_D" if dark_coupling == "g_D" else "g_D"
            if k == other:
                raise v.InvalidValue(
                    f"priors.{k}",
                    f"model.dark_coupling is {dark_coupling!r}, so the dark "
                    f"coupling parameter is {dark_coupling!r}, not {k!r}",
                )
            if k in YUKAWA_E_NAMES:
                raise v.InvalidValue(f"priors.{k}", shared_yukawa_message(k))
            v.reject_unknown("priors", {k: None}, names)
        items.append(prior_from_table(k, v.as_table(f"priors.{k}", tbl)))
    return resolve_priors(items, dark_coupling=dark_coupling, yukawa_structure=yukawa_structure)


def _parse_likelihood(t: Any, base: Path) -> LikelihoodSection:
    d = v.with_defaults("likelihood", v.as_table("likelihood", t), LikelihoodSection)
    d["preset"] = v.as_choice("likelihood.preset", d["preset"], PRESETS)
    for k in ("include", "exclude"):
        d[k] = v.as_str_list(f"likelihood.{k}", d[k])
        for i, s in enumerate(d[k]):
            v.as_str(f"likelihood.{k}[{i}]", s, pattern=_TERM_RE, what="a term id")
    both = [s for s in d["exclude"] if s in d["include"]]
    if both:
        raise v.InvalidValue("likelihood.exclude", f"term {both[0]!r} is also in likelihood.include")
    reg = v.as_str("likelihood.registry", d["registry"], what="a path to a registry TOML file (or '')")
    d["registry"] = _resolve_path(reg, base) if reg else ""
    d["alpha_e"] = v.as_choice("likelihood.alpha_e", d["alpha_e"], tuple(ALPHA_E_CHOICES))
    d["edm"] = v.as_choice("likelihood.edm", d["edm"], tuple(EDM_CHOICES))
    d["mnu"] = v.as_choice("likelihood.mnu", d["mnu"], tuple(MNU_CHOICES))
    ov = d["overrides"]
    if not isinstance(ov, Mapping):
        raise v.InvalidValue("likelihood.overrides", f"expected a table, got {v.type_name(ov)}")
    res = {}
    for term, fields in ov.items():
        key = f"likelihood.overrides.{term}"
        v.as_str(key, term, pattern=_TERM_RE, what="a term id")
        if not isinstance(fields, Mapping) or not fields:
            raise v.InvalidValue(key, f"expected a non-empty table of field = value, got {v.type_name(fields)}")
        res[term] = MappingProxyType({f: v.scalar_or_list(f"{key}.{f}", x) for f, x in fields.items()})
    d["overrides"] = MappingProxyType(res)
    return LikelihoodSection(**d)


def _parse_sample(t: Any) -> SampleSection:
    d = v.with_defaults("sample", v.as_table("sample", t), SampleSection)
    d["method"] = v.as_choice("sample.method", d["method"], SAMPLE_METHODS)
    d["num_warmup"] = v.as_int("sample.num_warmup", d["num_warmup"], lo=0)
    d["num_samples"] = v.as_int("sample.num_samples", d["num_samples"], lo=1)
    d["num_chains"] = v.as_int("sample.num_chains", d["num_chains"], lo=1)
    d["chain_method"] = v.as_choice("sample.chain_method", d["chain_method"], CHAIN_METHODS)
    d["target_accept"] = v.as_float(
        "sample.target_accept", d["target_accept"], lo=0.0, hi=1.0, lo_open=True, hi_open=True
    )
    d["max_tree_depth"] = v.as_int("sample.max_tree_depth", d["max_tree_depth"], lo=1, hi=20)
    d["checkpoint_every"] = v.as_int("sample.checkpoint_every", d["checkpoint_every"], lo=0)
    d["dense_mass"] = v.as_bool("sample.dense_mass", d["dense_mass"])
    d["max_leapfrog"] = v.as_int("sample.max_leapfrog", d["max_leapfrog"], lo=1, hi=2**20)
    d["prior_moves"] = v.as_int("sample.prior_moves", d["prior_moves"], lo=0)
    if d["method"] == "chees" and d["num_chains"] < 2:
        raise v.InvalidValue("sample.num_chains", f"method 'chees' needs at least 2 chains, got {d['num_chains']}")
    return SampleSection(**d)


def _parse_optimize(
    t: Any, names: tuple[str, ...], free: tuple[str, ...], yukawa_structure: str = "shared"
) -> OptimizeSection:
    t = v.as_table("optimize", t)
    d = v.with_defaults("optimize", t, OptimizeSection)
    d["n_starts"] = v.as_int("optimize.n_starts", d["n_starts"], lo=1)
    d["steps"] = v.as_int("optimize.steps", d["steps"], lo=1)
    d["learning_rate"] = v.as_float("optimize.learning_rate", d["learning_rate"], lo=0.0, lo_open=True)
    d["method"] = v.as_choice("optimize.method", d["method"], OPT_METHODS)
    d["cl"] = v.as_float("optimize.cl", d["cl"], lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    p = d["profile"]
    if isinstance(p, ProfileSection):
        p = dataclasses.asdict(p)
    given = t.get("profile", {}) if isinstance(t.get("profile"), dict) else {}
    p = v.with_defaults("optimize.profile", v.as_table("optimize.profile", p), ProfileSection)
    if "parameter" not in given and p["parameter"] not in free and "enabled" not in given:
        p["enabled"] = False  # default profile parameter fixed by the user: no profile unless asked
    p["enabled"] = v.as_bool("optimize.profile.enabled", p["enabled"])
    p["parameter"] = v.as_choice("optimize.profile.parameter", p["parameter"], names)
    if p["enabled"] and p["parameter"] not in free:
        raise v.InvalidValue(
            "optimize.profile.parameter", f"{p['parameter']!r} is fixed in [priors]; profile a free parameter"
        )
    p["scale"] = v.as_choice("optimize.profile.scale", p["scale"], ("log", "linear"))
    p["low"] = v.as_float("optimize.profile.low", p["low"])
    p["high"] = v.as_float("optimize.profile.high", p["high"])
    if not p["low"] < p["high"]:
        raise v.InvalidValue("optimize.profile", f"low ({p['low']!r}) must be smaller than high ({p['high']!r})")
    if p["scale"] == "log" and p["low"] <= 0:
        raise v.InvalidValue("optimize.profile.low", f"must be positive for scale = 'log', got {p['low']!r}")
    p["n_points"] = v.as_int("optimize.profile.n_points", p["n_points"], lo=2, what="an integer >= 2")
    p["n_starts"] = v.as_int("optimize.profile.n_starts", p["n_starts"], lo=1)
    p["outer_iters"] = v.as_int("optimize.profile.outer_iters", p["outer_iters"], lo=1)
    p["inner_steps"] = v.as_int("optimize.profile.inner_steps", p["inner_steps"], lo=1)
    p["batch"] = v.as_int("optimize.profile.batch", p["batch"], lo=1)
    if "method" not in given and (p["parameter"] != "m_Aprime" or yukawa_structure != "shared"):
        p["method"] = "direct"  # the certified profile factorises in m_A' only, for the shared Yukawa structure
    p["method"] = v.as_choice("optimize.profile.method", p["method"], PROFILE_METHODS)
    if p["method"] == "certified" and p["parameter"] != "m_Aprime":
        raise v.InvalidValue(
            "optimize.profile.method",
            f"the certified profile runs over m_Aprime only (parameter is {p['parameter']!r}); use method = 'direct'",
        )
    if p["method"] == "certified" and yukawa_structure != "shared":
        raise v.InvalidValue(
            "optimize.profile.method",
            f"the certified profile assumes the shared B-type Yukawa (model.yukawa_structure = 'shared'; this run "
            f"has {yukawa_structure!r}); use method = 'direct'",
        )
    p["target_gap"] = v.as_float("optimize.profile.target_gap", p["target_gap"], lo=1.0, lo_open=True)
    p["n_polish"] = v.as_int("optimize.profile.n_polish", p["n_polish"], lo=0)
    d["profile"] = ProfileSection(**p)
    return OptimizeSection(**d)


def _parse_scan(t: Any, free: tuple[str, ...], fixed: tuple[str, ...]) -> ScanSection:
    t = v.as_table("scan", t)
    d = v.with_defaults("scan", t, ScanSection)
    if "projections" not in t:  # defaults: keep only the pairs whose axes are free
        d["projections"] = tuple(q for q in d["projections"] if q[0] in free and q[1] in free)
    d["n_points"] = v.as_int(
        "scan.n_points",
        d["n_points"],
        lo=1,
        hi=2**53,
        allow_integral_float=True,
        what="a positive integer (at most 2**53)",
    )
    d["method"] = v.as_choice("scan.method", d["method"], SCAN_METHODS)
    d["chunk_size"] = v.as_int(
        "scan.chunk_size",
        d["chunk_size"],
        lo=1,
        hi=2**31,
        allow_integral_float=True,
        what="a positive integer (at most 2**31)",
    )
    g = v.as_int(
        "scan.grid_points_per_dim",
        d["grid_points_per_dim"],
        lo=0,
        what="a non-negative integer (0: derive from n_points)",
    )
    if g == 1:
        raise v.InvalidValue("scan.grid_points_per_dim", "expected 0 (derive from n_points) or an integer >= 2, got 1")
    d["grid_points_per_dim"] = g
    d["bins"] = v.as_int("scan.bins", d["bins"], lo=2, hi=10_000, what="an integer in [2, 10000]")
    proj = d["projections"]
    if not isinstance(proj, (list, tuple)):
        raise v.InvalidValue(
            "scan.projections", f"expected an array of [x, y] parameter-name pairs, got {v.type_name(proj)}"
        )
    out = []
    for i, pair in enumerate(proj):
        key = f"scan.projections[{i}]"
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(s, str) for s in pair)):
            raise v.InvalidValue(
                key,
                'expected a pair of parameter names like ["m_Aprime", "epsilon"], got '
                f"{v.type_name(list(pair) if isinstance(pair, tuple) else pair)}",
            )
        for s in pair:
            if s in fixed:
                raise v.InvalidValue(key, f"{s!r} is fixed in [priors]; project onto free parameters")
            if s not in free:
                import difflib

                close = difflib.get_close_matches(s, free, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; free parameters: {', '.join(free)}"
                raise v.InvalidValue(key, f"{s!r} is not a parameter{hint}")
        if pair[0] == pair[1]:
            raise v.InvalidValue(key, f"the two axes must differ, got {pair[0]!r} twice")
        out.append((pair[0], pair[1]))
    d["projections"] = tuple(out)
    store = v.as_str_list("scan.store", d["store"], allow_empty=False)
    for i, s in enumerate(store):
        v.as_str(f"scan.store[{i}]", s, pattern=r"[A-Za-z_][A-Za-z0-9_.\-]*", what="an output name")
    if "all" in store and len(store) > 1:
        raise v.InvalidValue("scan.store", "'all' cannot be combined with other names")
    d["store"] = store
    d["store_points"] = v.as_bool("scan.store_points", d["store_points"])
    d["criterion"] = v.as_choice("scan.criterion", d["criterion"], SCAN_CRITERIA)
    d["cl"] = v.as_float("scan.cl", d["cl"], lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    d["loglike_threshold"] = v.as_float("scan.loglike_threshold", d["loglike_threshold"])
    return ScanSection(**d)


def _parse_evidence(t: Any) -> EvidenceSection:
    d = v.with_defaults("evidence", v.as_table("evidence", t), EvidenceSection)
    n = d["num_live_points"] = v.as_int(
        "evidence.num_live_points", d["num_live_points"], lo=2, what="an integer >= 2 (live points)"
    )
    d["dlogz"] = v.as_float("evidence.dlogz", d["dlogz"], lo=0.0, lo_open=True)
    k = d["num_delete"] = v.as_int(
        "evidence.num_delete", d["num_delete"], lo=0, hi=n - 1, what=f"0 (auto) or an integer in [1, {n - 1}]"
    )
    k_eff = k or max(1, n // 5)
    d["max_samples"] = v.as_int(
        "evidence.max_samples",
        d["max_samples"],
        lo=k_eff,
        what=f"an integer >= {k_eff} (the points replaced per iteration, evidence.num_delete)",
    )
    d["num_slice_steps"] = v.as_int(
        "evidence.num_slice_steps",
        d["num_slice_steps"],
        lo=0,
        what="0 (auto: max(5, 3 x dimension)) or a positive integer",
    )
    d["slice_width"] = v.as_float("evidence.slice_width", d["slice_width"], lo=0.0, lo_open=True)
    d["num_posterior_draws"] = v.as_int("evidence.num_posterior_draws", d["num_posterior_draws"], lo=0)
    return EvidenceSection(**d)


def _parse_output(t: Any) -> OutputSection:
    d = v.with_defaults("output", v.as_table("output", t), OutputSection)
    d["formats"] = v.as_str_list("output.formats", d["formats"], allowed=OUTPUT_FORMATS, allow_empty=False)
    d["plots"] = v.as_bool("output.plots", d["plots"])
    d["plot_format"] = v.as_choice("output.plot_format", d["plot_format"], PLOT_FORMATS)
    return OutputSection(**d)


_SECTIONS = ("schema", "run", "model", "priors", "likelihood", "sample", "optimize", "scan", "evidence", "output")


def _validate(data: dict, base: Path, source: str) -> RunConfig:
    if "schema" not in data:
        raise v.InvalidValue("schema", f"missing; put `schema = {SCHEMA_VERSION}` at the top of the run file")
    schema = data["schema"]
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise v.InvalidValue("schema", f"expected the integer {SCHEMA_VERSION}, got {v.type_name(schema)}")
    if schema != SCHEMA_VERSION:
        raise v.InvalidValue(
            "schema", f"unsupported run-file schema version {schema} (this djax reads schema {SCHEMA_VERSION})"
        )
    v.reject_unknown("", data, _SECTIONS)
    run = _parse_run(data.get("run", {}), base)
    model = _parse_model(data.get("model", {}))
    priors = _parse_priors(data.get("priors", {}), model.dark_coupling, model.yukawa_structure)
    names = tuple(p.name for p in priors)
    free = tuple(p.name for p in priors if not p.is_fixed)
    fixed = tuple(p.name for p in priors if p.is_fixed)
    return RunConfig(
        schema=schema,
        run=run,
        model=model,
        priors=priors,
        likelihood=_parse_likelihood(data.get("likelihood", {}), base),
        sample=_parse_sample(data.get("sample", {})),
        optimize=_parse_optimize(data.get("optimize", {}), names, free, model.yukawa_structure),
        scan=_parse_scan(data.get("scan", {}), free, fixed),
        output=_parse_output(data.get("output", {})),
        evidence=_parse_evidence(data.get("evidence", {})),
        source=source,
    )


def validate_run(
    data: Mapping[str, Any], *, source: str | None = None, text: str | None = None, base_dir: str | Path | None = None
) -> RunConfig:
    """Validate a parsed run-file mapping and fill defaults. Raises :class:`RunFileError` (with the line of
    the key when ``text`` is given)."""
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    src = source or "<run file>"
    try:
        return _validate(dict(data), base.absolute(), src)
    except (v.InvalidValue, SchemaError) as exc:
        key = exc.key
        msg = exc.message
        raise RunFileError(key, msg, source=source, line=key_line(text, key)) from None


def parse_run(
    text: str,
    *,
    source: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    base_dir: str | Path | None = None,
) -> RunConfig:
    """Parse run-file TOML text. ``overrides`` maps dotted keys to values (``--set``; applied before
    validation, so their errors name the key too)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RunFileError("<toml>", f"not valid TOML: {exc}", source=source, line=decode_error_line(exc)) from None
    for k, val in (overrides or {}).items():
        try:
            set_dotted(data, k, val)
        except KeyError as exc:
            raise RunFileError(exc.args[0], f"--set {k}: {exc.args[1]}", source=source) from None
    return validate_run(data, source=source, text=text, base_dir=base_dir)


def load_run(path: str | Path | None = None, *, overrides: Mapping[str, Any] | None = None) -> RunConfig:
    """Read and validate a run file; ``None`` loads the embedded default (the reference analysis)."""
    if path is None:
        return parse_run(default_run_text(), source=EMBEDDED, overrides=overrides)
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunFileError("<file>", "run file does not exist", source=str(p)) from None
    except IsADirectoryError:
        raise RunFileError("<file>", "is a folder, not a run file", source=str(p)) from None
    except PermissionError:
        raise RunFileError("<file>", "permission denied (cannot read the run file)", source=str(p)) from None
    except UnicodeDecodeError as exc:
        raise RunFileError("<file>", f"not UTF-8 text ({exc.reason})", source=str(p)) from None
    return parse_run(text, source=str(p), overrides=overrides, base_dir=p.absolute().parent)


def default_run_text() -> str:
    """The embedded, commented default run file (``djax init`` writes a copy)."""
    return (resources.files("djax") / "data" / "default_run.toml").read_text(encoding="utf-8")


def parse_set_option(item: str) -> tuple[str, Any]:
    """``"sample.num_chains=2"`` -> ``("sample.num_chains", 2)`` (TOML value, else a plain string)."""
    from ._toml import parse_set_value

    try:
        return parse_set_value(item)
    except KeyError as exc:
        raise RunFileError(str(exc.args[0]), f"--set: {exc.args[1]}", source="--set") from None


# ----------------------------------------------------------------------------------------------
# Writing back


def resolved_toml(config: RunConfig) -> str:
    """The fully resolved run file (every key, every default) as TOML text; re-parses to ``config``."""
    lines = ["# Resolved djax run file: every key with its effective value.", f"schema = {config.schema}"]
    toml_section(lines, "run", dataclasses.asdict(config.run))
    toml_section(lines, "model", dataclasses.asdict(config.model))
    for p in config.priors:
        toml_section(lines, f"priors.{p.name}", p.as_dict())
    lk = config.likelihood
    toml_section(
        lines,
        "likelihood",
        {
            "preset": lk.preset,
            "include": lk.include,
            "exclude": lk.exclude,
            "registry": lk.registry,
            "alpha_e": lk.alpha_e,
            "edm": lk.edm,
            "mnu": lk.mnu,
        },
    )
    for term, fields in lk.overrides.items():
        toml_section(lines, f"likelihood.overrides.{toml_key(term)}", dict(fields))
    toml_section(lines, "sample", dataclasses.asdict(config.sample))
    opt = {f.name: getattr(config.optimize, f.name) for f in dataclasses.fields(config.optimize)}
    profile = dataclasses.asdict(opt.pop("profile"))
    toml_section(lines, "optimize", opt)
    toml_section(lines, "optimize.profile", profile)
    toml_section(lines, "scan", dataclasses.asdict(config.scan))
    toml_section(lines, "evidence", dataclasses.asdict(config.evidence))
    toml_section(lines, "output", dataclasses.asdict(config.output))
    return "\n".join(lines) + "\n"


def config_to_dict(config: RunConfig) -> dict[str, Any]:
    """Plain-dict view (JSON-friendly) of a resolved config, e.g. for metadata."""
    return tomllib.loads(resolved_toml(config))


def with_overrides(config: RunConfig, overrides: Mapping[str, Any]) -> RunConfig:
    """``config`` with dotted-key overrides applied (re-validated)."""
    if not overrides:
        return config
    return parse_run(resolved_toml(config), source=config.source, overrides=overrides)


__all__ = [
    "SCHEMA_VERSION",
    "JOBS",
    "MODEL_PRESETS",
    "OUTPUT_FORMATS",
    "PLOT_FORMATS",
    "DEFAULT_OUTPUT_DIR",
    "EMBEDDED",
    "RunFileError",
    "RunConfig",
    "RunSection",
    "ModelSection",
    "LikelihoodSection",
    "SampleSection",
    "OptimizeSection",
    "ProfileSection",
    "ScanSection",
    "EvidenceSection",
    "OutputSection",
    "validate_run",
    "parse_run",
    "load_run",
    "default_run_text",
    "resolved_toml",
    "parse_set_option",
    "config_to_dict",
    "with_overrides",
]
