"""djax.plotting: figures of run folders (matplotlib Agg, arviz-plots), reading results through :mod:`djax.io`.

plot_run(run_dir, formats=("png", "pdf"))    every figure of a run, into RUN_DIR/plots/
corner_plot(dt), trace_plot(dt)             posterior of the free parameters
epsilon_mass_plane(samples)                 epsilon - m_A' with NA64 / BaBar exclusion curves
hierarchy_plot(profile, limits)             allowed effective moments vs Borexino / XENONnT limits
observable_posteriors(dt)                   derived observables against their limits
scan_map_plots(maps)                        exclusion maps of a scan
save_figure(fig, path_stem, formats)        atomic multi-format writing
"""

from ._hierarchy import hierarchy_plot as hierarchy_plot
from ._planes import epsilon_mass_plane as epsilon_mass_plane
from ._planes import scan_map_plots as scan_map_plots
from ._posterior import corner_plot as corner_plot
from ._posterior import observable_posteriors as observable_posteriors
from ._posterior import trace_plot as trace_plot
from ._run import best_fit_point as best_fit_point
from ._run import plot_run as plot_run
from ._run import run_job as run_job
from ._run import save_figure as save_figure
from ._style import DEFAULT_CURVES as DEFAULT_CURVES
from ._style import DEFAULT_FORMATS as DEFAULT_FORMATS
from ._style import LOG_PARAMETERS as LOG_PARAMETERS
from ._style import OBSERVABLES as OBSERVABLES
from ._style import PARAMETERS as PARAMETERS
from ._style import PlotInputError as PlotInputError

__all__ = [
    "hierarchy_plot",
    "epsilon_mass_plane",
    "scan_map_plots",
    "corner_plot",
    "observable_posteriors",
    "trace_plot",
    "plot_run",
    "best_fit_point",
    "run_job",
    "save_figure",
    "DEFAULT_CURVES",
    "DEFAULT_FORMATS",
    "LOG_PARAMETERS",
    "OBSERVABLES",
    "PARAMETERS",
    "PlotInputError",
]
