"""Tests for djax.loops: values, derivatives and GIM differences against mpmath, limits, float32, jit/vmap.

Reference numbers: tests/reference/loops_reference.json, produced by
tests/reference/make_loops_reference.py (mpmath quadrature, dps 40, cross-checked with closed forms at
dps 100). A few points are also recomputed live with mpmath below.
"""

import functools
import json
import pathlib

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jax.test_util import check_grads

from djax import loops
from djax.loops import I_F, I_S, L_F, L_S, G, J, K, gim_difference, gim_difference_G, scaled

REF = json.loads((pathlib.Path(__file__).parent / "reference" / "loops_reference.json").read_text())
R_GRID = np.array([float(r) for r in REF["r"]])
FUNCS = {"I_F": I_F, "I_S": I_S, "K": K, "L_F": L_F, "L_S": L_S}
NUMERATORS = {
    "I_F": lambda x: x**2,
    "I_S": lambda x: x * (1 - x),
    "K": lambda x: x,
    "L_F": lambda x: x**2 * (1 - x),
    "L_S": lambda x: x * (1 - x) ** 2,
}


def _f0(r):
    """G as a function of r = M^2/m^2 (m = 1)."""
    return G(jnp.sqrt(r), 1.0)


ALL = dict(FUNCS, f0=_f0)


def _ref(table, name):
    return np.array([float(mp.mpf(v)) for v in REF[table][name]])


def _max_rel(x, ref):
    x = np.asarray(x, dtype=np.float64)
    return float(np.max(np.abs(x - ref) / np.abs(ref)))


def _value_d1_d2(r):
    """(6, 3) array: value, first and second r-derivative of each function in ALL."""
    return jnp.stack([jnp.stack([f(r), jax.grad(f)(r), jax.grad(jax.grad(f))(r)]) for f in ALL.values()])


_ALL_ORDERS = jax.jit(jax.vmap(_value_d1_d2))
_PAD = 1024


def _eval(r):
    """_ALL_ORDERS on a 1-d array, padded to a fixed length: one compilation per dtype for all tests."""
    r = jnp.asarray(r)
    n = r.shape[0]
    assert n <= _PAD
    return np.asarray(_ALL_ORDERS(jnp.concatenate([r, jnp.ones(_PAD - n, r.dtype)])))[:n]


@functools.cache
def _on_grid():
    return _eval(jnp.asarray(R_GRID))


def test_reference_grid_covers_requirements():
    for r in [1e-8, 1e8, 1.0, 1 + 1e-9, 1 - 1e-9, 1 + 1e-6, 1 - 1e-6, 1 + 1e-3, 1 - 1e-3]:
        assert np.any(R_GRID == r)
    assert np.sum((R_GRID >= 1e-8) & (R_GRID <= 1e8)) >= 60


@pytest.mark.parametrize("name", list(ALL))
def test_values_vs_mpmath(name):
    err = _max_rel(_on_grid()[:, list(ALL).index(name), 0], _ref("values", name))
    assert err < 1e-13, err


@pytest.mark.parametrize("name", list(ALL))
def test_first_derivative_vs_mpmath(name):
    err = _max_rel(_on_grid()[:, list(ALL).index(name), 1], _ref("d1", name))
    assert err < 1e-10, err


@pytest.mark.parametrize("name", list(ALL))
def test_second_derivative_vs_mpmath(name):
    err = _max_rel(_on_grid()[:, list(ALL).index(name), 2], _ref("d2", name))
    assert err < 1e-8, err


@pytest.mark.parametrize("name", ["I_S", "L_S", "L_F"])
def test_values_live_mpmath(name):
    """Independent of the JSON file: a few live quadratures (dps 40)."""
    mp.mp.dps = 40
    p = NUMERATORS[name]
    rs = [3e-7, 0.3, 1.0, 1 + 1e-6, 2.5, 4e5]
    got = np.asarray(FUNCS[name](jnp.asarray(rs)))
    for r, v in zip(rs, got):
        rr = mp.mpf(r)
        pts = [0, 1 - 10 * rr, 1] if r < 0.05 else ([0, 10 / rr, 1] if r > 20 else [0, 1])
        ref = mp.quad(lambda x: p(x) / (1 - x + rr * x), pts)
        assert abs(v - ref) / ref < 1e-13, (r, v, ref)


