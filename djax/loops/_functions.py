"""Implementation of the Feynman-parameter loop functions (see ``djax.loops`` for the physics).

Every function is an integral ``F_Q(b) = ∫_0^1 Q(x) / (1 + b x) dx`` with a polynomial ``Q`` (degree <= 3
for the loop functions, ``x^n`` for :func:`J`); the loop functions are ``f(r) = F_P(r - 1)``.

Representation
--------------
* ``|ln r| < W = ln 16`` (``1/16 < r < 16``): ONE Chebyshev series per function in ``w = ln r``,
  ``g(w) = f(e^w) = Σ_{k<N} c_k T_k(w / W)``, evaluated by Clenshaw's recurrence (unrolled, no loops, no
  table look-ups: every point evaluates the same polynomial, so XLA fuses it into plain elementwise
  code; piecewise expansions would need a per-point gather of coefficients, which is slow on CPU and
  defeats fusion). The GIM differences also use the series of ``H(w) = e^w g(w) = r f(r)``.
* ``r >= 16`` or ``r <= 1/16``: the exact closed form ``F_Q(b) = log1p(b) A(1/b) + B(1/b)`` with
  polynomials ``A, B`` in ``1/b`` (from ``J_n(b) = (-1)^n [log1p(b) - Σ_{k=1}^n (-1)^{k+1} b^k/k] / b^{n+1}``)
  at ``b = r - 1 >= 15`` or, after ``x -> 1 - x``, ``f(r) = F_{P(1-x)}(1/r - 1) / r`` (``b = 1/r - 1 >= 15``;
  for ``P(1) = 0`` the subtracted form ``f(0) - F_sub(1/r - 1)``, no cancelling ``1/r`` terms in the
  derivatives); ``log1p(b) = |ln r|`` is shared with the series. At ``b >= 15`` the closed form and its
  first two derivatives are accurate to a few ulp (measured against mpmath: <= 4e-16).
  Both branches are computed for every point (XLA elementwise ``select``: a branch cannot be skipped
  per point under ``vmap``), joined by the double-``where`` trick so that values and derivatives are
  finite everywhere.

Error bound of the series
-------------------------
``g`` and ``H`` are analytic in the strip ``|Im w| < 2π`` (``f(r) = R_1(r) + R_2(r) ln r`` with rational
``R_1, R_2`` whose only pole, ``r = 1``, cancels on the principal sheet; ``r = 1`` on the other sheets is
``w = ±2πi``). On ``[-W, W]`` this gives Bernstein-ellipse convergence ``|c_k| <= C ρ^-k`` with
``ρ = (2π + sqrt(4π^2 + W^2)) / W = 4.75`` (measured ratio ~4.4). The coefficients ``c_0 ... c_63`` are
computed at import from the exact rational closed form with :mod:`decimal` arithmetic (node values at
>= 60 digits, verified with 20 more; 64-node Chebyshev-Gauss transform: aliasing ``|c_{128-k}| < 1e-50``;
the last computed coefficients are checked to be < 1e-25 of ``min|Φ|``, so the uncomputed ones are
negligible; see :func:`_chebyshev`). ``N`` is the smallest length whose dropped computed terms satisfy
the rigorous bounds (``|T_k| <= 1``, ``|T_k'| <= k^2``, ``|T_k''| <= k^2 (k^2 - 1)/3`` on ``[-1, 1]``)
``Σ_{k>=N} |c_k| <= 1e-19 min|Φ|`` (value) and ``Σ_{k>=N} k^2 (k^2 - 1)/3 |c_k| <= 1e-16 min|Φ|``
(second ``t``-derivative); ``N = 33 ... 39``. The bounds per table (value, first and second derivative)
are listed by :func:`series_error_bounds` (values ``<= 2.2e-22``, first derivatives ``<= 2.5e-19``,
second ``<= 1e-16``) and checked in ``tests/test_loops.py``. Float32 inputs use the same series cut at
``1e-9`` / ``1e-6`` (``N = 17 ... 22``). Rounding in Clenshaw's recurrence is a few ulp of ``Σ|c_k|``.

Derivatives
-----------
:func:`_cdd` computes the divided difference ``P[t_1, ..., t_m]`` of the Chebyshev series (``m = 1``:
the value) by a generalised Clenshaw recurrence (Leibniz rule ``(t v)[t_1..t_m] = t_1 v[t_1..t_m] +
v[t_2..t_m]`` applied to ``b_k = c_k + 2 t b_{k+1} - b_{k+2}``: ``m`` coupled recurrences, see
:func:`_chains`). It is a ``jax.custom_jvp``: ``∂P[t_1..t_m]/∂t_i = P[t_i, t_1, ..., t_m]`` (the node
repeated), computed together with the value in ONE fused pass by :func:`_cdd_vg` (``m`` more chains
linked to the primal ones), itself a ``custom_jvp`` whose tangent calls :func:`_cdd` with two more nodes,
so derivatives of every order are exact derivatives of the same polynomial. The chains are materialised
(``optimization_barrier``) so that XLA does not re-run them inside every consumer.

GIM differences
---------------
``D = φ(M, m1) - φ(M, m2)``, ``φ = f(M^2/m^2)/m^2 = h(r)/M^2``, ``h = r f``: when both ``r_k`` are in the
series range, the exact divided difference ``H[w1, w2] (w1 - w2)`` of the same series at any separation
with ``w1 - w2 = -2 log1p((m1 - m2)/m2)`` from the masses (at ``m1 == m2``: 0, gradient = derivative; one pass
of coupled chains gives ``H[w1, w2]``, ``H(w1)`` and ``H(w2)``, :func:`_dd_sets`); for
``|m1 - m2| <= 1e-2 min(m1, m2)`` in the closed-form range the divided difference of the closed form (``log1p`` of the ratio, synthetic
division of ``A, B``) times ``r1 - r2`` or ``1/r1 - 1/r2``; otherwise the plain difference of ``φ`` in
the form whose derivatives are accurate (:func:`_phi`), with ``lim r f(r)`` cancelled analytically when
both ``r >= 16`` (``h = c_inf - F_{P_R}(r - 1)``, ``P_R(x) = (P(x)/x)(1 - x)``). For ``G`` the large
part ``-ln r`` at ``r <= 1`` is split off exactly by ``G(w) = G(-w) - w``. Both differences have a
``custom_jvp`` at the level of the masses (:func:`_mass_jvp`): ``∂D/∂m_i = ±∂φ/∂m(M, m_i)`` from the
endpoints and ``∂D/∂M`` by forward mode through the accurate difference, all in the primal pass, so
reverse mode stores three numbers per point instead of transposing the branch logic.
"""

