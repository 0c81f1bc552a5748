"""Jobs users run, driven by a validated run file: NUTS sampling, optax fits and upper-bound profiles, scans.

Each job function takes a ``RunConfig`` (``djax.io.load_run``) and an optional ``RunFolder``; without a folder
it creates one (refusing to overwrite unless the run file says so). The CLI calls the same functions.
"""
from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._x64 import enable_x64
from ..likelihood import TermSpec, is_direct, needs_solar, preset_ids, terms_from_observables
from ..likelihood._forms import COUNTING, GAUSSIAN, HALF_GAUSSIAN, POISSON_ZERO_COUNT
from ..observables import observables
from ._model import DEFAULT_DERIVED, make_model
from ._priors import PriorSpec, params_from_values, resolve_priors

#: Direct-detection limits used in the hierarchy table (PHYSICS.md 4.3; registry entries borexino_mueff, xenonnt_mueff).
DIRECT_LIMITS_MUB = {"borexino": 2.8e-11, "xenonnt": 6.3e-12}


# ------------------------------------------------------------------------------------------------ config helpers
def load_config(config: Any = None, **overrides):
    """A RunConfig from None (embedded default), a path, TOML text or a RunConfig; ``overrides`` are
    dotted run-file keys (``{"sample.num_chains": 2}``)."""
    from ..io._runfile import RunConfig, load_run, parse_run

    if isinstance(config, RunConfig):
        if not overrides:
            return config
        from ..io._runfile import resolved_toml

        return parse_run(resolved_toml(config), overrides=overrides)
    if isinstance(config, str) and "\n" in config:
        return parse_run(config, overrides=overrides or None)
    return load_run(config, overrides=overrides or None)


def spec_from_config(config) -> TermSpec:
    """Compile the run file's likelihood (preset, include/exclude, user registry, overrides) to a TermSpec."""
    from ..io import compile_terms, load_registry

    lk = config.likelihood
    reg = load_registry(lk.registry or None)
    if lk.overrides:
        unknown = [t for t in lk.overrides if t not in reg]
        if unknown:
            raise ValueError(f"likelihood.overrides.{unknown[0]}: unknown term id; known ids: {list(reg.ids)}")
        reg = reg.with_overrides({k: dict(v) for k, v in lk.overrides.items()})
    ids = preset_ids(lk.preset, alpha_e=lk.alpha_e, edm=lk.edm, include=lk.include, exclude=lk.exclude)
    for key, group in (("likelihood.include", lk.include), ("likelihood.exclude", lk.exclude)):
        for tid in group:
            if tid not in reg:
                raise ValueError(f"{key}: unknown term id {tid!r}; known ids: {list(reg.ids)}")
    return compile_terms(reg, ids)


def priors_from_config(config) -> tuple[PriorSpec, ...]:
    """Resolved priors (all 13 parameters) of a run file, honouring ``model.dark_coupling``."""
    return resolve_priors(config.priors, dark_coupling=config.model.dark_coupling)


def model_from_config(config, spec: TermSpec | None = None):
    """The NumPyro model a run file describes (priors, likelihood preset and model options)."""
    spec = spec_from_config(config) if spec is None else spec
    return make_model(spec, priors_from_config(config), Q_F=config.model.Q_F, br_inv=config.model.br_invisible)


def _folder(config, run_folder):
    if run_folder is not None:
        return run_folder
    from ..io._outputs import RunFolder

    folder = RunFolder.create(config.output_path, overwrite=config.run.overwrite, resume=config.run.resume)
    folder.write_metadata(config, argv=sys.argv, status="running")
    return folder


def _say(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, flush=True)


# ------------------------------------------------------------------------------------------------ sampling
@dataclass
class SampleOutput:
    """What ``djax.sample`` returns: the ArviZ DataTree, the diagnostics summary and the run folder."""

    datatree: Any
    summary: Any
    folder: Path
    result: Any