@pytest.mark.parametrize("name", ["K", "L_S", "f0"])  # product form, subtracted form, G
def test_check_grads(name):
    for r in [1e-6, 0.3, 1.0, 1 + 1e-7, 3.0, 1e5]:
        # finite-difference step below r (the functions are only defined for r > 0)
        check_grads(ALL[name], (jnp.float64(r),), order=2, modes=["fwd", "rev"], eps=1e-3 * min(r, 1.0))


def test_exact_values_at_r_equal_one():
    exact = {"I_F": 1 / 3, "I_S": 1 / 6, "K": 1 / 2, "L_F": 1 / 12, "L_S": 1 / 12}
    at_one = _eval(jnp.asarray([1.0]))[0]
    for i, (name, val) in enumerate(exact.items()):
        assert abs(at_one[i, 0] - val) <= 2e-16
    assert float(G(3.0, 3.0)) == pytest.approx(1.0, abs=1e-16)
    # derivatives at r = 1: f'(1) = -∫ P x, f''(1) = 2 ∫ P x^2
    d1 = {"I_F": -1 / 4, "I_S": -1 / 12, "K": -1 / 3, "L_F": -1 / 20, "L_S": -1 / 30}
    d2 = {"I_F": 2 / 5, "I_S": 1 / 10, "K": 1 / 2, "L_F": 1 / 15, "L_S": 1 / 30}
    for i, name in enumerate(FUNCS):
        assert at_one[i, 1] == pytest.approx(d1[name], rel=1e-14, abs=0)
        assert at_one[i, 2] == pytest.approx(d2[name], rel=1e-13, abs=0)


def test_asymptotics():
    r = jnp.asarray([1e-7, 1e-8])
    lr = jnp.log(r)
    bound = 10 * r * (1 - lr)  # next-order terms are O(r ln r)
    assert jnp.all(jnp.abs(I_F(r) - (-lr - 1.5)) < bound)
    assert jnp.all(jnp.abs(K(r) - (-lr - 1.0)) < bound)
    assert jnp.all(jnp.abs(I_S(r) - 0.5) < bound)
    assert jnp.all(jnp.abs(L_F(r) - 1 / 3) < bound)
    assert jnp.all(jnp.abs(L_S(r) - 1 / 6) < bound)
    R = jnp.asarray([1e7, 1e8])
    tol = 10 * jnp.log(R) / R  # corrections O(ln r / r)
    for f, lim in [(I_F, 0.5), (I_S, 0.5), (K, 1.0), (L_F, 1 / 6), (L_S, 1 / 3)]:
        assert jnp.all(jnp.abs(R * f(R) - lim) < tol)
    # G(M, m) -> ln(m^2/M^2) for m >> M, -> (m^2/M^2) ln(M^2/m^2) for M >> m
    assert float(G(1.0, 1e4)) == pytest.approx(np.log(1e8), rel=1e-7, abs=0)
    assert float(G(1e4, 1.0)) == pytest.approx(1e-8 * np.log(1e8), rel=1e-7, abs=0)


def test_relations_and_building_block():
    r = jnp.logspace(-6, 6, 41)
    assert jnp.allclose(I_S(r), I_S(1 / r) / r, rtol=1e-13, atol=0)
    assert jnp.allclose(L_S(r), L_F(1 / r) / r, rtol=1e-13, atol=0)
    assert jnp.allclose(K(r), I_F(r) + I_S(r), rtol=1e-13, atol=0)
    a = r - 1.0
    big = r >= 1e-2  # J is parametrised by a = r - 1, which cannot resolve r << 1
    assert jnp.allclose(J(2, a)[big], I_F(r)[big], rtol=1e-13, atol=0)
    assert jnp.allclose((J(1, a) - 2 * J(2, a) + J(3, a))[big], L_S(r)[big], rtol=1e-11, atol=0)
    mp.mp.dps = 30
    for n, aa in [(0, -0.9), (3, -0.7), (4, 0.2), (5, 1.3), (2, 40.0), (3, 1e6)]:
        ref = mp.quad(lambda x: x**n / (1 + mp.mpf(aa) * x), [0, 1])
        assert float(J(n, aa)) == pytest.approx(float(ref), rel=1e-13, abs=0)
    with pytest.raises(ValueError):
        J(-1, 0.5)


