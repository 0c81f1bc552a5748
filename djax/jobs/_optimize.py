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

from ..errors import CheckpointError
from ..inference import (
    DEFAULT_DERIVED,
    best_fit_model,
    make_model,
    point_observables,
    profile_grid,
    profile_solver,
)
from ..io import (
    BEST_FIT_FILE,
    LIMITS_FILE,
    PROFILE_FILE,
    atomic_write_json,
    atomic_write_text,
    read_best_fit,
    write_best_fit,
    write_limits,
    write_profile_csv,
)
from ._common import job, make_plots, say

PROFILE_STATE = "profile_state.json"


def direct_limits(registry) -> dict[str, float]:
    """The Borexino and XENONnT limits (mu_B) the profile is compared with, from the registry."""
    return {"borexino": float(registry["borexino_mueff"].value), "xenonnt": float(registry["xenonnt_mueff"].value)}


@dataclass
class OptimizeOutput:
    best_fit: dict
    profile: dict | None
    folder: Path


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
        if o.profile.enabled:
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
    return OptimizeOutput(best, prof, folder.path)


__all__ = ["optimize", "OptimizeOutput", "hierarchy_table", "direct_limits"]