from __future__ import annotations

import decimal
import functools
import math
from collections.abc import Callable
from fractions import Fraction
from typing import NamedTuple

import jax
import jax.numpy as jnp

_W = math.log(16.0)  # Chebyshev series for |ln r| < _W; closed forms at b = r - 1 or 1/r - 1 >= 15
_B_SAFE = 15.0  # closed-form argument substituted where the series is used (double-where)
_J_LO = math.log(0.5)  # J_n: Chebyshev series in u = log1p(a) on [ln 1/2, _W), closed form elsewhere
_NODES = 64  # Chebyshev-Gauss nodes: coefficients c_0 ... c_63 are computed exactly
# truncation (float64 / float32 inputs): rigorous bounds of the dropped terms relative to min|Φ|, for
# the value (Σ |c_k|) and the second t-derivative (Σ k^2 (k^2 - 1)/3 |c_k|)
_TOL = {64: (1e-19, 1e-16), 32: (1e-9, 1e-6)}
_GUARD = 20  # extra decimal digits for the verification of the node values
_NEAR = 1e-2  # |m1 - m2| <= _NEAR min(m1, m2): divided-difference branch of the GIM differences
_U_SERIES = 1e-3  # log1p(u)/u by its Taylor series for |u| < _U_SERIES


# ----------------------------------------------------------------------------------------------------
# exact (rational) preprocessing of the numerator polynomials -- runs once at import, pure constants
# ----------------------------------------------------------------------------------------------------
def _pmul(p, q):
    out = [Fraction(0)] * (len(p) + len(q) - 1)
    for i, pi in enumerate(p):
        for j, qj in enumerate(q):
            out[i + j] += pi * qj
    return out


def _reflect(p):
    """Coefficients of P(1 - x) from those of P(x)."""
    out = [Fraction(0)]
    power = [Fraction(1)]  # (1 - x)^k
    for c in p:
        term = [c * t for t in power]
        out = [
            (out[i] if i < len(out) else 0) + (term[i] if i < len(term) else 0) for i in range(max(len(out), len(term)))
        ]
        power = _pmul(power, [Fraction(1), Fraction(-1)])
    return out


class _Closed(NamedTuple):
    """F_Q(b) = log1p(b) A(1/b) + B(1/b): exact rational coefficients and their floats (index = power)."""

    a_exact: tuple
    b_exact: tuple
    a: tuple
    b: tuple


@functools.cache
def _closed_coeffs(q: tuple) -> _Closed:
    deg = len(q) - 1
    a = [Fraction(0)] * (deg + 2)
    b = [Fraction(0)] * (deg + 2)
    for n, qn in enumerate(q):
        a[n + 1] += qn * (-1) ** n
        for k in range(1, n + 1):
            b[n + 1 - k] += qn * Fraction((-1) ** (n + k), k)
    return _Closed(tuple(a), tuple(b), tuple(float(c) for c in a), tuple(float(c) for c in b))


def _coeffs(q) -> _Closed:
    return _closed_coeffs(tuple(Fraction(c) for c in q))


# ----------------------------------------------------------------------------------------------------
# Chebyshev tables, computed exactly at import (decimal arithmetic; no mpmath)
# ----------------------------------------------------------------------------------------------------
class _Cheb:
    """Σ_k c_k T_k(t), t = (v - mid)/half on [lo, hi]; hashable by identity (a static custom_jvp argument).

    coef: {64: float64 coefficients, 32: the float32-length prefix}; bounds: rigorous truncation bounds
    (value, first and second t-derivative) relative to min|Φ| on the interval, for float64.
    """

    __slots__ = ("name", "coef", "lo", "hi", "mid", "half", "bounds", "min_abs")

    def __repr__(self):
        return f"_Cheb({self.name}, N={len(self.coef[64])}/{len(self.coef[32])})"


def _dec_pi():
    """π to the current decimal precision (recipe from the decimal module documentation)."""
    ctx = decimal.getcontext()
    ctx.prec += 4
    three = decimal.Decimal(3)
    lasts, t, s, n, na, d, da = 0, three, 3, 1, 0, 0, 24
    while s != lasts:
        lasts = s
        n, na = n + na, na + 8
        d, da = d + da, da + 32
        t = (t * n) / d
        s += t
    ctx.prec -= 4
    return +s


def _dec_cos(x):
    """cos(x) to the current decimal precision (Taylor series; |x| <= π here)."""
    ctx = decimal.getcontext()
    ctx.prec += 6
    i, lasts, s, fact, num, sign = 0, 0, decimal.Decimal(1), 1, decimal.Decimal(1), 1
    while s != lasts:
        lasts = s
        i += 2
        fact *= i * (i - 1)
        num *= x * x
        sign = -sign
        s += num / fact * sign
    ctx.prec -= 6
    return +s


@functools.cache
def _dec_nodes(lo: float, hi: float, prec: int):
    """Chebyshev-Gauss nodes t_j = cos(π (2j + 1)/(2 n)), w_j = mid + half t_j and e^(w_j) (decimal)."""
    D = decimal.Decimal
    with decimal.localcontext() as ctx:
        ctx.prec = prec
        pi = _dec_pi()
        mid, half = (D(lo) + D(hi)) / 2, (D(hi) - D(lo)) / 2
        ts = [_dec_cos(pi * (2 * j + 1) / (2 * _NODES)) for j in range(_NODES)]
        ws = [mid + half * t for t in ts]
        return ts, ws, [w.exp() for w in ws]


def _node_values(cl: _Closed, lo: float, hi: float, kind: str, prec: int):
    """Φ at the Chebyshev-Gauss nodes: g(w) = F_Q(e^w - 1) or H(w) = e^w g(w) (kind "g" / "h")."""
    D = decimal.Decimal
    ts, ws, rs = _dec_nodes(lo, hi, prec)
    with decimal.localcontext() as ctx:
        ctx.prec = prec
        dec = lambda f: D(f.numerator) / D(f.denominator)  # noqa: E731
        A = [dec(x) for x in cl.a_exact]
        B = [dec(x) for x in cl.b_exact]
        vals = []
        for w, r in zip(ws, rs):
            ib = 1 / (r - 1)
            pa, pb = D(0), D(0)
            for x in reversed(A):
                pa = pa * ib + x
            for x in reversed(B):
                pb = pb * ib + x
            v = w * pa + pb  # log1p(b) = w exactly
            vals.append(v * r if kind == "h" else v)
        return ts, vals


