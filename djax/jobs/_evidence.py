r"""The evidence job: nested sampling of ``Z = \int L(theta) pi(theta) dtheta`` for a run file (``djax evidence``).

The run's NumPyro model (every free parameter drawn through a uniform latent, so the prior is the unit cube) goes
to :func:`djax.inference.evidence` (Skilling, Bayesian Analysis 1 (2006) 833; slice-sampling replacements).
Writes ``evidence.json`` (:func:`djax.io.write_evidence`: ln Z, ``sqrt(H / n_live)``, H, live and dead points,
iterations, settings, terms, priors) and ``posterior.nc`` (the weighted nested samples resampled to equal weights,
one chain). Bayes factors of two run files are ``ln B = ln Z_1 - ln Z_2`` (same priors, other likelihoods, or
the other way round). The run is not checkpointed: ``--resume`` after an interruption runs it again in the same
folder (same seed, same result).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..inference import evidence as nested_evidence
from ..inference import make_model, plain_data, term_attrs, variable_attrs
from ..io import EVIDENCE_FILE, write_datatree, write_evidence
from ._common import job, make_plots, say, warn
from ._sample import _br_invisible, run_attributes, term_records


@dataclass
class EvidenceOutput:
    """What :func:`evidence` returns: the ``evidence.json`` record, the resampled posterior DataTree, the run
    folder and the raw :class:`djax.inference.EvidenceResult`."""

    record: dict
    datatree: Any
    folder: Path
    result: Any

    @property
    def log_Z(self) -> float:
        return float(self.record["log_Z"])

    @property
    def log_Z_err(self) -> float:
        return float(self.record["log_Z_err"])


def _attr(v: Any):
    v = plain_data(v)
    if isinstance(v, bool):
        return int(v)
    if v is None:
        return "None"
    if isinstance(v, (int, float, str)):
        return v
    return json.dumps(v)


def priors_record(priors) -> dict:
    """``{name: prior table + description}`` of the run's priors (plain data)."""
    return {p.name: {**p.as_dict(), "description": p.describe()} for p in priors}


def evidence_record(res, prep) -> dict:
    """The ``evidence.json`` record of an :class:`djax.inference.EvidenceResult` and its prepared job."""
    from .. import __version__

    cfg = prep.config
    return {
        "log_Z": res.log_Z,
        "log_Z_err": res.log_Z_err,
        "log_Z_err_mc": res.log_Z_err_mc,
        "information": res.information,
        "n_live": res.n_live,
        "n_dead": res.n_dead,
        "n_iterations": res.n_iterations,
        "n_likelihood_evals": res.n_likelihood_evals,
        "ess": res.ess,
        "converged": bool(res.converged),
        "termination": res.termination,
        "wall_time_s": res.wall_time_s,
        "equation": "Z = int L(theta) pi(theta) dtheta; log_Z_err = sqrt(H / n_live) (Skilling 2006)",
        "method": "nested sampling (Skilling 2006), constrained slice-sampling replacements",
        "settings": plain_data(dict(res.settings)),
        "latent_sites": list(res.latent_sites),
        "djax_version": __version__,
        "seed": cfg.run.seed,
        "preset": cfg.likelihood.preset,
        "dark_photon_decays": cfg.model.dark_photon_decays,
        "free_parameters": list(cfg.free_parameters),
        "terms": plain_data(term_records(prep.registry, prep.ids)),
        "priors": priors_record(prep.priors),
    }


