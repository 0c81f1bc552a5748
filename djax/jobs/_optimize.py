"""The optimize job: the best fit of the joint likelihood and the upper-bound profile of the effective moment,
resumable per grid value."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np

from ..errors import CheckpointError, DjaxError
from ..inference import (
    CERTIFIED_EXPERIMENTS,
    DEFAULT_DERIVED,
    CertifiedProfiler,
    NotSeparable,
    best_fit_model,
    make_model,
    point_observables,
    profile_grid,
    profile_solver,
)
from ..io import (
    BEST_FIT_FILE,
    HIERARCHY_FILE,
    LIMITS_FILE,
    PROFILE_FILE,
    atomic_write_json,
    atomic_write_text,
    read_best_fit,
    write_best_fit,
    write_hierarchy_table,
    write_limits,
    write_profile_csv,
)
from ._common import job, make_plots, say

PROFILE_STATE = "profile_state.json"
CERTIFIED_STATE = "certified_state.json"
CERTIFICATE_FILE = "hierarchy_certificate.json"


def direct_limits(registry) -> dict[str, float]:
    """The Borexino and XENONnT limits (mu_B) the profile is compared with, from the registry."""
    return {"borexino": float(registry["borexino_mueff"].value), "xenonnt": float(registry["xenonnt_mueff"].value)}


@dataclass
class OptimizeOutput:
    """What ``djax.optimize`` returns: the best fit, the profile (dict), the folder and, for the certified
    profile, ``hierarchy``: the ``hierarchy.csv`` table as an xarray Dataset (dimension ``m_Aprime``)."""

    best_fit: dict
    profile: dict | None
    folder: Path
    hierarchy: Any = None


def hierarchy_dataset(rows, *, cl: float, terms: Mapping[str, Any], limits: Mapping[str, float]):
    """The certified profile rows as an xarray Dataset with units and long names."""
    import xarray as xr

    m = np.array([r["m_Aprime_GeV"] for r in rows])
    data = {
        "epsilon_max": (
            "m_Aprime",
            np.array([r["epsilon_max"] for r in rows]),
            {"units": "1", "long_name": "largest kinetic mixing the kinetic-mixing terms allow"},
        ),
        "status": (
            "m_Aprime",
            np.array([r["status"] for r in rows], dtype=str),
            {"long_name": "converged: upper <= target_gap * lower; excluded: no epsilon allowed at this mass"},
        ),
    }
    for name, _, _ in CERTIFIED_EXPERIMENTS:
        for side, what in (("lower", "best feasible value"), ("upper", "certified upper bound")):
            data[f"{name}_{side}"] = (
                "m_Aprime",
                np.array([r[f"{name}_{side}_muB"] for r in rows]),
                {"units": "mu_B", "long_name": f"largest {name} equivalent moment: {what}"},
            )
    ds = xr.Dataset(
        {k: xr.Variable(*v) for k, v in data.items()},
        coords={"m_Aprime": ("m_Aprime", m, {"units": "GeV", "long_name": "dark-photon mass"})},
        attrs={
            "cl": cl,
            **{f"terms_{k}": ", ".join(v) for k, v in terms.items()},
            **{f"{k}_limit_muB": float(v) for k, v in limits.items()},
        },
    )
    return ds


def hierarchy_table(prof: dict, limits: Mapping[str, float]) -> str:
    """Text table: the profile maxima against the direct limits, the distance in orders of magnitude."""
    lines = [
        f"{prof['parameter'] + ' [' + prof['units'] + ']':>18} {'max mu_Bx [muB]':>16} {'log10(lim/max)':>15} "
        f"{'max mu_Xe [muB]':>16} {'log10(lim/max)':>15}"
    ]
    for i, m in enumerate(prof["grid"]):
        row = f"{m:18.4e}"
        for exp in ("borexino", "xenonnt"):
            v = prof[exp][i]
            if np.isfinite(v) and v > 0:
                row += f" {v:16.4e} {math.log10(limits[exp] / v):15.2f}"
            else:
                row += f" {'not converged':>16} {'-':>15}"
        lines.append(row)
    return "\n".join(lines)


def _best_fit(prep, folder, quiet):
    cfg, o = prep.config, prep.config.optimize
    path = folder.path / BEST_FIT_FILE
    if folder.resumed and path.is_file():
        say("best fit: kept from the interrupted run", quiet)
        return read_best_fit(path)
    model = make_model(prep.spec, prep.priors, Q_F=cfg.model.Q_F, br_inv=cfg.model.br_inv)
    say(f"djax optimize: best fit of {list(prep.ids)} from {o.n_starts} starts ...", quiet)
    with folder.timer("best_fit"):
        fit = best_fit_model(
            model,
            {},
            n_starts=o.n_starts,
            steps=o.steps,
            learning_rate=o.learning_rate,
            seed=cfg.run.seed,
            optimizer=o.method,
        )
    best = {k: float(np.asarray(v)) for k, v in fit.constrained.items() if np.ndim(v) == 0}
    vals = {p.name: jnp.asarray(p.value if p.is_fixed else best[p.name]) for p in prep.priors}
    obs, lnl = point_observables(vals, prep.spec, Q_F=cfg.model.Q_F, br_inv=cfg.model.br_inv)
    out = {
        "neg_log_likelihood": float(-np.sum(np.asarray(lnl))),
        "neg_log_posterior_density": float(fit.value),
        "parameters": {p.name: float(vals[p.name]) for p in prep.priors},
        "terms": {t: float(v) for t, v in zip(prep.ids, np.asarray(lnl))},
        "observables": {k: float(np.real(np.asarray(obs[k]))) for k in DEFAULT_DERIVED if k in obs},
        "starts_agreeing": int(fit.n_within),
        "n_starts": o.n_starts,
    }
    write_best_fit(path, out)
    folder.checkpointed()
    say(
        f"best fit: -ln L = {out['neg_log_likelihood']:.6g} (-ln posterior density "
        f"{out['neg_log_posterior_density']:.6g}; {fit.n_within}/{o.n_starts} starts agree)",
        quiet,
    )
    return out


def _read_profile_state(path: Path, grid) -> list[dict]:
    if not path.is_file():
        return []
    try:
        st = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CheckpointError(path, "profile_state", f"corrupt profile checkpoint (not JSON: {exc})") from None
    rows = st.get("rows") if isinstance(st, dict) else None
    if not isinstance(rows, list) or [r.get("value") for r in rows] != [float(g) for g in grid[: len(rows)]]:
        raise CheckpointError(path, "rows", "the stored profile rows do not belong to this grid")
    return rows


def _profile(prep, folder, quiet, progress) -> dict:
    from ..model import PARAMETER_INFO

    cfg, o = prep.config, prep.config.optimize
    pr = o.profile
    grid = profile_grid(pr.low, pr.high, pr.n_points, pr.scale)
    state_path = folder.path / PROFILE_STATE
    rows = _read_profile_state(state_path, grid) if folder.resumed else []
    solver = profile_solver(
        prep.spec,
        prep.priors,
        parameter=pr.parameter,
        cl=o.cl,
        n_starts=pr.n_starts,
        seed=cfg.run.seed,
        Q_F=cfg.model.Q_F,
        br_inv=cfg.model.br_inv,
        outer_iters=pr.outer_iters,
        inner_steps=pr.inner_steps,
    )
    say(
        f"profile of the Borexino- and XENONnT-equivalent moments over {len(grid)} values of {pr.parameter} "
        f"({pr.n_starts} starts each, augmented Lagrangian)" + (f"; {len(rows)} done before" if rows else ""),
        quiet,
    )
    from tqdm.auto import tqdm

    bar = tqdm(total=len(grid), initial=len(rows), desc=f"profile ({pr.parameter})", unit="pt", disable=not progress)
    try:
        with folder.timer("profile"):
            # grid values in fixed batches of optimize.profile.batch (one vmapped solve each), stored as they finish
            while len(rows) < len(grid):
                todo = list(grid[len(rows) : len(rows) + pr.batch])
                padded = todo + [todo[-1]] * (pr.batch - len(todo))  # one compiled shape for every batch
                rows.extend(solver.solve_many(padded)[: len(todo)])
                atomic_write_json(state_path, {"parameter": pr.parameter, "rows": rows})
                folder.checkpointed()
                bar.update(len(todo))
    finally:
        bar.close()
    return {
        "parameter": pr.parameter,
        "units": PARAMETER_INFO[pr.parameter].units,
        "grid": [r["value"] for r in rows],
        "borexino": [r["borexino"] for r in rows],
        "xenonnt": [r["xenonnt"] for r in rows],
        "feasible_borexino": [r["feasible_borexino"] for r in rows],
        "feasible_xenonnt": [r["feasible_xenonnt"] for r in rows],
        "argmax_borexino": [r["argmax_borexino"] for r in rows],
        "argmax_xenonnt": [r["argmax_xenonnt"] for r in rows],
        "indirect_terms": list(solver.indirect_terms),
        "rows": rows,
    }


def _certified(prep, folder, quiet, progress) -> tuple[dict, list]:
    cfg, o = prep.config, prep.config.optimize
    pr = o.profile
    grid = profile_grid(pr.low, pr.high, pr.n_points, pr.scale)
    state_path = folder.path / CERTIFIED_STATE
    state = {}
    if folder.resumed and state_path.is_file():
        try:
            state = json.loads(state_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CheckpointError(state_path, "certified_state", f"corrupt checkpoint (not JSON: {exc})") from None
        done = [r.get("m_Aprime_GeV") for r in state.get("rows", [])]
        if done != [float(g) for g in grid[: len(done)]]:
            raise CheckpointError(state_path, "rows", "the stored profile rows do not belong to this grid")
    try:
        prof = CertifiedProfiler(
            prep.spec,
            prep.priors,
            cl=o.cl,
            Q_F=cfg.model.Q_F,
            br_inv=cfg.model.br_inv,
            seed=cfg.run.seed,
            n_random=pr.n_starts,
            target_gap=pr.target_gap,
            outer_iters=pr.outer_iters,
            inner_steps=pr.inner_steps,
            n_polish=pr.n_polish,
        )
    except NotSeparable as exc:
        raise DjaxError(prep.config.source, "optimize.profile.method", str(exc)) from None
    say(
        "certified profile over {} values of m_Aprime: kinetic-mixing terms {}, dark-sector terms {}{}".format(
            len(grid),
            [prep.spec.ids[i] for i in prof.roles["kinetic"]],
            [prep.spec.ids[i] for i in prof.roles["dark"]],
            f" (not used by the upper bound: {prof.bounds['unused']})" if prof.bounds["unused"] else "",
        ),
        quiet,
    )
    from tqdm.auto import tqdm

    candidates = state.get("candidates")
    if candidates is None:
        n = prof.n_starts()
        bar = tqdm(total=n, desc="inner solver (starts)", unit="start", disable=not progress)
        try:
            with folder.timer("inner_solver"):
                candidates = prof.inner(progress=lambda k, _n: bar.update(k - bar.n))
        finally:
            bar.close()
        state = {"candidates": candidates, "rows": []}
        atomic_write_json(state_path, state)
        folder.checkpointed()
    rows = list(state.get("rows", []))
    bar = tqdm(
        total=len(grid), initial=len(rows), desc="certified profile (m_Aprime)", unit="mass", disable=not progress
    )
    try:
        with folder.timer("profile"):
            while len(rows) < len(grid):
                todo = list(grid[len(rows) : len(rows) + pr.batch])
                rows.extend(prof.rows(todo, candidates))
                atomic_write_json(state_path, {"candidates": candidates, "rows": rows})
                folder.checkpointed()
                bar.update(len(todo))
    finally:
        bar.close()
    res = prof.result(rows)
    return res, rows


def _write_certified(prep, folder, res, rows, quiet):
    o = prep.config.optimize
    limits = direct_limits(prep.registry)
    meta = {
        "what": f"certified upper-bound profile of the equivalent moments at {o.cl:.0%} CL",
        "lower": "best feasible point found, re-evaluated with djax.observables and every constraint checked",
        "upper": "certified upper bound (docs/physics.md, certified profile)",
        "kinetic_terms": ", ".join(res.terms["kinetic"]),
        "dark_terms": ", ".join(res.terms["dark"]),
        "target_gap": f"{o.profile.target_gap:g}",
        "run": prep.config.run.name,
    }
    write_hierarchy_table(folder.path / HIERARCHY_FILE, res.table(), metadata=meta)
    atomic_write_json(
        folder.path / CERTIFICATE_FILE,
        {
            "cl": o.cl,
            "terms": res.terms,
            "not_used_by_upper_bound": res.unused_in_bound,
            "bounds": res.bounds,
            "rows": rows,
            "limits_muB": limits,
        },
    )
    lines = [
        f"{'m_Aprime [GeV]':>14} {'eps_max':>10} {'Borexino lower':>15} {'upper':>11} {'gap':>6} "
        f"{'log10(lim/up)':>13} {'XENONnT lower':>14} {'upper':>11} {'status':>14}"
    ]
    for r in rows:
        bl, bu = r["borexino_lower_muB"], r["borexino_upper_muB"]
        xl, xu = r["xenonnt_lower_muB"], r["xenonnt_upper_muB"]
        gap = f"{bu / bl:6.2f}" if bl > 0 else "     -"
        dist = f"{math.log10(limits['borexino'] / bu):13.2f}" if bu > 0 else f"{'-':>13}"
        lines.append(
            f"{r['m_Aprime_GeV']:14.4e} {r['epsilon_max']:10.3e} {bl:15.4e} {bu:11.4e} {gap} {dist} "
            f"{xl:14.4e} {xu:11.4e} {r['status']:>14}"
        )
    table = "\n".join(lines)
    say(table, quiet)
    atomic_write_text(folder.path / "hierarchy.txt", table + "\n")
    return hierarchy_dataset(rows, cl=o.cl, terms=res.terms, limits=limits)


def optimize(
    config: Any = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    out=None,
    resume: bool | None = None,
    overwrite: bool | None = None,
    progress: bool = True,
    quiet: bool = False,
    argv=None,
) -> OptimizeOutput:
    """Gradient-based fits (``djax optimize``): the best fit of the joint likelihood from many random starts
    (vmapped; Adam then L-BFGS, optax) and the upper-bound profile of the effective moment.

    Profile: for each value of ``optimize.profile.parameter`` (default m_A') on its grid, maximise ln mu_equiv
    (Borexino and, separately, XENONnT) over all other free parameters subject to every *indirect* term lying
    within its ``optimize.cl`` region (:func:`djax.inference.profile_solver`). Each grid value is stored as it
    completes (``profile_state.json``); a resumed job continues with the next one. Writes ``best_fit.json``,
    ``profile.csv``, ``limits.json``, ``hierarchy.txt`` and plots. Arguments as :func:`djax.jobs.sample`.
    """
    with job("optimize", config, overrides, resume=resume, overwrite=overwrite, out=out, argv=argv, quiet=quiet) as (
        prep,
        folder,
    ):
        cfg, o = prep.config, prep.config.optimize
        best = _best_fit(prep, folder, quiet)
        prof = None
        hier = None
        if o.profile.enabled and o.profile.method == "certified":
            res, rows = _certified(prep, folder, quiet, progress)
            hier = _write_certified(prep, folder, res, rows, quiet)
            prof = {"parameter": "m_Aprime", "certified": res, "rows": rows}
        elif o.profile.enabled:
            prof = _profile(prep, folder, quiet, progress)
            limits = direct_limits(prep.registry)
            write_profile_csv(
                folder.path / PROFILE_FILE,
                prof["parameter"],
                prof["rows"],
                comments=(
                    f"djax optimize: largest equivalent moments (mu_B) allowed at {o.cl:.0%} CL "
                    f"by {', '.join(prof['indirect_terms'])}",
                    "maxima of a multi-start local optimiser: lower bounds on the true maxima",
                ),
            )
            write_limits(
                folder.path / LIMITS_FILE,
                {
                    "borexino_mu_limit_muB": limits["borexino"],
                    "xenonnt_mu_limit_muB": limits["xenonnt"],
                    "cl": o.cl,
                    "parameter": prof["parameter"],
                    "indirect_terms": prof["indirect_terms"],
                },
            )
            table = hierarchy_table(prof, limits)
            say(table, quiet)
            atomic_write_text(folder.path / "hierarchy.txt", table + "\n")
        if cfg.output.plots:
            make_plots(folder.path, cfg, quiet)
    return OptimizeOutput(best, prof, folder.path, hier)


__all__ = ["optimize", "OptimizeOutput", "hierarchy_table", "direct_limits"]