def _chebyshev(name: str, cl: _Closed, lo: float, hi: float, kind: str) -> _Cheb:
    """Exact Chebyshev coefficients of Φ on [lo, hi] and the truncation lengths / bounds."""
    D = decimal.Decimal
    # the closed form cancels like |b|^-(deg Q + 2) near b = 0 (nearest node: |b| ~ 0.016 (hi - lo)/2)
    bmin = min(
        abs(math.expm1(0.5 * (lo + hi) + 0.5 * (hi - lo) * math.cos(math.pi * (2 * j + 1) / (2 * _NODES))))
        for j in range(_NODES)
    )
    prec = max(60, 40 + int(len(cl.a_exact) * max(0.0, -math.log10(bmin))) + 1)
    ts, vals = _node_values(cl, lo, hi, kind, prec)
    _, check = _node_values(cl, lo, hi, kind, prec + _GUARD)
    tol = D(10) ** (-30)
    if any(abs(v - c) > tol * abs(c) for v, c in zip(vals, check)):
        raise AssertionError(f"Chebyshev table {name}: insufficient decimal precision")
    with decimal.localcontext() as ctx:
        ctx.prec = prec
        coef = [sum(vals) / _NODES]
        t_prev, t_cur = [D(1)] * _NODES, list(ts)
        for k in range(1, _NODES):
            if k > 1:
                t_prev, t_cur = t_cur, [2 * t * tc - tp for t, tc, tp in zip(ts, t_cur, t_prev)]
            coef.append(2 * sum(v * tc for v, tc in zip(vals, t_cur)) / _NODES)
        min_abs = min(abs(v) for v in vals)
        cabs = [abs(c) for c in coef]
        if max(cabs[-8:]) > D(10) ** (-25) * min_abs:
            raise AssertionError(f"Chebyshev table {name}: series not converged on 64 nodes")
        out = _Cheb()
        out.name, out.lo, out.hi = name, lo, hi
        out.mid, out.half = 0.5 * (lo + hi), 0.5 * (hi - lo)
        out.min_abs = float(min_abs)
        out.coef = {}
        # bounds of the dropped terms k >= n: |T_k| <= 1, |T_k'| <= k^2, |T_k''| <= k^2 (k^2 - 1)/3 on [-1, 1]
        tails = [(D(0), D(0), D(0))] * (_NODES + 1)
        for k in range(_NODES - 1, -1, -1):
            v, d1, d2 = tails[k + 1]
            tails[k] = (v + cabs[k], d1 + cabs[k] * k * k, d2 + cabs[k] * (k * k * (k * k - 1)) / 3)
        tails = [tuple(x / min_abs for x in t) for t in tails]
        for bits, (tol_v, tol_d2) in _TOL.items():
            n = next(n for n in range(2, _NODES - 8) if tails[n][0] <= D(tol_v) and tails[n][2] <= D(tol_d2))
            out.coef[bits] = tuple(float(c) for c in coef[:n])
        out.bounds = tuple(float(x) for x in tails[len(out.coef[64])])
    return out


# ----------------------------------------------------------------------------------------------------
# the series kernel: divided differences of a Chebyshev series, custom_jvp
# ----------------------------------------------------------------------------------------------------
def _add(x, y):
    return y if x is None else (x if y is None else x + y)


def _mul(x, y):
    return None if (x is None or y is None) else x * y


def _sub(x, y):
    return x if y is None else (-y if x is None else x - y)


def _chains(tab: _Cheb, nodes, links, barrier=True):
    """Coupled generalised Clenshaw recurrences (one fused pass); returns one value per chain.

    Chain ``s`` runs ``B_k = 2 z_s B_{k+1} + 2 L_{k+1} - B_{k+2}`` with ``L`` the chain ``links[s]``
    (``None``: the plain Clenshaw recurrence, ``L`` replaced by ``c_k``) and ends in
    ``c_0 + z B_1 - B_2`` (``links[s] is None``) or ``z B_1 + L_1 - B_2``: with the chains of the suffixes
    ``t_j..t_m`` linked in order this is the divided difference ``P[z_s, ...]`` (Leibniz rule for
    ``(t v)[t_1..t_m] = t_1 v[t_1..t_m] + v[t_2..t_m]``). Chains must link to chains listed after them.
    """
    x0 = nodes[0]
    c = tab.coef[64 if jnp.finfo(x0.dtype).bits > 32 else 32]
    n, m = len(c), len(nodes)
    two_z = [2.0 * z for z in nodes]
    b1 = [None] * m  # B_{k+1} per chain (None = exactly zero)
    b2 = [None] * m  # B_{k+2}
    for k in range(n - 1, 0, -1):
        new = []
        for s_ in range(m):
            v = _sub(_mul(two_z[s_], b1[s_]), b2[s_])
            v = _add(v, c[k] if links[s_] is None else _mul(2.0, b1[links[s_]]))
            new.append(v)
        b1, b2 = new, b1
    out = []
    for s_ in range(m):
        head = c[0] if links[s_] is None else b1[links[s_]]
        v = _sub(_add(head, _mul(nodes[s_], b1[s_])), b2[s_])
        out.append(jnp.zeros_like(x0) if v is None else jnp.zeros_like(x0) + v)
    # materialise the results: without the barrier XLA's fusion duplicates the (cheap, elementwise) chains
    # into every consumer, i.e. recomputes them several times in gradients (``barrier=False``: the caller has
    # one consumer of all the results, which then computes the shared chains once)
    return list(jax.lax.optimization_barrier(tuple(out))) if barrier else out


def _primal_links(m):
    return [j + 1 if j + 1 < m else None for j in range(m)]


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _cdd(tab: _Cheb, *ts):
    """Divided difference ``P[t_1, ..., t_m]`` of the Chebyshev series ``tab`` (``m = 1``: ``P(t_1)``).

    ``ts``: float arrays of one shape and dtype (float32 inputs use the float32 truncation). Derivatives
    by the custom JVP: ``∂/∂t_i P[t_1..t_m] = P[t_i, t_1, ..., t_m]``, computed with the value in one
    pass by :func:`_cdd_vg` (itself a custom JVP: every order is an exact derivative of the polynomial).
    """
    if len(ts) > len(tab.coef[64]):
        return jnp.zeros_like(ts[0])
    return _chains(tab, list(ts), _primal_links(len(ts)))[0]


