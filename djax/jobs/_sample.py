"""The sample job: posterior sampling of a run file (ChEES-HMC with prior independence moves, or NUTS),
checkpointed and resumable bit for bit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..inference import make_model, prior_draws, run_chees, run_nuts, summarize, to_datatree
from ..io import NutsCheckpoint, resolved_toml, term_provenance, write_datatree
from ._common import job, make_plots, say
from ._prepare import program_key, program_store

#: The chains' starting points: uniform in the central half of each latent range (NumPyro's init_to_uniform).
INIT_RADIUS = 0.5


def _br_invisible(model_section) -> float:
    """BR(A' -> invisible) the likelihood uses for the run file's ``[model]`` section."""
    b = getattr(model_section, "br_inv", None)
    return float(b if b is not None else model_section.br_invisible)


def term_records(registry, ids) -> dict:
    """``{term id: plain registry data}`` of the likelihood terms (values, CL, experiment, arXiv/journal, status,
    curve file and SHA-256) plus ``reference`` (one line) and the observable's units and long name."""
    from ..observables import OBSERVABLE_INFO, PARAMETER_CATALOGUE

    out = {}
    prov = term_provenance(registry, ids)
    for i in ids:
        e = registry[i]
        d = dict(prov[i])
        d["reference"] = str(e.reference)
        info = PARAMETER_CATALOGUE.get(e.observable) or OBSERVABLE_INFO.get(e.observable) or {}
        d["observable_units"] = info.get("units", "")
        d["observable_long_name"] = info.get("long_name", e.observable)
        out[i] = d
    return out


def run_attributes(prep) -> dict:
    """Root attributes of a sample run's ``posterior.nc`` besides the sampler settings: the resolved run file,
    the model options, the likelihood (preset, options, terms) and provenance, as plain data."""
    import dataclasses

    from .. import __version__

    cfg = prep.config
    lk = cfg.likelihood
    return {
        "title": f"djax posterior: run {cfg.run.name!r}, likelihood preset {lk.preset!r}",
        "djax_version": __version__,
        "djax_preset": lk.preset,
        "seed": cfg.run.seed,
        "terms": ",".join(prep.ids),
        "free_parameters": ",".join(cfg.free_parameters),
        "run_file": resolved_toml(cfg),
        "run_file_source": str(cfg.source),
        "model": dataclasses.asdict(cfg.model),
        "likelihood": {
            "preset": lk.preset,
            "include": list(lk.include),
            "exclude": list(lk.exclude),
            "alpha_e": lk.alpha_e,
            "edm": lk.edm,
            "mnu": lk.mnu,
            "registry": lk.registry or "packaged",
            "overrides": {k: dict(v) for k, v in lk.overrides.items()},
        },
        "references": "djax (this software, CITATION.cff); reference study: H. Zhang, arXiv:2603.25704 (2026); "
        "each likelihood term's source is in likelihood_terms",
        "layout": "groups posterior, prior, log_likelihood, sample_stats; see docs/outputs.md of djax",
    }


@dataclass
class SampleOutput:
    """What :func:`sample` returns: the ArviZ DataTree, the diagnostics summary, the run folder and the raw
    :class:`djax.inference.SamplingResult`."""

    datatree: Any
    summary: Any
    folder: Path
    result: Any


def sample(
    config: Any = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    out=None,
    resume: bool | None = None,
    overwrite: bool | None = None,
    progress: bool = True,
    quiet: bool = False,
    argv=None,
) -> SampleOutput:
    """Posterior sampling of the dark-sector parameters (``djax sample``), with ``sample.method``: ``"chees"``
    (ChEES-HMC over ``num_chains`` vectorised chains plus ``prior_moves`` independence moves from the prior per
    iteration, :func:`djax.inference.run_chees`) or ``"nuts"`` (:func:`djax.inference.run_nuts`).

    Args:
      config: None (the embedded default run file), a run-file path, TOML text or a :class:`djax.io.RunConfig`.
      overrides: dotted run-file keys (``{"sample.num_chains": 2}``), as ``--set``.
      out: run folder (overrides ``run.output_dir``); resume / overwrite: as ``--resume`` / ``--overwrite``.
      progress, quiet: progress bar and messages.

    The sampler state is checkpointed every ``sample.checkpoint_every`` draws (0: once per phase); a resumed
    job continues from the last checkpoint and gives the same draws as an uninterrupted one. Writes
    ``posterior.nc`` (ArviZ DataTree: groups ``posterior``, ``prior`` (the same model's prior draws, shaped like
    the posterior), ``log_likelihood`` (ln L per term per draw), ``sample_stats``; every variable with ``units``,
    ``long_name``, ``latex``; root attributes with the resolved run file, the priors, the likelihood terms and
    their sources as JSON; see ``docs/outputs.md``), ``summary.txt``/``summary.csv`` (R-hat, ESS) and plots.
    """
    with job("sample", config, overrides, resume=resume, overwrite=overwrite, out=out, argv=argv, quiet=quiet) as (
        prep,
        folder,
    ):
        cfg, s = prep.config, prep.config.sample
        model = make_model(prep.spec, prep.priors, Q_F=cfg.model.Q_F, br_inv=_br_invisible(cfg.model))
        free = list(cfg.free_parameters)
        say(
            f"djax sample: preset {cfg.likelihood.preset!r}, terms {list(prep.ids)}, {len(free)} free parameters, "
            f"{s.method}, {s.num_chains} chains x ({s.num_warmup} warm-up + {s.num_samples} draws)",
            quiet,
        )
        from numpyro.infer import init_to_uniform

        init = init_to_uniform(radius=INIT_RADIUS)
        segment = s.checkpoint_every if s.checkpoint_every > 0 else max(s.num_warmup, s.num_samples, 1)
        common = dict(
            num_warmup=s.num_warmup,
            num_samples=s.num_samples,
            num_chains=s.num_chains,
            seed=cfg.run.seed,
            target_accept=s.target_accept,
            dense_mass=s.dense_mass,
            segment=segment,
            store=NutsCheckpoint(folder.path / "checkpoints"),
            on_segment=folder.checkpointed,
            progress=progress,
            init_strategy=init,
        )
        with folder.timer("sample"):
            if s.method == "chees":
                res = run_chees(
                    model,
                    {},
                    max_leapfrog=s.max_leapfrog,
                    prior_moves=s.prior_moves,
                    programs=program_store(),
                    program_key=program_key(prep),
                    **common,
                )
            else:
                res = run_nuts(model, {}, chain_method=s.chain_method, max_tree_depth=s.max_tree_depth, **common)
        res.settings["init_strategy"] = f"init_to_uniform(radius={INIT_RADIUS})"  # a name, not a function repr
        with folder.timer("prior"):
            prior = prior_draws(model, num_chains=s.num_chains, num_draws=s.num_samples, seed=cfg.run.seed)
        dt = to_datatree(
            res,
            attrs=run_attributes(prep),
            prior=prior,
            priors=prep.priors,
            terms=term_records(prep.registry, prep.ids),
        )
        written = []
        for fmt in cfg.output.formats:
            name = "posterior.nc" if fmt == "netcdf" else "posterior.zarr"
            write_datatree(dt, folder.path / name)
            written.append(name)
        summary = summarize(dt, var_names=free)
        from ..io import atomic_write_text

        atomic_write_text(folder.path / "summary.txt", summary.text() + "\n")
        atomic_write_text(folder.path / "summary.csv", summary.table.to_csv())
        folder.timings.update({f"sample_{k}": v for k, v in res.timings.items()})
        say(summary.text(), quiet)
        say(f"divergences: {res.num_divergences}; wrote {', '.join(written)} to {folder.path}", quiet)
        if cfg.output.plots:
            make_plots(folder.path, cfg, quiet)
    return SampleOutput(dt, summary, folder.path, res)


__all__ = ["sample", "SampleOutput", "term_records", "run_attributes"]
