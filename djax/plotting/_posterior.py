"""Posterior figures: corner (pair) plot, traces, and marginals of derived observables (arviz-plots, matplotlib)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._style import (
    LOG_PARAMETERS,
    OBSERVABLES,
    _can_log,
    _figure_of,
    _free_parameters,
    _posterior,
    _tex_label,
    _transformed_tree,
)

#: Registry id of the limit drawn on each observable's marginal, with a fallback (value, label).
_OBSERVABLE_LIMITS = {
    "br_mu_e_gamma": ("meg2_mueg", 1.5e-13, "MEG II"),
    "borexino_mu_equiv_muB": ("borexino_mueff", 2.8e-11, "Borexino"),
    "xenonnt_mu_equiv_muB": ("xenonnt_mueff", 6.3e-12, "XENONnT"),
    "m_nu_sum_eV": ("planck2018_mnu", 0.12, "Planck 2018"),
}


def _tidy_corner(fig, grid: np.ndarray, n: int) -> None:
    """Corner layout: rows share the diagonal's x range as y range, tick labels only on the outer
    panels, no density ticks on the diagonal, tight spacing."""
    for i in range(n):
        for j in range(i + 1):
            ax = grid[i, j]
            if ax is None:
                continue
            if i == j:
                ax.set_yticks([])
                ax.set_ylim(bottom=0)
            else:
                ax.set_ylim(grid[i, i].get_xlim())
                if j > 0:
                    ax.tick_params(labelleft=False)
            if i < n - 1:
                ax.tick_params(labelbottom=False)
    fig.subplots_adjust(
        left=0.5 / fig.get_figwidth() + 0.05,
        right=0.985,
        bottom=0.6 / fig.get_figheight() + 0.03,
        top=1.0 - 0.75 / fig.get_figheight(),
        wspace=0.06,
        hspace=0.06,
    )


def corner_plot(
    dt,
    params: Sequence[str] | None = None,
    *,
    log_params: Sequence[str] | None = None,
    signed_log_scales: Mapping[str, float] | None = None,
    divergences: bool = True,
    max_draws: int | None = None,
    title: str | None = None,
):
    """Pair (corner) plot of the free parameters with KDE marginals and divergent draws marked.

    Args:
      dt: ArviZ DataTree with a ``posterior`` group (and ``sample_stats.diverging``).
      params: parameters to show (default: those of :data:`PARAMETERS` present and varying).
      log_params: names plotted as log10 (when all samples are positive); default
        :data:`LOG_PARAMETERS` (the log-uniform priors of the default run file).
      signed_log_scales: name -> s of signed log-uniform priors (y = s sinh(u)); those are plotted
        as asinh(y / s) = u, on which the prior is flat. Default: none (plotted as they are).
      divergences: mark divergent transitions (red) when ``sample_stats.diverging`` exists.
      max_draws: thin every chain to at most this many draws (None: keep all; scatter is rasterised).
      title: figure title.
    Returns:
      matplotlib Figure.
    """
    import arviz_plots as azp
    from arviz_base import rc_context
    from arviz_base.labels import MapLabeller

    ds = _posterior(dt)
    names = _free_parameters(ds, params)
    log_names = LOG_PARAMETERS if log_params is None else frozenset(log_params)
    tdt, labels = _transformed_tree(dt, names, log_names, signed_log_scales, max_draws)
    n = len(names)
    size = max(5.0, min(1.55 * n + 1.0, 24.0))
    has_div = "sample_stats" in tdt.children and bool(tdt["sample_stats"]["diverging"].values.any())
    visuals: dict[str, Any] = {
        "scatter": {"rasterized": True, "size": 3 if n > 6 else 5, "alpha": 0.3},
        "divergence": ({"color": "red", "size": 8, "rasterized": True} if divergences and has_div else False),
        "xlabel": {"fontsize": 10 if n > 6 else 11},
        "ylabel": {"fontsize": 10 if n > 6 else 11},
    }
    with rc_context({"plot.max_subplots": max(n * n, 40)}):
        pc = azp.plot_pair(
            tdt,
            var_names=list(labels),
            backend="matplotlib",
            triangle="lower",
            marginal_kind="kde",
            visuals=visuals,
            labeller=MapLabeller(var_name_map=labels),
            figure_kwargs={"figsize": (size, size), "figsize_units": "inches"},
        )
    fig = _figure_of(pc)
    _tidy_corner(fig, np.asarray(pc.viz["plot"].transpose("row_index", "col_index").values), n)
    ndiv = int(tdt["sample_stats"]["diverging"].values.sum()) if "sample_stats" in tdt.children else 0
    sub = f"{ds.sizes['chain']} chain(s) x {ds.sizes['draw']} draws"
    if "sample_stats" in tdt.children:
        sub += f"; {ndiv} divergent (red)" if divergences and ndiv else f"; {ndiv} divergent"
    fig.suptitle(f"{title or 'Posterior of the free parameters'}\n{sub}", fontsize=12 if n > 6 else 11)
    for ax in fig.axes:
        ax.tick_params(labelsize=7 if n > 6 else 8)
    return fig


def trace_plot(
    dt,
    params: Sequence[str] | None = None,
    *,
    log_params: Sequence[str] | None = None,
    signed_log_scales: Mapping[str, float] | None = None,
    divergences: bool = True,
    title: str | None = None,
):
    """Marginal densities (left) and traces (right) per chain; divergent draws as a rug.

    Args:
      dt: ArviZ DataTree with a ``posterior`` group (and ``sample_stats.diverging``).
      params, log_params, signed_log_scales: as in :func:`corner_plot`.
      divergences: draw the divergence rug when ``sample_stats.diverging`` exists.
      title: figure title.
    Returns:
      matplotlib Figure.
    """
    import arviz_plots as azp
    from arviz_base import rc_context
    from arviz_base.labels import MapLabeller

    ds = _posterior(dt)
    names = _free_parameters(ds, params)
    log_names = LOG_PARAMETERS if log_params is None else frozenset(log_params)
    tdt, labels = _transformed_tree(dt, names, log_names, signed_log_scales)
    n = len(names)
    has_div = "sample_stats" in tdt.children and bool(tdt["sample_stats"]["diverging"].values.any())
    visuals: dict[str, Any] = {"trace": {"width": 0.6}}
    if not (divergences and has_div):
        visuals["divergence"] = False
    with rc_context({"plot.max_subplots": max(2 * n, 40)}):
        pc = azp.plot_trace_dist(
            tdt,
            var_names=list(labels),
            backend="matplotlib",
            kind="kde",
            visuals=visuals,
            labeller=MapLabeller(var_name_map=labels),
            figure_kwargs={"figsize": (11.0, 1.9 * n + 1.2), "figsize_units": "inches"},
        )
    fig = _figure_of(pc)
    h = fig.get_figheight()
    fig.subplots_adjust(left=0.07, right=0.98, top=1.0 - 0.95 / h, bottom=0.6 / h, hspace=0.7, wspace=0.15)
    sub = f"{ds.sizes['chain']} chain(s) x {ds.sizes['draw']} draws, line style = chain"
    if divergences and has_div:
        sub += "; black ticks: divergent transitions"
    fig.suptitle(f"{title or 'Marginals and traces of the free parameters'}\n{sub}", fontsize=12)
    return fig


# ------------------------------------------------------------------------------------------------
# observable posteriors


def _default_observable_limits(registry=None) -> dict[str, tuple[float, str]]:
    """observable -> (90 % CL-type limit, label) from the registry (fallback: built-in values)."""
    from ..errors import DjaxError
    from ..io import load_registry

    out = {}
    try:
        reg = load_registry() if registry is None else registry
    except DjaxError:  # plotting must not fail on a registry problem; fall back to the numbers
        reg = None
    for obs, (rid, value, name) in _OBSERVABLE_LIMITS.items():
        cl = 0.95 if obs == "m_nu_sum_eV" else 0.9
        if reg is not None and rid in reg:
            e = reg[rid]
            if e.value is not None:
                value = e.value
                cl = e.cl if e.cl is not None else cl
        out[obs] = (float(value), f"{name} ({cl * 100:.0f}% CL)")
    return out


def observable_posteriors(
    dt,
    observables: Sequence[str] | None = None,
    *,
    limits: Mapping[str, float | tuple[float, str]] | None = None,
    log: bool = True,
    bins: int = 50,
    title: str | None = None,
):
    """1D posterior marginals of derived observables (log10 where all samples are positive).

    Each panel: histogram (all chains), median (solid) and 90 % equal-tailed interval (shaded), the
    limit as a vertical dashed line with the posterior fraction above it.

    Args:
      dt: ArviZ DataTree with a ``posterior`` group.
      observables: names to show (default: those of :data:`OBSERVABLES` present).
      limits: observable -> value or (value, label); merged over the registry values (MEG II
        1.5e-13, Borexino 2.8e-11, XENONnT 6.3e-12 mu_B, Planck 0.12 eV).
      log: plot log10 of positive observables.
      bins: histogram bins.
      title: figure title.
    Returns:
      matplotlib Figure.
    """
    from matplotlib.figure import Figure

    ds = _posterior(dt)
    if observables is None:
        names = [o for o in OBSERVABLES if o in ds.data_vars and set(ds[o].dims) == {"chain", "draw"}]
    else:
        missing = [o for o in observables if o not in ds.data_vars]
        if missing:
            raise ValueError(f"posterior lacks observable(s) {missing}")
        names = list(observables)
    if not names:
        raise ValueError(f"posterior holds none of the observables {list(OBSERVABLES)}")
    lims = _default_observable_limits()
    for k, v in (limits or {}).items():
        lims[k] = (float(v[0]), str(v[1])) if isinstance(v, tuple) else (float(v), "limit")
    n = len(names)
    ncol = min(n, 3)
    nrow = math.ceil(n / ncol)
    fig = Figure(figsize=(4.3 * ncol, 3.4 * nrow), layout="constrained")
    axes = fig.subplots(nrow, ncol, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    for ax, name in zip(axes, names):
        v = np.ravel(np.asarray(ds[name].values, dtype=float))
        v = v[np.isfinite(v)]
        use_log = log and _can_log(v)
        x = np.log10(v) if use_log else v
        lim = lims.get(name)
        lo_x, hi_x, top = None, None, 1.0
        if x.size == 0:
            ax.text(0.5, 0.5, "no finite samples", ha="center", va="center", transform=ax.transAxes)
        else:
            lo, med, hi = np.quantile(x, [0.05, 0.5, 0.95])
            span = (x.min(), x.max()) if np.ptp(x) > 0 else (x.min() - 0.5, x.max() + 0.5)
            dens, _, _ = ax.hist(x, bins=bins, range=span, density=True, histtype="stepfilled", color="C0", alpha=0.45)
            ax.hist(x, bins=bins, range=span, density=True, histtype="step", color="C0", lw=1.2)
            ax.axvspan(lo, hi, color="C0", alpha=0.12, lw=0, label="90% interval")
            ax.axvline(med, color="C0", lw=1.5, label=f"median {10**med if use_log else med:.3g}")
            lo_x, hi_x, top = span[0], span[1], float(np.max(dens))
        if lim is not None:
            val, lab = lim
            if (not use_log) or val > 0:
                xl = math.log10(val) if use_log else val
                frac = float(np.mean(v > val)) if v.size else float("nan")
                ax.axvline(xl, color="C3", ls="--", lw=1.8, label=f"{lab}: {val:.2g}\nP(> limit) = {100 * frac:.3g}%")
                lo_x = xl if lo_x is None else min(lo_x, xl)
                hi_x = xl if hi_x is None else max(hi_x, xl)
        if lo_x is not None and hi_x is not None:
            pad = 0.06 * (hi_x - lo_x) if hi_x > lo_x else 0.5
            ax.set_xlim(lo_x - pad, hi_x + pad)
        ax.set_ylim(0, 1.75 * top)  # headroom for the legend
        ax.set_xlabel(_tex_label(name, log=use_log), fontsize=11)
        ax.set_ylabel("posterior density", fontsize=10)
        ax.set_yticks([])
        ax.legend(fontsize=8, loc="upper left", framealpha=0.85)
    fig.suptitle(title or "Posteriors of derived observables (dashed: experimental limit)", fontsize=12)
    return fig
