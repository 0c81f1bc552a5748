"""Figures of finished (or interrupted) djax runs; host-side matplotlib / arviz-plots, no JAX.

Every ``*_plot`` function returns a :class:`matplotlib.figure.Figure` and writes nothing;
:func:`save_figure` writes it (atomically) in several formats and :func:`plot_run` does both for a run
folder. Figures:

* :func:`corner_plot` -- pair plot of the free parameters (arviz-plots ``plot_pair``), log10 of the
  log-uniform ones, divergent transitions marked.
* :func:`trace_plot` -- marginals and traces per chain (arviz-plots ``plot_trace_dist``), divergences
  as a rug.
* :func:`epsilon_mass_plane` -- kinetic mixing epsilon vs m_A' with the 90 % CL exclusion curves of the
  limit registry (region above each curve shaded) and posterior samples / a best fit on top.
* :func:`hierarchy_plot` -- the reference study's headline: the largest Borexino- and XENONnT-equivalent
  moments the indirect constraints allow, vs m_A', against the direct limits; lower panel
  log10(limit / allowed maximum) = orders of magnitude between them.
* :func:`observable_posteriors` -- 1D marginals (log10 where positive) of derived observables with the
  90 % CL limit of each drawn where known (fraction of samples above it quoted).
"""
from __future__ import annotations

import csv
import json
import math
import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "PlotInputError",
    "DEFAULT_FORMATS",
    "DEFAULT_CURVES",
    "LOG_PARAMETERS",
    "PARAMETERS",
    "OBSERVABLES",
    "PROFILE_COLUMNS",
    "corner_plot",
    "trace_plot",
    "epsilon_mass_plane",
    "hierarchy_plot",
    "observable_posteriors",
    "save_figure",
    "plot_run",
    "read_profile_csv",
    "read_limits_json",
    "run_job",
]

DEFAULT_FORMATS = ("png", "pdf")
#: Registry ids of the kinetic-mixing curves drawn by default (NA64 2023 and BaBar 2017).
DEFAULT_CURVES = ("na64_2023", "babar2017")
#: Free parameters of the default model, in plotting order.
PARAMETERS = ("M_F", "m_S1", "m_S2", "theta", "y_e", "y_mu", "y_tau", "yp_e", "yp_mu", "yp_tau",
              "g_D", "alpha_D", "m_Aprime", "epsilon")
#: Parameters shown as log10 when no run file says which priors are log-uniform.
LOG_PARAMETERS = frozenset({"M_F", "m_S1", "m_S2", "m_Aprime", "epsilon", "alpha_D"})
#: Derived observables of :func:`observable_posteriors`, in plotting order.
OBSERVABLES = ("br_mu_e_gamma", "lambda_em_max_muB", "borexino_mu_equiv_muB", "xenonnt_mu_equiv_muB",
               "m_nu_sum_eV")
PROFILE_COLUMNS = ("m_Aprime_GeV", "borexino_mu_equiv_max_muB", "xenonnt_mu_equiv_max_muB",
                   "feasible_borexino", "feasible_xenonnt")

_UNITS = {"M_F": "GeV", "m_S1": "GeV", "m_S2": "GeV", "m_Aprime": "GeV", "theta": "rad",
          "br_mu_e_gamma": "", "lambda_em_max_muB": r"$\mu_B$", "borexino_mu_equiv_muB": r"$\mu_B$",
          "xenonnt_mu_equiv_muB": r"$\mu_B$", "m_nu_sum_eV": "eV"}
_TEX = {"M_F": "M_F", "m_S1": "m_{S_1}", "m_S2": "m_{S_2}", "theta": r"\theta", "y_e": "y_e",
        "y_mu": r"y_\mu", "y_tau": r"y_\tau", "yp_e": "y'_e", "yp_mu": r"y'_\mu", "yp_tau": r"y'_\tau",
        "g_D": "g_D", "alpha_D": r"\alpha_D", "m_Aprime": "m_{A'}", "epsilon": r"\epsilon",
        "br_mu_e_gamma": r"\mathrm{BR}(\mu\to e\gamma)",
        "lambda_em_max_muB": r"\max|\lambda^{\rm EM}|",
        "borexino_mu_equiv_muB": r"\mu_\nu^{\rm Borexino\text{-}eq}",
        "xenonnt_mu_equiv_muB": r"\mu_\nu^{\rm XENONnT\text{-}eq}",
        "m_nu_sum_eV": r"\sum m_\nu"}