def _cdd_vg_impl(tab: _Cheb, ts):
    m = len(ts)
    nodes = list(ts) + list(ts)  # primal suffix chains, then one chain per partial: P[t_i, t_1..t_m]
    links = _primal_links(m) + [0] * m
    res = _chains(tab, nodes, links)
    return res[0], tuple(res[m:])


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _cdd_vg(tab: _Cheb, *ts):
    """``(P[t_1..t_m], (P[t_1, t_1..t_m], ..., P[t_m, t_1..t_m]))``: value and partials in one pass."""
    return _cdd_vg_impl(tab, ts)


@_cdd.defjvp
def _cdd_jvp(tab, primals, tangents):
    out, partials = _cdd_vg(tab, *primals)
    tan = jnp.zeros_like(out)
    for d_i, dt_i in zip(partials, tangents):
        tan = tan + d_i * dt_i
    return out, tan


@_cdd_vg.defjvp
def _cdd_vg_jvp(tab, primals, tangents):
    out, partials = _cdd_vg(tab, *primals)
    d_out = jnp.zeros_like(out)
    for d_i, dt_i in zip(partials, tangents):
        d_out = d_out + d_i * dt_i
    d_partials = []
    for i, t_i in enumerate(primals):
        # ∂/∂t_j P[t_i, t_1..t_m] = (1 + δ_ij) P[t_j, t_i, t_1..t_m] (t_i occurs twice in its own partial)
        acc = jnp.zeros_like(out)
        for j, (t_j, dt_j) in enumerate(zip(primals, tangents)):
            term = _cdd(tab, t_j, t_i, *primals) * dt_j
            acc = acc + (2.0 * term if i == j else term)
        d_partials.append(acc)
    return (out, partials), (d_out, tuple(d_partials))


def _close_sets(sets):
    """The multisets of ``sets`` (sorted index tuples) plus every suffix their chains link to, longest first."""
    out = set()
    todo = [tuple(sorted(x)) for x in sets]
    while todo:
        x = todo.pop()
        if x not in out:
            out.add(x)
            if len(x) > 1:
                todo.append(x[1:])
    return tuple(sorted(out, key=lambda x: (-len(x), x)))


def _sets_chains(tab: _Cheb, sets, ts, barrier=True):
    """``P[t_S]`` for every multiset ``S`` of node indices in ``sets`` (closed under dropping the first index),
    all in one fused pass of :func:`_chains` (chain of ``S`` = node ``S[0]`` linked to the chain of ``S[1:]``)."""
    pos = {x: i for i, x in enumerate(sets)}
    nodes = [ts[x[0]] for x in sets]
    links = [pos[x[1:]] if len(x) > 1 else None for x in sets]
    return _chains(tab, nodes, links, barrier)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1, 2))
def _dd_sets(tab: _Cheb, wanted: tuple, fused: bool, *ts):
    """Divided differences ``P[t_S]`` of the series for the multisets ``S`` in ``wanted`` (tuples of indices
    into ``ts``), in one pass; the tangent rule ``∂P[t_S]/∂t_j = n_j(S) P[t_S, t_j]`` (``n_j``: multiplicity
    of ``j`` in ``S``) is one more pass of the same function, so every order is exact. ``fused``: the results
    are not materialised (for a caller whose one consumer uses all of them, e.g. a materialised GIM difference);
    the tangent rule always materialises its chains."""
    sets = _close_sets(wanted)
    res = _sets_chains(tab, sets, ts, barrier=not fused)
    pos = {x: i for i, x in enumerate(sets)}
    return tuple(res[pos[tuple(sorted(x))]] for x in wanted)


@_dd_sets.defjvp
def _dd_sets_jvp(tab, wanted, fused, primals, tangents):
    wanted = tuple(tuple(sorted(x)) for x in wanted)
    ext = tuple(tuple(sorted(x + (j,))) for x in wanted for j in sorted(set(x)))
    res = _dd_sets(tab, wanted + ext, False, *primals)
    vals, more = res[: len(wanted)], dict(zip(ext, res[len(wanted) :]))
    tans = []
    for x in wanted:
        acc = jnp.zeros_like(vals[0])
        for j in sorted(set(x)):
            acc = acc + (x.count(j) * more[tuple(sorted(x + (j,)))]) * tangents[j]
        tans.append(acc)
    return vals, tuple(tans)


def _series(tab: _Cheb, v, ok):
    """Φ(v) from the series where ``ok`` (argument masked elsewhere)."""
    t = jnp.where(ok, (v - tab.mid) * (1.0 / tab.half), 0.0)
    return _cdd(tab, t)


def _series_dd(tab: _Cheb, v1, v2, ok):
    """Φ[v1, v2] = (Φ(v1) - Φ(v2)) / (v1 - v2) from the series where ``ok`` (Φ'(v) at v1 = v2)."""
    t1 = jnp.where(ok, (v1 - tab.mid) * (1.0 / tab.half), 0.0)
    t2 = jnp.where(ok, (v2 - tab.mid) * (1.0 / tab.half), 0.0)
    return _cdd(tab, t1, t2) * (1.0 / tab.half)


# ----------------------------------------------------------------------------------------------------
# closed forms (short polynomials, plain autodiff)
# ----------------------------------------------------------------------------------------------------
def _as_float(x):
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x


def _horner(c, x):
    acc = jnp.zeros_like(x) + c[-1]
    for ck in c[-2::-1]:
        acc = acc * x + ck
    return acc


def _choose(values, sel):
    """values[sel] for a short tuple of Python floats, elementwise, without a gather (select chain)."""
    if all(v == values[0] for v in values):
        return values[0]
    out = values[-1]
    for i in range(len(values) - 2, -1, -1):
        out = jnp.where(sel == i, values[i], out)
    return out


def _short_cols(cols):
    n = max(len(c) for c in cols)
    return [tuple(float(c[k]) if k < len(c) else 0.0 for c in cols) for k in range(n)]


def _horner_sel(cols, sel, x):
    """Σ_k c_k[sel] x^k with a per-element choice `sel` among the (short) coefficient tuples `cols`."""
    rows = _short_cols(cols)
    acc = jnp.zeros_like(x) + _choose(rows[-1], sel)
    for row in rows[-2::-1]:
        acc = acc * x + _choose(row, sel)
    return acc


