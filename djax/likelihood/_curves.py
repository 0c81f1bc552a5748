"""Pure-JAX evaluation of kinetic-mixing limit curves epsilon_90(m_A').

A curve is a :class:`CurveTable` of plain arrays (the cleaned, strictly increasing points of a digitised
limit, see ``djax.io.load_curve``); nothing here reads files. Interpolation is linear in
``log epsilon`` vs ``log m`` (docs/dark_photon.md)::

    log eps_90(m) = interp(log m, log_m, log_eps)            for  m_lo <= m <= m_hi
    eps_90(m)     = +inf                                      otherwise (the curve says nothing there)

Outside a curve's mass range a term contributes ln L = 0 and the combined envelope ignores that curve.
All functions are jit/vmap/grad safe: masked branches are fed finite filler values (double-``where``),
so values and gradients are never NaN, also at m <= 0, at the range edges and at epsilon = 0.

Tables of different lengths are stacked by :func:`stack_tables`, which pads ``log_m`` with strictly
increasing dummy knots beyond ``log_m_hi``; the padding is never used because of the range mask.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._forms import POISSON_ZERO_COUNT, ScalarTerms, scalar_terms_loglike, upper_limit_loglike, yield_ratio
from ._visible import VisibleTerms, visible_terms_loglike

__all__ = [
    "CurveTable",
    "make_table",
    "stack_tables",
    "in_range",
    "log_eps90",
    "eps90",
    "combined_envelope",
    "curve_yield_ratio",
    "curve_loglike",
    "CurveTerms",
    "curve_terms_loglike",
    "TermSpec",
    "gather_observables",
    "terms_loglike",
]


class CurveTable(NamedTuple):
    """Arrays of one cleaned limit curve (or a stack of curves with a leading axis).

    Attributes:
      log_m: natural log of the A' mass knots in GeV, strictly increasing, shape (N,) [or (K, N)].
      log_eps: natural log of epsilon_90 at the knots, shape (N,) [or (K, N)].
      log_m_lo: log of the smallest mass of the curve, shape () [or (K,)].
      log_m_hi: log of the largest mass of the curve, shape () [or (K,)].
    """

    log_m: jax.Array
    log_eps: jax.Array
    log_m_lo: jax.Array
    log_m_hi: jax.Array


def make_table(m_gev, eps) -> CurveTable:
    """Build a :class:`CurveTable` from cleaned masses (GeV, strictly increasing) and epsilon values (> 0).

    This is a host-side constructor (numpy checks); the arrays stay numpy float64 (so building a table
    never depends on whether JAX x64 is enabled yet); the evaluation functions are pure JAX.
    """
    m = np.asarray(m_gev, dtype=np.float64)
    e = np.asarray(eps, dtype=np.float64)
    if m.ndim != 1 or m.shape != e.shape or m.size < 2:
        raise ValueError("make_table: need two 1-d arrays of equal length >= 2")
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(e)) and np.all(m > 0) and np.all(e > 0)):
        raise ValueError("make_table: masses and epsilon must be finite and > 0")
    if not np.all(np.diff(m) > 0):
        raise ValueError("make_table: masses must be strictly increasing (clean the curve first)")
    lm, le = np.log(m), np.log(e)
    return CurveTable(lm, le, np.float64(lm[0]), np.float64(lm[-1]))


def stack_tables(tables, n: int | None = None) -> CurveTable:
    """Stack single tables into one with a leading axis, padding every table to ``n`` knots.

    Padding knots sit at ``log_m_hi + 1, + 2, ...`` (strictly increasing) with the last ``log_eps``;
    they lie outside ``[log_m_lo, log_m_hi]`` and are masked out by every evaluation function.
    """
    tables = list(tables)
    if not tables:
        raise ValueError("stack_tables: need at least one table")
    n_max = max(int(np.shape(t.log_m)[0]) for t in tables)
    n = n_max if n is None else int(n)
    if n < n_max:
        raise ValueError(f"stack_tables: n={n} is shorter than the longest table ({n_max})")
    lms, les = [], []
    for t in tables:
        lm, le = np.asarray(t.log_m), np.asarray(t.log_eps)
        k = n - lm.size
        lms.append(np.concatenate([lm, lm[-1] + np.arange(1, k + 1, dtype=np.float64)]))
        les.append(np.concatenate([le, np.full(k, le[-1])]))
    return CurveTable(
        np.stack(lms),
        np.stack(les),
        np.array([float(t.log_m_lo) for t in tables], dtype=np.float64),
        np.array([float(t.log_m_hi) for t in tables], dtype=np.float64),
    )


def _safe_log_m(m):
    m = jnp.asarray(m, dtype=jnp.result_type(float))
    pos = m > 0
    return jnp.log(jnp.where(pos, m, 1.0)), pos


def in_range(m, table: CurveTable):
    """True where ``m`` (GeV) lies inside the curve's mass range ``[m_lo, m_hi]`` (False for m <= 0)."""
    lm, pos = _safe_log_m(m)
    return pos & (lm >= table.log_m_lo) & (lm <= table.log_m_hi)


