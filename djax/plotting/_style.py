"""Labels, units and transforms shared by the figures (read from the parameter schema)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import DjaxError
from ..model import PARAMETER_INFO

DEFAULT_FORMATS = ("png", "pdf")
#: Registry ids of the kinetic-mixing curves drawn by default (NA64 2023 and BaBar 2017).
DEFAULT_CURVES = ("na64_2023", "babar2017")
#: Free parameters of the model, in plotting order (from the schema).
PARAMETERS = tuple(PARAMETER_INFO)
#: Parameters shown as log10 when no run file says which priors are log-uniform.
LOG_PARAMETERS = frozenset({"M_F", "m_S1", "m_S2", "m_Aprime", "epsilon", "alpha_D"})
#: Derived observables of :func:`observable_posteriors`, in plotting order.
OBSERVABLES = ("br_mu_e_gamma", "lambda_em_max_muB", "borexino_mu_equiv_muB", "xenonnt_mu_equiv_muB", "m_nu_sum_eV")

_UNITS = {
    **{n: ("" if i.units == "1" else i.units) for n, i in PARAMETER_INFO.items()},
    "br_mu_e_gamma": "",
    "lambda_em_max_muB": r"$\mu_B$",
    "borexino_mu_equiv_muB": r"$\mu_B$",
    "xenonnt_mu_equiv_muB": r"$\mu_B$",
    "m_nu_sum_eV": "eV",
}
_TEX = {
    **{n: i.latex for n, i in PARAMETER_INFO.items()},
    "br_mu_e_gamma": r"\mathrm{BR}(\mu\to e\gamma)",
    "lambda_em_max_muB": r"\max|\lambda^{\rm EM}|",
    "borexino_mu_equiv_muB": r"\mu_\nu^{\rm Borexino\text{-}eq}",
    "xenonnt_mu_equiv_muB": r"\mu_\nu^{\rm XENONnT\text{-}eq}",
    "m_nu_sum_eV": r"\sum m_\nu",
}

_MAX_SCATTER = 5000  # posterior points drawn in the epsilon - m_A' plane


class PlotInputError(DjaxError, FileNotFoundError):
    """A run folder lacks a file a figure needs (the message names it), or the file is unusable."""


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
    mant = x / 10**e
    return f"10^{{{e}}}" if abs(mant - 1) < 1e-9 else f"{mant:g}\\times 10^{{{e}}}"


def _transformed_tree(
    dt,
    names: Sequence[str],
    log_names: frozenset,
    asinh_scales: Mapping[str, float] | None = None,
    max_draws: int | None = None,
):
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
