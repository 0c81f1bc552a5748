"""The reference study's headline figure: the largest allowed effective moments against the direct limits."""

from __future__ import annotations

import math
import os

import numpy as np

from ..io import read_limits, read_profile_csv
from ._style import _tex_label


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
    from matplotlib.figure import Figure

    prof = read_profile_csv(profile) if isinstance(profile, (str, os.PathLike)) else profile
    lim = read_limits(limits) if isinstance(limits, (str, os.PathLike)) else limits
    m = np.asarray(prof["values"], dtype=float)
    order = np.argsort(m)
    m = m[order]
    fig = Figure(figsize=(7.5, 6.8), layout="constrained")
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
        ax.plot(
            m, y, color=col, marker=mk, ms=4, lw=1.8, label=f"max allowed {name}-equivalent $\\mu_\\nu^{{\\rm eff}}$"
        )
        ax.axhline(limit, color=col, ls="--", lw=1.5, label=f"{name} limit {limit:.2g} $\\mu_B$ (90% CL)")
        ax.axhspan(limit, 1.0, color=col, alpha=0.07, lw=0)  # excluded by the direct search
        if np.any(~ok):
            ax.plot(
                m[~ok],
                np.full((~ok).sum(), 0.03 if key == "borexino" else 0.07),
                ls="none",
                marker="x",
                color=col,
                ms=7,
                transform=ax.get_xaxis_transform(),
                label=f"no feasible point ({name})",
            )
        ratio = np.log10(limit / y)
        ratios_all.append(ratio[np.isfinite(ratio)])
        axr.plot(m, ratio, color=col, marker=mk, ms=4, lw=1.8, label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    vals = np.concatenate([np.asarray(prof[k], dtype=float) for k, *_ in series])
    finite = [float(vals[vals > 0].min())] if np.any(vals > 0) else []
    lims = [float(lim[f"{k}_mu_limit_muB"]) for k, *_ in series]
    ax.set_ylim(10 ** (math.log10(min(finite + lims)) - 0.5), 10 ** (math.log10(max(lims)) + 0.8))
    ax.set_ylabel(r"effective moment $\mu_\nu^{\rm eff}$ [$\mu_B$]", fontsize=12)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8.5, loc="best", framealpha=0.9)
    ax.tick_params(labelbottom=False)
    ax.set_title(title or "Indirect constraints vs direct neutrino-moment limits", fontsize=13)
    axr.axhline(0.0, color="0.4", lw=1.0)
    axr.set_xlabel(_tex_label(prof.get("parameter", "m_Aprime")), fontsize=12)
    axr.set_ylabel(r"$\log_{10}(\mu^{90}_{\rm limit} / \mu^{\rm eff}_{\max})$" + "\n[orders of magnitude]", fontsize=10)
    axr.grid(True, which="major", alpha=0.3)
    axr.legend(fontsize=9, loc="best")
    return fig
