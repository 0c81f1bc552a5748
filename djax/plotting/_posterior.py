"""Posterior figures: corner (pair) plot, traces, and marginals of derived observables (arviz-plots, matplotlib)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._style import (
    DOUBLE_COLUMN_IN,
    LOG_PARAMETERS,
    OBSERVABLES,
    SIGNED_LOG_PARAMETERS,
    SINGLE_COLUMN_IN,
    _can_log,
    _figure_of,
    _free_parameters,
    _posterior,
    _tex_label,
    _transform_values,
    _transformed_tree,
    style_context,
)

#: Registry id of the limit drawn on each observable's marginal, with a fallback (value, label).
_OBSERVABLE_LIMITS = {
    "br_mu_e_gamma": ("meg2_mueg", 1.5e-13, "MEG II"),
    "borexino_mu_equiv_muB": ("borexino_mueff", 2.8e-11, "Borexino"),
    "xenonnt_mu_equiv_muB": ("xenonnt_mueff", 6.3e-12, "XENONnT"),
    "m_nu_sum_eV": ("planck2018_mnu", 0.12, "Planck 2018"),
}


def _prior_samples(dt, names: Sequence[str], priors, n: int = 20000, seed: int = 0) -> dict[str, np.ndarray]:
    """Prior draws of ``names``: the DataTree's ``prior`` group where it has the variable, else draws of the
    :class:`djax.model.Prior` objects (``priors``: anything :func:`djax.model.resolve_priors` takes; None: the
    run's priors recorded in the DataTree's root attribute ``priors``, else the schema's defaults)."""
    from ..model import resolve_priors

    out: dict[str, np.ndarray] = {}
    if dt is not None and "prior" in getattr(dt, "children", {}):
        pr = dt["prior"]
        for k in names:
            if k in pr.data_vars:
                v = np.ravel(np.asarray(pr[k].values, dtype=float))
                out[k] = v[np.isfinite(v)]
    todo = [k for k in names if k not in out]
    if not todo:
        return out
    if priors is None and dt is not None:
        raw = dt.attrs.get("priors") if hasattr(dt, "attrs") else None
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError:
                raw = None
        if isinstance(raw, Mapping):
            keep = ("type", "low", "high", "value", "scale")
            priors = {k: {f: v[f] for f in keep if f in v and v[f] is not None} for k, v in raw.items()}
    given = priors.keys() if isinstance(priors, Mapping) else [getattr(p, "name", "") for p in priors or ()]
    structure = "separate" if any(str(n).startswith("ypE_") for n in given) else "shared"
    try:
        resolved = {p.name: p for p in resolve_priors(priors, yukawa_structure=structure)}
    except (ValueError, TypeError, KeyError):  # a prior table the schema refuses: no prior overlay
        return out
    rng = np.random.default_rng(seed)
    for k in todo:
        p = resolved.get(k)
        if p is None or p.is_fixed:
            continue
        out[k] = np.asarray(p.from_unit(rng.uniform(size=n)), dtype=float)
    return out


def _gauss_kernel(sigma: float) -> np.ndarray:
    r = max(1, int(math.ceil(3 * sigma)))
    x = np.arange(-r, r + 1, dtype=float)
    k = np.exp(-0.5 * (x / max(sigma, 1e-9)) ** 2)
    return k / k.sum()


def _smooth(h: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian smoothing of a 1-D or 2-D histogram (sigma in bins, zero outside)."""
    if sigma <= 0:
        return h
    k = _gauss_kernel(sigma)
    out = np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 0, h)
    if h.ndim == 2:
        out = np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 1, out)
    return out


def _density_1d(x: np.ndarray, rng: tuple[float, float], bins: int, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """(bin centres, density) of a Gaussian-smoothed histogram normalised over all of ``x`` (so a wide prior
    seen through a narrow window keeps its true height)."""
    h, e = np.histogram(x, bins=bins, range=rng)
    width = e[1] - e[0]
    dens = _smooth(h.astype(float), sigma) / max(x.size, 1) / width
    return 0.5 * (e[1:] + e[:-1]), dens


def hpd_levels(density: np.ndarray, fractions: Sequence[float]) -> list[float]:
    """Thresholds t_f of a binned density such that the bins with density >= t_f hold the fraction f of the
    total: the highest-density credible regions (Box & Tiao 1973). Returned in the order of ``fractions``."""
    d = np.sort(np.ravel(density))[::-1]
    c = np.cumsum(d)
    if c.size == 0 or c[-1] <= 0:
        return [float("nan")] * len(fractions)
    c = c / c[-1]
    return [float(d[min(np.searchsorted(c, f), d.size - 1)]) for f in fractions]


def _range(v: np.ndarray) -> tuple[float, float]:
    lo, hi = np.quantile(v, [0.0025, 0.9975])
    if not hi > lo:
        lo, hi = float(v.min()) - 0.5, float(v.max()) + 0.5
    pad = 0.08 * (hi - lo)
    return float(lo - pad), float(hi + pad)


def corner_plot(
    dt,
    params: Sequence[str] | None = None,
    *,
    log_params: Sequence[str] | None = None,
    signed_log_scales: Mapping[str, float] | None = None,
    priors=None,
    prior_overlay: bool = True,
    divergences: bool = True,
    max_draws: int | None = None,
    levels: Sequence[float] = (0.68, 0.95),
    bins: int | None = None,
    smooth: float = 1.0,
    width: float | None = None,
    title: str | None = None,
):
    """Corner plot of the free parameters: 68 % and 95 % highest-density credible contours over rasterised
    draws, 1-D marginals with the prior density overlaid, divergent transitions marked.

    The 2-D contours are the levels t of a Gaussian-smoothed histogram with sum(density >= t) = 68 %, 95 % of the
    draws (highest-density regions, :func:`hpd_levels`); the 1-D marginals are smoothed histograms (solid) over
    the prior density (dashed). Axis labels and units come from the parameter schema.

    Args:
      dt: ArviZ DataTree with a ``posterior`` group (and ``sample_stats.diverging``, ``prior``).
      params: parameters to show (default: those of :data:`PARAMETERS` present and varying).
      log_params: names plotted as log10 (when all samples are positive); default :data:`LOG_PARAMETERS`.
      signed_log_scales: names (-> scale s) of signed log-uniform priors y = s sinh(u), plotted as log10|y|;
        default :data:`SIGNED_LOG_PARAMETERS` (the Yukawa couplings).
      priors: the run's priors for the overlay when the DataTree has no ``prior`` group (anything
        :func:`djax.model.resolve_priors` takes; None: the DataTree's ``priors`` attribute or the defaults).
      prior_overlay: draw the prior densities on the diagonal.
      divergences: mark divergent transitions (red) when ``sample_stats.diverging`` exists.
      max_draws: at most this many draws per chain in the scatter (contours use all draws).
      levels: credible fractions of the contours.
      bins, smooth: histogram bins per axis (default 2 N^(1/3) for N draws, within [12, 40]; the 1-D marginals use
        twice as many) and the Gaussian smoothing (in bins) of the densities.
      width: figure width in inches (default: one column for up to three parameters, else the page width).
      title: figure title (default: none; the legend names the draws and the divergences).
    Returns:
      matplotlib Figure.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    ds = _posterior(dt)
    names = _free_parameters(ds, params)
    log_names = LOG_PARAMETERS if log_params is None else frozenset(log_params)
    signed = SIGNED_LOG_PARAMETERS if signed_log_scales is None else frozenset(signed_log_scales)
    n = len(names)
    n_chain, n_draw = ds.sizes["chain"], ds.sizes["draw"]
    step = 1 if max_draws is None else max(1, math.ceil(n_draw / max_draws))
    cols, labels, keys, flat = [], [], [], []
    for k in names:
        key, v, lab = _transform_values(k, ds[k].transpose("chain", "draw").values, log_names, signed)
        keys.append(key)
        labels.append(lab)
        cols.append(v)
        flat.append(np.ravel(v))
    div = np.zeros((n_chain, n_draw), bool)
    if "sample_stats" in dt.children and "diverging" in dt["sample_stats"].data_vars:
        div = np.asarray(dt["sample_stats"]["diverging"].transpose("chain", "draw").values).astype(bool)
    ndiv = int(div.sum())
    ranges = [_range(f[np.isfinite(f)]) for f in flat]
    if bins is None:
        bins = int(np.clip(round(2 * flat[0].size ** (1 / 3)), 12, 40))
    prior = _prior_samples(dt, names, priors) if prior_overlay else {}
    levels = tuple(sorted(levels))
    with style_context():
        w = width or (SINGLE_COLUMN_IN if n <= 3 else DOUBLE_COLUMN_IN)
        fig = Figure(figsize=(w, w))
        axes = fig.subplots(n, n, squeeze=False)
        tick = 7.0 if n <= 4 else (6.0 if n <= 8 else 5.0)
        lab_fs = 8.0 if n <= 6 else (7.0 if n <= 8 else 6.0)
        greys = ["#08306b", "#6baed6"]  # 68 % darker, 95 % lighter
        for i in range(n):
            for j in range(n):
                ax = axes[i, j]
                if j > i:
                    ax.set_visible(False)
                    continue
                xi = flat[j]
                if i == j:
                    xs, dens = _density_1d(xi[np.isfinite(xi)], ranges[i], 2 * bins, 2 * smooth)
                    ax.plot(xs, dens, color="C0", lw=1.0, drawstyle="default", label="posterior")
                    ax.fill_between(xs, 0, dens, color="C0", alpha=0.15, lw=0)
                    if names[i] in prior and prior[names[i]].size:
                        _, pv, _ = _transform_values(names[i], prior[names[i]], log_names, signed)
                        pv = pv[np.isfinite(pv)]
                        px, pd = _density_1d(pv, ranges[i], 2 * bins, 2 * smooth)
                        ax.plot(px, pd, color="0.35", lw=0.8, ls="--", label="prior")
                    ax.set_ylim(0, 1.12 * max(float(np.max(dens)), 1e-300))
                    ax.set_yticks([])
                    ax.tick_params(left=False, right=False)
                else:
                    yi = flat[i]
                    ok = np.isfinite(xi) & np.isfinite(yi)
                    xt, yt = cols[j][:, ::step].ravel(), cols[i][:, ::step].ravel()
                    h, xe, ye = np.histogram2d(xi[ok], yi[ok], bins=bins, range=[ranges[j], ranges[i]])
                    h = _smooth(h, smooth)
                    thr = hpd_levels(h, levels[::-1])  # outer (95 %) first: increasing thresholds
                    xc, yc = 0.5 * (xe[1:] + xe[:-1]), 0.5 * (ye[1:] + ye[:-1])
                    drawn = all(np.isfinite(thr)) and all(b > a for a, b in zip(thr, thr[1:])) and h.max() > thr[-1]
                    if drawn:  # points only outside the outer contour (inside, the contours say it all)
                        ix = np.clip(np.searchsorted(xe, xt) - 1, 0, bins - 1)
                        iy = np.clip(np.searchsorted(ye, yt) - 1, 0, bins - 1)
                        keep = ~np.isfinite(xt + yt) | (h[ix, iy] < thr[0])
                        xt, yt = xt[keep], yt[keep]
                    ax.scatter(xt, yt, s=0.8, color="0.45", alpha=0.5, linewidths=0, rasterized=True, zorder=1)
                    if drawn:
                        ax.contourf(
                            xc, yc, h.T, levels=list(thr) + [h.max() * 1.001], colors=greys[::-1], alpha=0.55,
                            antialiased=True, zorder=2,
                        )  # fmt: skip
                        ax.contour(xc, yc, h.T, levels=thr, colors=["#08306b"], linewidths=0.7, zorder=3)
                    if divergences and ndiv:
                        ax.scatter(
                            cols[j][div], cols[i][div], s=3.0, color="red", linewidths=0, rasterized=True, zorder=4
                        )
                    ax.set_ylim(ranges[i])
                ax.set_xlim(ranges[j])
                ax.tick_params(labelsize=tick, length=2.0)
                ax.xaxis.set_major_locator(_max_n_locator(3 if n > 4 else 4))
                if i != j:
                    ax.yaxis.set_major_locator(_max_n_locator(3 if n > 4 else 4))
                if i == n - 1:
                    ax.set_xlabel(
                        labels[j], fontsize=lab_fs, rotation=30 if n > 8 else 0, ha="right" if n > 8 else "center"
                    )
                    for t in ax.get_xticklabels():
                        t.set_rotation(45 if n > 4 else 0)
                else:
                    ax.tick_params(labelbottom=False)
                if j == 0 and i > 0:
                    ax.set_ylabel(
                        labels[i], fontsize=lab_fs, rotation=60 if n > 8 else 90, ha="right" if n > 8 else "center"
                    )
                else:
                    ax.tick_params(labelleft=False)
        handles = [
            Patch(facecolor=greys[0], alpha=0.55, label=f"{levels[0]:.0%} credible"),
            Patch(facecolor=greys[1], alpha=0.55, label=f"{levels[-1]:.0%} credible"),
            Line2D([], [], color="C0", lw=1.0, label="posterior"),
        ]
        if prior:
            handles.append(Line2D([], [], color="0.35", lw=0.8, ls="--", label="prior"))
        if divergences and ndiv:
            handles.append(Line2D([], [], color="red", marker="o", ls="none", ms=2.5, label=f"{ndiv} divergent"))
        elif "sample_stats" in dt.children:
            handles.append(Line2D([], [], ls="none", label=f"{ndiv} divergent"))
        handles.append(Line2D([], [], ls="none", label=f"{n_chain} chain(s) x {n_draw} draws"))
        fig.legend(handles=handles, loc="upper right", bbox_to_anchor=(0.985, 0.985), fontsize=7.0 if n > 3 else 6.0)
        left = (0.8 if n > 8 else (0.55 if n > 4 else 0.5)) / w + 0.012
        bottom = (0.8 if n > 8 else (0.6 if n > 4 else 0.45)) / w + 0.012
        top = 0.985 if title is None else 0.95
        fig.subplots_adjust(left=left, right=0.985, bottom=bottom, top=top, wspace=0.06, hspace=0.06)
        if title:
            fig.suptitle(title)
    return fig


def _max_n_locator(n: int):
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=n, prune="both")


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

    with style_context():
        return _trace_plot(dt, params, log_params, signed_log_scales, divergences, title)


def _trace_plot(dt, params, log_params, signed_log_scales, divergences, title):
    import arviz_plots as azp
    from arviz_base import rc_context
    from arviz_base.labels import MapLabeller

    ds = _posterior(dt)
    names = _free_parameters(ds, params)
    log_names = LOG_PARAMETERS if log_params is None else frozenset(log_params)
    signed = SIGNED_LOG_PARAMETERS if signed_log_scales is None else signed_log_scales
    tdt, labels = _transformed_tree(dt, names, log_names, signed)
    n = len(names)
    has_div = "sample_stats" in tdt.children and bool(tdt["sample_stats"]["diverging"].values.any())
    visuals: dict[str, Any] = {"trace": {"width": 0.4, "rasterized": True}, "dist": {"width": 0.8}}
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
            figure_kwargs={"figsize": (DOUBLE_COLUMN_IN, 1.05 * n + 0.7), "figsize_units": "inches"},
        )
    fig = _figure_of(pc)
    h = fig.get_figheight()
    fig.subplots_adjust(left=0.08, right=0.98, top=1.0 - 0.45 / h, bottom=0.35 / h, hspace=0.9, wspace=0.15)
    sub = f"{ds.sizes['chain']} chain(s) x {ds.sizes['draw']} draws, line style = chain"
    if divergences and has_div:
        sub += "; black ticks: divergent transitions"
    fig.suptitle(f"{title}\n{sub}" if title else sub)
    for ax in fig.axes:
        ax.tick_params(labelsize=6)
        ax.title.set_fontsize(7)
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
    with style_context():
        return _observable_posteriors(dt, observables, limits=limits, log=log, bins=bins, title=title)


