"""Implementation of the Feynman-parameter loop functions (see ``djax.loops`` for the physics).

Every function is an integral ``F_Q(b) = ∫_0^1 Q(x) / (1 + b x) dx`` with a polynomial ``Q`` of degree
<= 3, evaluated for ``b >= 0`` (up to a small negative margin) only:

* ``|b| < 1/2``: power series ``F_Q(b) = Σ_k c_k b^k``, ``c_k = (-1)^k Σ_n q_n / (n + k + 1)``
  (64 terms);
* ``1/2 <= b < 2``: power series in ``e = b - 1``, ``F_Q(1 + e) = Σ_k (-e)^k ∫ Q x^k / (1 + x)^(k+1) dx``
  (64 terms, ratio <= 1/2; moments by Gauss-Legendre at import);
* ``b >= 2`` (or ``b <= -1/2``): exact closed form ``F_Q(b) = log1p(b) A(1/b) + B(1/b)`` with polynomials
  ``A, B`` in ``1/b`` (from ``J_n(b) = (-1)^n [log1p(b) - Σ_{k=1}^n (-1)^{k+1} b^k / k] / b^{n+1}``), no
  overflow for large ``b``.

A loop function ``f(r) = ∫ P(x) / (1 - x + r x) dx`` is ``F_P(r - 1)`` for ``r >= 1`` and, after
``x -> 1 - x``, ``F_{P~}(1/r - 1) / r`` with ``P~(x) = P(1 - x)`` for ``r < 1``, so the argument of
``F`` never approaches the logarithmic branch point ``b = -1``.

Differences ``h(r1) - h(r2)`` of ``h(r) = r f(r)`` (GIM-like sums) use exact divided differences
``F[b1, b2] = (F(b1) - F(b2)) / (b1 - b2)`` evaluated without subtraction (Horner-type recurrences and
``log1p`` of the ratio) when the two arguments are close, with the argument difference supplied exactly
from the masses; for ``r >= 1`` the constant ``c_inf = lim r f(r)`` is split off analytically:
``h(r) = c_inf - F_{P_R}(r - 1)`` with ``P_R(x) = (P(x)/x)(1 - x)``.
"""
from __future__ import annotations

import functools
from fractions import Fraction
from typing import Callable, NamedTuple, Union

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

_B0 = 0.5  # series in b for |b| < _B0
_B1 = 2.0  # series in e = b - 1 for _B0 <= b < _B1; closed form otherwise
_NSERIES = 64  # number of series coefficients (b^0 ... b^63)
_NEAR = 1e-2  # |m1 - m2| <= _NEAR min(m1, m2): divided-difference branch of the GIM differences
_U_SERIES = 1e-3  # log1p(u)/u by its Taylor series for |u| < _U_SERIES
_UNROLL = 8  # unroll factor of the Horner scans over the 64 series coefficients
_SHORT = 8  # shorter coefficient tables are unrolled


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
        out = [(out[i] if i < len(out) else 0) + (term[i] if i < len(term) else 0)
               for i in range(max(len(out), len(term)))]
        power = _pmul(power, [Fraction(1), Fraction(-1)])
    return out


class _Coeffs(NamedTuple):
    """Float coefficients of F_Q: series in b and in b - 1, and A, B polynomials in 1/b (index = power)."""
    series: tuple
    mid: tuple
    a: tuple
    b: tuple


def _coeffs(q) -> _Coeffs:
    q = [Fraction(c) for c in q]
    series = []
    for k in range(_NSERIES):
        c = sum((qn / (n + k + 1) for n, qn in enumerate(q)), Fraction(0))
        series.append(float((-1) ** k * c))
    # F_Q(1 + e) = Σ_k (-e)^k ∫ Q(x) x^k / (1 + x)^(k+1) dx: moments by 80-point Gauss-Legendre
    # (integrand analytic in a Bernstein ellipse with rho ~ 5.8 around [0, 1]: exact to rounding)
    nodes, weights = np.polynomial.legendre.leggauss(80)
    x, w = 0.5 * (nodes + 1.0), 0.5 * weights
    qx = sum(float(qn) * x**n for n, qn in enumerate(q))
    t = x / (1.0 + x)
    mid = tuple(float((-1) ** k * np.sum(w * qx * t**k / (1.0 + x))) for k in range(_NSERIES))
    deg = len(q) - 1
    a = [Fraction(0)] * (deg + 2)
    b = [Fraction(0)] * (deg + 2)
    for n, qn in enumerate(q):
        a[n + 1] += qn * (-1) ** n
        for k in range(1, n + 1):
            b[n + 1 - k] += qn * Fraction((-1) ** (n + k), k)
    return _Coeffs(tuple(series), mid, tuple(float(c) for c in a), tuple(float(c) for c in b))