#: Registry id of the limit drawn on each observable's marginal, with a fallback (value, label).
_OBSERVABLE_LIMITS = {
    "br_mu_e_gamma": ("meg2_mueg", 1.5e-13, "MEG II"),
    "borexino_mu_equiv_muB": ("borexino_mueff", 2.8e-11, "Borexino"),
    "xenonnt_mu_equiv_muB": ("xenonnt_mueff", 6.3e-12, "XENONnT"),
    "m_nu_sum_eV": ("planck2018_mnu", 0.12, "Planck 2018"),
}
_MAX_SCATTER = 5000  # posterior points drawn in the epsilon - m_A' plane


class PlotInputError(FileNotFoundError):
    """A run folder lacks a file a figure needs (the message names it), or the file is unusable."""


# ------------------------------------------------------------------------------------------------
# helpers


def _tex_label(name: str, log: bool = False) -> str:
    sym = _TEX.get(name)
    unit = _UNITS.get(name, "")
    if sym is None:
        base = name if not log else f"log10({name})"
        return f"{base} [{unit}]" if unit else base
    sym = rf"\log_{{10}} {sym}" if log else sym
    return f"${sym}$" + (f" [{unit}]" if unit else "")


def _posterior(dt) -> Any:
    """The ``posterior`` group of a DataTree as an xarray Dataset (clear error if absent)."""
    try:
        return dt["posterior"].to_dataset()
    except KeyError:
        raise ValueError("the DataTree has no 'posterior' group") from None


def _scalar_vars(ds, names: Sequence[str]) -> list[str]:
    """Names present in ``ds`` as (chain, draw) scalars that are finite and not constant."""
    out = []
    for n in names:
        if n not in ds.data_vars or set(ds[n].dims) != {"chain", "draw"}:
            continue
        v = np.asarray(ds[n].values, dtype=float)
        fin = v[np.isfinite(v)]
        if fin.size >= 2 and np.ptp(fin) > 0:
            out.append(n)
    return out


def _can_log(values) -> bool:
    v = np.asarray(values, dtype=float)
    return bool(v.size) and bool(np.all(np.isfinite(v) & (v > 0)))


def _fmt_scale(x: float) -> str:
    e = math.floor(math.log10(x))
    mant = x / 10 ** e
    return f"10^{{{e}}}" if abs(mant - 1) < 1e-9 else f"{mant:g}\\times 10^{{{e}}}"


def _transformed_tree(dt, names: Sequence[str], log_names: frozenset,
                      asinh_scales: Mapping[str, float] | None = None, max_draws: int | None = None):
    """A DataTree with ``posterior`` = the chosen variables, transformed for plotting, and
    ``sample_stats.diverging`` (if present); plus the label map.

    ``log_names`` with all samples positive become ``log10_<name>``; ``asinh_scales`` names (signed
    log-uniform priors y = s sinh(u)) become ``asinh_<name>`` = asinh(y / s) = u."""
    from arviz_base import from_dict

    asinh_scales = dict(asinh_scales or {})
    ds = _posterior(dt)
    post, labels = {}, {}
    for n in names:
        v = np.asarray(ds[n].transpose("chain", "draw").values, dtype=float)
        if n in log_names and _can_log(v):
            key = f"log10_{n}"
            post[key] = np.log10(v)
            labels[key] = _tex_label(n, log=True)
        elif n in asinh_scales and asinh_scales[n] > 0:
            key = f"asinh_{n}"
            s = float(asinh_scales[n])
            post[key] = np.arcsinh(v / s)
            labels[key] = rf"$\sinh^{{-1}}({_TEX.get(n, n)}/{_fmt_scale(s)})$"
        else:
            post[n] = v
            labels[n] = _tex_label(n)
    groups = {"posterior": post}
    if "sample_stats" in dt.children and "diverging" in dt["sample_stats"].data_vars:
        div = np.asarray(dt["sample_stats"]["diverging"].transpose("chain", "draw").values).astype(bool)
        groups["sample_stats"] = {"diverging": div}
    if max_draws is not None:
        n_draw = next(iter(post.values())).shape[1]
        step = max(1, math.ceil(n_draw / max_draws))
        groups = {g: {k: v[:, ::step] for k, v in d.items()} for g, d in groups.items()}
    return from_dict(groups), labels