def test_scaled():
    M, m = jnp.asarray([0.3, 5.0, 100.0]), jnp.asarray([2.0, 5.0, 0.7])
    for name, f in FUNCS.items():
        want = f((M / m) ** 2) / m**2
        assert jnp.allclose(scaled(f, M, m), want, rtol=1e-15, atol=0)
        assert jnp.allclose(scaled(name, M, m), want, rtol=1e-15, atol=0)


def _gim_rows():
    return [(float(row["M"]), float(row["m1"]), float(row["m2"])) for row in REF["gim"]]


@pytest.mark.parametrize("name", list(ALL))
def test_gim_difference_vs_mpmath(name):
    rows = np.array(_gim_rows())
    M, m1, m2 = (jnp.asarray(rows[:, i]) for i in range(3))
    ref = np.array([float(mp.mpf(row[name])) for row in REF["gim"]])
    if name == "f0":
        got = jax.jit(gim_difference_G)(M, m1, m2)
    else:
        got = jax.jit(gim_difference, static_argnums=0)(FUNCS[name], M, m1, m2)
    err = np.abs(np.asarray(got) - ref) / np.abs(ref)
    assert np.max(err) < 1e-11, (np.max(err), rows[np.argmax(err)])
    # the naive difference is useless for tiny splittings (shows the test has teeth)
    if name != "f0":
        naive = scaled(name, M, m1) - scaled(name, M, m2)
        tiny = np.abs(rows[:, 1] / rows[:, 2] - 1) < 1e-8
        assert np.max((np.abs(np.asarray(naive) - ref) / np.abs(ref))[tiny]) > 1e-6


def _gim_all(M, m1, m2):
    out = [gim_difference(f, M, m1, m2) for f in FUNCS.values()]
    return jnp.stack(out + [gim_difference_G(M, m1, m2)])


_EQ_ROWS = [(float(row["M"]), float(row["m"]), float(row["m"])) for row in REF["gim_derivative"]]
_M_B, _D_B = (x.ravel() for x in np.meshgrid([1e-3, 0.8, 1.0, 50.0], [0.0, 1e-12, 1e-4, 0.0099, 0.0101, 0.3, 2.0]))
_B_ROWS = [(M, 1.0 + d, 1.0) for M, d in zip(_M_B, _D_B)]


@functools.cache
def _gim_values_and_jacobian():
    """One compilation for both gradient tests: rows = equal-mass rows + near/far boundary rows."""
    M, m1, m2 = (jnp.asarray(x) for x in zip(*(_EQ_ROWS + _B_ROWS)))
    vals = jax.jit(jax.vmap(_gim_all))(M, m1, m2)
    jac = jax.jit(jax.vmap(jax.jacfwd(_gim_all, argnums=(0, 1, 2))))(M, m1, m2)
    return np.asarray(vals), tuple(np.asarray(j) for j in jac)


def test_gim_gradient_at_equal_masses():
    rows = REF["gim_derivative"]
    n = len(rows)
    vals, jac = _gim_values_and_jacobian()
    assert np.all(vals[:n] == 0.0)
    for i, name in enumerate(ALL):
        ref = np.array([float(mp.mpf(row[name])) for row in rows])
        d_M, d_m1, d_m2 = (j[:n, i] for j in jac)
        np.testing.assert_allclose(d_m1, ref, rtol=1e-11, atol=0)
        np.testing.assert_allclose(d_m2, -ref, rtol=1e-11, atol=0)
        assert np.all(np.abs(d_M) <= 1e-14 * np.abs(ref))


@pytest.mark.slow
def test_gim_second_derivatives_finite_at_equal_masses():
    M, m1, m2 = (jnp.asarray(x) for x in zip(*_EQ_ROWS))
    for f in (L_S, I_F):
        hess = jax.jit(jax.vmap(jax.hessian(lambda *a: gim_difference(f, *a), argnums=(0, 1, 2))))(M, m1, m2)
        assert np.all(np.isfinite(np.asarray(jax.tree_util.tree_leaves(hess))))
    hess = jax.jit(jax.vmap(jax.hessian(gim_difference_G, argnums=(0, 1, 2))))(M, m1, m2)
    assert np.all(np.isfinite(np.asarray(jax.tree_util.tree_leaves(hess))))


