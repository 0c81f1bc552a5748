"""The sample job: NUTS posterior sampling of a run file, checkpointed and resumable bit for bit."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..inference import make_model, run_nuts, summarize, to_datatree
from ..io import NutsCheckpoint, resolved_toml, write_datatree
from ._common import job, make_plots, say


@dataclass
class SampleOutput:
    """What :func:`sample` returns: the ArviZ DataTree, the diagnostics summary, the run folder and the raw
    :class:`djax.inference.SamplingResult`."""

    datatree: Any
    summary: Any
    folder: Path
    result: Any


def sample(config: Any = None, *, overrides: Mapping[str, Any] | None = None, out=None, resume: bool | None = None,
           overwrite: bool | None = None, progress: bool = True, quiet: bool = False, argv=None) -> SampleOutput:
    """NUTS posterior sampling of the dark-sector parameters (``djax sample``).

    Args:
      config: None (the embedded default run file), a run-file path, TOML text or a :class:`djax.io.RunConfig`.
      overrides: dotted run-file keys (``{"sample.num_chains": 2}``), as ``--set``.
      out: run folder (overrides ``run.output_dir``); resume / overwrite: as ``--resume`` / ``--overwrite``.
      progress, quiet: progress bar and messages.

    The sampler state is checkpointed every ``sample.checkpoint_every`` draws (0: once per phase); a resumed
    job continues from the last checkpoint and gives the same draws as an uninterrupted one. Writes
    ``posterior.nc`` (ArviZ DataTree), ``summary.txt``/``summary.csv`` (R-hat, ESS) and plots.
    """
    with job("sample", config, overrides, resume=resume, overwrite=overwrite, out=out, argv=argv,
             quiet=quiet) as (prep, folder):
        cfg, s = prep.config, prep.config.sample
        model = make_model(prep.spec, prep.priors, Q_F=cfg.model.Q_F, br_inv=cfg.model.br_invisible)
        free = list(cfg.free_parameters)
        say(f"djax sample: preset {cfg.likelihood.preset!r}, terms {list(prep.ids)}, {len(free)} free parameters, "
            f"{s.num_chains} chains x ({s.num_warmup} warm-up + {s.num_samples} draws)", quiet)
        from numpyro.infer import init_to_uniform

        segment = s.checkpoint_every if s.checkpoint_every > 0 else max(s.num_warmup, s.num_samples, 1)
        with folder.timer("sample"):
            res = run_nuts(model, {}, num_warmup=s.num_warmup, num_samples=s.num_samples, num_chains=s.num_chains,
                           seed=cfg.run.seed, chain_method=s.chain_method, target_accept=s.target_accept,
                           max_tree_depth=s.max_tree_depth, dense_mass=s.dense_mass, segment=segment,
                           store=NutsCheckpoint(folder.path / "checkpoints"), progress=progress,
                           init_strategy=init_to_uniform(radius=0.5))
        dt = to_datatree(res, attrs={"djax_preset": cfg.likelihood.preset, "seed": cfg.run.seed,
                                      "terms": ",".join(prep.ids), "run_file": resolved_toml(cfg)})
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


__all__ = ["sample", "SampleOutput"]