def _transforms_from_priors(priors: Mapping[str, Any] | None) -> tuple[frozenset, dict[str, float]]:
    """(log10 names, asinh scales) from a run file's ``[priors]`` tables: ``log_uniform`` -> log10,
    ``signed_log_uniform`` (scale s) -> asinh(y / s); parameters not listed keep :data:`LOG_PARAMETERS`."""
    logs, scales = set(LOG_PARAMETERS), {}
    for k, p in (priors or {}).items():
        if not isinstance(p, Mapping):
            continue
        kind = p.get("type", "fixed" if "value" in p else None)
        logs.discard(k)
        if kind == "log_uniform":
            logs.add(k)
        elif kind == "signed_log_uniform":
            scales[k] = float(p.get("scale", 1.0))
    return frozenset(logs), scales


def _figure_of(pc):
    """The matplotlib Figure behind an arviz-plots PlotCollection / PlotMatrix."""
    fig = pc.viz["figure"]
    return fig.item() if hasattr(fig, "item") else fig


def _free_parameters(ds, params: Sequence[str] | None) -> list[str]:
    if params is None:
        params = [p for p in PARAMETERS if p in ds.data_vars]
    else:
        missing = [p for p in params if p not in ds.data_vars]
        if missing:
            raise ValueError(f"posterior lacks variable(s) {missing}; it has {sorted(ds.data_vars)}")
    names = _scalar_vars(ds, params)
    if not names:
        raise ValueError(f"no varying parameter to plot among {list(params)}")
    return names


# ------------------------------------------------------------------------------------------------
# posterior figures (arviz-plots)


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
    fig.subplots_adjust(left=0.5 / fig.get_figwidth() + 0.05, right=0.985, bottom=0.6 / fig.get_figheight() + 0.03,
                        top=1.0 - 0.75 / fig.get_figheight(), wspace=0.06, hspace=0.06)


def corner_plot(dt, params: Sequence[str] | None = None, *, log_params: Sequence[str] | None = None,
                signed_log_scales: Mapping[str, float] | None = None, divergences: bool = True,
                max_draws: int | None = None, title: str | None = None):
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
        "divergence": ({"color": "red", "size": 8, "rasterized": True} if divergences and has_div
                       else False),
        "xlabel": {"fontsize": 10 if n > 6 else 11}, "ylabel": {"fontsize": 10 if n > 6 else 11},
    }
    with rc_context({"plot.max_subplots": max(n * n, 40)}):
        pc = azp.plot_pair(tdt, var_names=list(labels), backend="matplotlib", triangle="lower",
                           marginal_kind="kde", visuals=visuals, labeller=MapLabeller(var_name_map=labels),
                           figure_kwargs={"figsize": (size, size), "figsize_units": "inches"})
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


def trace_plot(dt, params: Sequence[str] | None = None, *, log_params: Sequence[str] | None = None,
               signed_log_scales: Mapping[str, float] | None = None, divergences: bool = True,
               title: str | None = None):
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
        pc = azp.plot_trace_dist(tdt, var_names=list(labels), backend="matplotlib", kind="kde",
                                 visuals=visuals, labeller=MapLabeller(var_name_map=labels),
                                 figure_kwargs={"figsize": (11.0, 1.9 * n + 1.2), "figsize_units": "inches"})
    fig = _figure_of(pc)
    h = fig.get_figheight()
    fig.subplots_adjust(left=0.07, right=0.98, top=1.0 - 0.95 / h, bottom=0.6 / h, hspace=0.7, wspace=0.15)
    sub = f"{ds.sizes['chain']} chain(s) x {ds.sizes['draw']} draws, line style = chain"
    if divergences and has_div:
        sub += "; black ticks: divergent transitions"
    fig.suptitle(f"{title or 'Marginals and traces of the free parameters'}\n{sub}", fontsize=12)
    return fig


