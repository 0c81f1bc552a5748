"""Per-point evaluation shared by scans and profiles: parameter values -> observables and per-term ln L."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax.numpy as jnp

from ..likelihood import TermSpec, cl_thresholds, terms_from_observables
from ..model import Prior, params_from_values
from ..observables import observables
from ._model import DEFAULT_DERIVED


def point_observables(values: Mapping[str, Any], spec: TermSpec, *, Q_F: float = 1.0, br_inv: float = 1.0):
    """``(observables, ln L per term)`` at one point given by named parameter values (``spec.ids`` order)."""
    p = params_from_values(values, Q_F=Q_F)
    obs = observables(p, solar=True, **dict(spec.model_options))
    terms = terms_from_observables(obs, spec, br_inv=br_inv)
    lnl = jnp.stack([terms[t] for t in spec.ids]) if spec.ids else jnp.zeros((0,))
    return obs, lnl


def build_point_fn(
    spec: TermSpec,
    priors: Sequence[Prior],
    *,
    Q_F: float = 1.0,
    br_inv: float = 1.0,
    cl: float = 0.9,
    derived: Sequence[str] = DEFAULT_DERIVED,
):
    """One-point function for scans: dict of free parameter values -> per-point outputs.

    Outputs: ``loglike`` (joint ln L), ``allowed`` (every term inside its ``cl`` region, see
    :func:`djax.likelihood.cl_thresholds`), ``lnL_<term>`` and the scalar ``derived`` observables.
    """
    thr = jnp.asarray(cl_thresholds(spec, cl))
    fixed = {p.name: p.value for p in priors if p.is_fixed}
    keys = [k for k in derived if k != "fermion_to_scalar_ratio"]

    def point_fn(values):
        vals = dict(values)
        for k, v in fixed.items():
            vals.setdefault(k, jnp.asarray(v, dtype=float))
        obs, lnl = point_observables(vals, spec, Q_F=Q_F, br_inv=br_inv)
        out = {"loglike": jnp.sum(lnl), "allowed": jnp.all(lnl >= thr)}
        for i, t in enumerate(spec.ids):
            out[f"lnL_{t}"] = lnl[i]
        for k in keys:
            out[k] = jnp.real(obs[k])
        return out

    return point_fn


__all__ = ["point_observables", "build_point_fn"]