def test_gim_gradients_finite_and_correct_near_branch_boundary():
    """Gradients w.r.t. all masses across the near/far switch (|m1 - m2| = 1e-2 min(m1, m2))."""
    n = len(_EQ_ROWS)
    grads = tuple(j[n:] for j in _gim_values_and_jacobian()[1])
    assert all(np.all(np.isfinite(g)) for g in grads)
    # gradient of the plain sum from f and f' (shared compilation), fine when |m1 - m2| is not small
    M, m1, m2 = (np.asarray(x) for x in zip(*_B_ROWS))
    r1, r2 = (M / m1) ** 2, (M / m2) ** 2
    o1, o2 = _eval(jnp.asarray(r1)), _eval(jnp.asarray(r2))  # (rows, function, order)
    f1, d1, f2, d2 = o1[:, :, 0], o1[:, :, 1], o2[:, :, 0], o2[:, :, 1]
    w1 = np.where(np.arange(6) < 5, 1.0, 0.0)  # 1/m^2 scaling for the loop functions, none for G

    def scale(m):
        return np.where(w1 > 0, 1.0 / m[:, None] ** 2, 1.0)

    s1, s2 = scale(m1), scale(m2)
    want_m1 = d1 * (-2 * r1 / m1)[:, None] * s1 - 2 * w1 * f1 / m1[:, None] ** 3
    want_m2 = -(d2 * (-2 * r2 / m2)[:, None] * s2 - 2 * w1 * f2 / m2[:, None] ** 3)
    want_M = d1 * (2 * r1 / M)[:, None] * s1 - d2 * (2 * r2 / M)[:, None] * s2
    far = _D_B > 1e-3
    np.testing.assert_allclose(grads[1][far], want_m1[far], rtol=1e-12, atol=0)
    np.testing.assert_allclose(grads[2][far], want_m2[far], rtol=1e-12, atol=0)
    # d/dM of the plain sum cancels between the two terms (~1/(m1 - m2)); for G at r << 1 strongly
    np.testing.assert_allclose(grads[0][far][:, :5], want_M[far][:, :5], rtol=1e-9, atol=0)
    np.testing.assert_allclose(grads[0][far][:, 5], want_M[far][:, 5], rtol=1e-7, atol=0)
    check_grads(gim_difference_G, (0.7, 1.0 + 1e-7, 1.0), order=1, modes=["fwd", "rev"])


@given(st.floats(min_value=-8.0, max_value=8.0))
def test_property_positive_finite(log10_r):
    out = _eval(jnp.asarray([10.0**log10_r]))[0]
    assert np.all(np.isfinite(out))
    assert np.all(out[:, 0] > 0)  # values positive
    assert np.all(out[:, 1] < 0)  # strictly decreasing in r
    assert np.all(out[:, 2] > 0)  # convex


def test_float32():
    """Documented claim: float32 inputs give < 5e-6 relative error over r in [1e-8, 1e8]."""
    r32 = jnp.asarray(np.concatenate([np.logspace(-8, 8, 801), 1 + np.linspace(-1e-3, 1e-3, 41)]), dtype=jnp.float32)
    values = jax.jit(lambda r: jnp.stack([f(r) for f in ALL.values()]))
    v32 = values(r32)
    assert v32.dtype == jnp.float32
    v64 = values(r32.astype(jnp.float64))  # same (float32-representable) points in float64
    err = np.abs(np.asarray(v32, np.float64) / np.asarray(v64) - 1.0).max(axis=1)
    assert np.all(err < 5e-6), dict(zip(ALL, err))
    d2 = jax.jit(jax.vmap(jax.grad(jax.grad(L_S))))(r32)  # all branches of the sub/product forms
    assert d2.dtype == jnp.float32 and np.all(np.isfinite(np.asarray(d2)))


def test_shapes_jit_vmap():
    r = jnp.logspace(-3, 3, 10).reshape(5, 2)
    for f in FUNCS.values():
        assert f(2.0).shape == ()
        assert f(r).shape == (5, 2)
    assert jnp.array_equal(jax.jit(lambda x: 2 * L_F(x))(r), 2 * L_F(r))
    assert jnp.allclose(jax.vmap(jax.vmap(L_F))(r), L_F(r), rtol=1e-15, atol=0)
    M, m1, m2 = jnp.ones((5, 2)), 1.0 + r * 1e-3, jnp.float64(1.0)
    out = jax.jit(gim_difference, static_argnums=0)(I_F, M, m1, m2)
    assert out.shape == (5, 2)
    assert G(jnp.ones(3), 2.0).shape == (3,)
    assert gim_difference_G(1.0, jnp.ones((4, 1)), jnp.ones(3)).shape == (4, 3)
    assert I_F(1).dtype == jnp.float64  # integer input promoted


