"""Labels, units, transforms and the one figure style shared by the figures (read from the parameter schema).

Every figure is drawn and saved inside :func:`style_context`: matplotlib defaults plus :data:`STYLE` (DejaVu Sans,
mathtext ``dejavusans``, journal font sizes), so a figure looks the same on every machine and baseline-image
tests can compare it pixel by pixel. Widths follow the journals: :data:`SINGLE_COLUMN_IN` (one column) and
:data:`DOUBLE_COLUMN_IN` (full page width); PNG files are written at :data:`PNG_DPI` with scatter points
rasterised, PDF files keep lines and text as vectors.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import DjaxError
from ..model import PARAMETER_INFO

DEFAULT_FORMATS = ("png", "pdf")
#: Journal figure widths (inches): one column (PRD/PRL/JHEP ~ 3.4 in) and the full text width (~ 7 in).
SINGLE_COLUMN_IN = 3.4
DOUBLE_COLUMN_IN = 7.0
#: Resolution of PNG files (points and meshes are rasterised at it; lines and text stay vectors in PDF).
PNG_DPI = 300
#: rcParams of every figure (over matplotlib's defaults): fixed fonts and sizes, inward ticks, no dates.
STYLE = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "mathtext.fontset": "dejavusans",
    "mathtext.default": "it",
    "font.size": 8.0,
    "axes.labelsize": 8.0,
    "axes.titlesize": 8.0,
    "legend.fontsize": 6.5,
    "xtick.labelsize": 7.0,
    "ytick.labelsize": 7.0,
    "figure.titlesize": 8.5,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.1,
    "lines.markersize": 3.5,
    "patch.linewidth": 0.6,
    "xtick.direction": "in",
    "ytick.direction": "in",
    "xtick.top": True,
    "ytick.right": True,
    "xtick.major.size": 3.0,
    "ytick.major.size": 3.0,
    "xtick.minor.size": 1.6,
    "ytick.minor.size": 1.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.minor.width": 0.45,
    "ytick.minor.width": 0.45,
    "legend.frameon": False,
    "legend.handlelength": 1.6,
    "axes.grid": False,
    "axes.formatter.use_mathtext": True,
    "figure.dpi": 100.0,
    "savefig.dpi": PNG_DPI,
    "savefig.pad_inches": 0.02,
    "image.cmap": "viridis",
    "pdf.fonttype": 42,
    "svg.hashsalt": "djax",
    "svg.fonttype": "path",
    "text.usetex": False,
    "text.hinting": "default",
    "text.antialiased": True,
    "path.simplify": True,
}
#: The experiments of the hierarchy figures: (column prefix, name, registry id of the direct limit, colour).
EXPERIMENTS = (("borexino", "Borexino", "borexino_mueff", "C0"), ("xenonnt", "XENONnT", "xenonnt_mueff", "C3"))
#: Registry ids of the kinetic-mixing curves drawn by default (NA64 2023 and BaBar 2017).
DEFAULT_CURVES = ("na64_2023", "babar2017")
#: Free parameters of the model, in plotting order (from the schema).
PARAMETERS = tuple(PARAMETER_INFO)
#: Parameters shown as log10 when no run file says which priors are log-uniform.
LOG_PARAMETERS = frozenset({"M_F", "m_S1", "m_S2", "m_Aprime", "epsilon", "alpha_D"})
#: Signed couplings shown as log10|y| when no run file says which priors are signed-log-uniform.
SIGNED_LOG_PARAMETERS = frozenset({"y_e", "y_mu", "y_tau", "yp_e", "yp_mu", "yp_tau", "ypE_e", "ypE_mu", "ypE_tau"})
#: Derived observables of :func:`observable_posteriors`, in plotting order.
OBSERVABLES = ("br_mu_e_gamma", "lambda_em_max_muB", "borexino_mu_equiv_muB", "xenonnt_mu_equiv_muB", "m_nu_sum_eV")

_UNITS = {
    **{n: ("" if i.units == "1" else i.units) for n, i in PARAMETER_INFO.items()},
    "br_mu_e_gamma": "",
    "lambda_em_max_muB": r"$\mu_B$",
    "borexino_mu_equiv_muB": r"$\mu_B$",
    "xenonnt_mu_equiv_muB": r"$\mu_B$",
    "m_nu_sum_eV": "eV",
    "br_tau_e_gamma": "",
    "br_tau_mu_gamma": "",
    "br_mu_3e": "",
    "cr_mu_e_Au": "",
    "cr_mu_e_Ti": "",
    "cr_mu_e_Al": "",
    "delta_a_mu": "",
    "delta_a_e": "",
    "d_e_ecm": r"$e\,$cm",
    "lambda_dark_max_muB": r"$\mu_B$",
    "red_giant_mu_equiv_muB": r"$\mu_B$",
}
_TEX = {
    **{n: i.latex for n, i in PARAMETER_INFO.items()},
    "br_mu_e_gamma": r"\mathrm{BR}(\mu\to e\gamma)",
    "lambda_em_max_muB": r"\max|\lambda^{\rm EM}|",
    "borexino_mu_equiv_muB": r"\mu_\nu^{\rm Borexino\text{-}eq}",
    "xenonnt_mu_equiv_muB": r"\mu_\nu^{\rm XENONnT\text{-}eq}",
    "m_nu_sum_eV": r"\sum m_\nu",
    "br_tau_e_gamma": r"\mathrm{BR}(\tau\to e\gamma)",
    "br_tau_mu_gamma": r"\mathrm{BR}(\tau\to \mu\gamma)",
    "br_mu_3e": r"\mathrm{BR}(\mu\to 3e)",
    "cr_mu_e_Au": r"\mathrm{CR}(\mu\to e;\,\mathrm{Au})",
    "cr_mu_e_Ti": r"\mathrm{CR}(\mu\to e;\,\mathrm{Ti})",
    "cr_mu_e_Al": r"\mathrm{CR}(\mu\to e;\,\mathrm{Al})",
    "delta_a_mu": r"\Delta a_\mu",
    "delta_a_e": r"\Delta a_e",
    "d_e_ecm": r"|d_e|",
    "lambda_dark_max_muB": r"\max|\lambda^{\rm D}|",
    "red_giant_mu_equiv_muB": r"\mu_\nu^{\rm RG\text{-}eq}",
}

#: Unit suffixes of observable names without a schema entry.
_SUFFIX_UNITS = {"GeV": "GeV", "eV": "eV", "muB": r"$\mu_B$", "ecm": r"$e\,$cm"}

_MAX_SCATTER = 5000  # posterior points drawn in the epsilon - m_A' plane


class PlotInputError(DjaxError, FileNotFoundError):
    """A run folder lacks a file a figure needs (the message names it), or the file is unusable."""


@contextlib.contextmanager
def style_context() -> Iterator[None]:
    """matplotlib's defaults plus :data:`STYLE` (whatever the user's matplotlibrc says)."""
    import matplotlib.style

    with matplotlib.style.context(["default", STYLE]):
        yield


def _tex_label(name: str, log: bool = False, absolute: bool = False) -> str:
    """``$<symbol>$ [unit]`` from the schema (``log``: ``$\\log_{10} x$``; ``absolute``: ``$\\log_{10}|x|$``)."""
    sym = _TEX.get(name)
    unit = _UNITS.get(name, "")
    if sym is None:
        stem, _, suffix = name.rpartition("_")
        if not unit and stem and suffix in _SUFFIX_UNITS:  # e.g. lz_mu_equiv_muB -> lz_mu_equiv [mu_B]
            name, unit = stem, _SUFFIX_UNITS[suffix]
        base = name if not log else (f"log10|{name}|" if absolute else f"log10({name})")
        return f"{base} [{unit}]" if unit else base
    if log:
        bare = sym[1:-1] if absolute and sym.startswith("|") and sym.endswith("|") else sym
        sym = rf"\log_{{10}} |{bare}|" if absolute else rf"\log_{{10}} {sym}"
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


def _transform_values(name: str, v: np.ndarray, log_names, signed_names) -> tuple[str, np.ndarray, str]:
    """(key, plotted values, axis label) of one variable: ``log10`` for ``log_names`` with all samples positive,
    ``log10|y|`` for ``signed_names`` (signed log-uniform couplings) with no zero sample, else as it is."""
    v = np.asarray(v, dtype=float)
    if name in log_names and _can_log(v):
        return f"log10_{name}", np.log10(v), _tex_label(name, log=True)
    if name in signed_names and _can_log(np.abs(v)):
        return f"log10abs_{name}", np.log10(np.abs(v)), _tex_label(name, log=True, absolute=True)
    return name, v, _tex_label(name)


def _transformed_tree(
    dt,
    names: Sequence[str],
    log_names: frozenset,
    asinh_scales: Mapping[str, float] | None = None,
    max_draws: int | None = None,
):
    """A DataTree with ``posterior`` = the chosen variables, transformed for plotting, and
    ``sample_stats.diverging`` (if present); plus the label map.

    ``log_names`` with all samples positive become ``log10_<name>``; the names of ``asinh_scales`` (signed
    log-uniform priors y = s sinh(u)) become ``log10abs_<name>`` = log10|y|."""
    from arviz_base import from_dict

    signed = frozenset(asinh_scales or {})
    ds = _posterior(dt)
    post, labels = {}, {}
    for n in names:
        key, v, lab = _transform_values(n, ds[n].transpose("chain", "draw").values, log_names, signed)
        post[key] = v
        labels[key] = lab
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
    """(log10 names, signed-log scales) from a run file's ``[priors]`` tables: ``log_uniform`` -> log10,
    ``signed_log_uniform`` (scale s) -> log10|y| (the scale is returned); parameters not listed keep
    :data:`LOG_PARAMETERS`."""
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