# ------------------------------------------------------------------------------------------------
# epsilon - m_A' plane


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


def epsilon_mass_plane(samples=None, *, curves: Sequence[str] = DEFAULT_CURVES, registry=None,
                       best_fit: Mapping[str, float] | None = None, xlim=None, ylim=None,
                       max_points: int = _MAX_SCATTER, title: str | None = None):
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

    from djax.io import load_registry

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
        ax.scatter(m[::step], e[::step], s=4, color="k", alpha=0.35, linewidths=0, rasterized=True,
                   zorder=4, label=f"posterior samples ({m[::step].size} of {m.size})")
    if best_fit is not None:
        ax.scatter([best_fit["m_Aprime"]], [best_fit["epsilon"]], marker="*", s=160, color="gold",
                   edgecolors="k", linewidths=0.8, zorder=5, label="best fit")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(r"dark-photon mass $m_{A'}$ [GeV]", fontsize=12)
    ax.set_ylabel(r"kinetic mixing $\epsilon$", fontsize=12)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="lower right", fontsize=9, framealpha=0.9)
    ax.set_title(title or r"$\epsilon$ - $m_{A'}$ plane (invisible $A'$ decays; shaded: excluded)",
                 fontsize=12)
    return fig


# ------------------------------------------------------------------------------------------------
# hierarchy plot


def _as_bool(v) -> bool:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    s = str(v).strip().lower()
    if s in ("true", "1", "1.0", "yes", "t"):
        return True
    if s in ("false", "0", "0.0", "no", "f", "", "nan"):
        return False
    raise ValueError(f"not a boolean: {v!r}")


def read_profile_csv(path) -> dict[str, np.ndarray]:
    """Read an optimize run's ``profile.csv`` (columns :data:`PROFILE_COLUMNS`) into float/bool arrays."""
    p = Path(path)
    if not p.is_file():
        raise PlotInputError(f"{p}: profile file not found (an optimize run writes profile.csv)")
    with p.open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(line for line in f if not line.lstrip().startswith("#")) if r]
    if not rows:
        raise PlotInputError(f"{p}: empty profile file")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in PROFILE_COLUMNS if c not in header]
    if missing:
        raise PlotInputError(f"{p}: missing column(s) {missing}; header is {header}")
    out: dict[str, list] = {c: [] for c in header}
    for i, r in enumerate(rows[1:], start=2):
        if len(r) != len(header):
            raise PlotInputError(f"{p}:{i}: expected {len(header)} columns, got {len(r)}")
        for c, v in zip(header, r):
            out[c].append(v.strip())
    res = {}
    for c, vals in out.items():
        try:
            res[c] = (np.array([_as_bool(v) for v in vals], dtype=bool) if c.startswith("feasible")
                      else np.array([float(v) if v else np.nan for v in vals], dtype=float))
        except ValueError as exc:
            raise PlotInputError(f"{p}: column {c!r}: {exc}") from None
    if res["m_Aprime_GeV"].size == 0:
        raise PlotInputError(f"{p}: no data rows")
    return res