def test_api_and_errors():
    assert set(loops.LOOP_FUNCTIONS) == set(FUNCS)
    assert set(loops.__all__) >= {
        "I_F",
        "I_S",
        "K",
        "L_F",
        "L_S",
        "G",
        "J",
        "scaled",
        "gim_difference",
        "gim_difference_G",
    }
    with pytest.raises(ValueError, match="unknown loop function"):
        gim_difference(jnp.sin, 1.0, 1.0, 2.0)
    with pytest.raises(ValueError, match="unknown loop function"):
        scaled("I_X", 1.0, 1.0)
    assert float(gim_difference("K", 2.0, 1.0, 3.0)) == pytest.approx(
        float(K(4.0) - K(4.0 / 9.0) / 9.0), rel=1e-14, abs=0
    )


# ----------------------------------------------------------------------------------------------------
# derivative machinery: custom JVPs, no loops in reverse mode, error bounds of the series
# ----------------------------------------------------------------------------------------------------
_LOG_R = np.log(
    np.array(
        [
            1e-8,
            1e-6,
            0.01,
            1 / 16 * (1 - 1e-3),
            0.3,
            1 - 1e-7,
            1.0,
            1 + 1e-7,
            1.7,
            3.0,
            16.0 * (1 + 1e-3),
            20.0,
            1e5,
            1e8,
        ]
    )
)


@pytest.mark.parametrize("name", list(ALL))
def test_check_grads_all_orders_and_modes(name):
    """check_grads (orders 1 and 2, fwd and rev) of every function, in u = ln r (one step size for all r:
    closed-form ranges, both sides of the series range |ln r| < ln 16, and r = 1, 1 ± 1e-7)."""
    f = jax.jit(lambda u: ALL[name](jnp.exp(u)))
    check_grads(f, (jnp.asarray(_LOG_R),), order=2, modes=["fwd", "rev"], eps=1e-4)  # orders 1 and 2


def test_check_grads_J():
    for n in (0, 2, 5):
        f = jax.jit(lambda u, n=n: J(n, jnp.expm1(u)))  # a = e^u - 1 in (-1, inf)
        check_grads(
            f,
            (jnp.log(jnp.asarray([0.2, 0.6, 0.999, 1.0, 1.5, 14.0, 17.0, 1e4])),),
            order=2,
            modes=["fwd", "rev"],
            eps=1e-4,
        )


# (M, m1, m2) near (|m1 - m2| <= 1e-2 m) and far, in the series range (|ln r| < ln 16) and beyond
_GIM_POINTS = np.array(
    [
        [0.7, 1.0 + 1e-7, 1.0],
        [0.7, 1.3, 1.0],
        [0.03, 1.0 - 1e-6, 1.0],
        [0.03, 0.5, 1.0],
        [30.0, 1.0 + 1e-6, 1.0],
        [30.0, 2.0, 1.0],
        [3.0, 1.0 + 3e-3, 1.0],
        [1.0, 1.0, 1.0],
    ]
)


@pytest.mark.parametrize(
    "name", ["I_F", "L_S", "f0"] + [pytest.param(n, marks=pytest.mark.slow) for n in ("I_S", "K", "L_F")]
)
def test_check_grads_gim(name):
    """check_grads (orders 1 and 2, fwd and rev) of the GIM differences in log-masses (scaled to O(1))."""
    diff = gim_difference_G if name == "f0" else functools.partial(gim_difference, FUNCS.get(name))
    scale = 1.0 if name == "f0" else 1e2

    def f(uM, u1, u2):
        return scale * diff(jnp.exp(uM), jnp.exp(u1), jnp.exp(u2))

    args = tuple(jnp.log(jnp.asarray(_GIM_POINTS[:, i])) for i in range(3))
    check_grads(jax.jit(f), args, order=2, modes=["fwd", "rev"], eps=1e-5)