def _horner_dd_sel(cols, sel, x1, x2):
    """Divided difference (p(x1) - p(x2)) / (x1 - x2) of p = Σ c_k[sel] x^k, without subtraction."""
    rows = _short_cols(cols)
    u, d = jnp.zeros_like(x1) + _choose(rows[-1], sel), jnp.zeros_like(x1)
    for row in rows[-2::-1]:
        u, d = u * x1 + _choose(row, sel), u + x2 * d
    return d


def _log1p_ratio(u):
    """log1p(u) / u, smooth through u = 0."""
    small = jnp.abs(u) < _U_SERIES
    us = jnp.where(small, u, 0.0)
    ul = jnp.where(small, 1.0, u)
    series = _horner((1.0, -1 / 2, 1 / 3, -1 / 4, 1 / 5, -1 / 6), us)
    return jnp.where(small, series, jnp.log1p(ul) / ul)


def _closed(sets, sel, b, log1p_b):
    """F_Q(b) = log1p(b) A(1/b) + B(1/b) (``log1p(b)`` supplied; ``sel`` chooses Q among ``sets``)."""
    ib = 1.0 / b
    return log1p_b * _horner_sel(tuple(c.a for c in sets), sel, ib) + _horner_sel(tuple(c.b for c in sets), sel, ib)


def _closed_dd(sets, sel, b1, b2, db, log1p_b2):
    """Divided difference F_Q[b1, b2] of the closed form (db = b1 - b2 supplied exactly)."""
    ib1, ib2, i1b2 = 1.0 / b1, 1.0 / b2, 1.0 / (1.0 + b2)
    a_cols, b_cols = tuple(c.a for c in sets), tuple(c.b for c in sets)
    log_dd = _log1p_ratio(db * i1b2) * i1b2  # (log1p(b1) - log1p(b2)) / (b1 - b2)
    return log_dd * _horner_sel(a_cols, sel, ib1) - ib1 * ib2 * (
        log1p_b2 * _horner_dd_sel(a_cols, sel, ib1, ib2) + _horner_dd_sel(b_cols, sel, ib1, ib2)
    )


def _zeros_sel(x):
    return jnp.zeros(jnp.shape(x), dtype=jnp.int32)


# ----------------------------------------------------------------------------------------------------
# the loop functions
# ----------------------------------------------------------------------------------------------------
class _Spec(NamedTuple):
    """Everything needed for f(r) = ∫ P(x)/(1 - x + r x) dx."""

    name: str
    direct: _Closed  # F_P, used for r >= 16 (b = r - 1)
    flipped: _Closed  # F_{P(1-x)}: f = F(1/r - 1) / r and r f(r) = F(1/r - 1)
    rem: _Closed  # F_{P_R}: r f(r) = c_inf - F_{P_R}(r - 1)
    c_inf: float | None  # lim_{r->inf} r f(r); None means c(r) = ln r (P = 1)
    c_zero: float | None  # f(0) = ∫ P/(1-x) if P(1) = 0, else None
    sub: _Closed | None  # if P(1) = 0: f(r) = c_zero - F_sub(1/r - 1) for r < 1
    g: _Cheb  # series of f(e^w), |w| < _W
    h: _Cheb | None  # series of e^w f(e^w) (GIM differences; None for G)


def _make_spec(name, p, with_h=True) -> _Spec:
    p = [Fraction(c) for c in p]
    if p[0] == 0:
        p_over_x = p[1:]
        rem = _pmul(p_over_x, [Fraction(1), Fraction(-1)])
        c_inf = float(sum((c / (i + 1) for i, c in enumerate(p_over_x)), Fraction(0)))
    else:  # P = 1: r f(r) = ln r + F_1(r - 1), i.e. P_R = -1 and c(r) = ln r
        if p != [Fraction(1)]:
            raise ValueError("only P(0) = 0 or P = 1 are supported")
        rem, c_inf = [Fraction(-1)], None
    if sum(p) == 0:  # P(1) = 0: P = (1 - x) p1(x); f(r) = f(0) - r ∫ x p1(x) / (1 - x + r x)
        p1, carry = [], Fraction(0)  # synthetic division by (1 - x)
        for c in p[:-1]:
            carry += c
            p1.append(carry)
        c_zero = float(sum((c / (i + 1) for i, c in enumerate(p1)), Fraction(0)))
        sub = _coeffs(_reflect([Fraction(0)] + p1))
    else:
        c_zero, sub = None, None
    direct = _coeffs(p)
    g = _chebyshev(name, direct, -_W, _W, "g")
    h = _chebyshev(name + "·r", direct, -_W, _W, "h") if with_h else None
    return _Spec(name, direct, _coeffs(_reflect(p)), _coeffs(rem), c_inf, c_zero, sub, g, h)


def _value_parts(spec: _Spec, r, w):
    """f(r): the series in w = ln r, or the closed form at r >= 16 (F_P(r - 1)), r <= 1/16 (flipped)."""
    ok = jnp.abs(w) < _W
    series = _series(spec.g, w, ok)
    rc = jnp.where(ok, 16.0, r)
    big = rc >= 1.0
    irs = 1.0 / jnp.where(big, 1.0, rc)
    arg = jnp.where(big, rc - 1.0, (1.0 - rc) * irs)
    log_arg = jnp.where(ok, _W, jnp.abs(w))  # log1p(r - 1) = ln r, log1p(1/r - 1) = -ln r
    sel = jnp.where(big, 0, 1).astype(jnp.int32)
    if spec.sub is None:
        F = _closed((spec.direct, spec.flipped), sel, arg, log_arg)
        closed = jnp.where(big, F, F * irs)
    else:  # r <= 1/16: f(0) - F_sub avoids cancelling ~1/r terms in the derivatives
        F = _closed((spec.direct, spec.sub), sel, arg, log_arg)
        closed = jnp.where(big, F, spec.c_zero - F)
    return jnp.where(ok, series, closed)


def _materialise(x):
    """Identity that XLA must materialise: keeps it from fusing (i.e. recomputing) a whole loop-function
    evaluation into each of its consumers (e.g. once per element of a 3x3 flavour matrix); differentiable."""
    return jax.lax.optimization_barrier(x)


def _value(spec: _Spec, r):
    """f(r) with r = M_F^2/m_S^2 > 0: the series in w = ln r, or the closed form (r >= 16, r <= 1/16)."""
    r = _as_float(r)
    return _materialise(_value_parts(spec, r, jnp.log(r)))


