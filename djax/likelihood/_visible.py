"""Pure-JAX kinetic-mixing terms of *visible* dark-photon searches (A' -> e+e-, mu+mu-, hadrons).

A search is a :class:`VisibleTable` of plain arrays (the cleaned boundaries of a DarkCast limit, see
``djax.io._darkcast``); nothing here reads files. Boundaries are interpolated linearly in ``log eps`` vs
``log m`` (as the invisible curves of ``_curves.py``); outside a table's mass range ln L = 0.

Prompt searches (one-sided, eps > eps_90(m) excluded), Poisson zero-count form at the 90 % CL point::

    x = r(m) (eps / eps_90(m))^2,          ln L = ln(1 - cl) x              (x = 1 at the limit)

with ``r = BR_model(channel) / BR_ref(channel)``, the model's branching ratio into the searched channel
over that of the dark photon the limit was derived for (r = 1 in mode "visible"; r = 1 - BR_inv in mode
"mixed"; r = 0 in mode "invisible"; see :func:`channel_ratios`). "No limit" knots (DarkCast's sentinel
eps = 1e5 marking vetoed windows, e.g. BaBar around the J/psi) are kept; on a segment touching one,
eps_90 is interpolated linearly in m and eps, as DarkCast does, so the limit stops (continuously, but
within a relative mass ~eps_90/1e5) at the last real knot -- log-log interpolation towards 1e5 would
leak an artificial limit several per cent into the vetoed window.

Displaced searches / beam dumps (two-sided islands, excluded for eps_lo(m) < eps < eps_hi(m)). With
``t = (eps/eps_lo)^2``, ``R = (eps_hi/eps_lo)^2`` and the lifetime ratio ``rho = Gamma_model/Gamma_ref``::

    x(t) = r rho t^2 exp(-kappa (rho t - 1)),      kappa = 2 ln R / (R - 1),
    ln L = ln(1 - cl) x.

For the reference dark photon (r = rho = 1) this is the yield of a dump at one effective boost,
``N ~ eps^2 (production) x Gamma L_dec/(gamma c) (decays in the volume) x exp(-L_sh Gamma/(gamma c))``
(survival through the shield), i.e. ``N ~ u^2 exp(-b u)`` in u = eps^2: eps^4 on the long-lived (lower-
edge) side, exponentially suppressed on the short-lived (upper-edge) side. The two constants of the form
are fixed by the two tabulated edges, so ``x = 1`` -- ln L = ln(1 - cl) -- *exactly* at eps_lo(m) and at
eps_hi(m) for every m (``x(1) = 1``, ``x(R) = R^2 exp(-2 ln R) = 1``); x > 1 strictly between the edges
(unimodal, peak at t = 2/kappa), x -> 0 as eps^4 below and as exp(-kappa t) above. It assumes one
effective boost per mass (the spectrum average only reshapes the band's interior) and zero observed
events.

Mixed mode (a fixed BR_inv to a light invisible state): the visible widths are unchanged, so
Gamma_model = Gamma_ref / (1 - BR_inv) (rho = 1/(1 - BR_inv)) and r = 1 - BR_inv; r rho = 1, hence the
long-lived (eps^4) side keeps its normalisation -- fewer visible decays per A' but proportionally more A'
decaying in the volume; x at the old lower edge only drops by exp(-kappa (rho - 1)) -- and the upper edge
moves down because the shorter-lived A' decays in the shield. The
rescaling assumes the same single effective boost (the exponent kappa of the minimal model) and that the
prompt searches stay prompt (a shorter lifetime only increases a prompt acceptance; neglected, which is
conservative).

All functions are jit/vmap/grad safe: masked branches get finite filler values (double ``where``), so
values and gradients are finite also at eps = 0, m <= 0, at the range edges and for BR_inv = 1.
Tables of different lengths are stacked by :func:`stack_visible_tables` with padding knots beyond
``log_m_hi`` (masked by the range test), as in ``_curves.stack_tables``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..observables import MODES, VISIBLE_CHANNELS, unit_widths
from ._forms import POISSON_ZERO_COUNT, upper_limit_loglike

__all__ = [
    "DECAY_MODES",
    "decay_mode_br_inv",
    "NO_LIMIT_EPS",
    "VisibleTable",
    "make_visible_table",
    "stack_visible_tables",
    "visible_boundaries",
    "sensitivity",
    "prompt_yield",
    "displaced_yield",
    "visible_yield",
    "visible_loglike",
    "VisibleTerms",
    "make_visible_terms",
    "ref_mask_from_states",
    "channel_ratios",
    "visible_terms_loglike",
]

#: A' decay modes of the run file's ``model.dark_photon_decays`` (``djax.observables.MODES``).
DECAY_MODES = MODES


def decay_mode_br_inv(mode: str, br_invisible=None) -> float:
    """BR(A' -> invisible) that the likelihood uses for an A' decay mode -- the one place of this mapping.

    * ``"visible"``: 0 -- the minimal model (every dark state >= 10 GeV > m_A' <= 8 GeV: no invisible decay);
      visible searches act, invisible-decay (missing-energy) curves vanish.
    * ``"invisible"``: 1 -- what the NA64 / BaBar missing-energy searches assume (the reference study);
      visible searches vanish.
    * ``"mixed"``: ``br_invisible`` in [0, 1] (a light invisible dark state added by hand); both kinds act,
      scaled by BR_inv and 1 - BR_inv.

    ``br_invisible`` is required for "mixed" and ignored otherwise. Raises ValueError for anything else.
    """
    if mode == "visible":
        return 0.0
    if mode == "invisible":
        return 1.0
    if mode == "mixed":
        if br_invisible is None:
            raise ValueError("dark_photon_decays = 'mixed' needs br_invisible (BR(A' -> invisible) in [0, 1])")
        b = float(br_invisible)
        if not 0.0 <= b <= 1.0:
            raise ValueError(f"br_invisible must lie in [0, 1], got {br_invisible!r}")
        return b
    raise ValueError(f"unknown A' decay mode {mode!r}; one of {DECAY_MODES}")


#: eps value of a "no limit at this mass" knot of a one-sided table (DarkCast's gmax sentinel 1e5).
NO_LIMIT_EPS = 1.0e5
_LOG_FILL = float(np.log(10.0))  # log(eps_hi/eps_lo) filler of one-sided tables (never used)
_LT_MAX = 300.0  # cap on ln t = 2 ln(eps/eps_lo) (t^2 stays finite; x is 0 or huge there anyway)


class VisibleTable(NamedTuple):
    """Arrays of one cleaned visible-search limit (or a stack with a leading axis).

    Attributes:
      log_m: ln of the mass knots (GeV), strictly increasing, (N,) [or (K, N)].
      log_eps_lo: ln of the lower boundary of the excluded region (the one-sided limit eps_90), (N,).
      log_eps_hi: ln of the upper boundary (two-sided islands); log_eps_lo + ln 10 filler if one-sided.
      no_limit: bool (N,), True at "no limit" knots of a one-sided table (log_eps_lo = ln NO_LIMIT_EPS there).
      log_m_lo, log_m_hi: ln of the first and last mass, () [or (K,)].
    """

    log_m: jax.Array
    log_eps_lo: jax.Array
    log_eps_hi: jax.Array
    no_limit: jax.Array
    log_m_lo: jax.Array
    log_m_hi: jax.Array


def make_visible_table(m_gev, eps_lo, eps_hi=None, no_limit=None) -> VisibleTable:
    """Host-side constructor (numpy float64) from cleaned masses (strictly increasing, > 0), the lower
    boundary and, for a two-sided island, the upper boundary (> eps_lo at every knot). ``no_limit``
    (one-sided only) marks "no limit" knots; default: eps_lo >= NO_LIMIT_EPS."""
    m = np.asarray(m_gev, dtype=np.float64)
    lo = np.asarray(eps_lo, dtype=np.float64)
    if m.ndim != 1 or m.shape != lo.shape or m.size < 2:
        raise ValueError("make_visible_table: need 1-d arrays of equal length >= 2")
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(lo)) and np.all(m > 0) and np.all(lo > 0)):
        raise ValueError("make_visible_table: masses and eps_lo must be finite and > 0")
    if not np.all(np.diff(m) > 0):
        raise ValueError("make_visible_table: masses must be strictly increasing (clean the limit first)")
    nl = lo >= NO_LIMIT_EPS if no_limit is None else np.asarray(no_limit, dtype=bool)
    if nl.shape != lo.shape:
        raise ValueError("make_visible_table: no_limit must have the shape of eps_lo")
    lo = np.where(nl, NO_LIMIT_EPS, lo)
    llo = np.log(lo)
    if eps_hi is None:
        lhi = llo + _LOG_FILL
    else:
        if nl.any():
            raise ValueError("make_visible_table: a two-sided table has no 'no limit' knots")
        hi = np.asarray(eps_hi, dtype=np.float64)
        if hi.shape != lo.shape or not np.all(np.isfinite(hi)) or not np.all(hi > lo):
            raise ValueError("make_visible_table: eps_hi must be finite and > eps_lo at every knot")
        lhi = np.log(hi)
    lm = np.log(m)
    return VisibleTable(lm, llo, lhi, nl, np.float64(lm[0]), np.float64(lm[-1]))


def stack_visible_tables(tables, n: int | None = None) -> VisibleTable:
    """Stack tables with a leading axis, padding each to ``n`` knots at ``log_m_hi + 1, + 2, ...``."""
    tables = list(tables)
    if not tables:
        raise ValueError("stack_visible_tables: need at least one table")
    n_max = max(int(np.shape(t.log_m)[0]) for t in tables)
    n = n_max if n is None else int(n)
    if n < n_max:
        raise ValueError(f"stack_visible_tables: n={n} is shorter than the longest table ({n_max})")
    cols = ([], [], [], [])
    for t in tables:
        lm = np.asarray(t.log_m)
        k = n - lm.size
        cols[0].append(np.concatenate([lm, lm[-1] + np.arange(1, k + 1, dtype=np.float64)]))
        for col, arr in zip(cols[1:3], (t.log_eps_lo, t.log_eps_hi)):
            a = np.asarray(arr)
            col.append(np.concatenate([a, np.full(k, a[-1])]))
        cols[3].append(np.concatenate([np.asarray(t.no_limit, dtype=bool), np.zeros(k, dtype=bool)]))
    return VisibleTable(
        np.stack(cols[0]),
        np.stack(cols[1]),
        np.stack(cols[2]),
        np.stack(cols[3]),
        np.array([float(t.log_m_lo) for t in tables], dtype=np.float64),
        np.array([float(t.log_m_hi) for t in tables], dtype=np.float64),
    )


def _f(x):
    return jnp.asarray(x, dtype=jnp.result_type(float))


def _jnp_table(table: VisibleTable) -> VisibleTable:
    return VisibleTable(*(jnp.asarray(a) for a in table))


def _segment(m, table: VisibleTable):
    """(index of the knot segment, fraction t in it, inside mask) of mass ``m`` (clipped into range)."""
    table = _jnp_table(table)
    m = _f(m)
    pos = m > 0
    lm = jnp.log(jnp.where(pos, m, 1.0))
    inside = pos & (lm >= table.log_m_lo) & (lm <= table.log_m_hi)
    lm_c = jnp.where(inside, lm, jnp.clip(lm, table.log_m_lo, table.log_m_hi))
    n = table.log_m.shape[-1]
    i = jnp.clip(jnp.searchsorted(table.log_m, lm_c, side="right") - 1, 0, n - 2)
    x0, x1 = table.log_m[i], table.log_m[i + 1]
    t = (lm_c - x0) / (x1 - x0)
    return i, t, inside


def _lerp(a, i, t):
    a = jnp.asarray(a)
    return a[i] + t * (a[i + 1] - a[i])


def visible_boundaries(m, table: VisibleTable):
    """``(log eps_lo(m), log eps_hi(m), inside)``: log-log interpolation and the in-range mask.

    Outside the range the values are finite fillers (the end values); combine them with ``inside``.
    On a one-sided segment touching a "no limit" knot ``log eps_lo`` follows the linear interpolation
    of :func:`sensitivity` (ln 1e5 at the knot itself).
    """
    table = _jnp_table(table)
    i, t, inside = _segment(m, table)
    lo = _lerp(table.log_eps_lo, i, t)
    hi = _lerp(table.log_eps_hi, i, t)
    nl = table.no_limit[i] | table.no_limit[i + 1]
    return jnp.where(nl, -0.5 * jnp.log(sensitivity(m, table)), lo), hi, inside


def sensitivity(m, table: VisibleTable):
    """1/eps_lo(m)^2 of a table at mass m (finite filler, the end value, outside the mass range).

    Log-log interpolation of eps_lo, except on a segment touching a "no limit" knot: there eps_lo is
    interpolated *linearly in m and eps* towards NO_LIMIT_EPS, as DarkCast's ``Dataset`` does, so the limit
    vanishes continuously but within ~eps_90/1e5 (relative, in mass) of the last real knot -- a cliff in
    practice, and no artificial limit inside the vetoed window.
    """
    table = _jnp_table(table)
    i, t, _ = _segment(m, table)
    lo = _lerp(table.log_eps_lo, i, t)
    s_log = jnp.exp(-2.0 * lo)
    m0, m1 = jnp.exp(table.log_m[i]), jnp.exp(table.log_m[i + 1])
    mm = jnp.exp(table.log_m[i] + t * (table.log_m[i + 1] - table.log_m[i]))
    tm = (mm - m0) / (m1 - m0)
    e0, e1 = jnp.exp(table.log_eps_lo[i]), jnp.exp(table.log_eps_lo[i + 1])
    e_lin = e0 + tm * (e1 - e0)
    nl = table.no_limit[i] | table.no_limit[i + 1]
    return jnp.where(nl, 1.0 / (e_lin * e_lin), s_log)


def _log_t(eps, log_lo):
    """ln t = 2 (ln|eps| - ln eps_lo), with a mask for eps != 0 (finite filler at eps = 0)."""
    a = jnp.abs(_f(eps))
    nz = a > 0
    lt = 2.0 * (jnp.log(jnp.where(nz, a, 1.0)) - log_lo)
    return jnp.minimum(lt, _LT_MAX), nz


def prompt_yield(eps, m, table: VisibleTable, br_ratio=1.0):
    """x = r (eps / eps_90(m))^2 = r eps^2 sensitivity(m) of a one-sided limit; 0 outside the mass range."""
    _, _, inside = _segment(m, table)
    e = _f(eps)
    x = _f(br_ratio) * e * e * sensitivity(m, table)
    return jnp.where(inside, x, 0.0)


def _kappa(log_r):
    """kappa = 2 ln R / (R - 1) from ln R > 0 (-> 2 as R -> 1; series below 1e-6)."""
    small = log_r < 1e-6
    lr = jnp.where(small, 1.0, log_r)
    return jnp.where(small, 2.0 - log_r, 2.0 * lr / jnp.expm1(lr))


def displaced_yield(eps, m, table: VisibleTable, br_ratio=1.0, width_ratio=1.0):
    """x = r rho t^2 exp(-kappa (rho t - 1)) of a two-sided island (module docstring); 0 outside the range.

    ``br_ratio`` = r, ``width_ratio`` = rho = Gamma_model / Gamma_ref (finite, > 0).
    """
    i, tt, inside = _segment(m, table)
    lo = _lerp(table.log_eps_lo, i, tt)  # plain log-log: islands have no "no limit" knots
    hi = _lerp(table.log_eps_hi, i, tt)
    kappa = _kappa(2.0 * (hi - lo))
    lt, nz = _log_t(eps, lo)
    t = jnp.where(nz, jnp.exp(lt), 0.0)
    r, rho = _f(br_ratio), _f(width_ratio)
    x = r * rho * t * t * jnp.exp(-kappa * (rho * t - 1.0))
    return jnp.where(inside, x, 0.0)


def visible_yield(eps, m, table: VisibleTable, two_sided, br_ratio=1.0, width_ratio=1.0):
    """Prompt or displaced yield ratio x (x = 1 on the tabulated boundary) selected by ``two_sided``."""
    xp = prompt_yield(eps, m, table, br_ratio)
    xd = displaced_yield(eps, m, table, br_ratio, width_ratio)
    return jnp.where(jnp.asarray(two_sided, dtype=bool), xd, xp)


def visible_loglike(
    eps, m, table: VisibleTable, *, two_sided=False, cl=0.9, shape=POISSON_ZERO_COUNT, br_ratio=1.0, width_ratio=1.0
):
    """ln L of one visible-search term: ``upper_limit_loglike(x, 1, cl, shape)`` of :func:`visible_yield`
    (ln L = ln(1 - cl) x for the Poisson zero-count shape); ln L = 0 outside the table's mass range."""
    x = visible_yield(eps, m, table, two_sided, br_ratio, width_ratio)
    return upper_limit_loglike(x, 1.0, cl, shape)


class VisibleTerms(NamedTuple):
    """V visible-search terms: stacked tables (leading axis V) and per-term settings (V,).

    Attributes:
      tables: stacked :class:`VisibleTable`.
      two_sided: bool, True for displaced islands (beam dumps), False for prompt one-sided limits.
      cl: confidence level fraction.  shape: upper-limit shape code (``_forms``).
      ref_mask: (V, 4) float 0/1 -- the decay channels (:data:`VISIBLE_CHANNELS` order) of the dark-photon
        model the limit was derived for (all ones, except e.g. KLOE's phi -> eta A' limit, derived for a
        dark photon decaying to e+e- and mu+mu- only).
    """

    tables: VisibleTable
    two_sided: jax.Array
    cl: jax.Array
    shape: jax.Array
    ref_mask: jax.Array


def ref_mask_from_states(states=None) -> np.ndarray:
    """0/1 mask over :data:`VISIBLE_CHANNELS` from channel names (None: all channels)."""
    if states is None:
        return np.ones(len(VISIBLE_CHANNELS), dtype=np.float64)
    unknown = [s for s in states if s not in VISIBLE_CHANNELS]
    if unknown:
        raise ValueError(f"ref_mask_from_states: unknown channels {unknown}; known {VISIBLE_CHANNELS}")
    return np.array([1.0 if c in states else 0.0 for c in VISIBLE_CHANNELS], dtype=np.float64)


def make_visible_terms(tables, two_sided, cl=None, shape=None, ref_states=None) -> VisibleTerms:
    """Host-side constructor: a list of single tables and per-term settings (lists of length V)."""
    tables = list(tables)
    v = len(tables)
    cl = [0.9] * v if cl is None else list(cl)
    shape = [POISSON_ZERO_COUNT] * v if shape is None else list(shape)
    ref_states = [None] * v if ref_states is None else list(ref_states)
    if not (len(two_sided) == len(cl) == len(shape) == len(ref_states) == v):
        raise ValueError("make_visible_terms: per-term settings must all have the length of tables")
    return VisibleTerms(
        tables=stack_visible_tables(tables),
        two_sided=np.asarray(two_sided, dtype=bool),
        cl=np.asarray(cl, dtype=np.float64),
        shape=np.asarray(shape, dtype=np.int32),
        ref_mask=np.stack([ref_mask_from_states(s) for s in ref_states]),
    )


def channel_ratios(m, ref_mask, br_inv=0.0, widths=None):
    """``(r, rho)`` of the module docstring for a model with BR(A' -> invisible) = ``br_inv``.

        r   = BR_model(channel) / BR_ref(channel) = (1 - BR_inv) Sum_ref Gamma_c / Sum_all Gamma_c
        rho = Gamma_model / Gamma_ref            = Sum_all Gamma_c / ((1 - BR_inv) Sum_ref Gamma_c)

    (Gamma_c: visible partial widths of the kinetically mixed A' at mass m, ``widths`` = precomputed
    ``unit_widths(m)``; ``ref_mask`` selects the channels of the limit's reference model.) r = rho = 1
    for a full-channel limit and BR_inv = 0; r rho = 1 whenever BR_inv < 1; for BR_inv = 1 (mode
    "invisible") r = 0 and rho is set to 1 (the term vanishes). Below 2 m_e (no channel open)
    r = 1 - BR_inv, rho = 1/(1 - BR_inv).
    """
    g = unit_widths(m) if widths is None else _f(widths)
    tot = jnp.sum(g, axis=-1)
    ref = jnp.sum(g * _f(ref_mask), axis=-1)
    ok = (tot > 0) & (ref > 0)
    frac = jnp.where(ok, ref / jnp.where(ok, tot, 1.0), 1.0)
    vis = 1.0 - _f(br_inv)
    live = vis > 0
    r = jnp.where(live, vis * frac, 0.0)
    rho = jnp.where(live, 1.0 / jnp.where(live, vis * frac, 1.0), 1.0)
    return r, rho


def visible_terms_loglike(eps, m, terms: VisibleTerms, br_inv=0.0):
    """Per-term ln L, shape (V,), at kinetic mixing ``eps``, A' mass ``m`` (GeV) and BR(A' -> invisible)
    ``br_inv`` (0: mode "visible", the minimal model; 1: mode "invisible"; in between: "mixed")."""
    g = unit_widths(m)

    def one(table, two_sided, cl, shape, mask):
        r, rho = channel_ratios(m, mask, br_inv, widths=g)
        return visible_loglike(eps, m, table, two_sided=two_sided, cl=cl, shape=shape, br_ratio=r, width_ratio=rho)

    return jax.vmap(one)(terms.tables, terms.two_sided, terms.cl, terms.shape, terms.ref_mask)