def _primitive_names(jaxpr, out):
    """All primitive names in a (closed) jaxpr, recursing into sub-jaxprs (pjit, custom_jvp_call, ...)."""
    jaxpr = getattr(jaxpr, "jaxpr", jaxpr)
    for eqn in jaxpr.eqns:
        out.add(eqn.primitive.name)
        for param in eqn.params.values():
            for sub in param if isinstance(param, (tuple, list)) else (param,):
                if hasattr(sub, "eqns") or hasattr(getattr(sub, "jaxpr", None), "eqns"):
                    _primitive_names(sub, out)
    return out


def test_reverse_mode_has_no_loops():
    """jax.grad (first and second order) of every loop function contains no scan / while primitive."""
    r = jnp.float64(0.7)
    M, m1, m2 = jnp.float64(0.8), jnp.float64(1.0 + 1e-7), jnp.float64(1.0)
    programs = [jax.make_jaxpr(jax.grad(f))(r) for f in ALL.values()]
    programs += [jax.make_jaxpr(jax.grad(jax.grad(f)))(r) for f in (I_F, L_S, _f0)]
    programs += [jax.make_jaxpr(jax.grad(lambda a: J(3, a)))(r)]
    for f in FUNCS.values():
        programs.append(jax.make_jaxpr(jax.grad(lambda *a, f=f: gim_difference(f, *a), argnums=(0, 1, 2)))(M, m1, m2))
    programs.append(jax.make_jaxpr(jax.grad(gim_difference_G, argnums=(0, 1, 2)))(M, m1, m2))
    programs.append(jax.make_jaxpr(jax.hessian(lambda *a: gim_difference(I_S, *a), argnums=(0, 1, 2)))(M, m1, m2))
    for prog in programs:
        names = _primitive_names(prog, set())
        assert not any("scan" in n or "while" in n for n in names), sorted(names)
        assert "scan" not in str(prog) and "while" not in str(prog)


def test_series_error_bounds():
    """Rigorous truncation bounds of the Chebyshev series (relative to min |Φ| on the interval) as
    documented: values <= 1e-19, second t-derivatives <= 1e-16; float32 uses shorter series."""
    from djax.loops import _functions as impl

    bounds = impl.series_error_bounds()
    assert set(bounds) >= {"I_F", "I_S", "K", "L_F", "L_S", "G", "I_F·r", "L_S·r"}
    for name, (n64, n32, value, d1, d2) in bounds.items():
        assert 30 <= n64 <= 40 and n32 < n64, (name, n64, n32)
        assert value <= 1e-19 and d1 <= d2 <= 1e-16, (name, value, d1, d2)
    # the coefficients converge geometrically (analytic in |Im ln r| < 2 pi): the computed tail is tiny
    c = impl._SPEC_I_F.g.coef[64]
    assert abs(c[-1]) < 1e-17 * impl._SPEC_I_F.g.min_abs
    # an independent check of the exact coefficients: the series reproduces mpmath at a few points
    mp.mp.dps = 30
    norm = sum(abs(ck) for ck in c)
    for w in (-2.7, -0.3, 0.0, 1e-9, 1.9):
        t = mp.mpf(w) / impl._W
        series = mp.fsum(mp.mpf(ck) * mp.chebyt(k, t) for k, ck in enumerate(c))  # exact sum of the floats
        ref = mp.quad(lambda x: x**2 / (1 - x + mp.exp(w) * x), [0, 1])
        assert abs(series - ref) <= 1e-16 * norm, (w, series, ref)  # coefficient rounding only