def sample(config: Any = None, run_folder=None, *, progress: bool = True, quiet: bool = False) -> SampleOutput:
    """NUTS posterior sampling of the dark-sector parameters (``djax sample``).

    Chains are vectorised on one device (``chain_method = "vectorized"``) or spread over devices
    ("parallel"); the sampler state is checkpointed every ``sample.checkpoint_every`` draws, and a job
    started with ``run.resume = true`` (``--resume``) continues from the last checkpoint. Writes
    ``posterior.nc`` (ArviZ DataTree: posterior with parameters, per-term ln L and derived observables;
    sample_stats), ``summary.txt``/``summary.csv`` (R-hat, ESS) and plots.
    """
    from ._arviz import summarize, to_datatree, write_datatree
    from ._sample import run_nuts

    enable_x64()
    config = load_config(config)
    folder = _folder(config, run_folder)
    spec = spec_from_config(config)
    priors = priors_from_config(config)
    model = make_model(spec, priors, Q_F=config.model.Q_F, br_inv=config.model.br_invisible)
    s = config.sample
    free = [p.name for p in priors if not p.is_fixed]
    _say(f"djax sample: preset {config.likelihood.preset!r}, terms {list(spec.ids)}, {len(free)} free parameters, "
         f"{s.num_chains} chains x ({s.num_warmup} warm-up + {s.num_samples} draws)", quiet)
    from numpyro.infer import init_to_uniform

    res = run_nuts(
        model, {}, num_warmup=s.num_warmup, num_samples=s.num_samples, num_chains=s.num_chains,
        seed=config.run.seed, chain_method=s.chain_method, target_accept=s.target_accept,
        max_tree_depth=s.max_tree_depth, dense_mass=s.dense_mass,
        checkpoint_dir=str(Path(folder.path) / "checkpoints"),
        checkpoint_every=s.checkpoint_every or None, resume=config.run.resume, progress=progress,
        init_strategy=init_to_uniform(radius=0.5),
    )
    dt = to_datatree(res, attrs={"djax_preset": config.likelihood.preset, "seed": config.run.seed,
                                  "terms": ",".join(spec.ids)})
    written = []
    for fmt in config.output.formats:
        name = "posterior.nc" if fmt == "netcdf" else "posterior.zarr"
        write_datatree(dt, Path(folder.path) / name)
        written.append(name)
    summary = summarize(dt, var_names=free)
    folder.write_text("summary.txt", summary.text() + "\n")
    folder.write_text("summary.csv", summary.table.to_csv())
    folder.timings.update({f"sample_{k}": v for k, v in res.timings.items()})
    _say(summary.text(), quiet)
    _say(f"divergences: {res.num_divergences}; wrote {', '.join(written)} to {folder.path}", quiet)
    if config.output.plots:
        _plots(folder.path, config, quiet)
    return SampleOutput(dt, summary, Path(folder.path), res)


def _plots(path, config, quiet):
    try:
        from ..plotting import plot_run
    except ImportError:  # pragma: no cover - plotting ships with djax
        return
    try:
        for p in plot_run(path, formats=(config.output.plot_format, "png")):
            _say(f"wrote {p}", quiet)
    except Exception as exc:  # plotting must never lose a finished run
        print(f"djax: plotting failed ({exc}); the results are saved, retry with `djax plot {path}`",
              file=sys.stderr)


# ------------------------------------------------------------------------------------------------ optimisation
def _latent_box(priors, exclude=()):
    free = [p for p in priors if not p.is_fixed and p.name not in exclude]
    lo = np.array([p.latent_bounds()[0] for p in free])
    hi = np.array([p.latent_bounds()[1] for p in free])
    return free, lo, hi


def _values_from_z(z, free, lo, hi, priors, extra=None):
    """Unconstrained z (d,) -> dict of physical values (sigmoid onto each latent box)."""
    u = lo + (hi - lo) * jax.nn.sigmoid(z)
    vals = {p.name: jnp.asarray(p.value, dtype=float) for p in priors if p.is_fixed}
    for i, p in enumerate(free):
        vals[p.name] = p.to_physical(u[i])
    if extra:
        vals.update(extra)
    return vals


