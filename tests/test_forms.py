"""Likelihood term forms (djax.likelihood._forms) and curve evaluation (djax.likelihood._curves)."""

import math
from statistics import NormalDist

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from djax.likelihood import _curves as C
from djax.likelihood import _forms as F

pytestmark = pytest.mark.strict_dtypes

CLS = [0.68, 0.9, 0.95, 0.99]


# ----------------------------------------------------------------------------------------- CL points
@pytest.mark.parametrize("cl", CLS)
def test_poisson_zero_count_cl_point(cl):
    # zero observed events: P(0 | s) = exp(-s) = 1 - cl defines the excluded mean, so L(x90)/L(0) = 1 - cl
    v = F.poisson_zero_count(3.0, 3.0, cl)
    assert v.dtype == jnp.float64
    np.testing.assert_allclose(v, math.log(1.0 - cl), rtol=1e-14)
    # the Poisson pmf route (scipy), independent of the implementation
    s90 = -math.log(1.0 - cl)
    np.testing.assert_allclose(v, stats.poisson.logpmf(0, s90) - stats.poisson.logpmf(0, 0.0), rtol=1e-12)


def test_documented_values_at_90():
    np.testing.assert_allclose(F.poisson_zero_count(1.0, 1.0), -2.302585092994046, rtol=1e-14)
    np.testing.assert_allclose(F.half_gaussian(1.0, 1.0), -1.3527717270477, rtol=1e-12)
    np.testing.assert_allclose(F.half_gaussian_sigma(1.0, 0.9), 1.0 / 1.6448536269514722, rtol=1e-13)


@pytest.mark.parametrize("cl", CLS)
def test_half_gaussian_cl_point(cl):
    x90 = 2.5e-13
    sigma = F.half_gaussian_sigma(x90, cl)
    # the half-normal with this sigma has its cl quantile at x90
    np.testing.assert_allclose(stats.halfnorm.cdf(x90, scale=float(sigma)), cl, rtol=1e-12)
    z = stats.norm.ppf(0.5 * (1 + cl))
    np.testing.assert_allclose(F.half_gaussian(x90, x90, cl), -0.5 * z * z, rtol=1e-12)


def test_gaussian():
    np.testing.assert_allclose(F.gaussian(3.85e-10, 3.85e-10, 6.37e-10), 0.0, atol=0)
    np.testing.assert_allclose(F.gaussian(3.85e-10 + 6.37e-10, 3.85e-10, 6.37e-10), -0.5, rtol=1e-13)
    np.testing.assert_allclose(
        F.gaussian(-1.0, 1.0, 2.0), stats.norm.logpdf(-1, 1, 2) - stats.norm.logpdf(1, 1, 2), rtol=1e-13
    )


@pytest.mark.parametrize("n,b", [(0, 0.0), (0, 2.0), (3, 2.5), (1, 4.0), (10, 1.0)])
@pytest.mark.parametrize("s", [0.0, 0.3, 2.0, 17.0])
def test_counting_matches_poisson_pmf(n, b, s):
    ref = stats.poisson.logpmf(n, s + b) - stats.poisson.logpmf(n, b) if b > 0 else -s
    np.testing.assert_allclose(F.counting(s, n, b), ref, rtol=1e-12, atol=1e-14)


def test_counting_reduces_to_poisson_zero_count():
    for cl in CLS:
        x = np.linspace(0.0, 3.0, 7)
        s = -math.log(1 - cl) * x  # events per unit x/x90
        np.testing.assert_allclose(F.counting(s, 0, 0.7), F.poisson_zero_count(x, 1.0, cl), rtol=1e-13)


def test_counting_maximum_and_gradient_at_zero():
    n, b = 7, 3.0
    g = jax.grad(F.counting)(0.0, n, b)
    np.testing.assert_allclose(g, n / b - 1.0, rtol=1e-13)
    # maximum at s = n - b when n > b
    np.testing.assert_allclose(jax.grad(F.counting)(n - b, n, b), 0.0, atol=1e-14)