class _Spec(NamedTuple):
    """Everything needed for f(r) = ∫ P(x)/(1 - x + r x) dx."""
    name: str
    direct: _Coeffs  # F_P, used for r >= 1 (b = r - 1)
    flipped: _Coeffs  # F_{P(1-x)}, used for r < 1 (b = 1/r - 1), f = F / r
    rem: _Coeffs  # F_{P_R}: r f(r) = c_inf - F_{P_R}(r - 1)
    c_inf: Union[float, None]  # lim_{r->inf} r f(r); None means c(r) = ln r (P = 1)
    c_zero: Union[float, None]  # f(0) = ∫ P/(1-x) if P(1) = 0, else None
    sub: Union[_Coeffs, None]  # if P(1) = 0: f(r) = c_zero - F_sub(1/r - 1) for r < 1


def _make_spec(name, p) -> _Spec:
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
    return _Spec(name, _coeffs(p), _coeffs(_reflect(p)), _coeffs(rem), c_inf, c_zero, sub)


# ----------------------------------------------------------------------------------------------------
# elementwise kernels
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


def _table(cols, dtype):
    """Stack coefficient tuples (index = power) into a (n, len(cols)) array, highest power first."""
    n = max(len(c) for c in cols)
    t = np.zeros((n, len(cols)))
    for j, c in enumerate(cols):
        t[: len(c), j] = c
    return jnp.asarray(t[::-1], dtype=dtype)


def _horner_sel(cols, sel, x):
    """Σ_k c_k[sel] x^k with a per-element choice `sel` among the coefficient tuples `cols`.

    A `lax.scan` keeps the traced program (and compile times under grad-of-grad) small.
    """
    t = _table(cols, x.dtype)
    if t.shape[0] <= _SHORT:
        acc = jnp.zeros_like(x) + t[0][sel]
        for row in t[1:]:
            acc = acc * x + row[sel]
        return acc

    def step(acc, row):
        return acc * x + row[sel], None

    acc, _ = lax.scan(step, jnp.zeros_like(x) + t[0][sel], t[1:], unroll=_UNROLL)
    return acc


def _horner_dd_sel(cols, sel, x1, x2):
    """Divided difference (p(x1) - p(x2)) / (x1 - x2) of p = Σ c_k[sel] x^k, without subtraction."""
    t = _table(cols, x1.dtype)
    if t.shape[0] <= _SHORT:
        u, d = jnp.zeros_like(x1) + t[0][sel], jnp.zeros_like(x1)
        for row in t[1:]:
            u, d = u * x1 + row[sel], u + x2 * d
        return d

    def step(carry, row):
        u, d = carry
        return (u * x1 + row[sel], u + x2 * d), None

    (_, d), _ = lax.scan(step, (jnp.zeros_like(x1) + t[0][sel], jnp.zeros_like(x1)), t[1:],
                         unroll=_UNROLL)
    return d


def _log1p_ratio(u):
    """log1p(u) / u, smooth through u = 0."""
    small = jnp.abs(u) < _U_SERIES
    us = jnp.where(small, u, 0.0)
    ul = jnp.where(small, 1.0, u)
    series = _horner((1.0, -1 / 2, 1 / 3, -1 / 4, 1 / 5, -1 / 6), us)
    return jnp.where(small, series, jnp.log1p(ul) / ul)


def _regions(b):
    small = jnp.abs(b) < _B0
    mid = (b >= _B0) & (b < _B1)
    return small, mid


def _F(sets, sel, b):
    """F_Q(b) = ∫_0^1 Q(x)/(1 + b x) dx for b > -1 (accurate for b >= -B0 and any b >= 0).

    `sets`: tuple of _Coeffs; `sel`: int array (per element) choosing Q among them.
    """
    small, mid = _regions(b)
    x = jnp.where(small, b, jnp.where(mid, b - 1.0, 0.0))
    ser_sel = sel + len(sets) * mid.astype(sel.dtype)
    series = _horner_sel(tuple(c.series for c in sets) + tuple(c.mid for c in sets), ser_sel, x)
    bc = jnp.where(small | mid, _B1, b)
    ib = 1.0 / bc
    closed = (jnp.log1p(bc) * _horner_sel(tuple(c.a for c in sets), sel, ib)
              + _horner_sel(tuple(c.b for c in sets), sel, ib))
    return jnp.where(small | mid, series, closed)