def _observable_posteriors(dt, observables, *, limits, log, bins, title):
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
    fig = Figure(figsize=(DOUBLE_COLUMN_IN, 2.1 * nrow + 0.25), layout="constrained")
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
            dens, _, _ = ax.hist(
                x, bins=bins, range=span, density=True, histtype="stepfilled", color="C0", alpha=0.35, lw=0
            )
            ax.hist(x, bins=bins, range=span, density=True, histtype="step", color="C0", lw=0.8)
            ax.axvspan(lo, hi, color="C0", alpha=0.12, lw=0, label="90% interval")
            ax.axvline(med, color="C0", lw=1.0, label=f"median {10**med if use_log else med:.3g}")
            lo_x, hi_x, top = span[0], span[1], float(np.max(dens))
        if lim is not None:
            val, lab = lim
            if (not use_log) or val > 0:
                xl = math.log10(val) if use_log else val
                frac = float(np.mean(v > val)) if v.size else float("nan")
                ax.axvline(xl, color="C3", ls="--", lw=1.0, label=f"{lab}: {val:.2g}\nP(> limit) = {100 * frac:.3g}%")
                lo_x = xl if lo_x is None else min(lo_x, xl)
                hi_x = xl if hi_x is None else max(hi_x, xl)
        if lo_x is not None and hi_x is not None:
            pad = 0.06 * (hi_x - lo_x) if hi_x > lo_x else 0.5
            ax.set_xlim(lo_x - pad, hi_x + pad)
        ax.set_ylim(0, 1.75 * top)  # headroom for the legend
        ax.set_xlabel(_tex_label(name, log=use_log))
        ax.set_ylabel("posterior density")
        ax.set_yticks([])
        ax.legend(fontsize=5.5, loc="upper left")
    if title:
        fig.suptitle(title)
    return fig