def cl_thresholds(spec: TermSpec, cl: float) -> np.ndarray:
    """ln L_i at which term i sits at confidence level ``cl`` (one-sided for limits, two-sided for Gaussians).

    Poisson zero-count: ln(1 - cl); half-Gaussian: -z^2/2 with z = Phi^{-1}((1+cl)/2); Gaussian: the same z
    (|x - mean| <= z sigma); counting: ln(1 - cl) (zero-count limit); curves: by their shape.
    """
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 * (1.0 + cl))
    out = []

    def thr(code):
        if code == POISSON_ZERO_COUNT or code == COUNTING:
            return math.log(1.0 - cl)
        if code in (HALF_GAUSSIAN, GAUSSIAN):
            return -0.5 * z * z
        raise ValueError(f"no CL threshold for form code {code}")

    if spec.scalar is not None:
        out += [thr(int(c)) for c in np.asarray(spec.scalar.form)]
    if spec.curves is not None:
        out += [thr(int(c)) for c in np.asarray(spec.curves.shape)]
    return np.array(out)


@dataclass
class OptimizeOutput:
    best_fit: dict
    profile: dict | None
    folder: Path


def _point_obs(vals, spec, Q_F, br_inv):
    p = params_from_values(vals, Q_F=Q_F)
    obs = observables(p, solar=True)
    terms = terms_from_observables(obs, spec, br_inv=br_inv)
    return obs, jnp.stack([terms[t] for t in spec.ids]) if spec.ids else jnp.zeros((0,))


def optimize(config: Any = None, run_folder=None, *, quiet: bool = False) -> OptimizeOutput:
    """Gradient-based fits (``djax optimize``): the best fit of the joint likelihood from many random starts
    (vmapped; Adam then L-BFGS, optax) and the upper-bound profile of the effective moment.

    Profile: for each value m of ``optimize.profile.parameter`` (default m_A') on its grid, maximise
    ln mu_equiv (Borexino-equivalent and, separately, XENONnT-equivalent) over all other free parameters subject
    to every *indirect* term (all terms except the direct-detection ones) lying within its ``optimize.cl``
    region, c_i = lnL_i^CL - lnL_i(x) <= 0 (:func:`cl_thresholds`), by the augmented-Lagrangian method with
    multi-start (Nocedal & Wright ch. 17; ``djax.inference._optimize.maximize_subject_to``). Writes
    ``best_fit.json``, ``profile.csv``, ``limits.json`` and the hierarchy plot.
    """
    from ._optimize import best_fit_model, profile

    enable_x64()
    config = load_config(config)
    folder = _folder(config, run_folder)
    spec = spec_from_config(config)
    priors = priors_from_config(config)
    model = make_model(spec, priors, Q_F=config.model.Q_F, br_inv=config.model.br_invisible)
    o = config.optimize
    Q_F, br_inv = config.model.Q_F, config.model.br_invisible

    # --- best fit --------------------------------------------------------------------------------------
    _say(f"djax optimize: best fit of {list(spec.ids)} from {o.n_starts} starts ...", quiet)
    fit = best_fit_model(model, {}, n_starts=o.n_starts, steps=o.steps, learning_rate=o.learning_rate,
                         seed=config.run.seed, optimizer=o.method)
    best = {k: float(np.asarray(v)) for k, v in fit.constrained.items() if np.ndim(v) == 0}
    vals = {p.name: jnp.asarray(best.get(p.name, p.value if p.is_fixed else np.nan)) for p in priors}
    obs, lnl = _point_obs(vals, spec, Q_F, br_inv)
    best_fit = {
        "neg_log_likelihood": float(-np.sum(np.asarray(lnl))),
        "neg_log_posterior_density": float(fit.value),
        "parameters": {p.name: float(vals[p.name]) for p in priors},
        "terms": {t: float(v) for t, v in zip(spec.ids, np.asarray(lnl))},
        "observables": {k: float(np.real(np.asarray(obs[k]))) for k in DEFAULT_DERIVED if k in obs},
        "starts_agreeing": int(fit.n_within), "n_starts": o.n_starts,
    }
    folder.write_json("best_fit.json", best_fit)
    _say(f"best fit: -ln L = {best_fit['neg_log_likelihood']:.6g} (-ln posterior density "
         f"{best_fit['neg_log_posterior_density']:.6g}; {fit.n_within}/{o.n_starts} starts agree)", quiet)

    prof = None
    if o.profile.enabled:
        prof = upper_bound_profile(config, spec=spec, priors=priors, quiet=quiet)
        lines = ["m_Aprime_GeV,borexino_mu_equiv_max_muB,xenonnt_mu_equiv_max_muB,feasible_borexino,feasible_xenonnt"]
        for row in zip(prof["grid"], prof["borexino"], prof["xenonnt"], prof["feasible_borexino"],
                       prof["feasible_xenonnt"]):
            lines.append(",".join(f"{v:.10e}" if isinstance(v, float) else str(v) for v in row))
        folder.write_text("profile.csv", "\n".join(lines) + "\n")
        folder.write_json("limits.json", {"borexino_mu_limit_muB": DIRECT_LIMITS_MUB["borexino"],
                                          "xenonnt_mu_limit_muB": DIRECT_LIMITS_MUB["xenonnt"],
                                          "cl": o.cl, "parameter": o.profile.parameter,
                                          "indirect_terms": prof["indirect_terms"]})
        _say(hierarchy_table(prof), quiet)
        folder.write_text("hierarchy.txt", hierarchy_table(prof) + "\n")
    if config.output.plots:
        _plots(folder.path, config, quiet)
    return OptimizeOutput(best_fit, prof, Path(folder.path))