def _one_mass(M, m):
    """r = M^2/m^2, w = ln r, a = r - 1, b = 1/r - 1 (accurate to rounding for r near 1), 1/M^2, 1/m^2."""
    iM, im = 1.0 / M, 1.0 / m  # reciprocals once: divisions are the expensive elementwise operations
    x = M * im
    r = x * x
    a = ((M - m) * im) * ((M + m) * im)
    b = ((m - M) * iM) * ((m + M) * iM)
    return r, jnp.log(r), a, b, iM * iM, im * im


def _mass_kinematics(M, m1, m2):
    """Both masses' (r, w, a, b), accurate differences r1 - r2, b1 - b2, w1 - w2, and the near flag."""
    r1, w1, a1, b1, iM2, im1 = _one_mass(M, m1)
    r2, w2, a2, b2, _, im2 = _one_mass(M, m2)
    dm, sm, iM = m1 - m2, m1 + m2, 1.0 / M
    u = dm / m2
    da = -r1 * u * (sm / m2)  # r1 - r2
    db = (dm * iM) * (sm * iM)  # b1 - b2 = 1/r1 - 1/r2
    dw = -2.0 * jnp.log1p(u)  # w1 - w2 = -2 ln(m1 / m2), exact in the masses
    near = jnp.abs(dm) <= _NEAR * jnp.minimum(m1, m2)
    return (r1, w1, a1, b1, im1), (r2, w2, a2, b2, im2), iM2, da, db, dw, near


def _near_closed_masks(near, ok, a1, a2, da, b1, b2, db, w2, large):
    """Masked arguments of the closed-form divided difference (near pairs outside the series range)."""
    cn = near & ~ok
    nl, ns = cn & large, cn & ~large
    x1 = jnp.where(nl, a1, jnp.where(ns, b1, _B_SAFE))
    x2 = jnp.where(nl, a2, jnp.where(ns, b2, _B_SAFE))
    dx = jnp.where(nl, da, jnp.where(ns, db, 0.0))
    log2 = jnp.where(cn, jnp.abs(w2), _W)  # log1p(a2) = w2, log1p(b2) = -w2
    return x1, x2, dx, log2


# ----------------------------------------------------------------------------------------------------
# public functions
# ----------------------------------------------------------------------------------------------------
@functools.cache
def _j_tables(n: int):
    cl = _coeffs([0] * n + [1])
    return cl, _chebyshev(f"J_{n}", cl, _J_LO, _W, "g")


@functools.partial(jax.jit, static_argnums=0)
def J(n: int, a):
    r"""Building block :math:`J_n(a) = \int_0^1 x^n / (1 + a x)\, dx` for :math:`a > -1`.

    Args:
      n: non-negative Python int (static).
      a: array, ``a = r - 1``.

    Returns:
      array of ``J_n(a)``; a Chebyshev series in ``log1p(a)`` for ``-1/2 <= a < 15``, the closed form
      ``(-1)^n [log1p(a) - Σ_{k=1}^n (-1)^{k+1} a^k / k] / a^{n+1}`` otherwise.
    """
    n = int(n)
    if n < 0:
        raise ValueError("J: n must be a non-negative integer")
    a = _as_float(a)
    cl, tab = _j_tables(n)
    u = jnp.log1p(a)
    ok = (u >= _J_LO) & (u < _W)
    series = _series(tab, u, ok)
    closed = _closed((cl,), _zeros_sel(a), jnp.where(ok, _B_SAFE, a), jnp.where(ok, _W, u))
    return _materialise(jnp.where(ok, series, closed))


@jax.jit
def I_F(r):
    r"""Chirally enhanced, fermion-radiated: :math:`I_F(r) = \int_0^1 x^2 / (1 - x + r x)\, dx`.

    Closed form ``[r^2 - 4 r + 3 + 2 ln r] / (2 (r - 1)^3)``; ``I_F(1) = 1/3``; ``r = M_F^2 / m_S^2``.
    """
    return _value(_SPEC_I_F, r)


@jax.jit
def I_S(r):
    r"""Chirally enhanced, scalar-radiated: :math:`I_S(r) = \int_0^1 x (1 - x) / (1 - x + r x)\, dx`.

    Closed form ``[r^2 - 1 - 2 r ln r] / (2 (r - 1)^3)``; ``I_S(1) = 1/6``; ``I_S(r) = I_S(1/r) / r``.
    """
    return _value(_SPEC_I_S, r)


@jax.jit
def K(r):
    r""":math:`K(r) = I_F + I_S = \int_0^1 x / (1 - x + r x)\, dx = [r - 1 - \ln r] / (r - 1)^2`; ``K(1) = 1/2``."""
    return _value(_SPEC_K, r)


@jax.jit
def L_F(r):
    r"""Non-enhanced, fermion-radiated: :math:`L_F(r) = \int_0^1 x^2 (1 - x) / (1 - x + r x)\, dx`; ``L_F(1) = 1/12``."""
    return _value(_SPEC_L_F, r)


@jax.jit
def L_S(r):
    r"""Non-enhanced, scalar-radiated: :math:`L_S(r) = \int_0^1 x (1 - x)^2 / (1 - x + r x)\, dx`; ``L_S(1) = 1/12``.

    Leveille's charged-scalar integral ``∫ x^2 (1 - x) / (x + r (1 - x)) dx`` after ``x -> 1 - x``;
    ``L_S(r) = L_F(1/r) / r``.
    """
    return _value(_SPEC_L_S, r)


@jax.jit
def G(M, m):
    r"""Neutrino-mass loop function :math:`G(M, m) = m^2 \ln(m^2/M^2) / (m^2 - M^2)`.

    Equal to :math:`\ln r / (r - 1) = \int_0^1 dx / (1 - x + r x)` with ``r = M^2 / m^2``; ``G(M, M) = 1``.

    Args:
      M: fermion mass ``M_F`` (array, > 0).
      m: scalar mass ``m_S`` (array, > 0), broadcast against ``M``.
    """
    M, m = jnp.broadcast_arrays(_as_float(M), _as_float(m))
    x = M / m
    return _value(_SPEC_G, x * x)