def test_gim_gradients_vs_mpmath():
    """All three mass derivatives of the GIM differences (custom JVP at the mass level) against mpmath
    derivatives of the exact difference, near (incl. 1e-9 splittings) and far, series and closed ranges."""
    mp.mp.dps = 50
    points = [
        (0.8, 1.0 + 1e-9, 1.0),
        (0.8, 1.0 + 3e-3, 1.0),
        (0.8, 1.5, 1.0),
        (0.05, 1.0 + 1e-6, 1.0),
        (0.05, 0.7, 1.0),
        (40.0, 1.0 + 1e-6, 1.0),
        (40.0, 3.0, 1.0),
        (5.0, 1.0 - 2e-3, 1.0),
    ]
    for name in ("I_F", "L_S", "f0"):
        p = NUMERATORS.get(name, lambda x: 1)

        def exact(M, m1, m2):
            def f(r):
                return mp.quad(lambda x: p(x) / (1 - x + r * x), [0, 1])

            if name == "f0":
                return f(M**2 / m1**2) - f(M**2 / m2**2)
            # (f(r1) - f(r2)) directly cancels for tiny splittings: use the one-integral form
            r1, r2 = M**2 / m1**2, M**2 / m2**2
            return mp.quad(
                lambda x: (
                    p(x)
                    * ((1 - x + r2 * x) * m2**2 - (1 - x + r1 * x) * m1**2)
                    / ((1 - x + r1 * x) * (1 - x + r2 * x) * m1**2 * m2**2)
                ),
                [0, 1],
            )

        fn = gim_difference_G if name == "f0" else functools.partial(gim_difference, FUNCS[name])
        grad = jax.jit(jax.grad(fn, argnums=(0, 1, 2)))
        for M, m1, m2 in points:
            got = grad(M, m1, m2)
            args = [mp.mpf(M), mp.mpf(m1), mp.mpf(m2)]
            for i in range(3):

                def along(t, i=i):
                    a = list(args)
                    a[i] = t
                    return exact(*a)

                ref = float(mp.diff(along, args[i]))
                assert abs(float(got[i]) - ref) <= 1e-10 * abs(ref) + 1e-300, (name, (M, m1, m2), i)


def test_float32_gim_and_gradients():
    M, m1, m2 = (jnp.asarray(x, jnp.float32) for x in ([0.5, 3.0, 40.0], [1.0, 1.001, 2.0], [1.0, 1.0, 1.0]))
    for f in (functools.partial(gim_difference, I_F), gim_difference_G):
        out = f(M, m1, m2)
        assert out.dtype == jnp.float32
        g = jax.vmap(jax.grad(f, argnums=(0, 1, 2)))(M, m1, m2)
        assert all(x.dtype == jnp.float32 and bool(jnp.all(jnp.isfinite(x))) for x in g)
    ref = gim_difference(I_F, M.astype(jnp.float64), m1.astype(jnp.float64), m2.astype(jnp.float64))
    assert np.allclose(np.asarray(gim_difference(I_F, M, m1, m2), np.float64), np.asarray(ref), rtol=1e-5, atol=0)


@pytest.mark.strict_dtypes
def test_strict_dtype_promotion():
    """The loop functions and their derivatives promote no dtypes implicitly (float64 and float32).

    Promotion errors are raised while tracing: ``jax.eval_shape`` checks without compiling."""

    def dtype(f, *args):
        return jax.eval_shape(f, *args).dtype

    grad3 = functools.partial(jax.grad, argnums=(0, 1, 2))
    for dt in (jnp.float64, jnp.float32):
        r = jnp.asarray([1e-6, 0.5, 1.0, 3.0, 1e4], dt)
        for f in FUNCS.values():
            assert dtype(f, r) == dt and dtype(jax.vmap(jax.grad(jax.grad(f))), r) == dt
        M, m1, m2 = (jnp.asarray(x, dt) for x in ([0.5, 3.0, 40.0], [1.0, 1.001, 2.0], [1.0, 1.0, 1.0]))
        assert dtype(G, M, m1) == dt and dtype(jax.vmap(jax.grad(G)), M, m1) == dt
        for f in (I_F, L_S):
            diff = functools.partial(gim_difference, f)
            assert dtype(diff, M, m1, m2) == dt and dtype(functools.partial(scaled, f), M, m1) == dt
            assert all(x.dtype == dt for x in jax.eval_shape(jax.vmap(grad3(diff)), M, m1, m2))
        assert dtype(gim_difference_G, M, m1, m2) == dt
        assert all(x.dtype == dt for x in jax.eval_shape(jax.vmap(grad3(gim_difference_G)), M, m1, m2))
        assert all(
            x.dtype == dt
            for x in jax.tree_util.tree_leaves(
                jax.eval_shape(jax.vmap(jax.hessian(gim_difference_G, argnums=(0, 1, 2))), M, m1, m2)
            )
        )
        assert dtype(lambda a: J(3, a), r) == dt and dtype(jax.vmap(jax.grad(lambda a: J(3, a))), r) == dt
