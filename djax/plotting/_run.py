"""Figures of a run folder, read through :mod:`djax.io`, written atomically in several formats."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path

from ..io import (
    BEST_FIT_FILE,
    LIMITS_FILE,
    PROFILE_FILE,
    SCAN_STATE_FILE,
    SCAN_SUMMARY_FILE,
    atomic_path,
    read_best_fit,
    read_datatree,
    read_limits,
    read_profile_csv,
    read_scan_summary,
)
from ._hierarchy import hierarchy_plot
from ._planes import epsilon_mass_plane, scan_map_plots
from ._posterior import corner_plot, observable_posteriors, trace_plot
from ._style import (
    DEFAULT_CURVES,
    DEFAULT_FORMATS,
    OBSERVABLES,
    PARAMETERS,
    PlotInputError,
    _posterior,
    _scalar_vars,
    _transforms_from_priors,
)


def save_figure(fig, path_stem, formats: Sequence[str] = DEFAULT_FORMATS, *, dpi: int = 150) -> list[Path]:
    """Write ``fig`` to ``<path_stem>.<fmt>`` for each format, each atomically; returns the written paths."""
    if isinstance(formats, str):
        formats = (formats,)
    stem = Path(path_stem)
    written = []
    for fmt in formats:
        fmt = fmt.lower().lstrip(".")
        path = stem.with_name(f"{stem.name}.{fmt}")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi)
        written.append(path)
    return written


def _read_run_toml(run_dir: Path) -> dict:
    p = run_dir / "run.toml"
    if not p.is_file():
        return {}
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PlotInputError(p, "<toml>", f"not valid TOML ({exc})") from None


def run_job(run_dir) -> str:
    """The job of a run folder: ``[run] job`` of its ``run.toml``, else guessed from the files present."""
    run_dir = Path(run_dir)
    job = _read_run_toml(run_dir).get("run", {}).get("job")
    if job in ("sample", "optimize", "scan"):
        return job
    if (run_dir / SCAN_SUMMARY_FILE).is_file() or (run_dir / SCAN_STATE_FILE).is_file():
        return "scan"
    if (run_dir / "posterior.nc").is_file():
        return "sample"
    if (run_dir / PROFILE_FILE).is_file():
        return "optimize"
    raise PlotInputError(
        run_dir / "run.toml",
        "run.job",
        "run file not found (or it has no [run] job), and the "
        "folder holds none of posterior.nc, profile.csv, scan_summary.json",
    )


def best_fit_point(run_dir) -> dict | None:
    """``{"m_Aprime", "epsilon"}`` of an optimize run's best fit (``best_fit.json``), None if there is none."""
    p = Path(run_dir) / BEST_FIT_FILE
    if not p.is_file():
        return None
    par = read_best_fit(p)["parameters"]
    if "m_Aprime" in par and "epsilon" in par:
        return {"m_Aprime": float(par["m_Aprime"]), "epsilon": float(par["epsilon"])}
    return None


def _close(fig) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)


def plot_run(
    run_dir,
    formats: Sequence[str] | str | None = None,
    *,
    fmt: str | None = None,
    curves: Sequence[str] = DEFAULT_CURVES,
) -> list[Path]:
    """All figures of a run folder, written to ``RUN_DIR/plots/`` in each of ``formats``.

    sample runs: ``corner``, ``trace``, ``epsilon_mass_plane`` (posterior samples), ``observables``; optimize
    runs: ``hierarchy``, ``epsilon_mass_plane`` (best fit); scan runs: ``scan_<x>__<y>`` per projection.

    Args:
      run_dir: the run folder.
      formats: file formats (``png``, ``pdf``, ``svg``); default PNG and PDF.
      fmt: a single format (overrides ``formats``; the CLI's ``--format``).
      curves: registry ids of the kinetic-mixing curves in the epsilon - m_A' plane.
    Raises:
      PlotInputError: a needed file is missing (the message names it) or unreadable.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)  # batch use: never needs a screen

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise PlotInputError(run_dir, "run_dir", "run folder not found")
    cfg = _read_run_toml(run_dir)
    if fmt is not None:
        formats = (fmt,)
    elif isinstance(formats, str):
        formats = (formats,)
    elif formats is None:
        extra = cfg.get("output", {}).get("plot_format")
        formats = DEFAULT_FORMATS + ((extra,) if isinstance(extra, str) and extra not in DEFAULT_FORMATS else ())
    formats = tuple(f.lower().lstrip(".") for f in formats)
    job = run_job(run_dir)
    dest = run_dir / "plots"
    written: list[Path] = []
    if job == "scan":
        for key, fig in scan_map_plots(read_scan_summary(run_dir)["maps"]).items():
            written += save_figure(fig, dest / f"scan_{key}", formats)
            _close(fig)
        return written
    log_names, asinh_scales = _transforms_from_priors(cfg.get("priors"))
    if job == "sample":
        dt = read_datatree(run_dir / "posterior.nc")
        ds = _posterior(dt)
        name = cfg.get("run", {}).get("name", run_dir.name)
        if _scalar_vars(ds, PARAMETERS):
            for stem, fn in (("corner", corner_plot), ("trace", trace_plot)):
                fig = fn(dt, log_params=log_names, signed_log_scales=asinh_scales)
                written += save_figure(fig, dest / stem, formats)
                _close(fig)
        if "m_Aprime" in ds.data_vars and "epsilon" in ds.data_vars:
            fig = epsilon_mass_plane(dt, curves=curves)
            written += save_figure(fig, dest / "epsilon_mass_plane", formats)
        if any(o in ds.data_vars for o in OBSERVABLES):
            fig = observable_posteriors(dt, title=f"Derived observables, run '{name}' (dashed: experimental limit)")
            written += save_figure(fig, dest / "observables", formats)
        if not written:
            raise PlotInputError(run_dir / "posterior.nc", "posterior", "holds no parameter or observable to plot")
        return written
    fig = hierarchy_plot(read_profile_csv(run_dir / PROFILE_FILE), read_limits(run_dir / LIMITS_FILE))
    written += save_figure(fig, dest / "hierarchy", formats)
    fig = epsilon_mass_plane(None, curves=curves, best_fit=best_fit_point(run_dir))
    written += save_figure(fig, dest / "epsilon_mass_plane", formats)
    return written


__all__ = ["plot_run", "save_figure", "run_job", "best_fit_point"]
