"""The reference study's headline figure: the largest allowed effective moments against the direct limits.

Two inputs: the optimize job's ``profile.csv`` (multi-start maxima, :func:`hierarchy_plot`) and a certified
profile ``hierarchy.csv`` (best feasible value and certified upper bound per m_A', :func:`certified_hierarchy_plot`).
"""

from __future__ import annotations

import math
import os

import numpy as np

from ..io import read_hierarchy_table, read_limits, read_profile_csv
from ._style import DOUBLE_COLUMN_IN, EXPERIMENTS, SINGLE_COLUMN_IN, _tex_label, style_context


def hierarchy_plot(profile, limits, *, title: str | None = None):
    """Allowed effective moments vs direct limits, versus m_A' (the reference study's headline).

    Upper panel: P_X(m_A') = max over the other parameters of the X-equivalent effective moment
    (X = Borexino, XENONnT) subject to the indirect constraints, against the direct limits
    mu_X^90 (horizontal lines). Lower panel: log10(mu_X^90 / P_X(m_A')) -- how many orders of
    magnitude the indirect constraints push the reachable moment below each limit.
    Infeasible grid points (no parameter point satisfies the constraints) are left out and marked.

    Args:
      profile: the mapping :func:`djax.io.read_profile_csv` returns, or the path of a ``profile.csv``.
      limits: mapping with ``borexino_mu_limit_muB`` and ``xenonnt_mu_limit_muB`` (mu_B), or the path
        of a ``limits.json``.
      title: figure title.
    Returns:
      matplotlib Figure.
    """

    prof = read_profile_csv(profile) if isinstance(profile, (str, os.PathLike)) else profile
    lim = read_limits(limits) if isinstance(limits, (str, os.PathLike)) else limits
    m = np.asarray(prof["values"], dtype=float)
    order = np.argsort(m)
    m = m[order]
    with style_context():
        return _draw_profile(prof, lim, m, order, title)


