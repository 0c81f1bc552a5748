"""The scan job: points over the prior box streamed in chunks into a Zarr store, sharded, resumable mid-scan."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax

from ..inference import build_point_fn, run_scan
from ..io import ScanStore
from ._common import job, make_plots, say


def scan(
    config: Any = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    out=None,
    resume: bool | None = None,
    overwrite: bool | None = None,
    progress: bool | None = None,
    quiet: bool = False,
    argv=None,
):
    """Streamed, sharded, resumable scan over the prior box (``djax scan``).

    Every chunk is durable (Zarr chunk + checksum + state file) before the next starts; a resumed job restarts at
    the first incomplete chunk and is bit-for-bit equal to an uninterrupted one. Returns the
    :class:`djax.inference.ScanResult`. Arguments as :func:`djax.jobs.sample`.
    """
    with job("scan", config, overrides, resume=resume, overwrite=overwrite, out=out, argv=argv, quiet=quiet) as (
        prep,
        folder,
    ):
        cfg, s = prep.config, prep.config.scan
        point_fn = build_point_fn(prep.spec, prep.priors, Q_F=cfg.model.Q_F, br_inv=cfg.model.br_inv, cl=s.cl)
        store = ScanStore(folder.path, writer=jax.process_index() == 0)
        with folder.timer("scan"):
            res = run_scan(
                point_fn,
                prep.priors,
                n_points=s.n_points,
                method=s.method,
                chunk_size=s.chunk_size,
                seed=cfg.run.seed,
                store=store,
                on_chunk=folder.checkpointed,
                grid_points_per_dim=s.grid_points_per_dim,
                projections=s.projections,
                bins=s.bins,
                store_keys=s.store,
                store_points=s.store_points,
                criterion=s.criterion,
                loglike_threshold=s.loglike_threshold,
                progress=progress,
            )
        folder.timings.update({f"scan_{k}": v for k, v in res.timings.items() if isinstance(v, (int, float))})
        say(
            f"scanned {res.n_done} points ({res.method}, {res.timings.get('devices', '?')} device(s)); "
            f"allowed fraction {res.allowed_fraction:.6g} ({res.criterion})",
            quiet,
        )
        if res.best_point is not None:
            say(
                f"best loglike {res.best_loglike:.6g} at "
                + ", ".join(f"{k}={v:.4g}" for k, v in res.best_point.items()),
                quiet,
            )
        if cfg.output.plots and res.maps:
            make_plots(folder.path, cfg, quiet)
    return res


__all__ = ["scan"]
