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
from djax.loops import G, I_F, I_S, J, K, L_F, L_S, gim_difference, gim_difference_G, scaled

REF = json.loads((pathlib.Path(__file__).parent / "reference" / "loops_reference.json").read_text())
R_GRID = np.array([float(r) for r in REF["r"]])
FUNCS = {"I_F": I_F, "I_S": I_S, "K": K, "L_F": L_F, "L_S": L_S}
NUMERATORS = {"I_F": lambda x: x**2, "I_S": lambda x: x * (1 - x), "K": lambda x: x,
              "L_F": lambda x: x**2 * (1 - x), "L_S": lambda x: x * (1 - x) ** 2}


def _f0(r):
    """G as a function of r = M^2/m^2 (m = 1)."""
    return G(jnp.sqrt(r), 1.0)


ALL = dict(FUNCS, f0=_f0)


def _ref(table, name):
    return np.array([float(mp.mpf(v)) for v in REF[table][name]])


def _max_rel(x, ref):
    x = np.asarray(x, dtype=np.float64)
    return float(np.max(np.abs(x - ref) / np.abs(ref)))


@functools.lru_cache(maxsize=None)
def _jitted(name, order):
    f = ALL[name]
    for _ in range(order):
        f = jax.grad(f)
    return jax.jit(jax.vmap(f))


def test_reference_grid_covers_requirements():
    for r in [1e-8, 1e8, 1.0, 1 + 1e-9, 1 - 1e-9, 1 + 1e-6, 1 - 1e-6, 1 + 1e-3, 1 - 1e-3]:
        assert np.any(R_GRID == r)
    assert np.sum((R_GRID >= 1e-8) & (R_GRID <= 1e8)) >= 60


@pytest.mark.parametrize("name", list(ALL))
def test_values_vs_mpmath(name):
    err = _max_rel(_jitted(name, 0)(jnp.asarray(R_GRID)), _ref("values", name))
    assert err < 1e-13, err


@pytest.mark.parametrize("name", list(ALL))
def test_first_derivative_vs_mpmath(name):
    err = _max_rel(_jitted(name, 1)(jnp.asarray(R_GRID)), _ref("d1", name))
    assert err < 1e-10, err


@pytest.mark.parametrize("name", list(ALL))
def test_second_derivative_vs_mpmath(name):
    err = _max_rel(_jitted(name, 2)(jnp.asarray(R_GRID)), _ref("d2", name))
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


@pytest.mark.parametrize("name", list(ALL))
@pytest.mark.parametrize("r", [1e-6, 0.3, 0.5, 1.0, 1 + 1e-7, 1.5, 3.0, 1e5])
def test_check_grads(name, r):
    # finite-difference step below r (the functions are only defined for r > 0)
    check_grads(ALL[name], (jnp.float64(r),), order=2, modes=["fwd", "rev"], eps=1e-3 * min(r, 1.0))


def test_exact_values_at_r_equal_one():
    exact = {"I_F": 1 / 3, "I_S": 1 / 6, "K": 1 / 2, "L_F": 1 / 12, "L_S": 1 / 12}
    for name, val in exact.items():
        assert abs(float(FUNCS[name](1.0)) - val) <= 2e-16
    assert float(G(3.0, 3.0)) == pytest.approx(1.0, abs=1e-16)
    # derivatives at r = 1: f'(1) = -∫ P x, f''(1) = 2 ∫ P x^2
    d1 = {"I_F": -1 / 4, "I_S": -1 / 12, "K": -1 / 3, "L_F": -1 / 20, "L_S": -1 / 30}
    d2 = {"I_F": 2 / 5, "I_S": 1 / 10, "K": 1 / 2, "L_F": 1 / 15, "L_S": 1 / 30}
    for name in FUNCS:
        assert float(jax.grad(FUNCS[name])(1.0)) == pytest.approx(d1[name], rel=1e-14)
        assert float(jax.grad(jax.grad(FUNCS[name]))(1.0)) == pytest.approx(d2[name], rel=1e-13)


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
    assert float(G(1.0, 1e4)) == pytest.approx(np.log(1e8), rel=1e-7)
    assert float(G(1e4, 1.0)) == pytest.approx(1e-8 * np.log(1e8), rel=1e-7)


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
        assert float(J(n, aa)) == pytest.approx(float(ref), rel=1e-13)
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


@pytest.mark.parametrize("name", list(ALL))
def test_gim_gradient_at_equal_masses(name):
    def diff(M, m1, m2):
        if name == "f0":
            return gim_difference_G(M, m1, m2)
        return gim_difference(FUNCS[name], M, m1, m2)

    for row in REF["gim_derivative"]:
        M, m = float(row["M"]), float(row["m"])
        val = diff(M, m, m)
        grads = jax.grad(diff, argnums=(0, 1, 2))(M, m, m)
        hess = jax.hessian(diff, argnums=(0, 1, 2))(M, m, m)
        assert float(val) == 0.0
        assert all(np.isfinite(float(g)) for g in grads)
        assert np.all(np.isfinite(np.asarray(jax.tree_util.tree_leaves(hess))))
        ref = float(mp.mpf(row[name]))
        assert float(grads[1]) == pytest.approx(ref, rel=1e-11)
        assert float(grads[2]) == pytest.approx(-ref, rel=1e-11)
        assert float(grads[0]) == pytest.approx(0.0, abs=1e-14 * abs(ref))