# ------------------------------------------------------------------------------------- monotonicity
@given(st.floats(0.0, 50.0), st.floats(1e-6, 50.0), st.sampled_from(CLS))
def test_upper_limit_forms_decrease(x, dx, cl):
    for f in (F.poisson_zero_count, F.half_gaussian):
        assert f(x + dx, 1.0, cl) < f(x, 1.0, cl) or (f is F.half_gaussian and x == 0 and dx < 1e-9)


@given(st.floats(0.0, 100.0), st.floats(1e-3, 50.0), st.integers(0, 20), st.floats(0.0, 30.0))
def test_counting_decreases_when_n_le_b(s, ds, n, extra):
    b = n + extra + 1e-3  # n <= b
    assert F.counting(s + ds, n, b) < F.counting(s, n, b)


# ------------------------------------------------------------------------------------ gradients
def test_gradients_finite():
    xs = jnp.array([0.0, 1e-300, 1e-12, 0.3, 1.0, 5.0])
    for f in (
        lambda t: F.poisson_zero_count(t, 1.0),
        lambda t: F.half_gaussian(t, 1.0),
        lambda t: F.counting(t, 3, 2.0),
        lambda t: F.counting(t, 0, 0.0),
        lambda t: F.gaussian(t, 0.5, 0.1),
    ):
        g = jax.vmap(jax.grad(f))(xs)
        h = jax.vmap(jax.grad(jax.grad(f)))(xs)
        assert np.all(np.isfinite(g)) and np.all(np.isfinite(h))
    # derivatives w.r.t. the limit value and CL too
    for f in (F.half_gaussian, F.poisson_zero_count):
        g = jax.vmap(jax.grad(f, argnums=(1, 2)), in_axes=(0, None, None))(xs, 1.0, 0.9)
        assert np.all(np.isfinite(np.array(g)))


@pytest.mark.parametrize("power", [1.0, 2.0, 3.0])
@pytest.mark.parametrize("v", [0.0, -0.0, 1e-200, -2e-11, 2.8e-11])
def test_yield_ratio(power, v):
    lim = 2.8e-11
    np.testing.assert_allclose(F.yield_ratio(v, lim, power), (abs(v) / lim) ** power, rtol=1e-13, atol=0)
    g = jax.grad(F.yield_ratio, argnums=(0, 1, 2))(v, lim, power)
    assert np.all(np.isfinite(np.array(g)))
    if v == 0.0 and power > 1:
        assert g[0] == 0.0


def test_mu_limit_via_yield_ratio():
    # a magnetic-moment limit mu < mu90: rate ~ mu^2, so ln L(mu90) = ln(1 - cl) and ln L(mu90/2) = ln(0.1)/4
    mu90 = 2.8e-11
    np.testing.assert_allclose(F.poisson_zero_count(F.yield_ratio(mu90, mu90, 2), 1.0), math.log(0.1), rtol=1e-13)
    np.testing.assert_allclose(
        F.poisson_zero_count(F.yield_ratio(mu90 / 2, mu90, 2), 1.0), math.log(0.1) / 4, rtol=1e-13
    )