# ------------------------------------------------------------------------------------------------
# one panel per likelihood term

#: chi^2 (1 dof) quantile at 90 % CL: the -2 ln L threshold drawn for visible-search terms.
_CHI2_90 = 2.705543454095404


def _json_attr(dt, key: str):
    raw = dt.attrs.get(key) if hasattr(dt, "attrs") else None
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return None
    return raw


def _recompute_observables(dt, names: Sequence[str], *, Q_F: float | None, max_draws: int) -> dict[str, np.ndarray]:
    """Observables not stored in the posterior, recomputed from (thinned) posterior parameter draws with
    :func:`djax.observables.observables`; fixed parameters from the DataTree's ``priors`` attribute. Empty when
    a free parameter is missing."""
    import jax.numpy as jnp

    from ..model import params_from_values, resolve_priors
    from ..observables import observables as all_observables
    from ..precision import enable_x64

    ds = _posterior(dt)
    raw = _json_attr(dt, "priors")
    keep = ("type", "low", "high", "value", "scale")
    tables = {k: {f: v[f] for f in keep if v.get(f) is not None} for k, v in raw.items()} if raw else None
    model = _json_attr(dt, "model") or {}
    try:
        pri = resolve_priors(
            tables,
            dark_coupling=model.get("dark_coupling", "g_D"),
            yukawa_structure=model.get("yukawa_structure", "shared"),
        )
    except (ValueError, TypeError, KeyError):
        return {}
    n_total = ds.sizes["chain"] * ds.sizes["draw"]
    idx = np.unique(np.linspace(0, n_total - 1, min(max_draws, n_total)).astype(int))
    vals = {}
    for p in pri:
        if p.name in ds.data_vars:
            vals[p.name] = np.ravel(np.asarray(ds[p.name].values, dtype=float))[idx]
        elif p.is_fixed:
            vals[p.name] = np.full(idx.size, float(p.value))
        else:
            return {}
    enable_x64()
    qf = float(model.get("Q_F", 1.0) if Q_F is None else Q_F)
    obs = all_observables(params_from_values({k: jnp.asarray(v) for k, v in vals.items()}, Q_F=qf), solar=False)
    return {k: np.real(np.asarray(obs[k], dtype=complex)).astype(float) for k in names if k in obs}