def log_eps90(m, table: CurveTable):
    """``(log eps_90(m), inside)``: log-log interpolation and the in-range mask.

    Outside the range the first output is a finite filler (the end value), so downstream
    gradients stay finite; always combine it with ``inside``.
    """
    lm, _ = _safe_log_m(m)
    inside = in_range(m, table)
    lm_c = jnp.clip(lm, table.log_m_lo, table.log_m_hi)
    lm_c = jnp.where(inside, lm, lm_c)
    return jnp.interp(lm_c, table.log_m, table.log_eps), inside


def eps90(m, table: CurveTable):
    """epsilon_90(m) by log-log linear interpolation; ``+inf`` outside the curve's mass range.

    Args:
      m: A' mass in GeV (scalar or array; vmap for many points).
      table: a single :class:`CurveTable`.
    Returns:
      epsilon_90 (float64), +inf where the curve gives no limit. The gradient w.r.t. ``m`` is the
      interpolation slope inside and 0 outside (never NaN).
    """
    le, inside = log_eps90(m, table)
    return jnp.where(inside, jnp.exp(le), jnp.inf)


def combined_envelope(m, tables: CurveTable, include=None):
    """Combined bound = pointwise minimum of eps_90 over the included curves (docs/dark_photon.md).

        eps_comb(m) = min_k { eps_90,k(m) : k included and m inside curve k }     (+inf if none)

    Args:
      m: A' mass in GeV (scalar).
      tables: stacked tables (leading axis K), see :func:`stack_tables`.
      include: optional bool array (K,) selecting curves (default: all).
    """
    le, inside = jax.vmap(log_eps90, in_axes=(None, 0))(m, tables)
    if include is not None:
        inside = inside & jnp.asarray(include, dtype=bool)
    big = jnp.asarray(jnp.finfo(jnp.result_type(float)).max, dtype=le.dtype)
    le_m = jnp.where(inside, le, jnp.log(big))
    lmin = jnp.min(le_m, axis=0)
    any_in = jnp.any(inside, axis=0)
    return jnp.where(any_in, jnp.exp(jnp.where(any_in, lmin, 0.0)), jnp.inf)


def curve_yield_ratio(eps, m, table: CurveTable, power=2.0, br_inv=1.0):
    """Signal-yield ratio x = BR_inv * (|eps| / eps_90(m))^power (power = 2 for kinetic mixing).

    The NA64 missing-energy and BaBar mono-photon yields scale as eps^2 * BR(A' -> invisible); a curve
    drawn for BR_inv = 1 is matched at x = 1. Returns 0 outside the curve's mass range.
    """
    le, inside = log_eps90(m, table)
    lim = jnp.exp(le)  # finite and > 0 everywhere (filler outside)
    r = br_inv * yield_ratio(eps, lim, power)
    return jnp.where(inside, r, 0.0)


def curve_loglike(eps, m, table: CurveTable, *, power=2.0, cl=0.9, shape=POISSON_ZERO_COUNT, br_inv=1.0):
    """ln L of one kinetic-mixing curve term: an upper-limit form evaluated at x / x_90.

        x / x_90 = BR_inv * (eps / eps_90(m))^power,
        ln L = ln(1 - cl) * x/x_90               (shape = POISSON_ZERO_COUNT)
             = -(1/2) (z_cl * x/x_90)^2          (shape = HALF_GAUSSIAN, z_cl = Phi^-1((1+cl)/2))

    and ln L = 0 where m is outside the curve's range. ``shape`` is a form code from ``_forms``.
    """
    x = curve_yield_ratio(eps, m, table, power, br_inv)
    return upper_limit_loglike(x, 1.0, cl, shape)


class CurveTerms(NamedTuple):
    """C kinetic-mixing curve terms: stacked tables (leading axis C) and per-term settings (C,).

    Attributes:
      tables: stacked :class:`CurveTable` (see :func:`stack_tables`).
      power: yield power (2 for kinetic mixing).
      cl: confidence level fraction of each curve.
      shape: upper-limit shape code (POISSON_ZERO_COUNT or HALF_GAUSSIAN).
    """

    tables: CurveTable
    power: jax.Array
    cl: jax.Array
    shape: jax.Array