def test_scalar_terms_dispatch_jit_vmap():
    terms = F.ScalarTerms(
        form=np.array([F.POISSON_ZERO_COUNT, F.HALF_GAUSSIAN, F.GAUSSIAN, F.COUNTING], dtype=np.int32),
        value=np.array([1.5e-13, 4.1e-30, 3.85e-10, 2e-15]),
        sigma=np.array([1.0, 1.0, 6.37e-10, 1.0]),
        cl=np.array([0.9, 0.9, 0.9, 0.9]),
        power=np.array([1.0, 1.0, 1.0, 1.0]),
        n_obs=np.array([0.0, 0.0, 0.0, 2.0]),
        background=np.array([1.0, 1.0, 1.0, 0.5]),
    )
    x = np.array([1.5e-13, -4.1e-30, 1.0e-9, 4e-15])
    out = jax.jit(F.scalar_terms_loglike)(x, terms)
    ref = [
        F.poisson_zero_count(1.0, 1.0),
        F.half_gaussian(1.0, 1.0),
        F.gaussian(1e-9, 3.85e-10, 6.37e-10),
        F.counting(2.0, 2, 0.5),
    ]
    np.testing.assert_allclose(out, ref, rtol=1e-13)
    xs = np.stack([x, 0 * x, 2 * x])
    outs = jax.vmap(F.scalar_terms_loglike, in_axes=(0, None))(xs, terms)
    np.testing.assert_allclose(outs[0], out, rtol=1e-13)
    g = jax.grad(lambda z: jnp.sum(F.scalar_terms_loglike(z, terms)))(0 * x)
    assert np.all(np.isfinite(g))


# ------------------------------------------------------------------------------------- curves
def _tables():
    t1 = C.make_table([1e-3, 1e-2, 1e-1, 1.0], [1e-5, 3e-5, 1e-4, 1e-2])
    t2 = C.make_table([5e-3, 5e-2, 5.0], [2e-5, 2e-5, 1e-3])
    return t1, t2


def test_eps90_loglog_interpolation_and_outside():
    t1, _ = _tables()
    m = np.array([1e-3, 3e-3, 0.05, 0.7, 1.0])
    ref = np.exp(np.interp(np.log(m), np.log([1e-3, 1e-2, 1e-1, 1.0]), np.log([1e-5, 3e-5, 1e-4, 1e-2])))
    np.testing.assert_allclose(jax.vmap(C.eps90, in_axes=(0, None))(m, t1), ref, rtol=1e-13)
    # power law between knots: eps ~ m^k exactly
    k = math.log(3.0) / math.log(10.0)
    np.testing.assert_allclose(C.eps90(2e-3, t1), 1e-5 * 2.0**k, rtol=1e-13)
    for mo in (9e-4, 1.0001, 10.0, 0.0, -1.0):
        assert C.eps90(mo, t1) == np.inf
        assert not C.in_range(mo, t1)


def test_curve_gradients_finite():
    t1, t2 = _tables()
    stack = C.stack_tables([t1, t2])
    mm, ee = np.meshgrid([0.0, -1.0, 1e-4, 1e-3, 2e-3, 1e-2, 0.5, 1.0, 3.0, 5.0], [0.0, 1e-6, 3e-5])
    mm, ee = jnp.asarray(mm.ravel()), jnp.asarray(ee.ravel())
    for f in (
        lambda m, e: C.curve_loglike(e, m, t1),
        lambda m, e: C.curve_loglike(e, m, t1, shape=F.HALF_GAUSSIAN),
        lambda m, e: jnp.log(jnp.minimum(C.combined_envelope(m, stack), 1.0)),
        lambda m, e: jnp.minimum(C.eps90(m, t1), 1.0),
    ):
        g = jax.jit(jax.vmap(jax.grad(f, argnums=(0, 1))))(mm, ee)
        assert np.all(np.isfinite(np.array(g))), g


def test_curve_loglike_at_limit_and_outside():
    t1, _ = _tables()
    m = 0.05
    e90 = C.eps90(m, t1)
    np.testing.assert_allclose(C.curve_loglike(e90, m, t1), math.log(0.1), rtol=1e-12)
    np.testing.assert_allclose(C.curve_loglike(e90, m, t1, shape=F.HALF_GAUSSIAN), -1.3527717270477, rtol=1e-12)
    np.testing.assert_allclose(C.curve_loglike(e90 / 2, m, t1), math.log(0.1) / 4, rtol=1e-12)
    # BR_inv = 0.5 halves the yield
    np.testing.assert_allclose(C.curve_loglike(e90, m, t1, br_inv=0.5), math.log(0.1) / 2, rtol=1e-12)
    assert C.curve_loglike(1.0, 5.0, t1) == 0.0