def _F_dd(sets, sel, b1, b2, db):
    """Divided difference F_Q[b1, b2] for close b1, b2 (db = b1 - b2 supplied exactly); F_Q'(b) at db=0."""
    small, mid = _regions(b2 + 0.5 * db)
    ser = small | mid
    x1 = jnp.where(small, b1, jnp.where(mid, b1 - 1.0, 0.0))
    x2 = jnp.where(small, b2, jnp.where(mid, b2 - 1.0, 0.0))
    ser_sel = sel + len(sets) * mid.astype(sel.dtype)
    series = _horner_dd_sel(tuple(c.series for c in sets) + tuple(c.mid for c in sets), ser_sel,
                            x1, x2)
    c1 = jnp.where(ser, _B1, b1)
    c2 = jnp.where(ser, _B1, b2)
    cd = jnp.where(ser, 0.0, db)
    ib1, ib2 = 1.0 / c1, 1.0 / c2
    a_cols, b_cols = tuple(c.a for c in sets), tuple(c.b for c in sets)
    log_dd = _log1p_ratio(cd / (1.0 + c2)) / (1.0 + c2)  # (log1p(b1) - log1p(b2)) / (b1 - b2)
    closed = log_dd * _horner_sel(a_cols, sel, ib1) - ib1 * ib2 * (
        jnp.log1p(c2) * _horner_dd_sel(a_cols, sel, ib1, ib2) + _horner_dd_sel(b_cols, sel, ib1, ib2))
    return jnp.where(ser, series, closed)


def _zeros_sel(x):
    return jnp.zeros(jnp.shape(x), dtype=jnp.int32)


def _value(spec: _Spec, r):
    """f(r) with r = M_F^2/m_S^2 > 0."""
    r = _as_float(r)
    big = r >= 1.0
    a = jnp.where(big, r - 1.0, 0.0)
    rs = jnp.where(big, 1.0, r)
    b = (1.0 - rs) / rs
    arg = jnp.where(big, a, b)
    if spec.sub is None:
        sel = jnp.where(big, 0, 1).astype(jnp.int32)
        F = _F((spec.direct, spec.flipped), sel, arg)
        return jnp.where(big, F, F / rs)
    # r < 1/2: f(0) - F_sub avoids cancelling ~1/r terms in the derivatives
    use_sub = ~big & (b > 1.0)
    sel = jnp.where(big, 0, jnp.where(use_sub, 2, 1)).astype(jnp.int32)
    F = _F((spec.direct, spec.flipped, spec.sub), sel, arg)
    return jnp.where(big, F, jnp.where(use_sub, spec.c_zero - F, F / rs))


def _h_difference(spec: _Spec, r1, r2, a1, a2, da, b1, b2, db, near, large):
    """h(r1) - h(r2), h(r) = r f(r); a = r - 1, b = 1/r - 1, da = r1 - r2, db = b1 - b2 (all accurate).

    near: use divided differences; large: (near only) expand in a (r >= 1 side) instead of b.
    Returns (difference, valid): valid where near or both r >= 1; elsewhere the plain difference of
    accurately computed values is as accurate (no common large part) and has better M-gradients.
    """
    # --- near: exact divided differences in one representation -----------------------------------
    nl = near & large
    ns = near & ~large
    a1n, a2n, dan = (jnp.where(nl, v, 0.0) for v in (a1, a2, da))
    b1n, b2n, dbn = (jnp.where(ns, v, 0.0) for v in (b1, b2, db))
    if spec.c_inf is None:
        r2n = jnp.where(nl, r2, 1.0)
        dc = jnp.log1p(dan / r2n)  # ln(r1 / r2)
    else:
        dc = 0.0
    sel_n = jnp.where(large, 0, 1).astype(jnp.int32)
    dd = _F_dd((spec.rem, spec.flipped), sel_n, jnp.where(large, a1n, b1n),
               jnp.where(large, a2n, b2n), jnp.where(large, dan, dbn))
    near_large = dc - dd * dan
    near_small = dd * dbn
    # --- far, both r >= 1: h(r) = c(r) - F_{P_R}(r - 1), c(r1) - c(r2) analytically -----------------
    both_big = (r1 >= 1.0) & (r2 >= 1.0)
    a1f, a2f, daf = (jnp.where(both_big & ~near, v, 0.0) for v in (a1, a2, da))
    zeros = _zeros_sel(a1f)
    if spec.c_inf is None:
        dc_far = jnp.log1p(daf / jnp.where(both_big & ~near, r2, 1.0))
    else:
        dc_far = 0.0
    far_big = dc_far - (_F((spec.rem,), zeros, a1f) - _F((spec.rem,), zeros, a2f))
    special = near | both_big
    return jnp.where(near, jnp.where(large, near_large, near_small), far_big), special