_SPEC_I_F = _make_spec("I_F", [0, 0, 1])
_SPEC_I_S = _make_spec("I_S", [0, 1, -1])
_SPEC_K = _make_spec("K", [0, 1])
_SPEC_L_F = _make_spec("L_F", [0, 0, 1, -1])
_SPEC_L_S = _make_spec("L_S", [0, 1, -2, 1])
_SPEC_G = _make_spec("G", [1], with_h=False)

_REGISTRY = {I_F: _SPEC_I_F, I_S: _SPEC_I_S, K: _SPEC_K, L_F: _SPEC_L_F, L_S: _SPEC_L_S}
_BY_NAME = {s.name: s for s in _REGISTRY.values()}

LoopFunction = Callable | str


def series_error_bounds() -> dict:
    """``{table: (N_float64, N_float32, value, d/dt, d^2/dt^2 truncation bound relative to min|Φ|)}``.

    Rigorous bounds of the dropped Chebyshev terms (``|T_k^(m)| <= Π_{j<m} (k^2 - j^2)/(2j + 1)`` on
    ``[-1, 1]``) for the float64 series; ``t = ln r / ln 16``.
    """
    out = {}
    for s in list(_REGISTRY.values()) + [_SPEC_G]:
        for tab in (s.g, s.h):
            if tab is not None:
                out[tab.name] = (len(tab.coef[64]), len(tab.coef[32])) + tab.bounds
    return out


def _lookup(f: LoopFunction) -> _Spec:
    if isinstance(f, str):
        if f in _BY_NAME:
            return _BY_NAME[f]
    else:
        try:
            return _REGISTRY[f]
        except (KeyError, TypeError):
            pass
    raise ValueError(f"unknown loop function {f!r}; pass one of djax.loops.I_F, I_S, K, L_F, L_S or its name")


@functools.partial(jax.jit, static_argnums=0)
def scaled(f: LoopFunction, M, m):
    r"""Loop function divided by the scalar mass squared: ``f(M^2/m^2) / m^2``.

    Args:
      f: one of ``I_F, I_S, K, L_F, L_S`` (the function object or its name as a string).
      M: fermion mass ``M_F``; m: scalar mass ``m_S`` (arrays, > 0, broadcast together).
    """
    spec = _lookup(f)
    M, m = jnp.broadcast_arrays(_as_float(M), _as_float(m))
    x = M / m
    return _value(spec, x * x) / (m * m)


@functools.partial(jax.jit, static_argnums=0)
def gim_difference(f: LoopFunction, M, m1, m2):
    r"""GIM-like difference ``f(M^2/m1^2)/m1^2 - f(M^2/m2^2)/m2^2``, stable for ``m1 -> m2``.

    With ``h(r) = r f(r)`` the difference is ``[h(r1) - h(r2)] / M^2``; it is evaluated as an exact divided
    difference times ``ln r1 - ln r2 = 2 ln(m2/m1)`` when both ``r_k`` are in the series range
    (``1/16 < r < 16``), or, for ``|m1 - m2| <= 1e-2 min(m1, m2)``, times ``r1 - r2 = M^2 (m2^2 - m1^2)/(m1^2 m2^2)``
    (closed-form range) -- no cancellation; at ``m1 == m2``
    it is the derivative -- otherwise as a plain difference with the large-``r`` constant ``lim r f(r)``
    removed analytically.

    Args:
      f: one of ``I_F, I_S, K, L_F, L_S`` or its name (Python-level, static under ``jit``: close over it,
        or use ``jax.jit(gim_difference, static_argnums=0)``).
      M: fermion mass ``M_F``; m1, m2: scalar masses (arrays, > 0, broadcast together).
    """
    spec = _lookup(f)
    M, m1, m2 = jnp.broadcast_arrays(_as_float(M), _as_float(m1), _as_float(m2))
    return _materialise(_gim(spec, M, m1, m2))


def _gim_impl(spec: _Spec, M, m1, m2):
    e1, e2, iM2, da, db, dw, near = _mass_kinematics(M, m1, m2)
    (r1, w1, a1, b1, _), (r2, w2, a2, b2, _) = e1, e2
    ok1, ok2 = jnp.abs(w1) < _W, jnp.abs(w2) < _W
    ok = ok1 & ok2
    # one pass of the series for both endpoints and their divided difference (shared Clenshaw chains; the nodes
    # are masked as in _phi, so the endpoint derivatives of the custom JVP reuse the same chains):
    # both in the series range: H[w1, w2] (w1 - w2) at any separation (no cancellation)
    tab = spec.h
    t1 = jnp.where(ok1, (w1 - tab.mid) * (1.0 / tab.half), 0.0)
    t2 = jnp.where(ok2, (w2 - tab.mid) * (1.0 / tab.half), 0.0)
    h12, h1, h2 = _dd_sets(tab, ((0, 1), (0,), (1,)), True, t1, t2)
    series = h12 * (1.0 / tab.half) * dw
    # near, closed range: r >= 16: h = c_inf - F_rem(r - 1); r <= 1/16: h = F_flipped(1/r - 1)
    large = r1 * r2 >= 1.0
    x1, x2, dx, log2 = _near_closed_masks(near, ok, a1, a2, da, b1, b2, db, w2, large)
    dd = _closed_dd((spec.rem, spec.flipped), jnp.where(large, 0, 1).astype(jnp.int32), x1, x2, dx, log2)
    near_closed = jnp.where(large, -dd * dx, dd * dx)
    # far, at most one endpoint in the series range: plain difference φ1 - φ2, φ = f(r)/m^2 (see _phi); when
    # both use the closed form at r >= 16, the difference of h = c_inf - F_{P_R}(r - 1) (c_inf cancelled exactly)
    F1, c1 = _phi_closed(spec, *e1, iM2)
    F2, c2 = _phi_closed(spec, *e2, iM2)
    phi1 = jnp.where(ok1, h1 * iM2, c1)
    phi2 = jnp.where(ok2, h2 * iM2, c2)
    both_big = ~ok1 & ~ok2 & (r1 >= 1.0) & (r2 >= 1.0)
    far = jnp.where(both_big, (F2 - F1) * iM2, phi1 - phi2)
    return jnp.where(ok, series * iM2, jnp.where(near, near_closed * iM2, far))


