"""ArviZ 1.x: DataTree building from a sampling result, and convergence summaries (no file I/O).

Groups follow the ArviZ schema: ``posterior`` (latent + deterministic sites), ``sample_stats``
(``lp``, ``energy``, ``tree_depth``, ``n_steps``, ``diverging``, ``acceptance_rate``,
``step_size``) and optionally ``observed_data``; run settings go to the root attributes.
Diagnostics are arviz-stats' rank-normalised split R-hat and bulk/tail ESS (Vehtari et al. 2021,
Bayesian Analysis 16, 667).
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from arviz_base import from_dict
import arviz_stats

from ._nuts import SamplingResult

__all__ = ["to_datatree", "summarize", "Summary"]

_STATS = ("lp", "energy", "tree_depth", "n_steps", "diverging", "acceptance_rate", "step_size")


def _attr_value(v: Any):
    """NetCDF-safe attribute (no bool/None/dict)."""
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if v is None:
        return "None"
    if isinstance(v, (int, float, str, np.integer, np.floating)):
        return v
    return json.dumps(v)


def to_datatree(
    result: SamplingResult,
    observed: Mapping[str, Any] | None = None,
    coords: Mapping[str, Sequence] | None = None,
    dims: Mapping[str, Sequence[str]] | None = None,
    attrs: Mapping[str, Any] | None = None,
):
    """Convert a :class:`SamplingResult` into an ArviZ ``xarray.DataTree``.

    Args:
      result: output of :func:`run_nuts`.
      observed: optional observed data (group ``observed_data``).
      coords: coordinate values per dimension name, e.g. ``{"flavour": ["e", "mu", "tau"]}``.
      dims: dimension names per variable beyond (chain, draw), e.g. ``{"y": ["flavour"]}``.
        Vector-valued sites without an entry get ``<name>_dim_<i>``.
      attrs: extra root attributes (merged with the run settings and timings).

    Returns:
      DataTree with groups ``posterior``, ``sample_stats`` (and ``observed_data``).
    """
    dims = dict(dims or {})
    post = result.posterior
    for name, arr in post.items():
        if name not in dims and np.ndim(arr) > 2:
            dims[name] = [f"{name}_dim_{i}" for i in range(np.ndim(arr) - 2)]
    data = {
        "posterior": dict(post),
        "sample_stats": {k: result.sample_stats[k] for k in _STATS if k in result.sample_stats},
    }
    if observed is not None:
        data["observed_data"] = {k: np.asarray(v) for k, v in observed.items()}
    root = {f"setting_{k}": _attr_value(v) for k, v in result.settings.items()}
    root.update({f"timing_{k}_s": float(v) for k, v in result.timings.items()})
    root["settings_json"] = json.dumps(result.settings, sort_keys=True)
    root["num_divergences"] = result.num_divergences
    if attrs:
        root.update({k: _attr_value(v) for k, v in attrs.items()})
    return from_dict(data, coords=dict(coords or {}), dims=dims, attrs={"/": root})


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
    table = arviz_stats.summary(
        dt, var_names=list(var_names) if var_names else None, round_to="none",
        ci_prob=ci_prob, ci_kind="eti",
    )
    n_chains = int(dt["posterior"].sizes["chain"])
    warn: list[str] = []
    if n_chains < 2:
        warn.append("only one chain: R-hat cannot detect non-convergence between chains")
    rh = table["r_hat"]
    bad = rh[~(rh <= rhat_max)]
    if len(bad):
        warn.append(
            f"R-hat > {rhat_max} for {len(bad)} variable(s): "
            + ", ".join(f"{k} ({v:.3f})" for k, v in bad.items())
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
