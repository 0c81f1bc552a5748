"""djax.plotting: figures of run folders (matplotlib Agg, arviz-plots), reading results through :mod:`djax.io`.

plot_run(run_dir, formats=("png", "pdf"))    every figure of a run, into RUN_DIR/plots/
corner_plot(dt), trace_plot(dt)             posterior of the free parameters (68/95 % contours, prior overlay)
epsilon_mass_plane(samples)                 epsilon - m_A' with the kinetic-mixing exclusion curves
hierarchy_plot(profile, limits)             allowed effective moments (profile.csv) vs Borexino / XENONnT limits
certified_hierarchy_plot(table[, second])   certified bands (hierarchy.csv) vs the direct limits
observable_posteriors(dt)                   derived observables against their limits
term_posteriors(dt, ids)                    one panel per likelihood term: prediction vs limit
scan_map_plots(maps)                        exclusion maps of a scan
save_figure(fig, path_stem, formats)        atomic multi-format writing (PNG 300 dpi, PDF)

Figures are one journal column (SINGLE_COLUMN_IN = 3.4 in) or the page width (DOUBLE_COLUMN_IN = 7 in) wide and
drawn in one fixed style (``STYLE``; fixed fonts), so baseline-image tests can compare them.
"""

from ._hierarchy import certified_hierarchy_plot as certified_hierarchy_plot
from ._hierarchy import hierarchy_plot as hierarchy_plot
from ._planes import epsilon_mass_plane as epsilon_mass_plane
from ._planes import scan_map_plots as scan_map_plots
from ._posterior import corner_plot as corner_plot
from ._posterior import hpd_levels as hpd_levels
from ._posterior import observable_posteriors as observable_posteriors
from ._posterior import term_posteriors as term_posteriors
from ._posterior import trace_plot as trace_plot
from ._run import best_fit_point as best_fit_point
from ._run import plot_run as plot_run
from ._run import run_job as run_job
from ._run import save_figure as save_figure
from ._style import DEFAULT_CURVES as DEFAULT_CURVES
from ._style import DEFAULT_FORMATS as DEFAULT_FORMATS
from ._style import DOUBLE_COLUMN_IN as DOUBLE_COLUMN_IN
from ._style import LOG_PARAMETERS as LOG_PARAMETERS
from ._style import OBSERVABLES as OBSERVABLES
from ._style import PARAMETERS as PARAMETERS
from ._style import PNG_DPI as PNG_DPI
from ._style import SIGNED_LOG_PARAMETERS as SIGNED_LOG_PARAMETERS
from ._style import SINGLE_COLUMN_IN as SINGLE_COLUMN_IN
from ._style import STYLE as STYLE
from ._style import PlotInputError as PlotInputError

__all__ = [
    "hierarchy_plot",
    "certified_hierarchy_plot",
    "epsilon_mass_plane",
    "scan_map_plots",
    "corner_plot",
    "observable_posteriors",
    "term_posteriors",
    "hpd_levels",
    "trace_plot",
    "plot_run",
    "best_fit_point",
    "run_job",
    "save_figure",
    "DEFAULT_CURVES",
    "DEFAULT_FORMATS",
    "DOUBLE_COLUMN_IN",
    "LOG_PARAMETERS",
    "OBSERVABLES",
    "PARAMETERS",
    "PNG_DPI",
    "SIGNED_LOG_PARAMETERS",
    "SINGLE_COLUMN_IN",
    "STYLE",
    "PlotInputError",
]