def test_gim_gradients_finite_and_correct_near_branch_boundary():
    """Gradients of the GIM difference w.r.t. all masses across the near/far switch (|m1-m2| = 1e-2 m)."""
    f = functools.partial(gim_difference, "L_S")
    for M in [1e-3, 0.8, 1.0, 50.0]:
        for d in [0.0, 1e-12, 1e-4, 0.0099, 0.0101, 0.3]:
            args = (jnp.float64(M), jnp.float64(1.0 + d), jnp.float64(1.0))
            g = jax.grad(f, argnums=(0, 1, 2))(*args)
            assert all(np.isfinite(float(x)) for x in g)
            # away from m1 == m2, compare with the gradient of the plain sum
            if d > 1e-3:
                plain = jax.grad(lambda M, a, b: scaled(L_S, M, a) - scaled(L_S, M, b),
                                 argnums=(0, 1, 2))(*args)
                for x, y in zip(g, plain):
                    assert float(x) == pytest.approx(float(y), rel=1e-9, abs=1e-12 * abs(float(y)))
    check_grads(f, (1.3, 1.0 + 1e-6, 1.0), order=2, modes=["fwd", "rev"])
    check_grads(gim_difference_G, (0.7, 1.0, 1.0), order=2, modes=["fwd", "rev"])


_GUARDED = jax.jit(jax.vmap(lambda r: jnp.stack(
    [jnp.stack([f(r), jax.grad(f)(r), jax.grad(jax.grad(f))(r)]) for f in ALL.values()])))


@given(st.floats(min_value=-8.0, max_value=8.0))
def test_property_positive_finite(log10_r):
    out = np.asarray(_GUARDED(jnp.asarray([10.0**log10_r])))[0]
    assert np.all(np.isfinite(out))
    assert np.all(out[:, 0] > 0)  # values positive
    assert np.all(out[:, 1] < 0)  # strictly decreasing in r
    assert np.all(out[:, 2] > 0)  # convex


@pytest.mark.parametrize("name", list(ALL))
def test_float32(name):
    """Documented claim: float32 inputs give < 5e-6 relative error over r in [1e-8, 1e8]."""
    r32 = jnp.asarray(np.concatenate([np.logspace(-8, 8, 801), 1 + np.linspace(-1e-3, 1e-3, 41)]),
                      dtype=jnp.float32)
    f = ALL[name]
    v32 = f(r32)
    assert v32.dtype == jnp.float32
    v64 = f(r32.astype(jnp.float64))
    err = np.max(np.abs(np.asarray(v32, np.float64) / np.asarray(v64) - 1.0))
    assert err < 5e-6, err
    assert np.all(np.isfinite(np.asarray(jax.vmap(jax.grad(jax.grad(f)))(r32))))


def test_shapes_jit_vmap():
    r = jnp.logspace(-3, 3, 10).reshape(5, 2)
    for f in FUNCS.values():
        assert f(2.0).shape == ()
        assert f(r).shape == (5, 2)
        assert jnp.array_equal(jax.jit(f)(r), f(r))
        assert jnp.allclose(jax.vmap(f)(r), f(r), rtol=1e-15, atol=0)
        assert jnp.allclose(jax.vmap(jax.vmap(f))(r), f(r), rtol=1e-15, atol=0)
    M, m1, m2 = jnp.ones((5, 2)), 1.0 + r * 1e-3, jnp.float64(1.0)
    out = jax.jit(gim_difference, static_argnums=0)(I_F, M, m1, m2)
    assert out.shape == (5, 2)
    assert jnp.allclose(jax.vmap(lambda a, b: gim_difference("I_F", a, b, 1.0))(M, m1), out,
                        rtol=1e-15, atol=0)
    assert G(jnp.ones(3), 2.0).shape == (3,)
    assert gim_difference_G(1.0, jnp.ones((4, 1)), jnp.ones(3)).shape == (4, 3)
    assert I_F(1).dtype == jnp.float64  # integer input promoted


def test_api_and_errors():
    assert set(loops.LOOP_FUNCTIONS) == set(FUNCS)
    assert set(loops.__all__) >= {"I_F", "I_S", "K", "L_F", "L_S", "G", "J", "scaled",
                                  "gim_difference", "gim_difference_G"}
    with pytest.raises(ValueError, match="unknown loop function"):
        gim_difference(jnp.sin, 1.0, 1.0, 2.0)
    with pytest.raises(ValueError, match="unknown loop function"):
        scaled("I_X", 1.0, 1.0)
    assert float(gim_difference("K", 2.0, 1.0, 3.0)) == pytest.approx(
        float(K(4.0) - K(4.0 / 9.0) / 9.0), rel=1e-14)