def upper_bound_profile(config, *, spec=None, priors=None, grid=None, n_starts=None, quiet=True,
                        outer_iters=None, inner_steps=None) -> dict:
    """The largest Borexino-/XENONnT-equivalent moment allowed by the indirect terms, on a grid of the profile
    parameter (see :func:`optimize`). Returns a dict with ``grid``, ``borexino``, ``xenonnt`` (maxima in mu_B,
    NaN where no start is feasible), feasibility flags and the maximising points.

    Both experiments and every grid point are solved in one vmapped augmented-Lagrangian run (one compilation):
    the objective is ln mu_equiv of the experiment selected by an index carried along with the grid value."""
    from ._optimize import profile

    spec = spec_from_config(config) if spec is None else spec
    priors = priors_from_config(config) if priors is None else priors
    o = config.optimize
    pr = o.profile
    pname = pr.parameter
    if grid is None:
        grid = (np.geomspace(pr.low, pr.high, pr.n_points) if pr.scale == "log"
                else np.linspace(pr.low, pr.high, pr.n_points))
    grid = np.asarray(grid, dtype=float)
    n = len(grid)
    direct = np.array(is_direct(spec))
    keep = np.flatnonzero(~direct)
    thr = jnp.asarray(cl_thresholds(spec, o.cl)[keep])
    free, lo, hi = _latent_box(priors, exclude=(pname,))
    Q_F, br_inv = config.model.Q_F, config.model.br_invisible
    n_starts = n_starts or pr.n_starts
    key = jax.random.PRNGKey(config.run.seed + 1)
    # starts: masses, angles, couplings spread over their boxes; Yukawas near the centre of their signed-log
    # latent (|y| << any bound), so every start begins feasible for the cLFV terms and climbs towards the bound
    spread = np.array([0.3 if p.type == "signed_log_uniform" else 1.5 for p in free])
    x0s = jax.random.normal(key, (n_starts, len(free))) * spread
    experiments = ("borexino", "xenonnt")

    def objective(z, th):
        m, which = th
        obs, _ = _point_obs(_values_from_z(z, free, lo, hi, priors, {pname: m}), spec, Q_F, br_inv)
        mu = jnp.where(which == 0, obs["borexino_mu_equiv_muB"], obs["xenonnt_mu_equiv_muB"])
        return jnp.log(mu + 1e-300)

    def constraints(z, th):
        m, _ = th
        _, lnl = _point_obs(_values_from_z(z, free, lo, hi, priors, {pname: m}), spec, Q_F, br_inv)
        return thr - lnl[keep]

    thetas = (jnp.asarray(np.concatenate([grid, grid])), jnp.asarray(np.repeat([0, 1], n)))
    _say(f"profile of the Borexino- and XENONnT-equivalent moments over {n} values of {pname} "
         f"({n_starts} starts each, augmented Lagrangian) ...", quiet)
    res = profile(objective, constraints, thetas, x0s, outer_iters=outer_iters or pr.outer_iters,
                  inner_steps=inner_steps or pr.inner_steps, gtol=1e-7, tol=1e-6, rtol=1e-8)
    value = np.asarray(res.value, dtype=float)
    zs = np.asarray(res.x)
    out = {"grid": [float(g) for g in grid], "parameter": pname,
           "indirect_terms": [spec.ids[i] for i in keep]}
    for e, exp in enumerate(experiments):
        sl = slice(e * n, (e + 1) * n)
        out[exp] = [float(v) for v in np.exp(value[sl])]
        out[f"feasible_{exp}"] = [bool(f) for f in np.isfinite(value[sl])]
        out[f"argmax_{exp}"] = [
            {k: float(np.asarray(v)) for k, v in _values_from_z(jnp.asarray(zs[e * n + i]), free, lo, hi, priors,
                                                                 {pname: grid[i]}).items()}
            for i in range(n)
        ]
    return out


