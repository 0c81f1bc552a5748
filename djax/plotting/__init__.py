"""djax.plotting: figures of run folders (matplotlib Agg, arviz-plots); host side, no JAX.

    plot_run(run_dir, formats=("png", "pdf"))    every figure of a run, into RUN_DIR/plots/
    corner_plot(dt), trace_plot(dt)             posterior of the free parameters
    epsilon_mass_plane(samples)                 epsilon - m_A' with NA64 / BaBar exclusion curves
    hierarchy_plot(profile, limits)             allowed effective moments vs Borexino / XENONnT limits
    observable_posteriors(dt)                   derived observables against their limits
    save_figure(fig, path_stem, formats)        atomic multi-format writing
"""
from ._plots import (
    DEFAULT_CURVES,
    DEFAULT_FORMATS,
    LOG_PARAMETERS,
    OBSERVABLES,
    PARAMETERS,
    PROFILE_COLUMNS,
    PlotInputError,
    corner_plot,
    epsilon_mass_plane,
    hierarchy_plot,
    observable_posteriors,
    plot_run,
    read_limits_json,
    read_profile_csv,
    run_job,
    save_figure,
    trace_plot,
)

__all__ = [
    "DEFAULT_CURVES", "DEFAULT_FORMATS", "LOG_PARAMETERS", "OBSERVABLES", "PARAMETERS", "PROFILE_COLUMNS",
    "PlotInputError", "corner_plot", "epsilon_mass_plane", "hierarchy_plot", "observable_posteriors",
    "plot_run", "read_limits_json", "read_profile_csv", "run_job", "save_figure", "trace_plot",
]