def read_limits_json(path) -> dict[str, float]:
    """Read an optimize run's ``limits.json`` (``borexino_mu_limit_muB``, ``xenonnt_mu_limit_muB``)."""
    p = Path(path)
    if not p.is_file():
        raise PlotInputError(f"{p}: limits file not found (an optimize run writes limits.json)")
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PlotInputError(f"{p}: not valid JSON ({exc})") from None
    for k in ("borexino_mu_limit_muB", "xenonnt_mu_limit_muB"):
        if k not in d:
            raise PlotInputError(f"{p}: missing key {k!r}")
    return {k: float(v) for k, v in d.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def hierarchy_plot(profile, limits, *, title: str | None = None):
    """Allowed effective moments vs direct limits, versus m_A' (the reference study's headline).

    Upper panel: P_X(m_A') = max over the other parameters of the X-equivalent effective moment
    (X = Borexino, XENONnT) subject to the indirect constraints, against the direct limits
    mu_X^90 (horizontal lines). Lower panel: log10(mu_X^90 / P_X(m_A')) -- how many orders of
    magnitude the indirect constraints push the reachable moment below each limit.
    Infeasible grid points (no parameter point satisfies the constraints) are left out and marked.

    Args:
      profile: mapping with the :data:`PROFILE_COLUMNS` arrays (:func:`read_profile_csv`) or the path
        of a ``profile.csv``.
      limits: mapping with ``borexino_mu_limit_muB`` and ``xenonnt_mu_limit_muB`` (mu_B), or the path
        of a ``limits.json``.
      title: figure title.
    Returns:
      matplotlib Figure.
    """
    from matplotlib.figure import Figure

    prof = read_profile_csv(profile) if isinstance(profile, (str, os.PathLike)) else profile
    lim = read_limits_json(limits) if isinstance(limits, (str, os.PathLike)) else limits
    m = np.asarray(prof["m_Aprime_GeV"], dtype=float)
    order = np.argsort(m)
    m = m[order]
    fig = Figure(figsize=(7.5, 6.8), layout="constrained")
    gs = fig.add_gridspec(2, 1, height_ratios=(2.2, 1.0))
    ax = fig.add_subplot(gs[0])
    axr = fig.add_subplot(gs[1], sharex=ax)
    series = (("borexino", "Borexino", "C0", "o"), ("xenonnt", "XENONnT", "C3", "s"))
    ratios_all = []
    for key, name, col, mk in series:
        val = np.asarray(prof[f"{key}_mu_equiv_max_muB"], dtype=float)[order]
        feas = np.asarray(prof.get(f"feasible_{key}", np.ones(m.size, bool)), dtype=bool)[order]
        ok = feas & np.isfinite(val) & (val > 0)
        limit = float(lim[f"{key}_mu_limit_muB"])
        y = np.where(ok, val, np.nan)
        ax.plot(m, y, color=col, marker=mk, ms=4, lw=1.8,
                label=f"max allowed {name}-equivalent $\\mu_\\nu^{{\\rm eff}}$")
        ax.axhline(limit, color=col, ls="--", lw=1.5, label=f"{name} limit {limit:.2g} $\\mu_B$ (90% CL)")
        ax.axhspan(limit, 1.0, color=col, alpha=0.07, lw=0)  # excluded by the direct search
        if np.any(~ok):
            ax.plot(m[~ok], np.full((~ok).sum(), 0.03 if key == "borexino" else 0.07), ls="none", marker="x",
                    color=col, ms=7, transform=ax.get_xaxis_transform(),
                    label=f"no feasible point ({name})")
        ratio = np.log10(limit / y)
        ratios_all.append(ratio[np.isfinite(ratio)])
        axr.plot(m, ratio, color=col, marker=mk, ms=4, lw=1.8, label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    vals = np.concatenate([np.asarray(prof[f"{k}_mu_equiv_max_muB"], dtype=float) for k, *_ in series])
    finite = [float(vals[vals > 0].min())] if np.any(vals > 0) else []
    lims = [float(lim[f"{k}_mu_limit_muB"]) for k, *_ in series]
    ax.set_ylim(10 ** (math.log10(min(finite + lims)) - 0.5), 10 ** (math.log10(max(lims)) + 0.8))
    ax.set_ylabel(r"effective moment $\mu_\nu^{\rm eff}$ [$\mu_B$]", fontsize=12)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8.5, loc="best", framealpha=0.9)
    ax.tick_params(labelbottom=False)
    ax.set_title(title or "Indirect constraints vs direct neutrino-moment limits", fontsize=13)
    axr.axhline(0.0, color="0.4", lw=1.0)
    axr.set_xlabel(r"dark-photon mass $m_{A'}$ [GeV]", fontsize=12)
    axr.set_ylabel(r"$\log_{10}(\mu^{90}_{\rm limit} / \mu^{\rm eff}_{\max})$" + "\n[orders of magnitude]",
                   fontsize=10)
    axr.grid(True, which="major", alpha=0.3)
    axr.legend(fontsize=9, loc="best")
    return fig


# ------------------------------------------------------------------------------------------------
# observable posteriors


def _default_observable_limits(registry=None) -> dict[str, tuple[float, str]]:
    """observable -> (90 % CL-type limit, label) from the registry (fallback: built-in values)."""
    out = {}
    try:
        from djax.io import load_registry

        reg = load_registry() if registry is None else registry
    except Exception:  # plotting must not fail on a registry problem; fall back to the numbers
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


def observable_posteriors(dt, observables: Sequence[str] | None = None, *,
                          limits: Mapping[str, float | tuple[float, str]] | None = None,
                          log: bool = True, bins: int = 50, title: str | None = None):
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
            dens, _, _ = ax.hist(x, bins=bins, range=span, density=True, histtype="stepfilled", color="C0",
                                 alpha=0.45)
            ax.hist(x, bins=bins, range=span, density=True, histtype="step", color="C0", lw=1.2)
            ax.axvspan(lo, hi, color="C0", alpha=0.12, lw=0, label="90% interval")
            ax.axvline(med, color="C0", lw=1.5, label=f"median {10 ** med if use_log else med:.3g}")
            lo_x, hi_x, top = span[0], span[1], float(np.max(dens))
        if lim is not None:
            val, lab = lim
            if (not use_log) or val > 0:
                xl = math.log10(val) if use_log else val
                frac = float(np.mean(v > val)) if v.size else float("nan")
                ax.axvline(xl, color="C3", ls="--", lw=1.8,
                           label=f"{lab}: {val:.2g}\nP(> limit) = {100 * frac:.3g}%")
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


# ------------------------------------------------------------------------------------------------
# saving and run folders


def save_figure(fig, path_stem, formats: Sequence[str] = DEFAULT_FORMATS, *, dpi: int = 150) -> list[Path]:
    """Write ``fig`` to ``<path_stem>.<fmt>`` for each format, each atomically (temp file + rename).

    Returns the written paths.
    """
    from djax.io._outputs import atomic_path

    if isinstance(formats, str):
        formats = (formats,)
    stem = Path(path_stem)
    written = []
    for fmt in formats:
        fmt = fmt.lower().lstrip(".")
        path = stem.with_name(f"{stem.name}.{fmt}")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi)
        written.append(path)
    return written