def posterior_datatree(draws: Mapping[str, np.ndarray], record: Mapping[str, Any], prep):
    """Equally weighted nested-sampling draws (``{site: (n, ...)}``) as a DataTree (one chain): groups
    ``posterior`` and ``log_likelihood`` (ln L per term), attributes as a sample run's ``posterior.nc``."""
    from arviz_base import from_dict

    post = {k: np.asarray(v)[None] for k, v in draws.items() if not k.startswith("__")}
    dims = {k: [f"{k}_dim_{i}" for i in range(v.ndim - 2)] for k, v in post.items() if v.ndim > 2}
    terms = record["terms"]
    ll = {k[4:]: v for k, v in post.items() if k.startswith("lnL_")}
    ll = {**{t: ll[t] for t in terms if t in ll}, **{t: v for t, v in ll.items() if t not in terms}}
    data = {"posterior": post}
    if ll:
        data["log_likelihood"] = ll
        dims.update({t: dims[f"lnL_{t}"] for t in ll if f"lnL_{t}" in dims})
    root = {k: _attr(v) for k, v in run_attributes(prep).items()}
    root.update(
        title=f"djax nested-sampling posterior: run {prep.config.run.name!r}, likelihood preset "
        f"{prep.config.likelihood.preset!r}",
        layout="groups posterior (equally weighted draws of the nested samples, one chain), log_likelihood; "
        "the evidence is in evidence.json; see docs/outputs.md of djax",
        priors=json.dumps(record["priors"]),
        likelihood_terms=json.dumps(record["terms"]),
    )
    for k in ("log_Z", "log_Z_err", "log_Z_err_mc", "information", "n_live", "n_dead", "ess", "converged"):
        root[f"evidence_{k}"] = _attr(record[k])
    root["settings_json"] = json.dumps(record["settings"], sort_keys=True)
    dt = from_dict(data, dims=dims, attrs={"/": root})
    doc = {
        "posterior": "posterior draws (nested sampling, resampled to equal weights): latent sites <name>__u, "
        "physical parameters, derived observables, ln L per term (lnL_<term>)",
        "log_likelihood": "ln L of each likelihood term at each posterior draw",
    }
    for g in data:
        ds = dt[g].to_dataset()
        for v in ds.data_vars:
            a = (
                term_attrs(str(v), terms.get(str(v)))
                if g == "log_likelihood"
                else variable_attrs(str(v), priors=prep.priors, terms=terms)
            )
            ds[v].attrs.update({k: _attr(x) for k, x in a.items()})
        ds.attrs["description"] = doc[g]
        dt[g] = ds
    return dt


def evidence(
    config: Any = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    out=None,
    resume: bool | None = None,
    overwrite: bool | None = None,
    progress: bool = True,
    quiet: bool = False,
    argv=None,
) -> EvidenceOutput:
    r"""The Bayesian evidence ``Z = \int L(theta) pi(theta) dtheta`` of a run file by nested sampling
    (``djax evidence``); the ln Z error is ``sqrt(H / n_live)`` (Skilling 2006).

    Arguments as :func:`djax.jobs.sample`; settings in the run file's ``[evidence]`` section (``num_live_points``,
    ``dlogz``, ``max_samples``, ``num_delete``, ``num_slice_steps``, ``slice_width``, ``num_posterior_draws``).
    Writes ``evidence.json`` (read it with :func:`djax.io.read_evidence`) and ``posterior.nc`` (equally weighted
    draws) and prints ``ln Z = ... +- ...``.
    """
    with job("evidence", config, overrides, resume=resume, overwrite=overwrite, out=out, argv=argv, quiet=quiet) as (
        prep,
        folder,
    ):
        cfg, s = prep.config, prep.config.evidence
        model = make_model(prep.spec, prep.priors, Q_F=cfg.model.Q_F, br_inv=_br_invisible(cfg.model))
        say(
            f"djax evidence: preset {cfg.likelihood.preset!r}, terms {list(prep.ids)}, "
            f"{len(cfg.free_parameters)} free parameters, {s.num_live_points} live points, dlogz {s.dlogz:g}",
            quiet,
        )
        with folder.timer("nested"):
            res = nested_evidence(
                model,
                num_live_points=s.num_live_points,
                seed=cfg.run.seed,
                max_samples=s.max_samples,
                dlogz=s.dlogz,
                num_slice_steps=s.num_slice_steps or None,
                num_delete=s.num_delete or None,
                slice_width=s.slice_width,
                progress=progress and not quiet,
            )
        record = evidence_record(res, prep)
        write_evidence(folder.path / EVIDENCE_FILE, record)
        written = [EVIDENCE_FILE]
        with folder.timer("posterior"):
            n_draws = s.num_posterior_draws or max(1, int(round(res.ess)))
            draws = res.resample(n_draws, seed=cfg.run.seed)
            dt = posterior_datatree(draws, record, prep)
            for fmt in cfg.output.formats:
                name = "posterior.nc" if fmt == "netcdf" else "posterior.zarr"
                write_datatree(dt, folder.path / name)
                written.append(name)
        say(res.summary(), quiet)
        say(f"wrote {', '.join(written)} to {folder.path}", quiet)
        if cfg.output.plots:
            make_plots(folder.path, cfg, quiet)
        say(f"ln Z = {res.log_Z:.4f} +- {res.log_Z_err:.4f}", quiet)
        if not res.converged:
            warn(
                f"the evidence did not converge ({res.termination}, evidence.max_samples = {s.max_samples}); "
                "raise evidence.max_samples"
            )
    return EvidenceOutput(record, dt, folder.path, res)


__all__ = ["evidence", "EvidenceOutput", "evidence_record", "posterior_datatree", "priors_record"]
