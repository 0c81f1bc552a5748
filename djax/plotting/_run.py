"""Figures of a run folder, read through :mod:`djax.io`, written atomically in several formats."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path

from ..errors import DjaxError
from ..io import (
    BEST_FIT_FILE,
    HIERARCHY_FILE,
    LIMITS_FILE,
    PROFILE_FILE,
    SCAN_STATE_FILE,
    SCAN_SUMMARY_FILE,
    atomic_path,
    load_run,
    read_best_fit,
    read_datatree,
    read_limits,
    read_profile_csv,
    read_scan_summary,
    resolve_likelihood,
)
from ._hierarchy import certified_hierarchy_plot, hierarchy_plot
from ._planes import epsilon_mass_plane, scan_map_plots
from ._posterior import corner_plot, observable_posteriors, term_posteriors, trace_plot
from ._style import (
    DEFAULT_CURVES,
    DEFAULT_FORMATS,
    OBSERVABLES,
    PARAMETERS,
    PNG_DPI,
    PlotInputError,
    _posterior,
    _scalar_vars,
    _transforms_from_priors,
    style_context,
)

#: Metadata written into each format: no creation dates (files are reproducible byte for byte where the
#: backend allows, and baseline images do not change with the clock).
_SAVE_METADATA = {
    "png": {"Software": "djax (matplotlib)"},
    "pdf": {"Creator": "djax (matplotlib)", "Producer": None, "CreationDate": None},
    "svg": {"Creator": "djax (matplotlib)", "Date": None},
}


def save_figure(fig, path_stem, formats: Sequence[str] = DEFAULT_FORMATS, *, dpi: int = PNG_DPI) -> list[Path]:
    """Write ``fig`` to ``<path_stem>.<fmt>`` for each format (default PNG at ``dpi`` = 300 and PDF), each
    atomically, in the figure style (:func:`djax.plotting._style.style_context`); returns the written paths."""
    if isinstance(formats, str):
        formats = (formats,)
    stem = Path(path_stem)
    written = []
    with style_context():
        for fmt in formats:
            fmt = fmt.lower().lstrip(".")
            path = stem.with_name(f"{stem.name}.{fmt}")
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format=fmt, dpi=dpi, metadata=_SAVE_METADATA.get(fmt))
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
    if (run_dir / PROFILE_FILE).is_file() or (run_dir / HIERARCHY_FILE).is_file():
        return "optimize"
    raise PlotInputError(
        run_dir / "run.toml",
        "run.job",
        "run file not found (or it has no [run] job), and the "
        "folder holds none of posterior.nc, profile.csv, hierarchy.csv, scan_summary.json",
    )


def _resolved_likelihood(run_dir: Path):
    """``(registry, term ids, RunConfig)`` of the run folder's ``run.toml`` (the same resolution as the job's,
    :func:`djax.io.resolve_likelihood`), or None when there is no usable run file."""
    p = run_dir / "run.toml"
    if not p.is_file():
        return None
    try:
        cfg = load_run(p)
        lk = cfg.likelihood
        reg, ids, _spec = resolve_likelihood(
            preset=lk.preset,
            include=lk.include,
            exclude=lk.exclude,
            alpha_e=lk.alpha_e,
            edm=lk.edm,
            registry=lk.registry or None,
            overrides=lk.overrides,
            source=str(p),
        )
    except DjaxError:  # a figure must not fail on a run file the job itself would refuse now
        return None
    return reg, tuple(ids), cfg


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
    curves: Sequence[str] | None = None,
) -> list[Path]:
    """All figures of a run folder, written to ``RUN_DIR/plots/`` in each of ``formats``.

    sample runs: ``corner`` (68/95 % contours, prior overlay), ``trace``, ``epsilon_mass_plane`` (posterior
    samples), ``observables`` (derived observables) and ``terms`` (one panel per likelihood term); optimize runs:
    ``hierarchy`` (from ``hierarchy.csv`` when the folder has one, :func:`certified_hierarchy_plot`, else from
    ``profile.csv``; with both, the profile figure is ``hierarchy_profile``) and ``epsilon_mass_plane`` (best
    fit); scan runs: ``scan_<x>__<y>`` per projection. The kinetic-mixing curves are the ``curve`` terms of the
    run's resolved likelihood.

    Args:
      run_dir: the run folder.
      formats: file formats (``png``, ``pdf``, ``svg``); default PNG (300 dpi) and PDF, plus the run file's
        ``output.plot_format``.
      fmt: a single format (overrides ``formats``; the CLI's ``--format``).
      curves: registry ids of the kinetic-mixing curves (default: the run's curve terms, else NA64 and BaBar).
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
    resolved = _resolved_likelihood(run_dir)
    reg, ids = (resolved[0], resolved[1]) if resolved is not None else (None, None)
    if curves is None:
        curves = tuple(i for i in ids or () if reg[i].form == "curve") or DEFAULT_CURVES
    dest = run_dir / "plots"
    written: list[Path] = []

    def save(fig, stem):
        nonlocal written
        written += save_figure(fig, dest / stem, formats)
        _close(fig)

    if job == "scan":
        for key, fig in scan_map_plots(read_scan_summary(run_dir)["maps"], curves=curves, registry=reg).items():
            save(fig, f"scan_{key}")
        return written
    log_names, asinh_scales = _transforms_from_priors(cfg.get("priors"))
    if job == "sample":
        dt = read_datatree(run_dir / "posterior.nc")
        ds = _posterior(dt)
        priors = resolved[2].priors if resolved is not None else None
        if _scalar_vars(ds, PARAMETERS):
            save(corner_plot(dt, log_params=log_names, signed_log_scales=asinh_scales, priors=priors), "corner")
            save(trace_plot(dt, log_params=log_names, signed_log_scales=asinh_scales), "trace")
        if "m_Aprime" in ds.data_vars and "epsilon" in ds.data_vars:
            save(epsilon_mass_plane(dt, curves=curves, registry=reg), "epsilon_mass_plane")
        if any(o in ds.data_vars for o in OBSERVABLES):
            save(observable_posteriors(dt), "observables")
        if ids and written:
            model = getattr(resolved[2], "model", None)
            save(term_posteriors(dt, ids, registry=reg, Q_F=getattr(model, "Q_F", None)), "terms")
        if not written:
            raise PlotInputError(run_dir / "posterior.nc", "posterior", "holds no parameter or observable to plot")
        return written
    if (run_dir / HIERARCHY_FILE).is_file():
        save(certified_hierarchy_plot(run_dir / HIERARCHY_FILE, registry=reg), "hierarchy")
        if (run_dir / PROFILE_FILE).is_file():
            prof = read_profile_csv(run_dir / PROFILE_FILE)
            save(hierarchy_plot(prof, read_limits(run_dir / LIMITS_FILE)), "hierarchy_profile")
    else:
        prof = read_profile_csv(run_dir / PROFILE_FILE)
        save(hierarchy_plot(prof, read_limits(run_dir / LIMITS_FILE)), "hierarchy")
    save(epsilon_mass_plane(None, curves=curves, best_fit=best_fit_point(run_dir), registry=reg), "epsilon_mass_plane")
    return written


__all__ = ["plot_run", "save_figure", "run_job", "best_fit_point"]