def _read_run_toml(run_dir: Path) -> dict:
    p = run_dir / "run.toml"
    if not p.is_file():
        return {}
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PlotInputError(f"{p}: not valid TOML ({exc})") from None


def run_job(run_dir) -> str:
    """The job of a run folder: ``[run] job`` of its ``run.toml``, else guessed from the files present."""
    from djax.inference._scan import STATE_FILE, SUMMARY_FILE

    run_dir = Path(run_dir)
    job = _read_run_toml(run_dir).get("run", {}).get("job")
    if job in ("sample", "optimize", "scan"):
        return job
    if (run_dir / SUMMARY_FILE).is_file() or (run_dir / STATE_FILE).is_file():
        return "scan"
    if (run_dir / "posterior.nc").is_file():
        return "sample"
    if (run_dir / "profile.csv").is_file():
        return "optimize"
    raise PlotInputError(f"{run_dir / 'run.toml'}: run file not found (or it has no [run] job), and the "
                         "folder holds none of posterior.nc, profile.csv, scan_summary.json")


def _best_fit_point(run_dir: Path) -> dict[str, float] | None:
    p = run_dir / "best_fit.json"
    if not p.is_file():
        return None
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PlotInputError(f"{p}: not valid JSON ({exc})") from None
    for cand in (d, d.get("params"), d.get("point"), d.get("best_fit"), d.get("x")):
        if isinstance(cand, Mapping) and "m_Aprime" in cand and "epsilon" in cand:
            try:
                return {"m_Aprime": float(cand["m_Aprime"]), "epsilon": float(cand["epsilon"])}
            except (TypeError, ValueError):
                return None
    return None


def _close(fig) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)