def test_combined_envelope_is_pointwise_min():
    t1, t2 = _tables()
    stack = C.stack_tables([t1, t2])
    ms = np.geomspace(5e-4, 10.0, 101)
    env = jax.jit(jax.vmap(C.combined_envelope, in_axes=(0, None)))(ms, stack)
    e1 = jax.vmap(C.eps90, in_axes=(0, None))(ms, t1)
    e2 = jax.vmap(C.eps90, in_axes=(0, None))(ms, t2)
    np.testing.assert_allclose(env, np.minimum(e1, e2), rtol=1e-13)
    assert env[0] == np.inf and env[-1] == np.inf
    only2 = jax.vmap(C.combined_envelope, in_axes=(0, None, None))(ms, stack, np.array([False, True]))
    np.testing.assert_allclose(only2, e2, rtol=1e-13)


@pytest.mark.parametrize("cl", [0.9, 0.95])
@pytest.mark.parametrize("shape", ["poisson", "half_gaussian"])
def test_upper_limit_tail_keeps_the_cl_point_and_turns_planar(shape, cl):
    """The likelihood's upper-limit form equals the exact form down to ln L = TAIL_LNL (so the CL point is
    untouched), is C1 at the turn, and beyond it is linear in ln x (a plane in the log coordinates)."""
    from djax.likelihood import TAIL_LNL, upper_limit_loglike

    HALF_GAUSSIAN, POISSON_ZERO_COUNT = F.HALF_GAUSSIAN, F.POISSON_ZERO_COUNT

    code = HALF_GAUSSIAN if shape == "half_gaussian" else POISSON_ZERO_COUNT
    exact = F.half_gaussian if shape == "half_gaussian" else F.poisson_zero_count
    k = 2.0 if shape == "half_gaussian" else 1.0
    z = NormalDist().inv_cdf(0.5 * (1 + cl))
    r_t = math.sqrt(-2 * TAIL_LNL) / z if shape == "half_gaussian" else TAIL_LNL / math.log(1 - cl)
    f = jax.jit(lambda r: upper_limit_loglike(r, 1.0, cl, code))
    near = np.array([0.0, 1e-3, 0.5, 1.0, 2.0, 0.999 * r_t])
    np.testing.assert_allclose(f(near), exact(near, 1.0, cl), rtol=1e-14, atol=0)
    cl_value = math.log(1 - cl) if shape == "poisson" else -0.5 * z * z
    np.testing.assert_allclose(f(1.0), cl_value, rtol=1e-14)
    np.testing.assert_allclose(f(r_t), TAIL_LNL, rtol=1e-12)
    # slope continuous at the turn, and d ln L / d ln r constant (= k TAIL_LNL) beyond it
    g = jax.grad(lambda lr: upper_limit_loglike(jnp.exp(lr), 1.0, cl, code))
    below, above = float(g(math.log(r_t) - 1e-9)), float(g(math.log(r_t) + 1e-9))
    np.testing.assert_allclose([below, above], [k * TAIL_LNL] * 2, rtol=1e-6)
    far = np.log(r_t) + np.array([0.5, 3.0, 30.0, 300.0])
    np.testing.assert_allclose([float(g(x)) for x in far], k * TAIL_LNL, rtol=1e-12)
    np.testing.assert_allclose(f(np.exp(far)), TAIL_LNL * (1 + k * (far - math.log(r_t))), rtol=1e-12)
    # still decreasing everywhere, and the exact form is steeper (exponential in ln r) beyond the turn
    r = np.geomspace(1e-3, 1e6, 400)
    assert np.all(np.diff(np.asarray(f(r))) < 0)
    assert np.all(np.asarray(f(r[r > r_t])) > np.asarray(exact(r[r > r_t], 1.0, cl)))