def _mass_kinematics(M, m1, m2):
    """r_i = M^2/m_i^2 and accurate a_i = r_i - 1, b_i = 1/r_i - 1, r1 - r2, b1 - b2, near flag."""
    M, m1, m2 = jnp.broadcast_arrays(_as_float(M), _as_float(m1), _as_float(m2))
    x1, x2 = M / m1, M / m2
    r1, r2 = x1 * x1, x2 * x2
    a1 = ((M - m1) / m1) * ((M + m1) / m1)
    a2 = ((M - m2) / m2) * ((M + m2) / m2)
    b1 = ((m1 - M) / M) * ((m1 + M) / M)
    b2 = ((m2 - M) / M) * ((m2 + M) / M)
    dm, sm = m1 - m2, m1 + m2
    da = -r1 * (dm / m2) * (sm / m2)  # r1 - r2
    db = (dm / M) * (sm / M)  # b1 - b2 = 1/r1 - 1/r2
    near = jnp.abs(dm) <= _NEAR * jnp.minimum(m1, m2)
    return M, m1, m2, r1, r2, a1, a2, da, b1, b2, db, near


# ----------------------------------------------------------------------------------------------------
# public functions
# ----------------------------------------------------------------------------------------------------
@functools.partial(jax.jit, static_argnums=0)
def J(n: int, a):
    r"""Building block :math:`J_n(a) = \int_0^1 x^n / (1 + a x)\, dx` for :math:`a > -1`.

    Args:
      n: non-negative Python int (static).
      a: array, ``a = r - 1``.

    Returns:
      array of ``J_n(a)``; series for ``|a| < 0.5`` (``J_n = Σ_k (-a)^k / (n + k + 1)``), closed form
      ``(-1)^n [log1p(a) - Σ_{k=1}^n (-1)^{k+1} a^k / k] / a^{n+1}`` otherwise.
    """
    n = int(n)
    if n < 0:
        raise ValueError("J: n must be a non-negative integer")
    a = _as_float(a)
    return _F((_coeffs([0] * n + [1]),), _zeros_sel(a), a)


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
_SPEC_G = _make_spec("G", [1])

_REGISTRY = {I_F: _SPEC_I_F, I_S: _SPEC_I_S, K: _SPEC_K, L_F: _SPEC_L_F, L_S: _SPEC_L_S}
_BY_NAME = {s.name: s for s in _REGISTRY.values()}

LoopFunction = Union[Callable, str]


def _lookup(f: LoopFunction) -> _Spec:
    if isinstance(f, str):
        if f in _BY_NAME:
            return _BY_NAME[f]
    else:
        try:
            return _REGISTRY[f]
        except (KeyError, TypeError):
            pass
    raise ValueError(
        f"unknown loop function {f!r}; pass one of djax.loops.I_F, I_S, K, L_F, L_S or its name")


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

    With ``h(r) = r f(r)`` the difference is ``[h(r1) - h(r2)] / M^2``; for ``|m1 - m2| <= 1e-2 min(m1, m2)``
    it is evaluated as an exact divided difference times ``r1 - r2 = M^2 (m2^2 - m1^2)/(m1^2 m2^2)``
    (no cancellation; at ``m1 == m2`` it is the derivative), otherwise as a plain difference with the
    large-``r`` constant ``lim r f(r)`` removed analytically.

    Args:
      f: one of ``I_F, I_S, K, L_F, L_S`` or its name (Python-level, static under ``jit``: close over it,
        or use ``jax.jit(gim_difference, static_argnums=0)``).
      M: fermion mass ``M_F``; m1, m2: scalar masses (arrays, > 0, broadcast together).
    """
    spec = _lookup(f)
    M, m1, m2, r1, r2, a1, a2, da, b1, b2, db, near = _mass_kinematics(M, m1, m2)
    large = r1 * r2 >= 1.0
    dh, special = _h_difference(spec, r1, r2, a1, a2, da, b1, b2, db, near, large)
    plain = _value(spec, r1) / (m1 * m1) - _value(spec, r2) / (m2 * m2)
    return jnp.where(special, dh / (M * M), plain)


@jax.jit
def gim_difference_G(M, m1, m2):
    r"""``G(M, m1) - G(M, m2)``, stable for ``m1 -> m2`` (see :func:`G` and :func:`gim_difference`).

    Uses ``G(M, m) = h_0(s) = s ln s / (s - 1)`` with ``s = m^2/M^2`` and the exact split
    ``h_0(s) = ln s + ln s / (s - 1)`` for ``s >= 1``.
    """
    M, m1, m2, r1, r2, a1, a2, da, b1, b2, db, near = _mass_kinematics(M, m1, m2)
    # the role of r is played by s = 1/r = m^2/M^2: a <-> b, da <-> db
    y1, y2 = m1 / M, m2 / M
    s1, s2 = y1 * y1, y2 * y2
    large = s1 * s2 >= 1.0
    dh, special = _h_difference(_SPEC_G, s1, s2, b1, b2, db, a1, a2, da, near, large)
    return jnp.where(special, dh, _value(_SPEC_G, r1) - _value(_SPEC_G, r2))