def _term_panel(ax, tid, e, reg, ds, recomputed, bins) -> None:
    """Draw one term: the predicted distribution against the term's limit (see :func:`term_posteriors`)."""
    ref = e.reference
    exp = ref.experiment.split(" (")[0]
    exp = exp if len(exp) <= 22 else exp[:21] + "..."
    year = str(ref.year or "")
    name = (exp if year in exp else f"{exp} {year}").strip() or tid
    cl = e.cl if e.cl is not None else 0.9
    x = None
    line = None  # (x position, label)
    band = None
    xlabel = tid
    note = ""
    if e.form == "curve":
        if "m_Aprime" in ds.data_vars and "epsilon" in ds.data_vars:
            c = reg.curve(tid)
            m = np.ravel(np.asarray(ds["m_Aprime"].values, float))
            eps = np.ravel(np.asarray(ds["epsilon"].values, float))
            inside = (m >= c.m.min()) & (m <= c.m.max()) & (m > 0) & (eps > 0)
            lim = 10 ** np.interp(np.log10(m[inside]), np.log10(c.m), np.log10(c.eps))
            x = np.log10(eps[inside] / lim)
            note = f"{inside.mean():.0%} in mass range" if not inside.all() else ""
        xlabel = r"$\log_{10}(\epsilon / \epsilon_{90})$"
        line = (0.0, f"{name} ({cl:.0%} CL)")
    elif e.form == "visible_curve":
        key = f"lnL_{tid}"
        if key in ds.data_vars:
            x = -2.0 * np.ravel(np.asarray(ds[key].values, float))
            if np.all(x == 0):
                note = "ln L = 0 for every draw (inactive)"
        xlabel = r"$-2\ln L$"
        line = (_CHI2_90, f"{name} (90% CL)")
    else:
        obs = e.observable
        v = ds[obs].values if obs in ds.data_vars else recomputed.get(obs)
        unit = _tex_label(obs).partition(" [")[2].rstrip("]")
        if v is not None:
            v = np.ravel(np.asarray(v, dtype=float))
            v = v[np.isfinite(v)]
        if e.form == "gaussian":
            x = v
            xlabel = _tex_label(obs)
            sig = float(e.uncertainty or 0.0)
            band = (e.value - sig, e.value + sig, f"{name}:\n${e.value:.3g} \\pm {sig:.2g}$")
        else:
            x = None
            if v is not None and v.size:
                a = np.abs(v)
                zero = float(np.mean(a <= 0))
                if zero == 1.0:
                    note = "0 for every draw"
                else:
                    x = np.log10(a[a > 0])
                    if zero:
                        note = f"{zero:.0%} of draws are 0"
            xlabel = _tex_label(obs, log=True, absolute=obs.startswith("d_"))
            if e.value is not None and e.value > 0:
                kind = "lower limit" if e.form == "lower_limit" else f"{cl:.0%} CL"
                line = (math.log10(e.value), f"{name}, {kind}:\n{e.value:.2g}" + (f" {unit}" if unit else ""))
            if v is not None and e.value is not None and line is not None:
                frac = float(np.mean(np.abs(v) > e.value)) if v.size else float("nan")
                line = (line[0], f"{line[1]}\nP(> limit) = {frac:.2g}")
    lo_hi = []
    if x is not None and np.size(x):
        x = np.asarray(x, float)
        span = (float(x.min()), float(x.max())) if np.ptp(x) > 0 else (float(x.min()) - 0.5, float(x.max()) + 0.5)
        ax.hist(x, bins=bins, range=span, density=True, histtype="stepfilled", color="C0", alpha=0.35, lw=0)
        ax.hist(x, bins=bins, range=span, density=True, histtype="step", color="C0", lw=0.8)
        lo_hi += list(span)
    else:
        ax.text(0.5, 0.5, "not in posterior.nc", ha="center", va="center", transform=ax.transAxes, fontsize=6)
    if line is not None:
        ax.axvline(line[0], color="C3", ls="--", lw=1.0, label=line[1])
        lo_hi.append(line[0])
    if band is not None:
        ax.axvspan(band[0], band[1], color="C2", alpha=0.25, lw=0, label=band[2])
        ax.axvline(e.value, color="C2", lw=0.8)
        lo_hi += [band[0], band[1]]
    if lo_hi:
        a, b = min(lo_hi), max(lo_hi)
        pad = 0.06 * (b - a) if b > a else 0.5
        ax.set_xlim(a - pad, b + pad)
    ax.set_ylim(bottom=0)
    top = ax.get_ylim()[1]
    ax.set_ylim(0, 1.6 * top)
    ax.set_yticks([])
    ax.set_xlabel(xlabel, fontsize=6.5, labelpad=1.5)
    ax.set_title(tid, fontsize=6.5, pad=2)
    ax.tick_params(labelsize=5.5, pad=1.5)
    ax.xaxis.set_major_locator(_max_n_locator(4))
    ax.legend(loc="upper left", fontsize=4.5, handlelength=1.0, borderaxespad=0.3, handletextpad=0.4)
    if note:
        ax.text(0.98, 0.03, note, ha="right", va="bottom", transform=ax.transAxes, fontsize=4.5, color="0.3")