def _phi(spec: _Spec, r, w, a, b, im2, iM2):
    """(F, φ = f(r)/m^2) in the form whose M- and m-derivatives are accurate in every regime.

    Series range: ``H(w)/M^2`` (``H = r f``); ``r >= 16``: ``h/M^2`` with ``h = c_inf - F`` and
    ``F = F_{P_R}(r - 1)`` (``∂/∂m`` needs ``h'``, which would cancel in ``f + r f'``); ``r <= 1/16``:
    ``f/m^2`` with ``f = F_{P~}(1/r - 1)/r`` or ``c_zero - F_sub`` (``∂/∂M`` needs ``f'``, which would
    cancel in ``r h' - h``).
    """
    ok = jnp.abs(w) < _W
    series = _series(spec.h, w, ok)
    F, closed = _phi_closed(spec, r, w, a, b, im2, iM2)
    return F, jnp.where(ok, series * iM2, closed)


def _phi_closed(spec: _Spec, r, w, a, b, im2, iM2):
    """(F, φ) of :func:`_phi` from the closed forms (``r >= 16`` or ``r <= 1/16``; masked in the series range)."""
    ok = jnp.abs(w) < _W
    big = r >= 1.0
    arg = jnp.where(ok, _B_SAFE, jnp.where(big, a, b))
    small_set = spec.flipped if spec.sub is None else spec.sub
    F = _closed((spec.rem, small_set), jnp.where(ok | big, 0, 1).astype(jnp.int32), arg, jnp.where(ok, _W, jnp.abs(w)))
    # r <= 1/16: f/m^2 = F_{P~}(b)/(r m^2) = F_{P~}(b)/M^2, or (c_zero - F_sub(b))/m^2
    small = F * iM2 if spec.sub is None else (spec.c_zero - F) * im2
    return F, jnp.where(big, (spec.c_inf - F) * iM2, small)


def _phi_mass(spec: _Spec, M, m):
    """φ(M, m) = f(M^2/m^2)/m^2 as evaluated in :func:`_gim_impl` (the same operations: shared by XLA)."""
    r, w, a, b, iM2, im2 = _one_mass(M, m)
    return _phi(spec, r, w, a, b, im2, iM2)[1]


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _gim(spec: _Spec, M, m1, m2):
    return _gim_impl(spec, M, m1, m2)


def _mass_jvp(impl, endpoint, primals, tangents):
    """JVP of a GIM difference D(M, m1, m2) = φ(M, m1) - φ(M, m2) computed in the primal pass.

    ``∂D/∂m_i = ±∂φ/∂m(M, m_i)`` (endpoint derivatives, no cancellation); ``∂D/∂M`` (a GIM-like
    difference itself) by forward mode through the accurate implementation. Reverse mode therefore
    stores three numbers per point and never transposes the branch logic; the rule is built from
    differentiable pieces (higher orders work).
    """
    M, m1, m2 = primals
    dM, dm1, dm2 = tangents
    one = jnp.ones_like(M)
    D, d_M = jax.jvp(lambda M_: impl(M_, m1, m2), (M,), (one,))
    d_1 = jax.jvp(lambda m_: endpoint(M, m_), (m1,), (one,))[1]
    d_2 = jax.jvp(lambda m_: endpoint(M, m_), (m2,), (one,))[1]
    return D, d_M * dM + d_1 * dm1 - d_2 * dm2


@_gim.defjvp
def _gim_jvp(spec, primals, tangents):
    return _mass_jvp(functools.partial(_gim_impl, spec), functools.partial(_phi_mass, spec), primals, tangents)


def _g_endpoint(v, r, a, b, reflected):
    """G at ln r = v (v = w, or v = -w when reflected: then G(v) = G(-w) is G at r' = 1/r)."""
    ok = jnp.abs(v) < _W
    series = _series(_SPEC_G.g, v, ok)
    pos = v >= 0.0
    arg = jnp.where(ok, _B_SAFE, jnp.where(pos & ~reflected, a, b))  # e^v - 1
    F = _closed((_SPEC_G.direct,), _zeros_sel(v), arg, jnp.where(ok, _W, jnp.abs(v)))
    rs = jnp.where(ok | pos, 1.0, r)
    return jnp.where(ok, series, jnp.where(pos, F, F / rs))


@jax.jit
def gim_difference_G(M, m1, m2):
    r"""``G(M, m1) - G(M, m2)``, stable for ``m1 -> m2`` (see :func:`G` and :func:`gim_difference`).

    With ``w = ln(M^2/m^2)``, ``G = w / (e^w - 1)``: near pairs use the divided difference of its series
    (or of the closed form) times ``w1 - w2 = 2 ln(m2/m1)``; for ``M <= m1, m2`` the large part is split off
    exactly, ``G(w) = G(-w) - w``.
    """
    M, m1, m2 = jnp.broadcast_arrays(_as_float(M), _as_float(m1), _as_float(m2))
    return _materialise(_gim_G(M, m1, m2))


def _gim_G_impl(M, m1, m2):
    (r1, w1, a1, b1, _), (r2, w2, a2, b2, _), _, da, db, dw, near = _mass_kinematics(M, m1, m2)
    ok1, ok2 = jnp.abs(w1) < _W, jnp.abs(w2) < _W
    ok = ok1 & ok2
    near_series = _series_dd(_SPEC_G.g, w1, w2, near & ok) * dw
    # near, closed range: r >= 16: G = F_1(r - 1); r <= 1/16: G = -w + F_1(1/r - 1)
    large = r1 * r2 >= 1.0
    x1, x2, dx, log2 = _near_closed_masks(near, ok, a1, a2, da, b1, b2, db, w2, large)
    dd = _closed_dd((_SPEC_G.direct,), _zeros_sel(x1), x1, x2, dx, log2)
    near_closed = jnp.where(large, dd * dx, dd * dx - jnp.where(near & ~ok, dw, 0.0))
    # far
    reflected = (r1 <= 1.0) & (r2 <= 1.0)
    g1 = _g_endpoint(jnp.where(reflected, -w1, w1), r1, a1, b1, reflected)
    g2 = _g_endpoint(jnp.where(reflected, -w2, w2), r2, a2, b2, reflected)
    far = jnp.where(reflected, (g1 - g2) - dw, g1 - g2)
    return jnp.where(near, jnp.where(ok, near_series, near_closed), far)


def _G_value(M, m):
    r, w, _, _, _, _ = _one_mass(M, m)
    return _value_parts(_SPEC_G, r, w)


@jax.custom_jvp
def _gim_G(M, m1, m2):
    return _gim_G_impl(M, m1, m2)


@_gim_G.defjvp
def _gim_G_jvp(primals, tangents):
    return _mass_jvp(_gim_G_impl, _G_value, primals, tangents)
