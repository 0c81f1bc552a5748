"""Planes: epsilon vs m_A' with the exclusion curves of the registry, and the exclusion maps of a scan."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from ._style import DEFAULT_CURVES, _posterior, _tex_label

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
    """Kinetic mixing epsilon vs dark-photon mass m_A' with 90 % CL exclusion curves (log-log).

    The cleaned curves eps_90(m) of the registry entries ``curves`` are drawn with the region above
    each shaded (excluded at 90 % CL for invisible A' decays, BR_inv = 1).

    Args:
      samples: ArviZ DataTree with ``posterior.m_Aprime`` and ``posterior.epsilon``, or a mapping
        with those keys (arrays); None: curves only.
      curves: registry ids of curve entries (``djax.io.load_registry().curve(id)``).
      registry: a :class:`djax.io.Registry` (default: the packaged one).
      best_fit: mapping with ``m_Aprime`` and ``epsilon`` of a point to mark (star).
      xlim, ylim: axis limits (default: from the curves and the samples).
      max_points: at most this many samples are drawn (evenly thinned).
      title: figure title.
    Returns:
      matplotlib Figure.
    """
    from matplotlib.figure import Figure

    from ..io import load_registry

    reg = load_registry() if registry is None else registry
    fig = Figure(figsize=(7.0, 5.2), layout="constrained")
    ax = fig.add_subplot()
    xs, ys = [], []
    loaded = []
    for cid in curves:
        c = reg.curve(cid)
        ref = reg[cid].reference
        label = f"{ref.experiment.split(' (')[0]} {ref.year or ''} ({reg[cid].kind})".replace(" (data)", "")
        loaded.append((cid, c.m, c.eps, label.strip()))
        xs += [c.m.min(), c.m.max()]
        ys += [c.eps.min(), c.eps.max()]
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
    top = ylim[1]
    for i, (cid, m, e, label) in enumerate(loaded):
        col = f"C{i}"
        ax.fill_between(m, e, top, color=col, alpha=0.18, linewidth=0, zorder=1)
        ax.plot(m, e, color=col, lw=1.8, zorder=3, label=f"{label} excluded (90% CL)")
    if xy is not None and xy[0].size:
        m, e = xy
        step = max(1, math.ceil(m.size / max_points))
        ax.scatter(
            m[::step],
            e[::step],
            s=4,
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
            s=160,
            color="gold",
            edgecolors="k",
            linewidths=0.8,
            zorder=5,
            label="best fit",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(r"dark-photon mass $m_{A'}$ [GeV]", fontsize=12)
    ax.set_ylabel(r"kinetic mixing $\epsilon$", fontsize=12)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="lower right", fontsize=9, framealpha=0.9)
    ax.set_title(title or r"$\epsilon$ - $m_{A'}$ plane (invisible $A'$ decays; shaded: excluded)", fontsize=12)
    return fig


def scan_map_plots(maps: Mapping[str, Mapping], *, title: str | None = None) -> dict:
    """Exclusion maps of a scan (``djax.io.read_scan_summary(folder)["maps"]``): allowed fraction per bin, one
    figure per projection. Returns ``{key: Figure}``."""
    from matplotlib.figure import Figure

    figs = {}
    for key, m in maps.items():
        tot, alw = np.asarray(m["total"], float), np.asarray(m["allowed"], float)
        frac = np.where(tot > 0, alw / np.maximum(tot, 1), np.nan)
        xe, ye = np.asarray(m["x_edges"]), np.asarray(m["y_edges"])
        fig = Figure(figsize=(6.4, 5.0), layout="constrained")
        ax = fig.add_subplot()
        pc = ax.pcolormesh(xe, ye, frac.T, vmin=0.0, vmax=1.0, cmap="viridis", shading="flat", rasterized=True)
        fig.colorbar(pc, ax=ax, label="allowed fraction of the points in the bin")
        if xe[0] > 0 and xe[-1] / xe[0] > 50:
            ax.set_xscale("log")
        if ye[0] > 0 and ye[-1] / ye[0] > 50:
            ax.set_yscale("log")
        ax.set_xlabel(_tex_label(m["x"]))
        ax.set_ylabel(_tex_label(m["y"]))
        ax.set_title(title or f"scan: allowed fraction, {m['x']} vs {m['y']}")
        figs[key] = fig
    return figs