def term_posteriors(
    dt,
    ids: Sequence[str] | None = None,
    *,
    registry=None,
    Q_F: float | None = None,
    max_recompute: int = 2000,
    bins: int = 40,
    title: str | None = None,
):
    """One panel per likelihood term: the predicted distribution of its quantity against its limit.

    * limits on an observable (``poisson_zero_count``, ``half_gaussian``, ``counting``, ``log_upper_limit``,
      ``lower_limit``): histogram of log10|O| with the limit (dashed) and P(|O| > limit);
    * measurements (``gaussian``, e.g. Delta a_mu): histogram of O with the measured mean +- 1 sigma band;
    * kinetic-mixing curves (``curve``): log10(epsilon / epsilon_90(m_A')) with the limit at 0;
    * visible searches (``visible_curve``): -2 ln L of the term with the 90 % CL threshold 2.71.

    Observables the posterior does not hold (e.g. d_e, CR(mu->e)) are recomputed from at most
    ``max_recompute`` posterior draws with :func:`djax.observables.observables`.

    Args:
      dt: ArviZ DataTree with a ``posterior`` group (a sample run's ``posterior.nc``).
      ids: term ids (default: the DataTree's ``likelihood_terms`` attribute, else the ``paper`` preset).
      registry: the :class:`djax.io.Registry` the ids refer to (default: the packaged one).
      Q_F: dark-fermion charge for recomputed observables (default: the DataTree's ``model`` attribute, else 1).
      max_recompute, bins: draws used for recomputed observables; histogram bins.
      title: figure title.
    Returns:
      matplotlib Figure.
    """
    from matplotlib.figure import Figure

    from ..io import load_registry, resolve_likelihood

    ds = _posterior(dt)
    if registry is None:
        registry = load_registry()
    if ids is None:
        ids = list(_json_attr(dt, "likelihood_terms") or {}) or list(resolve_likelihood(registry=registry)[1])
    ids = [i for i in ids if i in registry]
    if not ids:
        raise ValueError("no likelihood term to draw")
    missing = sorted(
        {
            registry[i].observable
            for i in ids
            if registry[i].form not in ("curve", "visible_curve") and registry[i].observable not in ds.data_vars
        }
    )
    recomputed = _recompute_observables(dt, missing, Q_F=Q_F, max_draws=max_recompute) if missing else {}
    n = len(ids)
    ncol = min(n, 3 if n <= 9 else (4 if n <= 16 else 6))
    nrow = math.ceil(n / ncol)
    row_h = {3: 1.8, 4: 1.6}.get(ncol, 1.35)
    with style_context():
        height = row_h * nrow + (0.3 if title else 0.1)
        fig = Figure(figsize=(DOUBLE_COLUMN_IN, height))
        axes = fig.subplots(nrow, ncol, squeeze=False).ravel()
        fig.subplots_adjust(
            left=0.015, right=0.985, bottom=0.36 / height, top=1 - (0.45 if title else 0.2) / height,
            wspace=0.1, hspace=0.42 / (row_h - 0.42),
        )  # fmt: skip
        for ax in axes[n:]:
            ax.set_visible(False)
        for ax, tid in zip(axes, ids):
            _term_panel(ax, tid, registry[tid], registry, ds, recomputed, bins)
        if title:
            fig.suptitle(title)
    return fig
