"""ArviZ 1.x: DataTree building from a sampling result, and convergence summaries (no file I/O).

The DataTree of a sample run describes itself (``docs/outputs.md``):

* ``posterior``: latent sites ``<name>__u``, the physical parameters, the derived observables and the per-term
  ``lnL_<term>`` deterministic sites, each with attributes ``units``, ``long_name``, ``latex`` and
  ``description`` (from the catalogue :func:`djax.observables.observable_info` and :mod:`djax.model`; a latent's ``long_name`` states
  its transform and latent range when the priors are given);
* ``prior``: draws of the same NumPyro model without the likelihood (:func:`prior_draws`), same site names,
  shaped like the posterior;
* ``log_likelihood``: ln L of each likelihood term per draw, one variable per term id (the joint ln L is their
  sum); ``az.loo(dt, var_name=<term>)`` gives the leave-this-experiment-out elpd, :func:`loo_by_term` all of them
  at once (the terms are the "observations"; see :func:`stack_log_likelihood` for why and its caveats);
* ``sample_stats``: ``lp``, ``energy``, ``tree_depth``, ``n_steps``, ``diverging``, ``acceptance_rate``,
  ``step_size``; optionally ``observed_data``;
* root attributes: the sampler settings as plain data (``setting_<key>`` and ``settings_json``), timings and
  whatever the caller adds (the jobs add the resolved run file, the priors and the likelihood terms as JSON).

Diagnostics are arviz-stats' rank-normalised split R-hat and bulk/tail ESS (Vehtari et al. 2021,
Bayesian Analysis 16, 667).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ._nuts import SamplingResult

__all__ = [
    "to_datatree",
    "summarize",
    "Summary",
    "prior_draws",
    "variable_attrs",
    "term_attrs",
    "plain_data",
    "stack_log_likelihood",
    "loo_by_term",
    "SAMPLE_STATS_INFO",
    "LOG_LIKELIHOOD_NOTE",
]

_STATS = ("lp", "energy", "tree_depth", "n_steps", "diverging", "acceptance_rate", "step_size")

#: ``units``, ``long_name``, ``latex`` of the NUTS statistics in ``sample_stats``.
SAMPLE_STATS_INFO: Mapping[str, tuple[str, str, str]] = {
    "lp": (
        "1",
        "log joint density of the draw in the sampler's unconstrained space (minus the potential energy)",
        r"\ln p",
    ),
    "energy": ("1", "Hamiltonian (potential + kinetic energy) at the draw", r"H"),
    "tree_depth": ("1", "depth of the NUTS trajectory tree", r"\mathrm{depth}"),
    "n_steps": ("1", "leapfrog steps of the trajectory", r"n_{\mathrm{leapfrog}}"),
    "diverging": ("1", "divergent trajectory (1: diverged; the draw may be biased)", r"\mathrm{divergent}"),
    "acceptance_rate": ("1", "mean acceptance probability of the trajectory's states", r"\langle\alpha\rangle"),
    "step_size": ("1", "leapfrog step size (adapted in warm-up, then fixed)", r"\varepsilon_{\mathrm{HMC}}"),
}

#: What the ``log_likelihood`` group holds and when LOO over it means something (stored as its attribute).
LOG_LIKELIHOOD_NOTE = (
    "ln L of each likelihood term (one published experimental result each) per posterior draw; variable name = "
    "term id; the joint ln L is the sum over the variables. The terms are independent experiments, so the "
    "likelihood factorises over them and leave-one-term-out cross-validation is well defined: az.loo(dt, "
    "var_name=<term>) is the elpd of that experiment predicted from the others, djax.inference.loo_by_term(dt) "
    "gives all terms (dimension 'term') with their Pareto k (k > 0.7: the posterior is dominated by that "
    "experiment). Upper-limit terms are normalised to ln L = 0 at zero signal (a constant per term), so elpd "
    "values compare models with the same terms only, and with a handful of terms the elpd standard error is "
    "not meaningful."
)


def plain_data(v: Any):
    """JSON-safe plain data of a setting: numbers, strings, lists and dicts; a function becomes its name
    (``init_to_uniform(radius=0.5)`` for a partial), never a ``repr`` with a memory address."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if v is None or isinstance(v, (int, float, str)):
        return v
    if isinstance(v, np.ndarray):
        return plain_data(v.tolist())
    if isinstance(v, Mapping):
        return {str(k): plain_data(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain_data(x) for x in v]
    if isinstance(v, functools.partial):
        args = [repr(plain_data(a)) for a in v.args] + [f"{k}={plain_data(x)!r}" for k, x in v.keywords.items()]
        return f"{plain_data(v.func)}({', '.join(args)})"
    if callable(v):
        return getattr(v, "__qualname__", None) or getattr(v, "__name__", None) or type(v).__name__
    return str(v)


def _attr_value(v: Any):
    """NetCDF-safe attribute (no bool/None/dict): numbers and strings as they are, the rest as JSON."""
    v = plain_data(v)
    if isinstance(v, bool):
        return int(v)
    if v is None:
        return "None"
    if isinstance(v, (int, float, str)):
        return v
    return json.dumps(v)


def _fmt(x) -> str:
    return f"{x:.6g}"


def _latent_long_name(name: str, base: Mapping[str, Any], prior) -> str:
    ln = base.get("long_name", name)
    unit = base.get("units", "1")
    x_over = name if unit in ("1", "") else f"{name} / {unit}"
    if prior is None or prior.is_fixed or prior.type == "uniform":
        return (
            f"latent sampling coordinate u of {name} ({ln}): {name} = exp(u) for a log_uniform prior, "
            f"s sinh(u) for a signed_log_uniform prior of scale s; u ~ Uniform"
        )
    lo, hi = prior.latent_bounds()
    if prior.type == "log_uniform":
        return (
            f"latent sampling coordinate u = ln({x_over}) of {name} ({ln}); log_uniform prior on "
            f"[{_fmt(prior.low)}, {_fmt(prior.high)}]: {name} = exp(u), u ~ Uniform({_fmt(lo)}, {_fmt(hi)})"
        )
    return (
        f"latent sampling coordinate u = asinh({name} / s) of {name} ({ln}), s = {_fmt(prior.scale)}; "
        f"signed_log_uniform prior on [{_fmt(prior.low)}, {_fmt(prior.high)}]: {name} = s sinh(u), "
        f"u ~ Uniform({_fmt(lo)}, {_fmt(hi)})"
    )


def _catalogue(name: str) -> dict | None:
    """Catalogue entry of a parameter (first: the posterior's ``epsilon`` is the parameter) or observable."""
    from ..observables import OBSERVABLE_INFO, PARAMETER_CATALOGUE

    if name in PARAMETER_CATALOGUE:
        return dict(PARAMETER_CATALOGUE[name])
    if name in OBSERVABLE_INFO:
        return dict(OBSERVABLE_INFO[name])
    return None


def term_attrs(term: str, info: Mapping[str, Any] | None = None) -> dict[str, str]:
    """``units``/``long_name``/``latex``/``description`` of the ln L of likelihood term ``term``; ``info`` is the
    term's registry data (observable, experiment, form, value, cl, unit, arxiv, journal, status)."""
    info = dict(info or {})
    obs = info.get("observable", "")
    exp = info.get("experiment", "")
    what = _catalogue(obs)["long_name"] if obs and _catalogue(obs) else obs
    lim = ""
    if info.get("form") in ("curve", "visible_curve"):
        kind = "visible-decay search" if info["form"] == "visible_curve" else "kinetic-mixing curve"
        lim = f"{kind} {info.get('file_name', '')}".rstrip()
    elif info.get("value") is not None:
        u = info.get("unit") or ""
        u = "" if u in ("BR", "ratio", "dimensionless", "1") else f" {u}"
        if info.get("form") == "gaussian" and info.get("uncertainty") is not None:
            lim = f"measured {info['value']:.4g} +- {info['uncertainty']:.3g}{u}"
        elif info.get("form") == "counting":
            lim = f"single-event sensitivity {info['value']:.4g}{u}"
        else:
            lim = f"upper limit {info['value']:.4g}{u} ({info.get('form', '')})"
    cl = f" at {info['cl']:.0%} CL" if info.get("cl") is not None else ""
    src = ", ".join(b for b in (info.get("journal", ""), f"arXiv:{info['arxiv']}" if info.get("arxiv") else "") if b)
    long = f"log-likelihood of term {term}" + (f": {exp}, {what}" if exp or what else "")
    desc = "; ".join(
        b for b in (lim + cl if lim else "", src, f"status {info['status']}" if info.get("status") else "") if b
    )
    tex_id = term.replace("_", r"\_")
    return {
        "units": "1",
        "long_name": long,
        "latex": rf"\ln L_{{\mathrm{{{tex_id}}}}}",
        "description": desc or long,
        "term": term,
    }


def variable_attrs(
    name: str, *, priors: Sequence[Any] | None = None, terms: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, str]:
    """``units``, ``long_name``, ``latex`` (and ``description``) of a posterior/prior variable or NUTS statistic.

    Parameters and observables come from the catalogue (parameters first); ``<name>__u`` is explained with its
    prior's transform and latent range when ``priors`` (a sequence of :class:`djax.model.Prior`) is given;
    ``lnL_<term>`` from the term's registry data in ``terms``. Unknown names get ``units = ""``.
    """
    if name.startswith("lnL_"):
        t = name[4:]
        return term_attrs(t, (terms or {}).get(t))
    if name in SAMPLE_STATS_INFO:
        u, ln, tex = SAMPLE_STATS_INFO[name]
        return {"units": u, "long_name": ln, "latex": tex, "description": ln}
    if name.endswith("__u"):
        base_name = name[:-3]
        base = _catalogue(base_name) or {}
        pr = next((p for p in (priors or ()) if p.name == base_name), None)
        lat = _catalogue(name) or {}
        tex = lat.get("latex") or rf"u_{{{base.get('latex', base_name)}}}"
        return {
            "units": "1",
            "long_name": _latent_long_name(base_name, base, pr),
            "latex": tex,
            "description": lat.get("description", ""),
        }
    e = _catalogue(name)
    if e is None:
        from ..model import PARAMETER_INFO

        if name in PARAMETER_INFO:
            i = PARAMETER_INFO[name]
            return {"units": i.units, "long_name": i.long_name, "latex": i.latex, "description": i.long_name}
        return {"units": "", "long_name": name, "latex": name.replace("_", r"\_"), "description": ""}
    out = {"units": e["units"], "long_name": e["long_name"], "latex": e["latex"], "description": e["description"]}
    pr = next((p for p in (priors or ()) if p.name == name), None)
    if pr is not None:
        out["prior"] = pr.describe()
    return out


def prior_draws(
    model: Callable,
    *,
    num_chains: int,
    num_draws: int,
    seed: int = 0,
    model_kwargs: Mapping[str, Any] | None = None,
    chunk: int = 1000,
) -> dict[str, np.ndarray]:
    """Draws from the prior through the same NumPyro model (``numpyro.infer.Predictive``, likelihood factor
    ignored), shaped ``(num_chains, num_draws, ...)`` like the posterior, with the model's site names (latent and
    deterministic sites). Deterministic in ``seed``; evaluated in jitted, vectorised chunks of ``chunk`` draws."""
    import jax
    from numpyro.infer import Predictive

    n = int(num_chains) * int(num_draws)
    if n < 1:
        raise ValueError("prior_draws: need num_chains, num_draws >= 1")
    size = max(1, min(int(chunk), n))
    kwargs = dict(model_kwargs or {})
    pred = Predictive(model, num_samples=size, parallel=True, return_sites=_prior_sites(model, kwargs))
    run = jax.jit(lambda k: pred(k, **kwargs))
    base = jax.random.fold_in(jax.random.PRNGKey(int(seed)), 0x5052494F)  # "PRIO": independent of the chains
    parts: dict[str, list] = {}
    for i in range(math.ceil(n / size)):
        out = run(jax.random.fold_in(base, i))
        for k, v in out.items():
            parts.setdefault(k, []).append(np.asarray(v))
    return {k: np.concatenate(v)[:n].reshape(num_chains, num_draws, *v[0].shape[1:]) for k, v in parts.items()}


def _prior_sites(model: Callable, kwargs: Mapping[str, Any]) -> list[str]:
    """Latent and deterministic sites of ``model`` (not observed ones, not ``numpyro.factor``), found by an
    abstract trace (no compilation)."""
    import jax
    from numpyro import handlers

    sites: dict[str, bool] = {}

    def probe():
        tr = handlers.trace(handlers.seed(model, 0)).get_trace(**kwargs)
        for k, site in tr.items():
            if site["type"] == "deterministic" or (site["type"] == "sample" and not site.get("is_observed")):
                sites[k] = True
        return 0

    jax.eval_shape(probe)
    return list(sites)


def _group_dims(arrays: Mapping[str, Any], dims: dict) -> None:
    for name, arr in arrays.items():
        if name not in dims and np.ndim(arr) > 2:
            dims[name] = [f"{name}_dim_{i}" for i in range(np.ndim(arr) - 2)]


def _json_attr(v) -> str:
    return json.dumps(plain_data(v), sort_keys=False)


def to_datatree(
    result: SamplingResult,
    observed: Mapping[str, Any] | None = None,
    coords: Mapping[str, Sequence] | None = None,
    dims: Mapping[str, Sequence[str]] | None = None,
    attrs: Mapping[str, Any] | None = None,
    *,
    prior: Mapping[str, Any] | None = None,
    log_likelihood: bool | Mapping[str, Any] = True,
    priors: Sequence[Any] | None = None,
    terms: Mapping[str, Mapping[str, Any]] | None = None,
    variable_attributes: Mapping[str, Mapping[str, Any]] | None = None,
):
    """Convert a :class:`SamplingResult` into a self-describing ArviZ ``xarray.DataTree``.

    Args:
      result: output of :func:`run_nuts`.
      observed: optional observed data (group ``observed_data``).
      coords: coordinate values per dimension name, e.g. ``{"flavour": ["e", "mu", "tau"]}``.
      dims: dimension names per variable beyond (chain, draw), e.g. ``{"y": ["flavour"]}``.
        Vector-valued sites without an entry get ``<name>_dim_<i>``.
      attrs: extra root attributes (merged with the run settings and timings; dicts/lists become JSON).
      prior: prior draws with leading axes (chain, draw) (:func:`prior_draws`): group ``prior``.
      log_likelihood: True (default): the posterior's ``lnL_<term>`` sites also form the ``log_likelihood``
        group, one variable per term id; a mapping ``{term: (chain, draw) array}`` gives it explicitly; False:
        no such group.
      priors: the resolved :class:`djax.model.Prior` sequence: latent variables' ``long_name`` state their
        transform, and the root attribute ``priors`` (JSON: name -> prior table, ``description``, units).
      terms: ``{term id: registry data}`` (e.g. :func:`djax.io.term_provenance` plus ``reference``): ln L
        variables' attributes and the root attribute ``likelihood_terms`` (JSON).
      variable_attributes: per-variable attributes that override the catalogue's.

    Returns:
      DataTree with groups ``posterior``, ``sample_stats`` (and ``prior``, ``log_likelihood``,
      ``observed_data``); every variable carries ``units``, ``long_name`` and ``latex``.
    """
    dims = dict(dims or {})
    post = result.posterior
    _group_dims(post, dims)
    data = {
        "posterior": dict(post),
        "sample_stats": {k: result.sample_stats[k] for k in _STATS if k in result.sample_stats},
    }
    if prior is not None:
        prior = {k: np.asarray(v) for k, v in prior.items()}
        _group_dims(prior, dims)
        data["prior"] = prior
    if log_likelihood is True:
        ll = {k[4:]: np.asarray(v) for k, v in post.items() if k.startswith("lnL_")}
    elif isinstance(log_likelihood, Mapping):
        ll = {k: np.asarray(v) for k, v in log_likelihood.items()}
    else:
        ll = {}
    if ll and terms:  # the likelihood's term order, not the sampler's (alphabetical) site order
        ll = {**{t: ll[t] for t in terms if t in ll}, **{t: v for t, v in ll.items() if t not in terms}}
    if ll:
        clash = sorted(set(ll) & set(dims))
        if clash:
            raise ValueError(f"to_datatree: log_likelihood names {clash} clash with dims entries")
        _group_dims(ll, dims)
        data["log_likelihood"] = ll
    if observed is not None:
        data["observed_data"] = {k: np.asarray(v) for k, v in observed.items()}
    settings = plain_data(result.settings)
    root = {f"setting_{k}": _attr_value(v) for k, v in settings.items()}
    root.update({f"timing_{k}_s": float(v) for k, v in result.timings.items()})
    root["settings_json"] = json.dumps(settings, sort_keys=True)
    root["num_divergences"] = result.num_divergences
    if priors is not None:
        root["priors"] = _json_attr(_priors_json(priors))
    if terms is not None:
        root["likelihood_terms"] = _json_attr(terms)
    if ll:
        root["log_likelihood_note"] = LOG_LIKELIHOOD_NOTE
    if attrs:
        root.update({k: _attr_value(v) for k, v in attrs.items()})
    from arviz_base import from_dict

    dt = from_dict(data, coords=dict(coords or {}), dims=dims, attrs={"/": root})
    extra = dict(variable_attributes or {})
    group_doc = {
        "posterior": "posterior draws (NUTS): latent sites <name>__u, physical parameters, derived observables, "
        "ln L per term (lnL_<term>)",
        "prior": "prior draws through the same NumPyro model (numpyro.infer.Predictive, likelihood ignored), same "
        "site names, shaped like the posterior",
        "log_likelihood": LOG_LIKELIHOOD_NOTE,
        "sample_stats": "NUTS statistics per draw after warm-up",
        "observed_data": "observed data",
    }
    for g in data:
        ds = dt[g].to_dataset()
        for v in ds.data_vars:
            a = (
                term_attrs(str(v), (terms or {}).get(str(v)))
                if g == "log_likelihood"
                else variable_attrs(str(v), priors=priors, terms=terms)
            )
            a.update(extra.get(str(v), {}))
            ds[v].attrs.update({k: _attr_value(x) for k, x in a.items()})
        ds.attrs["description"] = group_doc.get(g, g)
        dt[g] = ds
    return dt


def _priors_json(priors: Sequence[Any]) -> dict:
    out = {}
    for p in priors:
        d = dict(p.as_dict())
        d["description"] = p.describe()
        e = _catalogue(p.name) or {}
        d["units"] = e.get("units", "")
        d["long_name"] = e.get("long_name", p.name)
        d["latent"] = None if p.is_fixed or p.type == "uniform" else f"{p.name}__u"
        out[p.name] = d
    return out


def stack_log_likelihood(dt, *, var_name: str = "terms", dim: str = "term"):
    """A DataTree with ``posterior`` and a ``log_likelihood`` group of one variable ``var_name`` with
    dimensions (chain, draw, ``dim``) stacking the per-term variables (coordinate: the term ids).

    Why the terms are the "observations": djax's data are published results of independent experiments (one
    likelihood term each), not pointwise events, and the joint likelihood is the product over terms. Leave-one-
    term-out cross-validation then asks how well the posterior from the other experiments predicts each one;
    its Pareto k flags the experiments that dominate the posterior (k > 0.7). Caveats: upper limits are
    normalised to ln L = 0 at zero signal (a per-term constant), so elpd values compare models that share the
    terms, and with a handful of terms the standard error of the elpd sum is not meaningful.
    """
    import pandas as pd
    import xarray as xr

    ll = dt["log_likelihood"].to_dataset()
    names = [str(v) for v in ll.data_vars]
    if not names:
        raise ValueError("stack_log_likelihood: the log_likelihood group is empty")
    da = xr.concat(
        [ll[v].drop_attrs() if hasattr(ll[v], "drop_attrs") else ll[v] for v in names], dim=pd.Index(names, name=dim)
    ).transpose("chain", "draw", dim, ...)
    da.attrs = {"units": "1", "long_name": "log-likelihood per likelihood term", "latex": r"\ln L_i"}
    return xr.DataTree.from_dict(
        {"posterior": dt["posterior"].to_dataset(), "log_likelihood": xr.Dataset({var_name: da})}
    )


def loo_by_term(dt, *, pointwise: bool = True, **kwargs):
    """PSIS leave-one-term-out cross-validation (``arviz_stats.loo``) over the likelihood terms of a sample
    run's DataTree (see :func:`stack_log_likelihood` for what it means): ``elpd_i`` and ``pareto_k`` on the
    dimension ``term``."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*point-wise LOO is the same.*")
        import arviz_stats

        return arviz_stats.loo(stack_log_likelihood(dt), pointwise=pointwise, var_name="terms", **kwargs)


@dataclasses.dataclass
class Summary:
    """Posterior summary table plus convergence warnings.

    Attributes:
      table: pandas DataFrame (mean, sd, credible interval, ess_bulk, ess_tail, r_hat, mcse).
      warnings: human-readable problems (R-hat, ESS, divergences); empty when all checks pass.
      num_divergences: total divergent transitions (None when sample_stats lacks ``diverging``).
    """

    table: Any
    warnings: list[str]
    num_divergences: int | None

    @property
    def ok(self) -> bool:
        return not self.warnings

    def text(self) -> str:
        """Pretty text table with the warnings underneath."""
        lines = [self.table.to_string(float_format=lambda x: f"{x:.4g}")]
        if self.num_divergences is not None:
            lines.append(f"divergent transitions: {self.num_divergences}")
        lines += [f"WARNING: {w}" for w in self.warnings] or ["all convergence checks passed"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


def summarize(
    dt,
    var_names: Sequence[str] | None = None,
    *,
    rhat_max: float = 1.01,
    ess_min_per_chain: float = 100.0,
    max_divergences: int = 0,
    ci_prob: float = 0.9,
) -> Summary:
    """Summary statistics and convergence checks of a posterior DataTree.

    Checks (Vehtari et al. 2021): rank-normalised split R-hat <= ``rhat_max``; bulk and tail
    ESS >= ``ess_min_per_chain * n_chains``; divergent transitions <= ``max_divergences``.

    Args:
      dt: DataTree with a ``posterior`` group (and ``sample_stats`` for divergences), or a
        :class:`SamplingResult` (converted with :func:`to_datatree`).
      var_names: variables to summarise (default all posterior variables).
      rhat_max, ess_min_per_chain, max_divergences: warning thresholds.
      ci_prob: probability mass of the equal-tailed credible interval in the table.

    Returns:
      :class:`Summary` (``.table``, ``.warnings``, ``.text()``).
    """
    if isinstance(dt, SamplingResult):
        dt = to_datatree(dt)
    import arviz_stats

    table = arviz_stats.summary(
        dt,
        var_names=list(var_names) if var_names else None,
        round_to="none",
        ci_prob=ci_prob,
        ci_kind="eti",
    )
    n_chains = int(dt["posterior"].sizes["chain"])
    warn: list[str] = []
    if n_chains < 2:
        warn.append("only one chain: R-hat cannot detect non-convergence between chains")
    rh = table["r_hat"]
    bad = rh[~(rh <= rhat_max)]
    if len(bad):
        warn.append(
            f"R-hat > {rhat_max} for {len(bad)} variable(s): " + ", ".join(f"{k} ({v:.3f})" for k, v in bad.items())
        )
    ess_min = ess_min_per_chain * n_chains
    for col in ("ess_bulk", "ess_tail"):
        e = table[col]
        low = e[~(e >= ess_min)]
        if len(low):
            warn.append(
                f"{col} < {ess_min:g} ({ess_min_per_chain:g} per chain) for {len(low)} "
                "variable(s): " + ", ".join(f"{k} ({v:.0f})" for k, v in low.items())
            )
    n_div = None
    if "sample_stats" in dt.children and "diverging" in dt["sample_stats"].data_vars:
        n_div = int(dt["sample_stats"]["diverging"].sum())
        if n_div > max_divergences:
            warn.append(f"{n_div} divergent transition(s) after warm-up")
    return Summary(table=table, warnings=warn, num_divergences=n_div)