def curve_terms_loglike(eps, m, curves: CurveTerms, br_inv=1.0):
    """Per-curve ln L, shape (C,), at kinetic mixing ``eps`` and A' mass ``m`` (GeV); see :func:`curve_loglike`."""

    def one(table, power, cl, shape):
        return curve_loglike(eps, m, table, power=power, cl=cl, shape=shape, br_inv=br_inv)

    return jax.vmap(one)(curves.tables, curves.power, curves.cl, curves.shape)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class TermSpec:
    """Pure-array description of a set of likelihood terms (built by ``djax.io.compile_terms``).

    Data fields (pytree leaves): ``scalar`` (:class:`ScalarTerms`, S terms), ``curves`` (:class:`CurveTerms`,
    C kinetic-mixing curves of invisible-decay searches) and ``visible`` (``djax.likelihood._visible.VisibleTerms``,
    V visible-decay searches), each ``None`` when there are none. Static metadata: ``scalar_ids``,
    ``observables`` (the observable name of each scalar term, aligned with ``scalar``), ``curve_ids`` and
    ``visible_ids``; they are tuples of str, so a TermSpec can be closed over or passed to ``jax.jit``.
    ``model_options``: ``((name, value), ...)`` keyword arguments of ``djax.observables`` that the run file's model
    section sets (``kinetic_mixing_cutoff``; ``djax.jobs.prepare`` fills it, empty: the defaults).
    """

    scalar: ScalarTerms | None
    curves: CurveTerms | None
    visible: VisibleTerms | None = None
    scalar_ids: tuple = dataclasses.field(metadata=dict(static=True), default=())
    observables: tuple = dataclasses.field(metadata=dict(static=True), default=())
    curve_ids: tuple = dataclasses.field(metadata=dict(static=True), default=())
    visible_ids: tuple = dataclasses.field(metadata=dict(static=True), default=())
    model_options: tuple = dataclasses.field(metadata=dict(static=True), default=())

    @property
    def ids(self) -> tuple:
        """All term ids: scalar terms, then curve terms, then visible terms (the order of :func:`terms_loglike`)."""
        return tuple(self.scalar_ids) + tuple(self.curve_ids) + tuple(self.visible_ids)

    @property
    def epsilon_ids(self) -> tuple:
        """Ids of the kinetic-mixing terms evaluated at (epsilon, m_A'): curve terms, then visible terms."""
        return tuple(self.curve_ids) + tuple(self.visible_ids)


def gather_observables(obs, spec: TermSpec):
    """Stack ``obs[name]`` for the scalar terms of ``spec`` into an array (S,) (trace-time lookup)."""
    if not spec.observables:
        return jnp.zeros((0,), dtype=jnp.result_type(float))
    return jnp.stack([jnp.asarray(obs[name], dtype=jnp.result_type(float)) for name in spec.observables])


def terms_loglike(obs, spec: TermSpec, *, eps=None, m_aprime=None, br_inv=1.0):
    """Per-term ln L (shape (S + C + V,)) in the order of ``spec.ids``.

    ``obs`` maps observable names to values (e.g. the output of ``djax.observables``); ``eps`` and
    ``m_aprime`` (GeV) are needed when ``spec`` has curve or visible terms (default: ``obs["epsilon"]`` and
    ``obs["m_Aprime"]``); ``br_inv`` = BR(A' -> invisible), the same for both kinds: invisible-decay curves
    scale with BR_inv, visible searches with 1 - BR_inv (``djax.likelihood.decay_mode_br_inv`` maps the run
    file's ``model.dark_photon_decays`` to it).
    """
    parts = []
    if spec.scalar is not None and spec.observables:
        parts.append(scalar_terms_loglike(gather_observables(obs, spec), spec.scalar))
    has_curves = spec.curves is not None and bool(spec.curve_ids)
    has_visible = spec.visible is not None and bool(spec.visible_ids)
    if has_curves or has_visible:
        e = obs["epsilon"] if eps is None else eps
        m = obs["m_Aprime"] if m_aprime is None else m_aprime
        if has_curves:
            parts.append(curve_terms_loglike(e, m, spec.curves, br_inv))
        if has_visible:
            parts.append(visible_terms_loglike(e, m, spec.visible, br_inv))
    if not parts:
        return jnp.zeros((0,), dtype=jnp.result_type(float))
    return jnp.concatenate(parts)
