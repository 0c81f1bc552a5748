"""Planes: epsilon vs m_A' with the exclusion curves of the registry, and the exclusion maps of a scan."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from ._style import DEFAULT_CURVES, SINGLE_COLUMN_IN, _posterior, _tex_label, style_context

_MAX_SCATTER = 5000  # posterior points drawn in the epsilon - m_A' plane


def _samples_xy(samples) -> tuple[np.ndarray, np.ndarray] | None:
    """(m_Aprime, epsilon) sample arrays from a DataTree or a mapping (None if absent)."""
    if samples is None:
        return None
    if hasattr(samples, "children") and "posterior" in samples.children:
        ds = _posterior(samples)
        if "m_Aprime" not in ds.data_vars or "epsilon" not in ds.data_vars:
            return None
        m, e = ds["m_Aprime"].values, ds["epsilon"].values
    else:
        if "m_Aprime" not in samples or "epsilon" not in samples:
            return None
        m, e = samples["m_Aprime"], samples["epsilon"]
    m, e = np.broadcast_arrays(np.ravel(np.asarray(m, float)), np.ravel(np.asarray(e, float)))
    ok = np.isfinite(m) & np.isfinite(e) & (m > 0) & (e > 0)
    return m[ok], e[ok]


def _curve_label(reg, cid: str) -> str:
    ref = reg[cid].reference
    label = f"{ref.experiment.split(' (')[0]} {ref.year or ''}".strip()
    return label + (" (projection)" if reg[cid].kind == "projection" else "")


def _load_curves(curves: Sequence[str], registry) -> list[tuple[str, np.ndarray, np.ndarray, str]]:
    """``(id, m, eps_90, label)`` of the cleaned curve entries ``curves`` of ``registry``."""
    out = []
    for cid in curves:
        c = registry.curve(cid)
        out.append((cid, np.asarray(c.m, float), np.asarray(c.eps, float), _curve_label(registry, cid)))
    return out


def _draw_curves(ax, loaded, top: float, *, shade: bool = True, colors=None) -> None:
    """Each curve eps_90(m) as a line, with the region above it shaded (excluded at 90 % CL)."""
    for i, (_cid, m, e, label) in enumerate(loaded):
        col = (colors or [f"C{k}" for k in range(10)])[i % 10]
        if shade:
            ax.fill_between(m, e, top, color=col, alpha=0.15, linewidth=0, zorder=1)
        ax.plot(m, e, color=col, lw=1.1, zorder=3, label=f"{label} (90% CL)")


def epsilon_mass_plane(
    samples=None,
    *,
    curves: Sequence[str] = DEFAULT_CURVES,
    registry=None,
    best_fit: Mapping[str, float] | None = None,
    xlim=None,
    ylim=None,
    max_points: int = _MAX_SCATTER,
    title: str | None = None,
):
    """Kinetic mixing epsilon vs dark-photon mass m_A' with 90 % CL exclusion curves (log-log, one column).

    The cleaned curves eps_90(m) of the registry entries ``curves`` are drawn with the region above
    each shaded (excluded at 90 % CL for invisible A' decays, BR_inv = 1).

    Args:
      samples: ArviZ DataTree with ``posterior.m_Aprime`` and ``posterior.epsilon``, or a mapping
        with those keys (arrays); None: curves only.
      curves: registry ids of curve entries (``djax.io.load_registry().curve(id)``), e.g. the curve terms of
        the run's likelihood preset.
      registry: a :class:`djax.io.Registry` (default: the packaged one).
      best_fit: mapping with ``m_Aprime`` and ``epsilon`` of a point to mark (star).
      xlim, ylim: axis limits (default: from the curves and the samples).
      max_points: at most this many samples are drawn (evenly thinned, rasterised).
      title: figure title (default: none).
    Returns:
      matplotlib Figure.
    """
    from matplotlib.figure import Figure

    from ..io import load_registry

    reg = load_registry() if registry is None else registry
    loaded = _load_curves(curves, reg)
    xs = [v for _, m, _, _ in loaded for v in (m.min(), m.max())]
    ys = [v for _, _, e, _ in loaded for v in (e.min(), e.max())]
    xy = _samples_xy(samples)
    if xy is not None and xy[0].size:
        xs += [np.min(xy[0]), np.max(xy[0])]
        ys += [np.min(xy[1]), np.max(xy[1])]
    if best_fit is not None:
        xs.append(float(best_fit["m_Aprime"]))
        ys.append(float(best_fit["epsilon"]))
    if xlim is None:
        xlim = (10 ** (math.log10(min(xs)) - 0.25), 10 ** (math.log10(max(xs)) + 0.25)) if xs else (1e-3, 10.0)
    if ylim is None:
        ylim = (10 ** (math.log10(min(ys)) - 0.4), 10 ** (math.log10(max(ys)) + 0.6)) if ys else (1e-7, 1e-1)
    with style_context():
        fig = Figure(figsize=(SINGLE_COLUMN_IN, 2.9), layout="constrained")
        ax = fig.add_subplot()
        _draw_curves(ax, loaded, ylim[1])
        if xy is not None and xy[0].size:
            m, e = xy
            step = max(1, math.ceil(m.size / max_points))
            ax.scatter(
                m[::step],
                e[::step],
                s=1.5,
                color="k",
                alpha=0.35,
                linewidths=0,
                rasterized=True,
                zorder=4,
                label=f"posterior samples ({m[::step].size} of {m.size})",
            )
        if best_fit is not None:
            ax.scatter(
                [best_fit["m_Aprime"]],
                [best_fit["epsilon"]],
                marker="*",
                s=60,
                color="gold",
                edgecolors="k",
                linewidths=0.5,
                zorder=5,
                label="best fit",
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_xlabel(_tex_label("m_Aprime"))
        ax.set_ylabel(_tex_label("epsilon"))
        ax.legend(loc="lower right", fontsize=6)
        if title:
            ax.set_title(title)
    return fig


def _is_log(edges: np.ndarray, scale) -> bool:
    if isinstance(scale, str) and scale:
        return "log" in scale and edges[0] > 0
    return bool(edges[0] > 0 and edges[-1] / edges[0] > 50)


def scan_map_plots(
    maps: Mapping[str, Mapping],
    *,
    curves: Sequence[str] | None = DEFAULT_CURVES,
    registry=None,
    title: str | None = None,
) -> dict:
    """Exclusion maps of a scan (``djax.io.read_scan_summary(folder)["maps"]``): the allowed fraction of the
    scanned points per bin, one figure per projection (one column wide; log axes for log-uniform boxes).

    Bins are drawn as flat, edge-free quadrilaterals (no seams between cells); empty bins are grey. On the
    epsilon - m_A' projection the kinetic-mixing curves ``curves`` (registry ids, e.g. the curve terms of the
    run's likelihood preset; None or empty: none) are drawn over the map.

    Returns:
      ``{key: Figure}``.
    """
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    from ..io import load_registry

    figs = {}
    loaded = None
    for key, m in maps.items():
        tot, alw = np.asarray(m["total"], float), np.asarray(m["allowed"], float)
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(tot > 0, alw / np.maximum(tot, 1), np.nan)
        xe, ye = np.asarray(m["x_edges"], float), np.asarray(m["y_edges"], float)
        with style_context():
            fig = Figure(figsize=(SINGLE_COLUMN_IN, 2.75), layout="constrained")
            ax = fig.add_subplot()
            cmap = colormaps["viridis"].with_extremes(bad="0.85")
            pc = ax.pcolormesh(
                xe,
                ye,
                np.ma.masked_invalid(frac.T),
                vmin=0.0,
                vmax=1.0,
                cmap=cmap,
                shading="flat",
                edgecolors="face",
                linewidth=0.0,
                antialiased=False,
                rasterized=True,
            )
            pc.set_antialiased(False)  # no seams between cells (edges are drawn in the face colour)
            cb = fig.colorbar(pc, ax=ax, pad=0.02, fraction=0.06)
            cb.set_label("allowed fraction of points")
            cb.outline.set_linewidth(0.5)
            cb.solids.set_rasterized(True)
            cb.solids.set_edgecolor("face")
            if _is_log(xe, m.get("x_scale")):
                ax.set_xscale("log")
            if _is_log(ye, m.get("y_scale")):
                ax.set_yscale("log")
            ax.set_xlim(xe[0], xe[-1])
            ax.set_ylim(ye[0], ye[-1])
            if (m["x"], m["y"]) == ("m_Aprime", "epsilon") and curves:
                if loaded is None:
                    loaded = _load_curves(curves, load_registry() if registry is None else registry)
                _draw_curves(ax, loaded, ye[-1], shade=False, colors=["w", "#ff7f0e", "#e377c2", "#d62728"])
                ax.legend(loc="lower right", fontsize=5.5, labelcolor="k", facecolor="w", framealpha=0.8, frameon=True)
            ax.set_xlabel(_tex_label(m["x"]))
            ax.set_ylabel(_tex_label(m["y"]))
            if title:
                ax.set_title(title)
        figs[key] = fig
    return figs
