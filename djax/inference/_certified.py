r"""Certified upper-bound profile of the solar-equivalent moment against m_A' (docs/physics.md section 9).

For every likelihood preset whose constraints separate into *kinetic-mixing* terms (functions of epsilon and
m_A' only: invisible curves, visible searches, BBN), *dark-sector* terms (functions of the masses, theta,
Yukawas and g_D only: cLFV, g-2, EDMs, m_nu) and the direct-detection terms (the maximised quantity), the
profile factorises:

    mu_X^max(m) = epsilon_max(m) * max_phi sqrt(l^T Omega_X(m) l) / mu_B,

    l = (lambda_{mu tau}, lambda_{tau e}, lambda_{e mu})   (the dark moment lambda_ab = eps_abc l_c),
    Omega_X(m) = Tr(W) 1 - W,   W = Re(U diag(w_X(m)) U^dagger),

with ``w_X(m)`` the experiment's mass-state rate weights (:func:`djax.observables.solar_weights`) and U the PMNS
matrix; ``epsilon_max(m)`` is the largest epsilon of the prior box that every kinetic-mixing term allows.

Lower value: the best *feasible* point found by the inner solver (augmented Lagrangian from structured starts:
the cancellation manifolds of C^{ab} and C^{ba}, the m_nu-optimal orientation y ⟂ y', box corners and random
starts), re-evaluated with :func:`djax.observables.observables` at (epsilon_max(m), m) and checked against every
constraint. Upper value (the certificate) at fixed phi = (M_F, m_S1, m_S2, theta), g_D at its upper edge (the
moment is linear in g_D, the dipoles do not depend on it), per flavour pair (a, b) with m_a < m_b:

    |lambda_ab| <= |P_lambda| (T_a T'_b + T_b T'_a)                                         (box)
    |lambda_ab| <= |R| [ sqrt(2) c_ab + (m_b - m_a) G_ab ]                  (radiative decay l_b -> l_a gamma)
    |P_C y_l y'_l| <= nu_l = d_l + m_l (|n_a| T_l^2 + |n_b| T'_l^2)            (anomalous moment of l, in the box)

with ``R = P_lambda / P_C = 2 g_D Q_F Delta K / (e Delta I_F)`` (lambda = R (C_enh^{ab} - C_enh^{ba})),
``c_ab^2`` the largest |C^{ab}|^2 + |C^{ba}|^2 the terms allow, and ``G_ab`` the largest
``|n_a| t + |n_b| t'`` (t = |y_a y_b|, t' = |y'_a y'_b|) compatible with
``P_C^2 t t' <= (c + |n_a| m_b t + |n_b| m_a t')(c + |n_a| m_a t + |n_b| m_b t')``; ``d_l = A_l e / (4 m_l)`` with
``|Delta a_l| <= A_l`` on the allowed interval of a g-2 term (the box bound is then taken at the ends of the Pareto
front of {|y_l||y'_l| <= nu_l / P_C} per flavour); and for sum m_nu <= s,
``|l| <= |P_lambda / K_m| s / 2`` (the trace norm of the rank-2 loop mass is exactly ``2 |K_m| |y| |y'|``).
The maximum of the convex ``l^T Omega l`` over the box |l_i| <= b_i sits at a vertex. The supremum over phi is
taken on a grid in (ln M_F, ln m_S1, ln m_S2, theta) with a first-order margin per node,
``F_node + sum_axes max|Delta F| / 2`` (Delta F the change to a neighbouring node), so the bound covers the box
between the nodes to the accuracy of the local slope; the regions with the largest bound are covered again by finer
grids, best first, until the largest bound of all sits at a node whose margin is small (:class:`Certificate`).
Omega_X(m) is dominated by a multiple of Omega_X at a few reference masses (:meth:`CertifiedProfiler.bound_at`),
so the certificate is evaluated there only.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .. import constants as C
from .. import loops
from ..likelihood import TermSpec, cl_thresholds, is_direct, terms_loglike
from ..model import Prior, params_from_values
from ..observables import observables, solar_tables, solar_weights
from ._optimize import _solve_constrained
from ._points import point_observables

#: Experiments of the profile: (name, observable, solar-table key).
CERTIFIED_EXPERIMENTS = (
    ("borexino", "borexino_mu_equiv_muB", "borexino"),
    ("xenonnt", "xenonnt_mu_equiv_muB", "xenonnt"),
)
#: Flavour pairs (a, b), m_a < m_b, and the component of l that lambda_ab is.
PAIRS = ((0, 1, 2), (0, 2, 1), (1, 2, 0))
_YUK = ("y_e", "y_mu", "y_tau")
_YUKP = ("yp_e", "yp_mu", "yp_tau")
_KINETIC_PARAMS = ("epsilon", "m_Aprime")
#: Dark-sector observables the certificate uses, and how each maps to a bound.
_BR_OBS = {"br_mu_e_gamma": (0, 1), "br_tau_e_gamma": (0, 2), "br_tau_mu_gamma": (1, 2)}
_MUEG_PROXIES = ("br_mu_3e", "cr_mu_e_Au", "cr_mu_e_Ti", "cr_mu_e_Al")
#: Anomalous magnetic moments: Delta a_l = (4 m_l / e) Re C^{ll} bounds the diagonal dipole of flavour l.
_AMM_OBS = {"delta_a_e": 0, "delta_a_mu": 1, "delta_a_tau": 2}


class NotSeparable(ValueError):
    """A likelihood term depends both on (epsilon, m_A') and on the dark sector: the profile does not factorise."""

    def __init__(self, terms):
        self.terms = tuple(terms)
        super().__init__(
            "terms coupling the kinetic mixing to the dark sector: " + ", ".join(self.terms) + " (exclude them, or "
            "use the direct profile, optimize.profile.method = 'direct')"
        )


def omega_matrix(weights, U):
    """Omega = Tr(W) 1 - W with W = Re(U diag(w) U^dagger): mu_X^2 = eps^2 l^T Omega l / mu_B^2."""
    U = np.asarray(U)
    W = np.real(U @ np.diag(np.asarray(weights, dtype=float)) @ U.conj().T)
    return np.trace(W) * np.eye(3) - W


def l_vector(lam):
    """l = (lambda_23, lambda_31, lambda_12) of an antisymmetric 3x3 (real part; djax's Yukawas are real)."""
    lam = jnp.real(lam)
    return jnp.stack([lam[..., 1, 2], lam[..., 2, 0], lam[..., 0, 1]], axis=-1)


# ------------------------------------------------------------------------------------------- classification
def _prior(priors, name):
    for p in priors:
        if p.name == name:
            return p
    return None


def _abs_max(p: Prior | None) -> float:
    if p is None:
        return 0.0
    if p.is_fixed:
        return abs(float(p.value))
    return max(abs(float(p.low)), abs(float(p.high)))


def _range(p: Prior | None):
    if p.is_fixed:
        return float(p.value), float(p.value)
    return float(p.low), float(p.high)


def classify_terms(spec: TermSpec, priors, *, Q_F=1.0, br_inv=1.0) -> dict:
    """Indices of ``spec.ids`` by role: ``direct`` (maximised), ``kinetic`` (epsilon, m_A' only), ``dark``.

    Decided numerically: a term's ln L is evaluated at two dark-sector points and two (epsilon, m_A') points;
    a term that changes with both is not separable (:class:`NotSeparable`).
    """
    direct = np.array(is_direct(spec))
    base = _reference_values(priors)
    pts = []
    for (dark_scale, frac), (eps, m) in itertools.product(((1e-9, 0.35), (3e-1, 0.7)), ((3e-5, 0.02), (2e-4, 0.4))):
        v = dict(base)
        for p in priors:  # masses, angle and dark coupling move too
            if not p.is_fixed and p.name not in _KINETIC_PARAMS + _YUK + _YUKP:
                lo, hi = p.latent_bounds()
                v[p.name] = float(p.to_physical(np.float64(lo + frac * (hi - lo))))
        v.update(_dark_point(priors, dark_scale))
        v["epsilon"], v["m_Aprime"] = eps, m
        pts.append(v)
    lnl = np.array([np.asarray(point_observables(_as_jnp(v), spec, Q_F=Q_F, br_inv=br_inv)[1]) for v in pts])
    # pts order: (small dark, kin A), (small, kin B), (large, A), (large, B)
    d_kin = np.abs(lnl[0] - lnl[1]) + np.abs(lnl[2] - lnl[3])
    d_dark = np.abs(lnl[0] - lnl[2]) + np.abs(lnl[1] - lnl[3])
    tol = 1e-12
    kinetic, dark, coupled = [], [], []
    for i, tid in enumerate(spec.ids):
        if direct[i]:
            continue
        k, d = d_kin[i] > tol, d_dark[i] > tol
        if k and d:
            coupled.append(tid)
        elif k or i >= len(spec.scalar_ids):  # curve and visible terms are kinetic even where inert
            kinetic.append(i)
        else:
            dark.append(i)
    if coupled:
        raise NotSeparable(coupled)
    return {"direct": np.flatnonzero(direct), "kinetic": np.array(kinetic, int), "dark": np.array(dark, int)}


def _reference_values(priors):
    vals = {}
    for p in priors:
        if p.is_fixed:
            vals[p.name] = float(p.value)
        else:
            lo, hi = p.latent_bounds()
            vals[p.name] = float(p.to_physical(np.float64(0.5 * (lo + hi))))
    return vals


def _dark_point(priors, scale):
    """Yukawas of size ``scale`` (within each box) on a generic direction; masses at their box centres."""
    out = {}
    dirs = {"y_e": 0.9, "y_mu": -0.7, "y_tau": 0.5, "yp_e": 0.6, "yp_mu": 0.8, "yp_tau": -0.4}
    for n, d in dirs.items():
        p = _prior(priors, n)
        if p is None or p.is_fixed:
            continue
        out[n] = float(np.clip(d * scale, p.low, p.high))
    return out


def _as_jnp(values):
    return {k: jnp.asarray(v, dtype=jnp.float64) for k, v in values.items()}


def sub_spec(spec: TermSpec, scalar_idx, *, kinetic: bool) -> TermSpec:
    """The terms of ``spec`` with only the scalar terms ``scalar_idx`` (indices into ``spec.ids``, all scalar)
    and, for ``kinetic=True``, every curve and visible term (they depend on epsilon and m_A' only)."""
    idx = np.asarray(scalar_idx, int)
    n_s = len(spec.scalar_ids)
    if np.any(idx >= n_s):
        raise ValueError("sub_spec: scalar_idx must index scalar terms")
    scalar = (
        jax.tree.map(lambda a: jnp.asarray(a)[idx], spec.scalar) if (idx.size and spec.scalar is not None) else None
    )
    return dataclasses.replace(
        spec,
        scalar=scalar,
        curves=spec.curves if kinetic else None,
        visible=spec.visible if kinetic else None,
        scalar_ids=tuple(spec.scalar_ids[i] for i in idx),
        observables=tuple(spec.observables[i] for i in idx),
        curve_ids=tuple(spec.curve_ids) if kinetic else (),
        visible_ids=tuple(spec.visible_ids) if kinetic else (),
    )


def _sub_lnl(values, sub: TermSpec, *, Q_F, br_inv):
    """(observables without the solar part, ln L of the terms of ``sub``) at named parameter values."""
    p = params_from_values(values, Q_F=Q_F)
    obs = observables(p, solar=False, **dict(sub.model_options))
    if not sub.ids:
        return obs, jnp.zeros((0,))
    return obs, terms_loglike(obs, sub, br_inv=br_inv)


# ------------------------------------------------------------------------------------------- bounds from terms
def _allowed_abs(fn: Callable, thr: float, scale: float) -> float:
    """max |x| over the interval around x = 0 where fn(x) >= thr (a two-sided term; inf when fn(0) < thr or the
    interval is unbounded): bisection in ln|x| on each side, starting from ``scale``."""
    if fn(0.0) < thr:
        return math.inf
    out = 0.0
    for sign in (1.0, -1.0):
        hi = abs(scale)
        while fn(sign * hi) >= thr:
            hi *= 10.0
            if hi > 1e30:
                return math.inf
        lo = hi / 10.0
        while lo > 1e-300 and fn(sign * lo) < thr:
            lo /= 10.0
        a, b = math.log(max(lo, 1e-300)), math.log(hi)
        for _ in range(200):
            mid = 0.5 * (a + b)
            if fn(sign * math.exp(mid)) >= thr:
                a = mid
            else:
                b = mid
            if b - a < 1e-13:
                break
        out = max(out, math.exp(b))  # the outer end of the bracket: a bound on |x|
    return out


def _invert_upper(fn: Callable, thr: float, lo=1e-60, hi=1e20):
    """Largest x in [lo, hi] with fn(x) >= thr for a decreasing fn (bisection in ln x); inf when fn(hi) >= thr."""
    if fn(hi) >= thr:
        return math.inf
    if fn(lo) < thr:
        return 0.0
    a, b = math.log(lo), math.log(hi)
    for _ in range(200):
        mid = 0.5 * (a + b)
        if fn(math.exp(mid)) >= thr:
            a = mid
        else:
            b = mid
        if b - a < 1e-13:
            break
    return math.exp(a)


def dark_bounds(spec: TermSpec, priors, dark_idx, thr, *, Q_F=1.0, br_inv=1.0) -> dict:
    """Bounds the dark-sector terms imply: ``c`` (3,) on sqrt(|C^{ab}|^2 + |C^{ba}|^2) per pair (inf: none),
    ``d`` (3,) on |Re C^{ll}| per flavour from the anomalous magnetic moments (inf: none), ``mnu_sum_GeV`` on
    sum m_nu, and the list of dark terms the certificate does not use (their constraints are
    dropped, which keeps the bound valid)."""
    vals = _reference_values(priors)
    vals.update(_dark_point(priors, 1e-3))
    obs, _ = point_observables(_as_jnp(vals), spec, Q_F=Q_F, br_inv=br_inv)
    obs = {k: np.asarray(v) for k, v in obs.items()}
    c = np.full(3, np.inf)
    d = np.full(3, np.inf)
    mnu = math.inf
    unused = []
    for i in dark_idx:
        tid, o = spec.ids[i], spec.observables[i] if i < len(spec.observables) else None

        def lnl_at(x, o=o, i=i):
            ob = dict(obs)
            ob[o] = np.float64(x)
            return float(np.asarray(terms_loglike(ob, spec, br_inv=br_inv))[i])

        if o in _BR_OBS or o in _MUEG_PROXIES or o == "m_nu_sum_eV":
            # upper-limit form: ln L decreasing in the observable
            if lnl_at(0.0) < lnl_at(1e-3 * max(abs(float(obs[o])), 1e-30)) - 1e-12:
                unused.append(tid)
                continue
            xmax = _invert_upper(lnl_at, float(thr[i]))
        elif o in _AMM_OBS:
            # two-sided measurement: |Delta a_l| <= A on the allowed interval, so |Re C^{ll}| <= A e / (4 m_l)
            A = _allowed_abs(lnl_at, float(thr[i]), 1e-3 * max(abs(float(obs[o])), 1e-20) + 1e-16)
            if not math.isfinite(A):
                unused.append(tid)
                continue
            f = _AMM_OBS[o]
            d[f] = min(d[f], A * C.E_CHARGE / (4.0 * C.M_LEPTONS[f]))
            continue
        else:
            unused.append(tid)
            continue
        if o == "m_nu_sum_eV":
            mnu = min(mnu, xmax / C.GEV_TO_EV)
            continue
        if o in _MUEG_PROXIES:
            ratio = float(obs[o]) / float(obs["br_mu_e_gamma"])
            xmax, pair = xmax / ratio, (0, 1)
        else:
            pair = _BR_OBS[o]
        a, b = pair
        ps = (1.0 - C.M_LEPTONS[a] ** 2 / C.M_LEPTONS[b] ** 2) ** 3
        k = C.M_LEPTONS[b] ** 3 / (4.0 * math.pi * C.GAMMA_LEPTONS[b]) * ps
        j = [pp[:2] for pp in PAIRS].index((a, b))
        c[j] = min(c[j], math.sqrt(xmax / k))
    return {"c": c, "d": d, "mnu_sum_GeV": mnu, "unused": unused}


def mass_restricted_priors(spec: TermSpec, priors, dark_idx, thr, *, Q_F=1.0, br_inv=1.0, n=4001):
    """The priors with the M_F box cut to the range the Yukawa-independent dark terms allow (collider bounds on
    the VLL: functions of M_F alone). The cut is the smallest allowed node of a dense log grid that is followed
    only by allowed nodes; a term allowing a set that is not an upper interval of M_F leaves the box as it is."""
    pM = _prior(priors, "M_F")
    if pM is None or pM.is_fixed:
        return tuple(priors)
    base = _reference_values(priors)
    base.update(_dark_point(priors, 1e-12))
    grid = np.geomspace(pM.low, pM.high, n)
    dark_idx = np.asarray(dark_idx, int)
    if dark_idx.size == 0:
        return tuple(priors)

    @jax.jit
    def lnl(Ms, scale):
        def one(Mv):
            v = _as_jnp(base)
            v["M_F"] = Mv
            for k in _YUK + _YUKP:
                if k in v:
                    v[k] = v[k] * scale
            return point_observables(v, spec, Q_F=Q_F, br_inv=br_inv)[1][dark_idx]

        return jax.vmap(one)(Ms)

    a = np.asarray(lnl(jnp.asarray(grid), 1.0))
    b = np.asarray(lnl(jnp.asarray(grid), 1e3))
    mass_only = np.all(np.abs(a - b) < 1e-12, axis=0) & (np.ptp(a, axis=0) > 1e-12)
    if not mass_only.any():
        return tuple(priors)
    ok = np.all(a[:, mass_only] >= np.asarray(thr)[dark_idx][mass_only], axis=1)
    if not ok[-1]:
        return tuple(priors)
    first = len(ok) - int(np.argmin(ok[::-1])) if not ok.all() else 0
    if first >= len(ok) or not ok[first:].all() or first == 0:
        return tuple(priors)
    low = float(grid[first])  # the first allowed node (the certificate widens the box by one node, see below)
    return tuple(dataclasses.replace(p, low=low) if p.name == "M_F" else p for p in priors)


def _widened_by_a_node(priors, original, n=4001):
    """The certificate's M_F box: the restricted box extended down to the excluded node below it (the bound then
    covers the whole cell in which the collider bound sets in)."""
    pM, p0 = _prior(priors, "M_F"), _prior(original, "M_F")
    if pM is None or pM.is_fixed or p0.is_fixed or pM.low == p0.low:
        return tuple(priors)
    grid = np.geomspace(p0.low, p0.high, n)
    below = grid[grid < pM.low]
    low = float(below[-1]) if below.size else float(p0.low)
    return tuple(dataclasses.replace(p, low=low) if p.name == "M_F" else p for p in priors)


# ------------------------------------------------------------------------------------------- the certificate
def _cell_ingredients(M, m1, m2, th0, th1, g_D, Q_F):
    """Bounds of the ingredients over the theta cell [th0, th1] at fixed masses (all monotone in theta there):
    |P_C| from below, |P_lambda|, |n_a|, |n_b| from above; R and lambda/m_nu do not depend on theta."""

    def sc(t):
        return 0.5 * jnp.sin(2.0 * t)

    s0, s1 = sc(th0), sc(th1)
    contains = (th0 <= 0.25 * math.pi) & (th1 >= 0.25 * math.pi)
    sc_lo = jnp.minimum(jnp.abs(s0), jnp.abs(s1))
    sc_hi = jnp.where(contains, 0.5, jnp.maximum(jnp.abs(s0), jnp.abs(s1)))
    d_IF = loops.gim_difference(loops.I_F, M, m1, m2)
    d_K = loops.gim_difference(loops.K, M, m1, m2)
    d_G = loops.gim_difference_G(M, m1, m2)
    L1 = loops.scaled(loops.L_F, M, m1)
    L2 = loops.scaled(loops.L_F, M, m2)
    e = C.E_CHARGE
    P_C_lo = e / (32.0 * math.pi**2) * M * sc_lo * jnp.abs(d_IF)
    P_l_hi = g_D * abs(Q_F) * M / (16.0 * math.pi**2) * sc_hi * jnp.abs(d_K)
    ok = d_IF != 0
    R = jnp.where(ok, 2.0 * g_D * abs(Q_F) * jnp.abs(d_K) / (e * jnp.where(ok, jnp.abs(d_IF), 1.0)), 0.0)
    ok_g = d_G != 0
    lam_per_mnu = jnp.where(ok_g, g_D * abs(Q_F) * jnp.abs(d_K / jnp.where(ok_g, d_G, 1.0)), 0.0)
    k = e / (64.0 * math.pi**2)

    def n_hi(La, Lb):  # |c^2 La + s^2 Lb| is largest at an end of the cell (linear in s^2)
        a0 = jnp.cos(th0) ** 2 * La + jnp.sin(th0) ** 2 * Lb
        a1 = jnp.cos(th1) ** 2 * La + jnp.sin(th1) ** 2 * Lb
        return k * jnp.maximum(jnp.abs(a0), jnp.abs(a1))

    return P_C_lo, P_l_hi, R, lam_per_mnu, n_hi(L1, L2), n_hi(L2, L1)


def _box_corners(T, Tp, num, P_C_lo, P_l_hi, R):
    """Bounds at the two ends of the Pareto front of {0 <= u <= T, 0 <= u' <= Tp, P_C u u' <= num} (u = |y_l|,
    u' = |y'_l|): (T, min(Tp, tau/T)) and (min(T, tau/Tp), Tp), tau = num / P_C. A linear function with
    non-negative coefficients is largest at one of them (on the hyperbola u u' = tau it is convex in u). Each end
    as (u, u', P_lambda u, P_lambda u') bounded over the theta cell; P_lambda / P_C = R does not depend on theta, so
    P_lambda tau <= R num also where P_C vanishes at the cell's edge."""
    if isinstance(num, float) and not math.isfinite(num):  # no diagonal-dipole bound for this flavour
        return ((T, Tp, P_l_hi * T, P_l_hi * Tp),)
    tau = jnp.where(P_C_lo > 0, num / jnp.where(P_C_lo > 0, P_C_lo, 1.0), jnp.inf)
    up1 = jnp.minimum(Tp, tau / T) if T > 0 else jnp.asarray(Tp)
    Pup1 = jnp.minimum(P_l_hi * Tp, R * num / T) if T > 0 else P_l_hi * Tp
    u2 = jnp.minimum(T, tau / Tp) if Tp > 0 else jnp.asarray(T)
    Pu2 = jnp.minimum(P_l_hi * T, R * num / Tp) if Tp > 0 else P_l_hi * T
    return ((T, up1, P_l_hi * T, Pup1), (u2, Tp, Pu2, P_l_hi * Tp))


def _pair_bound(P_C_lo, P_l_hi, R, na, nb, c, ma, mb, Ta, Tb, Tpa, Tpb, num_a=math.inf, num_b=math.inf):
    """Bound on |lambda_ab| from the box (with |P_C y_l y'_l| <= num_l per flavour, from its diagonal dipole) and,
    when the pair is constrained (``c`` finite), from its dipoles."""
    trivial = None
    for ua, upa, Pua, Pupa in _box_corners(Ta, Tpa, num_a, P_C_lo, P_l_hi, R):
        for ub, upb, Pub, Pupb in _box_corners(Tb, Tpb, num_b, P_C_lo, P_l_hi, R):
            v = jnp.minimum(Pua * upb, ua * Pupb) + jnp.minimum(Pub * upa, ub * Pupa)
            trivial = v if trivial is None else jnp.maximum(trivial, v)
    if not math.isfinite(c):
        return trivial
    A, Ap = Ta * Tb, Tpa * Tpb
    kappa = (c + na * mb * A + nb * ma * Ap) * (c + na * ma * A + nb * mb * Ap) / jnp.maximum(P_C_lo**2, 1e-300)
    t1p = jnp.minimum(Ap, kappa / A) if A > 0 else jnp.asarray(Ap)
    t2 = jnp.minimum(A, kappa / Ap) if Ap > 0 else jnp.asarray(A)
    G = jnp.maximum(na * A + nb * t1p, na * t2 + nb * Ap)
    dipole = R * (math.sqrt(2.0) * c + (mb - ma) * G)
    return jnp.minimum(trivial, dipole)


def _vertex_max(b, omega):
    """max over |l_i| <= b_i of l^T Omega l (a vertex: sign patterns up to an overall sign)."""
    best = None
    for sg in ((1, 1, 1), (1, 1, -1), (1, -1, 1), (-1, 1, 1)):
        v = b * jnp.asarray(sg, dtype=b.dtype)
        q = jnp.einsum("...i,ij,...j->...", v, omega, v)
        best = q if best is None else jnp.maximum(best, q)
    return best


def _bound_cells(M, m1, m2, th0, th1, omega, *, T, Tp, c, mnu, g_D, Q_F, d=(math.inf,) * 3):
    """F = sup over the theta cell of the bound on l^T Omega l at the mass nodes (any common shape)."""
    P_C, P_l, R, lpm, n_a, n_b = _cell_ingredients(M, m1, m2, th0, th1, g_D, Q_F)
    # |P_C y_l y'_l| <= num_l: |C^{ll}| = |P_C y_l y'_l + m_l (n_a y_l^2 + n_b y'_l^2)| <= d_l
    num = [
        d[f] + C.M_LEPTONS[f] * (n_a * T[f] ** 2 + n_b * Tp[f] ** 2) if math.isfinite(d[f]) else math.inf
        for f in range(3)
    ]
    bs = [None, None, None]
    for (a, b, comp), cab in zip(PAIRS, c):
        ma, mb = C.M_LEPTONS[a], C.M_LEPTONS[b]
        bs[comp] = _pair_bound(
            P_C, P_l, R, n_a, n_b, float(cab), ma, mb, T[a], T[b], Tp[a], Tp[b], num_a=num[a], num_b=num[b]
        )
    F = _vertex_max(jnp.stack(bs, axis=-1), omega)
    if math.isfinite(mnu):
        lmax = jnp.linalg.eigvalsh(omega)[-1]
        F = jnp.minimum(F, lmax * (lpm * mnu / 2.0) ** 2)
    return F


def _achievable(M, m1, m2, th, omega, *, T, Tp, c, g_D, Q_F, d=None):
    """Leading-order value of l^T Omega l on the cancellation manifolds (constrained pairs) or at the box corners
    (free pairs), one pair at a time: where to start the inner solver."""
    P_C, P_l, R, _, n_a, n_b = _cell_ingredients(M, m1, m2, th, th, g_D, Q_F)
    best = jnp.zeros_like(M)
    for (a, b, comp), cab in zip(PAIRS, c):
        ma, mb = C.M_LEPTONS[a], C.M_LEPTONS[b]
        if not math.isfinite(cab):
            lam = P_l * (T[a] * Tp[b] + T[b] * Tp[a])
        else:
            # unprimed branch: y'_b = -n_a m_b y_b / P_C must fit in the box (else y_b shrinks)
            yb = jnp.minimum(T[b], Tp[b] * P_C / jnp.maximum(n_a * mb, 1e-300))
            l1 = R * (mb - ma) * n_a * T[a] * yb
            ypb = jnp.minimum(Tp[b], T[b] * P_C / jnp.maximum(n_b * mb, 1e-300))
            l2 = R * (mb - ma) * n_b * Tp[a] * ypb
            lam = jnp.maximum(l1, l2)
        best = jnp.maximum(best, lam**2 * omega[comp, comp])
    return best


@dataclasses.dataclass
class Certificate:
    """Upper bound of sup_phi l^T Omega l: a coarse grid of nodes in (ln M_F, ln m_S1, ln m_S2) with first-order
    margins (half the largest change of F to a neighbouring node, summed over the axes), theta in cells that
    are bounded exactly (every ingredient is monotone in theta on a cell).

    Refinement is best first: the ``refine`` coarse nodes with the largest bound are covered again by a finer grid
    (``factor`` nodes per axis and per theta cell, over the node's nearest-node region), and then, while the
    largest bound of all regions is a node whose margin factor exceeds ``margin_tol``, that node's region is
    covered again the same way (at most ``extra`` more times, ``max_level`` nested levels). The bound is the
    largest F x margin over every node whose region was not covered again."""

    priors: tuple
    settings: dict
    axes: tuple
    refine: int = 64
    factor: int = 6
    extra: int = 4000
    margin_tol: float = 1.1
    max_level: int = 6

    def _eval(self, omega, axM, ax1, ax2, edges):
        M, m1, m2, th0 = np.meshgrid(axM, ax1, ax2, edges[:-1], indexing="ij")
        th1 = np.meshgrid(axM, ax1, ax2, edges[1:], indexing="ij")[3]
        return np.asarray(_bound_cells_jit(M, m1, m2, th0, th1, omega, **self.settings))

    @staticmethod
    def _margins(F):
        """(ln F, ln of the first-order upper value F + sum_axes max|Delta F| / 2 relative to F) per node."""
        add = np.zeros_like(F)
        for ax in range(3):
            if F.shape[ax] < 2:
                continue
            d = np.abs(np.diff(F, axis=ax))
            pad_lo = [(0, 0)] * F.ndim
            pad_hi = [(0, 0)] * F.ndim
            pad_lo[ax], pad_hi[ax] = (1, 0), (0, 1)
            add += 0.5 * np.maximum(np.pad(d, pad_lo), np.pad(d, pad_hi))
        logF = np.log(np.maximum(F, 1e-300))
        return logF, np.log(np.maximum(F + add, 1e-300)) - logF

    def _region(self, grid, i):
        """The finer grid over the nearest-node region of node ``i`` of ``grid`` = (axM, ax1, ax2, theta edges):
        half-way to each neighbouring node (in ln mass), the node's theta cell split into ``factor`` cells."""
        sub = []
        for k, ax in enumerate(grid[:3]):
            if len(ax) < 2:
                sub.append(ax[[0]])
                continue
            c0 = math.log(ax[i[k]])
            a = 0.5 * (math.log(ax[i[k] - 1]) + c0) if i[k] > 0 else c0
            b = 0.5 * (math.log(ax[i[k] + 1]) + c0) if i[k] < len(ax) - 1 else c0
            sub.append(np.exp(np.linspace(a, b, self.factor)))
        e0, e1 = grid[3][i[3]], grid[3][i[3] + 1]
        sub.append(np.linspace(e0, e1, self.factor + 1) if e1 > e0 else np.array([e0, e1]))
        return tuple(sub)

    @staticmethod
    def _node(grid, i):
        node = {name: float(grid[k][i[k]]) for k, name in enumerate(("M_F", "m_S1", "m_S2"))}
        node["theta_cell"] = [float(grid[3][i[3]]), float(grid[3][i[3] + 1])]
        return node

    def bound(self, omega) -> tuple[float, dict]:
        """(upper bound of sup_phi l^T Omega l, details: the node, its margin factor, its refinement level, the
        number of regions covered again, the coarse grid maximum)."""
        omega = np.asarray(omega)
        coarse = tuple(ax for _, ax in self.axes)
        F = self._eval(omega, *coarse)
        logF, margin = self._margins(F)
        upper = logF + margin
        order = np.argsort(upper.ravel())[::-1]
        # every node of every finer grid is kept, lazily: the heap holds each region's largest node not yet
        # covered again, as (-ln upper, region, position in that region's descending order)
        heap: list = []
        regions: list = []

        def cover(grid, i, level):
            g = self._region(grid, i)
            lf, mg = self._margins(self._eval(omega, *g))
            up = (lf + mg).ravel()
            desc = np.argsort(up)[::-1]
            regions.append((g, lf.shape, level, desc, up[desc], mg.ravel()[desc]))
            heapq.heappush(heap, (-float(up[desc[0]]), len(regions) - 1, 0))

        n_coarse = min(self.refine, order.size)
        for flat in order[:n_coarse]:
            cover(coarse, np.unravel_index(int(flat), F.shape), 1)
        covered = n_coarse
        while True:
            spent = covered >= self.refine + self.extra
            rest = float(upper.ravel()[order[n_coarse]]) if n_coarse < order.size else -np.inf
            if not heap or rest >= -heap[0][0]:  # a coarse node not covered yet is the largest
                i = np.unravel_index(int(order[n_coarse]), F.shape)
                if margin[i] <= math.log(self.margin_tol) or spent:
                    best_up, info = rest, {"node": self._node(coarse, i), "margin_factor": float(np.exp(margin[i]))}
                    info["level"] = 0
                    break
                cover(coarse, i, 1)
                n_coarse += 1
                covered += 1
                continue
            neg, r, pos = heap[0]
            g, shape, level, desc, ups, mgs = regions[r]
            j = np.unravel_index(int(desc[pos]), shape)
            if mgs[pos] <= math.log(self.margin_tol) or level >= self.max_level or spent:
                best_up, info = (
                    -neg,
                    {"node": self._node(g, j), "margin_factor": float(np.exp(mgs[pos])), "level": level},
                )
                break
            heapq.heapreplace(heap, (-float(ups[pos + 1]), r, pos + 1)) if pos + 1 < len(ups) else heapq.heappop(heap)
            cover(g, j, level + 1)
            covered += 1
        info["refined"] = bool(info["level"])
        info["regions_covered"] = covered
        info["grid_max"] = float(F.max())
        return float(np.exp(best_up)), info

    def seed_nodes(self, omega, n: int) -> list[dict]:
        """The ``n`` nodes (masses, theta at cell centres of a fine theta grid) with the largest leading-order
        achievable value (:func:`_achievable`)."""
        (_, axM), (_, ax1), (_, ax2), (_, edges) = self.axes
        th = np.linspace(edges[0], edges[-1], 4 * (len(edges) - 1) + 1) if edges[-1] > edges[0] else edges[:1]
        M, m1, m2, t = np.meshgrid(axM, ax1, ax2, th, indexing="ij")
        s = {k: v for k, v in self.settings.items() if k != "mnu"}
        E = np.asarray(_achievable_jit(M, m1, m2, t, np.asarray(omega), **s))
        out = []
        for flat in np.argsort(E.ravel())[::-1][:n]:
            i = np.unravel_index(int(flat), E.shape)
            out.append({"M_F": float(M[i]), "m_S1": float(m1[i]), "m_S2": float(m2[i]), "theta": float(t[i])})
        return out


def _static_settings(fn):
    def wrapped(*arrays, **kw):
        key = tuple(sorted((k, tuple(np.ravel(v).tolist()) if np.ndim(v) else v) for k, v in kw.items()))
        f = _JIT_CACHE.get((fn, key))
        if f is None:
            f = jax.jit(lambda *a: fn(*a, **kw))
            _JIT_CACHE[(fn, key)] = f
        return f(*[jnp.asarray(a) for a in arrays])

    return wrapped


_JIT_CACHE: dict = {}
_bound_cells_jit = _static_settings(_bound_cells)
_achievable_jit = _static_settings(_achievable)


def _mass_axis(p: Prior, n: int, offset: bool = False):
    lo, hi = _range(p)
    if p.is_fixed or lo == hi:
        return np.array([lo])
    t = (np.arange(n) + 0.5) / n if offset else np.linspace(0.0, 1.0, n)
    return np.exp(math.log(lo) + t * (math.log(hi) - math.log(lo)))


def certificate(
    priors,
    bounds,
    *,
    Q_F=1.0,
    grid=(16, 16, 16, 16),
    refine=64,
    factor=10,
    extra=4000,
    margin_tol=1.1,
    g_D_max: float | None = None,
) -> Certificate:
    """The certificate for the term bounds of :func:`dark_bounds` on a (M_F, m_S1, m_S2, theta) grid.

    With equal m_S1 and m_S2 boxes the m_S2 nodes sit at cell centres and the m_S1 nodes at cell edges of an
    even number of cells, so no node has m_S1 = m_S2 (the bound vanishes there and first-order margins would be
    meaningless)."""
    pM, p1, p2, pt = (_prior(priors, n) for n in ("M_F", "m_S1", "m_S2", "theta"))
    n1 = grid[1] + (grid[1] % 2)
    same = not p1.is_fixed and not p2.is_fixed and (p1.low, p1.high) == (p2.low, p2.high)
    axM = _mass_axis(pM, grid[0])
    ax1 = _mass_axis(p1, n1 + 1 if same else grid[1])
    ax2 = _mass_axis(p2, n1 if same else grid[2], offset=same)
    t_lo, t_hi = _range(pt)
    edges = np.array([t_lo, t_lo]) if t_lo == t_hi else np.linspace(t_lo, t_hi, grid[3] + 1)
    if g_D_max is None:
        g = _prior(priors, "g_D")
        g_D_max = _abs_max(g) if g is not None else math.sqrt(4.0 * math.pi * _abs_max(_prior(priors, "alpha_D")))
    settings = dict(
        T=tuple(_abs_max(_prior(priors, n)) for n in _YUK),
        Tp=tuple(_abs_max(_prior(priors, n)) for n in _YUKP),
        c=tuple(float(x) for x in bounds["c"]),
        d=tuple(float(x) for x in bounds.get("d", (math.inf,) * 3)),
        mnu=float(bounds["mnu_sum_GeV"]),
        g_D=float(g_D_max),
        Q_F=float(Q_F),
    )
    axes = (("M_F", axM), ("m_S1", ax1), ("m_S2", ax2), ("theta", edges))
    return Certificate(tuple(priors), settings, axes, refine=refine, factor=factor, extra=extra, margin_tol=margin_tol)


# ------------------------------------------------------------------------------------------- epsilon_max(m)
def epsilon_max(kin_spec: TermSpec, priors, masses, *, cl=0.9, Q_F=1.0, br_inv=1.0, n_eps=1500):
    """Largest epsilon in the prior box allowed by every kinetic-mixing term at each mass (0: none allowed).

    ``kin_spec``: the kinetic-mixing terms only (:func:`sub_spec`). Dense log grid in epsilon, then bisection
    between the last allowed node and the excluded node above it.
    """
    return epsilon_max_fn(kin_spec, priors, cl=cl, Q_F=Q_F, br_inv=br_inv, n_eps=n_eps)(masses)


def epsilon_max_fn(kin_spec: TermSpec, priors, *, cl=0.9, Q_F=1.0, br_inv=1.0, n_eps=1500):
    """:func:`epsilon_max` as a function of the masses (compiled once)."""
    ep = _prior(priors, "epsilon")
    lo, hi = _range(ep)
    base = _reference_values(priors)
    base.update(_dark_point(priors, 1e-12))
    base = _as_jnp(base)
    tk = jnp.asarray(cl_thresholds(kin_spec, cl)) if kin_spec.ids else jnp.zeros((0,))

    @jax.jit
    def ok(eps, m):
        def one(e, mm):
            v = dict(base)
            v["epsilon"], v["m_Aprime"] = e, mm
            _, lnl = _sub_lnl(v, kin_spec, Q_F=Q_F, br_inv=br_inv)
            return jnp.all(lnl >= tk)

        return jax.vmap(one)(eps, m)

    eps_grid = np.geomspace(lo, hi, n_eps) if hi > lo else np.array([lo])

    def run(masses):
        masses = np.asarray(masses, float)
        out = np.zeros(len(masses))
        for j, m in enumerate(masses):
            out[j] = _one_mass(m)
        return out

    def _one_mass(m):
        allowed = np.asarray(ok(jnp.asarray(eps_grid), jnp.full(len(eps_grid), m)))
        if not allowed.any():
            return 0.0
        top = int(np.flatnonzero(allowed)[-1])
        if top == len(eps_grid) - 1:
            return float(eps_grid[-1])
        a, b = math.log(eps_grid[top]), math.log(eps_grid[top + 1])
        for _ in range(8):  # 16 points per round: the bracket shrinks by 17 each time
            t = np.linspace(a, b, 18)[1:-1]
            okk = np.asarray(ok(jnp.asarray(np.exp(t)), jnp.full(len(t), m)))
            last = int(np.flatnonzero(okk)[-1]) if okk.any() else -1
            a, b = (t[last] if last >= 0 else a), (t[last + 1] if last + 1 < len(t) else b)
        return math.exp(a)

    return run


# ------------------------------------------------------------------------------------------- the inner solver
def _cancel(P_C, n_a, n_b, ma, mb, ya, yb, Tpa, Tpb, rounds=12):
    """(y_a, y_b, y'_a, y'_b) with C^{ab} = C^{ba} = 0 for given y_a, y_b (the unprimed branch): solves
    y'_b (P_C y_a + n_b m_a y'_a) = -n_a m_b y_a y_b and y'_a (P_C y_b + n_b m_b y'_b) = -n_a m_a y_a y_b by
    fixed-point iteration from the leading order; shrinks y_a, y_b while y' leaves the box. None if it fails."""
    if Tpa == 0 and Tpb == 0:
        return None
    for _ in range(rounds):
        ypa, ypb = -n_a * ma * ya / P_C, -n_a * mb * yb / P_C
        for _ in range(30):
            da = P_C * yb + n_b * mb * ypb
            db = P_C * ya + n_b * ma * ypa
            if da == 0 or db == 0:
                return None
            ypa, ypb = -n_a * ma * ya * yb / da, -n_a * mb * ya * yb / db
            # a coupling fixed at zero stays zero (its equation then cannot be solved: scaled later)
            ypa, ypb = (ypa if Tpa else 0.0), (ypb if Tpb else 0.0)
        if not (math.isfinite(ypa) and math.isfinite(ypb)):
            return None
        fa, fb = (abs(ypa) / Tpa if Tpa else 0.0), (abs(ypb) / Tpb if Tpb else 0.0)
        if fa <= 1.0 and fb <= 1.0:
            return ya, yb, ypa, ypb
        f = 0.999 / max(fa, fb)
        ya, yb = ya * math.sqrt(f), yb * math.sqrt(f)
    return None


def structured_starts(priors, bounds, cert: Certificate, omega, *, Q_F=1.0, n_nodes=8) -> list[dict]:
    """Dark-sector starting points from the structure of the problem (physical values of the free parameters).

    * cancellation manifolds: at the ``n_nodes`` nodes with the largest leading-order value, for every
      constrained pair (a, b), the unprimed branch (|y_a|, |y_b| at the box edge, y'_a, y'_b solved from
      C^{ab} = C^{ba} = 0, see :func:`_cancel`) and the primed branch (y <-> y');
    * unconstrained pairs: y_a and y'_b at the box corners (and y_b = -y_a, y'_a = y'_b, adding up);
    * the m_nu-optimal orientation: y ⟂ y' spanning the plane orthogonal to Omega's top eigenvector.
    """
    g = _prior(priors, "g_D")
    T = [_abs_max(_prior(priors, n)) for n in _YUK]
    Tp = [_abs_max(_prior(priors, n)) for n in _YUKP]
    starts = []
    free_yuk = [n for n in _YUK + _YUKP if _prior(priors, n) is not None and not _prior(priors, n).is_fixed]
    free_pair = [
        (a, b, comp, cab)
        for (a, b, comp), cab in zip(PAIRS, bounds["c"])
        if all(n in free_yuk for n in (_YUK[a], _YUKP[b])) or all(n in free_yuk for n in (_YUK[b], _YUKP[a]))
    ]
    for node in cert.seed_nodes(omega, max(1, n_nodes)):
        th = node["theta"]
        M_, m1_, m2_ = node["M_F"], node["m_S1"], node["m_S2"]
        d_IF = float(loops.gim_difference(loops.I_F, M_, m1_, m2_))
        L1, L2 = float(loops.scaled(loops.L_F, M_, m1_)), float(loops.scaled(loops.L_F, M_, m2_))
        cth, sth = math.cos(th), math.sin(th)
        P_C = C.E_CHARGE / (32.0 * math.pi**2) * M_ * (-sth * cth) * d_IF
        k = C.E_CHARGE / (64.0 * math.pi**2)
        n_a, n_b = k * (cth**2 * L1 + sth**2 * L2), k * (sth**2 * L1 + cth**2 * L2)
        base = dict(node)
        if g is not None and not g.is_fixed:
            base["g_D"] = float(g.high)
        for a, b, _comp, cab in free_pair:
            ma, mb = C.M_LEPTONS[a], C.M_LEPTONS[b]
            for sa, sb in ((1, 1), (1, -1)):
                s = {n: 0.0 for n in free_yuk}
                if math.isfinite(cab):
                    s.update({_YUK[a]: sa * T[a], _YUKP[b]: sb * Tp[b]})  # scaled into the region later
                    starts.append({**base, **s})
                    s = {n: 0.0 for n in free_yuk}
                if math.isfinite(cab) and P_C != 0:
                    sol = _cancel(P_C, n_a, n_b, ma, mb, sa * T[a], sb * T[b], Tp[a], Tp[b])
                    if sol is not None:
                        s.update(dict(zip((_YUK[a], _YUK[b], _YUKP[a], _YUKP[b]), sol)))
                        starts.append({**base, **s})
                    # primed branch: the same equations with y <-> y' and n_a <-> n_b
                    sol = _cancel(P_C, n_b, n_a, ma, mb, sa * Tp[a], sb * Tp[b], T[a], T[b])
                    if sol is not None:
                        s = {n: 0.0 for n in free_yuk}
                        s.update(dict(zip((_YUKP[a], _YUKP[b], _YUK[a], _YUK[b]), sol)))
                        starts.append({**base, **s})
                else:
                    s.update({_YUK[a]: sa * T[a], _YUKP[b]: sb * Tp[b]})
                    starts.append({**base, **s})
                    s = {n: 0.0 for n in free_yuk}
                    s.update({_YUK[a]: sa * T[a], _YUKP[b]: sb * Tp[b], _YUK[b]: -sb * T[b], _YUKP[a]: sa * Tp[a]})
                    starts.append({**base, **s})
        if math.isfinite(bounds["mnu_sum_GeV"]):
            _, v = np.linalg.eigh(np.asarray(omega))
            nvec = v[:, -1]
            e1 = np.cross(nvec, [1.0, 0.0, 0.0] if abs(nvec[0]) < 0.9 else [0.0, 1.0, 0.0])
            e1 /= np.linalg.norm(e1)
            e2 = np.cross(nvec, e1)
            K_m = M_ * sth * cth / (16 * math.pi**2) * float(loops.gim_difference_G(M_, m1_, m2_))
            if K_m != 0:
                r = math.sqrt(0.999 * bounds["mnu_sum_GeV"] / (2.0 * abs(K_m)))
                s = {n_: 0.0 for n_ in free_yuk}
                for j in range(3):
                    s[_YUK[j]] = r * e1[j]
                    s[_YUKP[j]] = r * e2[j]
                starts.append({**base, **{kk: vv for kk, vv in s.items() if kk in free_yuk}})
    out = []
    for s in starts:
        clean = {}
        for kk, v in s.items():
            p = _prior(priors, kk)
            if p is None or p.is_fixed:
                continue
            clean[kk] = float(np.clip(v, p.low, p.high))
        out.append(clean)
    return out


def _latent_box(priors, exclude):
    free = [p for p in priors if not p.is_fixed and p.name not in exclude]
    lo = np.array([p.latent_bounds()[0] for p in free])
    hi = np.array([p.latent_bounds()[1] for p in free])
    return free, lo, hi


def _z_of(values, free, lo, hi, default_z):
    z = np.array(default_z, dtype=float)
    for i, p in enumerate(free):
        if p.name in values:
            v = values[p.name]
            if p.type == "signed_log_uniform" and v == 0.0:
                v = 0.0
            u = float(p.to_latent(np.float64(v)))
            t = np.clip((u - lo[i]) / (hi[i] - lo[i]), 1e-9, 1 - 1e-9)
            z[i] = math.log(t / (1 - t))
    return z


def _values_of_z(z, free, lo, hi, fixed):
    u = lo + (hi - lo) * jax.nn.sigmoid(z)
    vals = dict(fixed)
    for i, p in enumerate(free):
        vals[p.name] = p.to_physical(u[i])
    return vals


def inner_solve(
    dark_spec: TermSpec,
    priors,
    omega_ref,
    starts: Sequence[dict],
    *,
    cl=0.9,
    n_random=16,
    seed=0,
    Q_F=1.0,
    br_inv=1.0,
    outer_iters=12,
    inner_steps=120,
    batch=16,
    progress=None,
) -> list[dict]:
    """Maximise ln(l^T Omega_ref l) over the dark sector subject to every term of ``dark_spec`` (the dark-sector
    terms, :func:`sub_spec`) inside its CL region (augmented Lagrangian; starts batched, one compiled solver).
    Returns the final physical points of every start."""
    free, lo, hi = _latent_box(priors, _KINETIC_PARAMS)
    fixed = {p.name: float(p.value) for p in priors if p.is_fixed and p.name not in _KINETIC_PARAMS}
    ref = _reference_values(priors)
    fixed["epsilon"], fixed["m_Aprime"] = ref["epsilon"], ref["m_Aprime"]
    rng = np.random.default_rng(seed + 7)
    z0 = np.zeros(len(free))
    zs = [_z_of(s, free, lo, hi, z0) for s in starts]
    spread = np.array([0.3 if p.type == "signed_log_uniform" else 1.5 for p in free])
    zs += [rng.normal(size=len(free)) * spread for _ in range(n_random)]
    zs = np.array(zs)
    td = jnp.asarray(cl_thresholds(dark_spec, cl)) if dark_spec.ids else jnp.zeros((0,))
    om = jnp.asarray(omega_ref)
    fixed_j = _as_jnp(fixed)

    def objective(z, _th):
        obs, _ = _sub_lnl(_values_of_z(z, free, lo, hi, fixed_j), dark_spec, Q_F=Q_F, br_inv=br_inv)
        lv = l_vector(obs["lambda_dark_GeV"])
        return jnp.log(lv @ om @ lv + 1e-300)

    def constraints(z, _th):
        _, lnl = _sub_lnl(_values_of_z(z, free, lo, hi, fixed_j), dark_spec, Q_F=Q_F, br_inv=br_inv)
        return td - lnl if dark_spec.ids else jnp.zeros((1,)) - 1.0

    opts = dict(
        method="augmented_lagrangian",
        outer_iters=outer_iters,
        inner_steps=inner_steps,
        inner="lbfgs",
        learning_rate=0.02,
        mu0=10.0,
        mu_growth=10.0,
        tol=1e-7,
        gtol=1e-9,
        rtol=1e-9,
    )
    n = len(zs)
    pad = (-n) % batch
    zs_p = np.concatenate([zs, np.repeat(zs[-1:], pad, axis=0)]) if pad else zs
    points = []
    for k in range(0, len(zs_p), batch):
        chunk = jnp.asarray(zs_p[k : k + batch])[None]  # (1, batch, d)
        z, *_ = _solve_constrained(objective, constraints, chunk, None, lambda q: q, **opts)
        for j in range(chunk.shape[1]):
            if k + j >= n:
                break
            vals = _values_of_z(jnp.asarray(z[0, j]), free, lo, hi, fixed_j)
            points.append({kk: float(np.asarray(vv)) for kk, vv in vals.items()})
        if progress is not None:
            progress(min(k + batch, n), n)
    return points


def evaluate_candidates(spec, points, masses, eps_max, non_direct_idx, thr, *, Q_F=1.0, br_inv=1.0, tol=1e-9):
    """Per mass: each candidate's equivalent moments at (epsilon_max(m), m) and whether every non-direct term is
    inside its CL region. Returns ``mu`` (n_exp, n_mass, n_cand) with NaN where infeasible."""
    names = sorted(k for k in points[0] if k not in _KINETIC_PARAMS)
    P = {k: jnp.asarray([p[k] for p in points]) for k in names}
    key = (id(spec), tuple(int(i) for i in non_direct_idx), float(Q_F), float(br_inv), float(tol))
    hit = _CAND_CACHE.get(key)
    if hit is None or hit[0] is not spec:
        hit = _CAND_CACHE[key] = (spec, _candidate_fn(spec, non_direct_idx, thr, Q_F=Q_F, br_inv=br_inv, tol=tol))
    at_mass = hit[1]
    out = np.full((len(CERTIFIED_EXPERIMENTS), len(masses), len(points)), np.nan)
    for j, (m, e) in enumerate(zip(masses, eps_max)):
        if e <= 0:
            continue
        out[:, j, :] = np.asarray(at_mass(P, jnp.asarray(e), jnp.asarray(float(m)))).T
    return out


_CAND_CACHE: dict = {}


def _candidate_fn(spec, non_direct_idx, thr, *, Q_F, br_inv, tol):
    nd = jnp.asarray(np.asarray(non_direct_idx, int))
    tn = jnp.asarray(np.asarray(thr)[np.asarray(non_direct_idx, int)])

    @jax.jit
    def at_mass(P, eps, m):
        def one(vals):
            v = dict(vals)
            v["epsilon"], v["m_Aprime"] = eps, m
            obs, lnl = point_observables(v, spec, Q_F=Q_F, br_inv=br_inv)
            ok = jnp.all(lnl[nd] >= tn - tol) if nd.size else jnp.asarray(True)
            mus = jnp.stack([obs[o] for _, o, _ in CERTIFIED_EXPERIMENTS])
            return jnp.where(ok, mus, jnp.nan)

        return jax.vmap(one)(P)

    return at_mass


# ------------------------------------------------------------------------------------------- the profile
@dataclasses.dataclass
class CertifiedProfile:
    """Result of :func:`certified_profile` (one row per mass)."""

    masses: np.ndarray
    epsilon_max: np.ndarray
    lower: dict  # experiment -> (n_mass,) best feasible mu_X (mu_B)
    upper: dict  # experiment -> (n_mass,) certified bound (mu_B)
    status: list  # "converged" | "not converged" | "excluded" per mass
    argmax: dict  # experiment -> list of parameter dicts (None where excluded)
    terms: dict  # role -> list of term ids
    unused_in_bound: list
    bounds: dict  # the constraint levels the certificate uses
    certificate_nodes: dict  # experiment -> list of node dicts per mass
    target_gap: float

    def gap(self, experiment: str) -> np.ndarray:
        return self.upper[experiment] / self.lower[experiment]

    def table(self) -> dict:
        """Columns of ``hierarchy.csv``."""
        out = {"m_Aprime_GeV": self.masses}
        for name, _, _ in CERTIFIED_EXPERIMENTS:
            out[f"{name}_lower_muB"] = self.lower[name]
            out[f"{name}_upper_muB"] = self.upper[name]
        out["status"] = list(self.status)
        return out


class CertifiedProfiler:
    """The stages of the certified profile, so a job can store each one (inner solve once, then per mass).

    ``prepare()`` classifies the terms and computes the bounds and the phi-grid certificate; ``inner(progress)``
    runs the inner solver once; ``rows(masses)`` evaluates epsilon_max, the lower and the upper value per mass.
    """

    def __init__(
        self,
        spec: TermSpec,
        priors: Sequence[Prior],
        *,
        cl=0.9,
        Q_F=1.0,
        br_inv=1.0,
        seed=0,
        n_random=8,
        grid=(16, 16, 16, 16),
        target_gap=2.0,
        outer_iters=10,
        inner_steps=100,
        batch=8,
        n_nodes=400,
        n_polish=16,
        n_scaled=256,
        n_reference=5,
    ):
        self.spec, self.priors = spec, tuple(priors)
        self.cl, self.Q_F, self.br_inv, self.seed = cl, Q_F, br_inv, seed
        self.n_random, self.grid, self.target_gap = n_random, tuple(grid), target_gap
        self.outer_iters, self.inner_steps, self.batch = outer_iters, inner_steps, batch
        self.n_nodes, self.n_polish, self.n_scaled = n_nodes, n_polish, n_scaled
        self._score_cache = {}
        self.n_reference, self._reference_bounds = int(n_reference), {}
        self.thr = np.asarray(cl_thresholds(spec, cl))
        self.roles = classify_terms(spec, self.priors, Q_F=Q_F, br_inv=br_inv)
        self.bounds = dark_bounds(spec, self.priors, self.roles["dark"], self.thr, Q_F=Q_F, br_inv=br_inv)
        original = self.priors
        self.priors = mass_restricted_priors(spec, self.priors, self.roles["dark"], self.thr, Q_F=Q_F, br_inv=br_inv)
        self.cert_priors = _widened_by_a_node(self.priors, original)
        n_s = len(spec.scalar_ids)
        self.dark_spec = sub_spec(spec, self.roles["dark"], kinetic=False)
        self.kin_spec = sub_spec(spec, [i for i in self.roles["kinetic"] if i < n_s], kinetic=True)
        self.cert = certificate(self.cert_priors, self.bounds, Q_F=Q_F, grid=self.grid)
        self.tables = solar_tables()
        self.non_direct = np.sort(np.concatenate([self.roles["kinetic"], self.roles["dark"]])).astype(int)

    def weights(self, experiment_key: str, m: float) -> np.ndarray:
        return np.asarray(solar_weights(jnp.asarray(float(m)), self.tables[experiment_key]))

    def omega(self, experiment_key: str, m: float):
        return omega_matrix(self.weights(experiment_key, m), self.tables["U"])

    def reference_masses(self) -> np.ndarray:
        """The m_A' at which the certificate is evaluated: ``n_reference`` log-spaced over the m_A' box (fixed by
        the box, not by the profile grid, so a resumed profile gives the same bounds)."""
        p = _prior(self.priors, "m_Aprime")
        lo, hi = _range(p)
        if lo == hi or self.n_reference < 2:
            return np.array([math.sqrt(lo * hi)])
        return np.exp(np.linspace(math.log(lo), math.log(hi), self.n_reference))

    def bound_at(self, experiment_key: str, m: float) -> tuple[float, dict]:
        """Upper bound of sup_phi l^T Omega(m) l from the certificate at the reference masses around m.

        Omega(m) = sum_k w_k(m) A_k with A_k = 1 - Re(u_k u_k^dagger) positive semi-definite (u_k the PMNS columns)
        and w_k >= 0, so Omega(m) <= rho Omega(m_ref) with rho = max_k w_k(m) / w_k(m_ref), and
        sup l^T Omega(m) l <= rho F(m_ref): exact at a reference mass, and within the spread of the weights' shape
        (about 1 % for Borexino over a decade of m_A') elsewhere. The smaller of the two neighbouring references."""
        refs = self.reference_masses()
        j = int(np.searchsorted(refs, m))
        w = self.weights(experiment_key, m)
        best = None
        for k in sorted({min(max(j - 1, 0), len(refs) - 1), min(j, len(refs) - 1)}):
            cached = self._reference_bounds.get((experiment_key, k))
            if cached is None:
                w_ref = self.weights(experiment_key, refs[k])
                F_ref, info = self.cert.bound(omega_matrix(w_ref, self.tables["U"]))
                cached = self._reference_bounds[(experiment_key, k)] = (w_ref, F_ref, info)
            w_ref, F_ref, info = cached
            rho = float(np.max(np.where(w_ref > 0, w / np.where(w_ref > 0, w_ref, 1.0), np.where(w > 0, np.inf, 0.0))))
            if best is None or rho * F_ref < best[0]:
                best = (rho * F_ref, {**info, "reference_m_Aprime_GeV": float(refs[k]), "weight_ratio": rho})
        if not math.isfinite(best[0]):  # a weight vanishes at the reference: the certificate at m itself
            F, info = self.cert.bound(self.omega(experiment_key, m))
            best = (F, {**info, "reference_m_Aprime_GeV": float(m), "weight_ratio": 1.0})
        return best

    def omega_ref(self):
        """Omega of Borexino at the geometric centre of the m_A' box (the inner solver's objective)."""
        p = _prior(self.priors, "m_Aprime")
        lo, hi = _range(p)
        return self.omega("borexino", math.sqrt(lo * hi))

    def rank_starts(self, starts: Sequence[dict], omega, *, feasible_only: bool = True, violation=False) -> np.ndarray:
        """Objective ln(l^T Omega l) of each start, -inf where a dark-sector term is outside its CL region
        (``feasible_only``); with ``violation``, minus the largest amount by which a term's ln L is below its
        CL threshold (0 when every term is inside)."""
        if not len(starts):
            return np.zeros(0)
        free, lo, hi = _latent_box(self.priors, _KINETIC_PARAMS)
        fixed = {p.name: float(p.value) for p in self.priors if p.is_fixed and p.name not in _KINETIC_PARAMS}
        ref = _reference_values(self.priors)
        fixed["epsilon"], fixed["m_Aprime"] = ref["epsilon"], ref["m_Aprime"]
        names = [p.name for p in free]
        P = {k: jnp.asarray([float(s.get(k, ref[k])) for s in starts]) for k in names}
        key = (bool(feasible_only), bool(violation), tuple(names))
        score = self._score_cache.get(key)
        if score is None:
            td = jnp.asarray(cl_thresholds(self.dark_spec, self.cl)) if self.dark_spec.ids else jnp.zeros((0,))
            fj = _as_jnp(fixed)

            @jax.jit
            def score(P, om):
                def one(v):
                    vals = dict(fj)
                    vals.update(v)
                    obs, lnl = _sub_lnl(vals, self.dark_spec, Q_F=self.Q_F, br_inv=self.br_inv)
                    lv = l_vector(obs["lambda_dark_GeV"])
                    if violation:
                        return -jnp.max(jnp.maximum(td - lnl, 0.0)) if self.dark_spec.ids else jnp.asarray(0.0)
                    ok = jnp.all(lnl >= td - 1e-9) | (not feasible_only)
                    return jnp.where(ok, jnp.log(lv @ om @ lv + 1e-300), -jnp.inf)

                return jax.vmap(one)(P)

            self._score_cache[key] = score
        return np.asarray(score(P, jnp.asarray(omega)))

    def scaled_to_feasible(self, starts: Sequence[dict], n_scales: int = 97) -> list[dict]:
        """Each start with its free Yukawas scaled by the largest s in {1, 10^(-1/8), ..., 1e-12} that makes every
        dark-sector term allowed (the couplings are bilinear in the Yukawas, so s -> 0 is always allowed)."""
        yuk = [n for n in _YUK + _YUKP if (p := _prior(self.priors, n)) is not None and not p.is_fixed]
        coarse = 10.0 ** (-np.arange(n_scales) / 8.0)

        def search(chunk, scales_of):
            rays = [{**st, **{n: st.get(n, 0.0) * sc for n in yuk}} for st, scs in zip(chunk, scales_of) for sc in scs]
            k = len(scales_of[0])
            return rays, self.rank_starts(rays, self.omega_ref()).reshape(len(chunk), k)

        out = []
        for k0 in range(0, len(starts), 64):
            chunk = starts[k0 : k0 + 64]
            rays, score = search(chunk, [coarse] * len(chunk))
            keep, fine = [], []
            viol = None
            for i in range(len(chunk)):
                ok = np.flatnonzero(np.isfinite(score[i]))
                if not ok.size:
                    # no size is inside (a two-sided measurement excluding zero signal): the least violating one,
                    # for the inner solver to repair
                    if viol is None:
                        viol = self.rank_starts(rays, self.omega_ref(), violation=True).reshape(len(chunk), -1)
                    self._repair.append(rays[i * len(coarse) + int(np.argmax(viol[i]))])
                if ok.size:
                    s_ok = coarse[int(ok[0])]
                    keep.append(i)
                    fine.append(s_ok * 10.0 ** (np.arange(17)[::-1] / 128.0))  # between s_ok and the next size up
            if not keep:
                continue
            rays2, score2 = search([chunk[i] for i in keep], fine)
            for j in range(len(keep)):
                ok = np.flatnonzero(np.isfinite(score2[j]))
                out.append(rays2[j * 17 + int(ok[0])])
        return out

    def starts(self) -> tuple[list[dict], list[dict]]:
        """(structured starts ranked best first, the ones the inner solver polishes). Starts outside the CL region
        of a dark term are scaled towards zero until they are inside (:meth:`scaled_to_feasible`)."""
        om = self.omega_ref()
        starts = structured_starts(self.priors, self.bounds, self.cert, om, Q_F=self.Q_F, n_nodes=self.n_nodes)
        sc = self.rank_starts(starts, om)
        bad = np.flatnonzero(~np.isfinite(sc))
        # the most promising infeasible ones (largest value at full size) are pulled back into the region
        vals = self.rank_starts([{**starts[i], **{}} for i in bad], om, feasible_only=False) if bad.size else []
        pick = bad[np.argsort(-np.asarray(vals))[: self.n_scaled]] if bad.size else []
        self._repair = []
        fixed_up = self.scaled_to_feasible([starts[i] for i in pick])
        pool = [starts[i] for i in np.flatnonzero(np.isfinite(sc))] + fixed_up
        if len(pool) < self.n_polish and self._repair:
            # too few starts inside every CL region: the least violating ones (ranked by value) go to the solver
            rv = self.rank_starts(self._repair, om, feasible_only=False)
            extra = [self._repair[i] for i in np.argsort(-rv)[: self.n_polish - len(pool)]]
        else:
            extra = []
        if not pool:
            return extra, extra
        psc = self.rank_starts(pool, om)
        order = np.argsort(-np.where(np.isfinite(psc), psc, -1e300))
        ranked = [pool[i] for i in order]
        return ranked + extra, (ranked[: self.n_polish] + extra)[: self.n_polish]

    def inner(self, progress=None) -> list[dict]:
        """Candidates: every structured start, and the inner solver's end points from the best ``n_polish`` of
        them and ``n_random`` random starts."""
        om = self.omega_ref()
        ranked, polish = self.starts()
        ends = inner_solve(
            self.dark_spec,
            self.priors,
            om,
            polish,
            cl=self.cl,
            n_random=self.n_random,
            seed=self.seed,
            Q_F=self.Q_F,
            br_inv=self.br_inv,
            outer_iters=self.outer_iters,
            inner_steps=self.inner_steps,
            batch=self.batch,
            progress=progress,
        )
        ref = {k: v for k, v in _reference_values(self.priors).items() if k not in _KINETIC_PARAMS}
        return [{k: v for k, v in e.items() if k not in _KINETIC_PARAMS} for e in ends] + [{**ref, **s} for s in ranked]

    def n_starts(self) -> int:
        return self.n_polish + self.n_random

    def rows(self, masses, candidates: Sequence[dict]) -> list[dict]:
        masses = np.asarray(masses, float)
        if getattr(self, "_eps_fn", None) is None:
            self._eps_fn = epsilon_max_fn(self.kin_spec, self.priors, cl=self.cl, Q_F=self.Q_F, br_inv=self.br_inv)
        eps = self._eps_fn(masses)
        mu = evaluate_candidates(
            self.spec, candidates, masses, eps, self.non_direct, self.thr, Q_F=self.Q_F, br_inv=self.br_inv
        )
        rows = []
        for j, m in enumerate(masses):
            row = {"m_Aprime_GeV": float(m), "epsilon_max": float(eps[j])}
            converged = True
            for e, (name, _, key) in enumerate(CERTIFIED_EXPERIMENTS):
                if eps[j] <= 0:
                    row[f"{name}_lower_muB"] = 0.0
                    row[f"{name}_upper_muB"] = 0.0
                    row[f"argmax_{name}"] = None
                    row[f"node_{name}"] = None
                    continue
                F, info = self.bound_at(key, m)
                upper = eps[j] * math.sqrt(F) / C.MU_BOHR
                vals = mu[e, j]
                if np.all(np.isnan(vals)):
                    lower, arg = 0.0, None
                else:
                    i = int(np.nanargmax(vals))
                    lower, arg = float(vals[i]), dict(candidates[i])
                row[f"{name}_lower_muB"] = lower
                row[f"{name}_upper_muB"] = max(upper, lower)
                row[f"argmax_{name}"] = arg
                row[f"node_{name}"] = info
                converged &= lower > 0 and upper <= self.target_gap * lower
            row["status"] = "excluded" if eps[j] <= 0 else ("converged" if converged else "not converged")
            rows.append(row)
        return rows

    def result(self, rows) -> CertifiedProfile:
        names = [n for n, _, _ in CERTIFIED_EXPERIMENTS]
        ids = self.spec.ids
        return CertifiedProfile(
            masses=np.array([r["m_Aprime_GeV"] for r in rows]),
            epsilon_max=np.array([r["epsilon_max"] for r in rows]),
            lower={n: np.array([r[f"{n}_lower_muB"] for r in rows]) for n in names},
            upper={n: np.array([r[f"{n}_upper_muB"] for r in rows]) for n in names},
            status=[r["status"] for r in rows],
            argmax={n: [r[f"argmax_{n}"] for r in rows] for n in names},
            terms={k: [ids[i] for i in v] for k, v in self.roles.items()},
            unused_in_bound=list(self.bounds["unused"]),
            bounds={
                "c_pairs_GeV-1": [float(x) for x in self.bounds["c"]],
                "d_flavours_GeV-1": [float(x) for x in self.bounds["d"]],
                "mnu_sum_GeV": self.bounds["mnu_sum_GeV"],
            },
            certificate_nodes={n: [r[f"node_{n}"] for r in rows] for n in names},
            target_gap=self.target_gap,
        )


def certified_profile(spec: TermSpec, priors: Sequence[Prior], masses, **kw) -> CertifiedProfile:
    """The certified profile in one call (see :class:`CertifiedProfiler` for the staged form and options)."""
    prof = CertifiedProfiler(spec, priors, **kw)
    cands = prof.inner()
    return prof.result(prof.rows(masses, cands))


__all__ = [
    "CERTIFIED_EXPERIMENTS",
    "CertifiedProfile",
    "CertifiedProfiler",
    "Certificate",
    "NotSeparable",
    "certificate",
    "certified_profile",
    "classify_terms",
    "dark_bounds",
    "epsilon_max",
    "evaluate_candidates",
    "inner_solve",
    "l_vector",
    "omega_matrix",
    "structured_starts",
]