def _draw_profile(prof, lim, m, order, title):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(SINGLE_COLUMN_IN, 4.6), layout="constrained")
    gs = fig.add_gridspec(2, 1, height_ratios=(2.2, 1.0))
    ax = fig.add_subplot(gs[0])
    axr = fig.add_subplot(gs[1], sharex=ax)
    series = (("borexino", "Borexino", "C0", "o"), ("xenonnt", "XENONnT", "C3", "s"))
    ratios_all = []
    for key, name, col, mk in series:
        val = np.asarray(prof[key], dtype=float)[order]
        feas = np.asarray(prof.get(f"feasible_{key}", np.ones(m.size, bool)), dtype=bool)[order]
        ok = feas & np.isfinite(val) & (val > 0)
        limit = float(lim[f"{key}_mu_limit_muB"])
        y = np.where(ok, val, np.nan)
        ax.plot(m, y, color=col, marker=mk, ms=2.5, lw=1.1, label=f"max. allowed, {name}")
        ax.axhline(limit, color=col, ls="--", lw=1.1, label=f"{name} limit (90% CL)")
        ax.axhspan(limit, 1.0, color=col, alpha=0.07, lw=0)  # excluded by the direct search
        if np.any(~ok):
            ax.plot(
                m[~ok],
                np.full((~ok).sum(), 0.03 if key == "borexino" else 0.07),
                ls="none",
                marker="x",
                color=col,
                ms=4,
                transform=ax.get_xaxis_transform(),
                label=f"no feasible point ({name})",
            )
        ratio = np.log10(limit / y)
        ratios_all.append(ratio[np.isfinite(ratio)])
        axr.plot(m, ratio, color=col, marker=mk, ms=2.5, lw=1.1, label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    vals = np.concatenate([np.asarray(prof[k], dtype=float) for k, *_ in series])
    finite = [float(vals[vals > 0].min())] if np.any(vals > 0) else []
    lims = [float(lim[f"{k}_mu_limit_muB"]) for k, *_ in series]
    ax.set_ylim(10 ** (math.log10(min(finite + lims)) - 0.5), 10 ** (math.log10(max(lims)) + 1.6))
    ax.set_ylabel(r"effective moment $\mu_\nu^{\rm eff}$ [$\mu_B$]")
    ax.legend(fontsize=5.5, loc="upper left", ncol=2)
    ax.tick_params(labelbottom=False)
    if title:
        ax.set_title(title)
    axr.axhline(0.0, color="0.4", lw=0.8)
    axr.set_xlabel(_tex_label(prof.get("parameter", "m_Aprime")))
    axr.set_ylabel(r"$\log_{10}(\mu^{90}_{\rm limit} / \mu^{\rm eff}_{\max})$")
    axr.legend(fontsize=6, loc="best")
    return fig


def _direct_limits(registry=None, limits=None) -> dict[str, float]:
    """Direct limits (mu_B) per experiment: ``limits`` (``{"borexino": x, "xenonnt": y}`` or the keys of
    ``limits.json``) where given, else the registry entries ``borexino_mueff`` / ``xenonnt_mueff``."""
    from ..io import load_registry

    out = {}
    for key, _name, rid, _col in EXPERIMENTS:
        if limits is not None and key in limits:
            out[key] = float(limits[key])
        elif limits is not None and f"{key}_mu_limit_muB" in limits:
            out[key] = float(limits[f"{key}_mu_limit_muB"])
        else:
            reg = load_registry() if registry is None else registry
            out[key] = float(reg[rid].value)
    return out


def _draw_certified(ax, tab, lim: dict[str, float]) -> list[float]:
    """One panel of :func:`certified_hierarchy_plot`; returns the finite moments drawn (for the y range)."""
    m = np.asarray(tab["m_Aprime_GeV"], dtype=float)
    order = np.argsort(m)
    m = m[order]
    status = np.asarray(tab["status"], dtype=str)[order]
    seen: list[float] = []
    for key, name, _rid, col in EXPERIMENTS:
        lo = np.asarray(tab[f"{key}_lower_muB"], dtype=float)[order]
        hi = np.asarray(tab[f"{key}_upper_muB"], dtype=float)[order]
        ok_lo = np.isfinite(lo) & (lo > 0)
        ok_hi = np.isfinite(hi) & (hi > 0)
        both = ok_lo & ok_hi
        ax.fill_between(m, np.where(both, lo, np.nan), np.where(both, hi, np.nan), color=col, alpha=0.28, lw=0)
        ax.plot(m, np.where(ok_hi, hi, np.nan), color=col, lw=0.9, label=f"{name}: certified bound")
        ax.plot(m, np.where(ok_lo, lo, np.nan), color=col, lw=0.6, ls=":", label=f"{name}: best feasible")
        bad = (status == "not converged") & (ok_hi | ok_lo)
        if np.any(bad):
            y = np.where(ok_hi, hi, lo)[bad]
            ax.plot(m[bad], y, ls="none", marker="o", ms=3.5, mfc="white", mec=col, mew=0.8, zorder=4)
        ax.axhline(lim[key], color=col, ls="--", lw=1.0, label=f"{name} direct limit")
        seen += [float(v) for v in np.concatenate([lo[ok_lo], hi[ok_hi]])] + [lim[key]]
    excl = status == "excluded"
    if np.any(excl):
        ax.plot(
            m[excl], np.full(excl.sum(), 0.04), ls="none", marker="x", ms=3.5, color="0.3", mew=0.8,
            transform=ax.get_xaxis_transform(), label="excluded (no allowed point)",
        )  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    if m.size:
        ax.set_xlim(m[0] / 1.25, m[-1] * 1.25)
    ax.set_xlabel(_tex_label("m_Aprime"))
    return seen


def certified_hierarchy_plot(
    table,
    second=None,
    *,
    labels: tuple[str, str] | None = None,
    registry=None,
    limits=None,
    title: str | None = None,
):
    """Certified allowed effective moments vs the direct limits, versus m_A' (log-log).

    For each experiment X (Borexino, XENONnT) the band runs from the best feasible value found (lower) to the
    certified upper bound (upper) of max mu_X^eff subject to the indirect constraints; the direct limit mu_X^90
    is the dashed line (registry entries ``borexino_mueff``, ``xenonnt_mueff``). Grid points whose certificate
    did not converge are open circles; excluded masses (no allowed point) are crosses at the bottom.

    Args:
      table: the mapping :func:`djax.io.read_hierarchy_table` returns, or the path of a ``hierarchy.csv``.
      second: an optional second table (or path), drawn in a second panel to the right (e.g. invisible vs
        visible dark-photon decays).
      labels: panel titles of the two tables (default: none for one table, ``("table 1", "table 2")``).
      registry: a :class:`djax.io.Registry` for the direct limits (default: the packaged one).
      limits: ``{"borexino": mu, "xenonnt": mu}`` (mu_B) overriding the registry.
      title: figure title.
    Returns:
      matplotlib Figure.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    tabs = [read_hierarchy_table(t) if isinstance(t, (str, os.PathLike)) else t for t in (table, second)]
    tabs = [t for t in tabs if t is not None]
    lim = _direct_limits(registry, limits)
    if labels is None and len(tabs) == 2:
        labels = ("table 1", "table 2")
    with style_context():
        two = len(tabs) == 2
        fig = Figure(figsize=(DOUBLE_COLUMN_IN, 3.0) if two else (SINGLE_COLUMN_IN, 3.3), layout="constrained")
        axes = fig.subplots(1, len(tabs), sharey=True, squeeze=False)[0]
        seen: list[float] = []
        bad = False
        for k, (ax, tab) in enumerate(zip(axes, tabs)):
            seen += _draw_certified(ax, tab, lim)
            bad |= bool(np.any(np.asarray(tab["status"], dtype=str) == "not converged"))
            if labels is not None:
                ax.set_title(labels[k])
        pos = [v for v in seen if v > 0]
        if pos:
            axes[0].set_ylim(10 ** (math.log10(min(pos)) - 0.4), 10 ** (math.log10(max(pos)) + 0.5))
        axes[0].set_ylabel(r"effective moment $\mu_\nu^{\rm eff}$ [$\mu_B$]")
        by_label = {}
        for ax in axes:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                by_label.setdefault(lab, h)
        handles, names = list(by_label.values()), list(by_label)
        if bad:
            handles.append(Line2D([], [], ls="none", marker="o", ms=3.5, mfc="white", mec="0.3", mew=0.8))
            names.append("not converged")
        fig.legend(handles, names, loc="outside upper center", ncol=4 if two else 2, fontsize=6, columnspacing=1.0)
        if title:
            fig.suptitle(title)
    return fig