def hierarchy_table(prof: dict) -> str:
    """Text table: the profile maxima against the Borexino and XENONnT limits, ratio in orders of magnitude."""
    lines = [f"{'m_Aprime [GeV]':>15} {'max mu_Bx [muB]':>16} {'log10(lim/max)':>15} "
             f"{'max mu_Xe [muB]':>16} {'log10(lim/max)':>15}"]
    for i, m in enumerate(prof["grid"]):
        row = f"{m:15.4e}"
        for exp in ("borexino", "xenonnt"):
            v = prof[exp][i]
            if np.isfinite(v) and v > 0:
                row += f" {v:16.4e} {math.log10(DIRECT_LIMITS_MUB[exp] / v):15.2f}"
            else:
                row += f" {'infeasible':>16} {'-':>15}"
        lines.append(row)
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ scans
def build_point_fn(config):
    """One-point function for ``djax scan``: dict of the run file's parameter values -> per-point outputs.

    Outputs: ``loglike`` (joint ln L), ``allowed`` (every term within its 90% CL region), ``lnL_<term>`` and the
    scalar observables of interest."""
    spec = spec_from_config(config)
    priors = priors_from_config(config)
    thr = jnp.asarray(cl_thresholds(spec, 0.9))
    Q_F, br_inv = config.model.Q_F, config.model.br_invisible
    fixed = {p.name: p.value for p in priors if p.is_fixed}
    keys = [k for k in DEFAULT_DERIVED if k != "fermion_to_scalar_ratio"]

    def point_fn(values):
        vals = dict(values)
        for k, v in fixed.items():
            vals.setdefault(k, jnp.asarray(v, dtype=float))
        if "alpha_D" in vals and "g_D" not in vals:
            vals["g_D"] = jnp.sqrt(4.0 * jnp.pi * vals["alpha_D"])
        obs, lnl = _point_obs(vals, spec, Q_F, br_inv)
        out = {"loglike": jnp.sum(lnl), "allowed": jnp.all(lnl >= thr)}
        for i, t in enumerate(spec.ids):
            out[f"lnL_{t}"] = lnl[i]
        for k in keys:
            out[k] = jnp.real(obs[k])
        return out

    return point_fn


def scan(config: Any = None, run_folder=None, *, quiet: bool = False):
    """Streamed, sharded, resumable scan over the prior box (``djax scan``); see ``djax.inference._scan``."""
    from ._scan import plot_scan, run_scan_config

    enable_x64()
    config = load_config(config)
    folder = _folder(config, run_folder)
    res = run_scan_config(build_point_fn(config), config, folder.path, resume=config.run.resume)
    _say(f"scanned {res.n_done} points; allowed fraction {res.allowed_fraction:.6g}", quiet)
    if config.output.plots and res.maps:
        plot_scan(folder.path, fmt=config.output.plot_format)
    return res


def write_json(path, obj):  # pragma: no cover - convenience for notebooks
    Path(path).write_text(json.dumps(obj, indent=2))