def plot_run(run_dir, formats: Sequence[str] | str | None = None, *, fmt: str | None = None,
             curves: Sequence[str] = DEFAULT_CURVES) -> list[Path]:
    """All figures of a run folder, written to ``RUN_DIR/plots/`` in each of ``formats``.

    sample runs (``posterior.nc``): ``corner``, ``trace``, ``epsilon_mass_plane`` (with the
    posterior samples), ``observables``; optimize runs (``profile.csv``, ``limits.json``, optional
    ``best_fit.json``): ``hierarchy``, ``epsilon_mass_plane`` (with the best fit); scan runs:
    ``djax.inference._scan.plot_scan`` per format. The job comes from ``run.toml`` (``[run] job``).

    Args:
      run_dir: the run folder.
      formats: file formats (``png``, ``pdf``, ``svg``); default :data:`DEFAULT_FORMATS` plus the run
        file's ``[output] plot_format`` when that is another one.
      fmt: a single format (overrides ``formats``; the CLI's ``--format``).
      curves: registry ids of the kinetic-mixing curves in the epsilon - m_A' plane.
    Returns:
      paths written.
    Raises:
      PlotInputError: a needed file is missing (the message names it) or unreadable.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)  # batch use: never needs a screen

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise PlotInputError(f"{run_dir}: run folder not found")
    cfg = _read_run_toml(run_dir)
    if fmt is not None:
        formats = (fmt,)
    elif isinstance(formats, str):
        formats = (formats,)
    elif formats is None:
        extra = cfg.get("output", {}).get("plot_format")
        formats = DEFAULT_FORMATS + ((extra,) if isinstance(extra, str) and extra not in DEFAULT_FORMATS
                                     and extra in ("svg", "eps", "ps") else ())
    formats = tuple(f.lower().lstrip(".") for f in formats)
    job = run_job(run_dir)
    dest = run_dir / "plots"
    written: list[Path] = []
    if job == "scan":
        from djax.inference._scan import STATE_FILE, SUMMARY_FILE, plot_scan

        if not ((run_dir / SUMMARY_FILE).is_file() or (run_dir / STATE_FILE).is_file()):
            raise PlotInputError(f"{run_dir / SUMMARY_FILE}: scan summary not found (nor {STATE_FILE})")
        for f in formats:
            written += plot_scan(run_dir, fmt=f)
        return written
    log_names, asinh_scales = _transforms_from_priors(cfg.get("priors"))
    if job == "sample":
        from djax.inference._arviz import read_datatree

        src = run_dir / "posterior.nc"
        if not src.is_file():
            raise PlotInputError(f"{src}: posterior file not found (a sample run writes posterior.nc)")
        dt = read_datatree(src)
        ds = _posterior(dt)
        name = cfg.get("run", {}).get("name", run_dir.name)
        if _scalar_vars(ds, PARAMETERS):
            for stem, fn in (("corner", corner_plot), ("trace", trace_plot)):
                fig = fn(dt, log_params=log_names, signed_log_scales=asinh_scales)
                written += save_figure(fig, dest / stem, formats)
                _close(fig)
        if "m_Aprime" in ds.data_vars and "epsilon" in ds.data_vars:
            fig = epsilon_mass_plane(dt, curves=curves)
            written += save_figure(fig, dest / "epsilon_mass_plane", formats)
        if any(o in ds.data_vars for o in OBSERVABLES):
            fig = observable_posteriors(dt, title=f"Derived observables, run '{name}' "
                                                  "(dashed: experimental limit)")
            written += save_figure(fig, dest / "observables", formats)
        if not written:
            raise PlotInputError(f"{src}: the posterior holds no parameter or observable to plot")
        return written
    # optimize
    prof = read_profile_csv(run_dir / "profile.csv")
    lim = read_limits_json(run_dir / "limits.json")
    fig = hierarchy_plot(prof, lim)
    written += save_figure(fig, dest / "hierarchy", formats)
    fig = epsilon_mass_plane(None, curves=curves, best_fit=_best_fit_point(run_dir))
    written += save_figure(fig, dest / "epsilon_mass_plane", formats)
    return written
