"""Multi-start fits and constrained maximisation against analytic answers and a brute-force scan."""

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest

from djax.inference import best_fit, best_fit_model, maximize_subject_to, profile


def test_best_fit_shifted_rosenbrock():
    def f(x):
        y = x - 0.5
        return (1 - y[0]) ** 2 + 100 * (y[1] - y[0] ** 2) ** 2

    r = best_fit(f, lambda k: jax.random.uniform(k, (2,), minval=-3, maxval=3), n_starts=6, steps=400, seed=0)
    np.testing.assert_allclose(r.x, [1.5, 1.5], atol=1e-6)
    assert r.value < 1e-10
    assert r.n_within >= 2 and r.values.shape == (6,)
    r2 = best_fit(
        f, lambda k: jax.random.uniform(k, (2,), minval=-3, maxval=3), n_starts=4, steps=300, seed=1, optimizer="lbfgs"
    )
    np.testing.assert_allclose(r2.x, [1.5, 1.5], atol=1e-6)


def test_best_fit_model_map_and_jacobian():
    y = jnp.array([1.0, 2.5, 0.3, 1.7])

    def model(y):
        mu = numpyro.sample("mu", dist.Normal(0.0, 10.0))
        numpyro.sample("s", dist.LogNormal(0.0, 1.0))
        numpyro.deterministic("two_mu", 2 * mu)
        numpyro.sample("y", dist.Normal(mu, 2.0), obs=y)

    mu_map = (np.sum(y) / 4.0) / (len(y) / 4.0 + 1 / 100.0)
    r = best_fit_model(model, {"y": y}, n_starts=4, steps=300, seed=0)
    np.testing.assert_allclose(r.constrained["mu"], mu_map, rtol=1e-8)
    np.testing.assert_allclose(r.constrained["two_mu"], 2 * mu_map, rtol=1e-8)
    # mode of LogNormal(0, 1) density is exp(-1); with the log-Jacobian it is exp(0)
    np.testing.assert_allclose(r.constrained["s"], np.exp(-1.0), rtol=1e-7)
    rj = best_fit_model(model, {"y": y}, n_starts=4, steps=300, seed=0, jacobian=True)
    np.testing.assert_allclose(rj.constrained["s"], 1.0, rtol=1e-7)


X0 = jax.random.uniform(jax.random.PRNGKey(1), (6, 2), minval=-1.5, maxval=1.5)


def disc_obj(x):
    return x[0] * x[1]


def disc_con(x):
    return jnp.array([x @ x - 1.0])


def test_disc_augmented_lagrangian():
    r = maximize_subject_to(disc_obj, disc_con, X0)
    assert r.feasible
    np.testing.assert_allclose(r.value, 0.5, rtol=1e-4)
    np.testing.assert_allclose(np.abs(r.x), [2**-0.5, 2**-0.5], rtol=1e-4)
    assert r.x[0] * r.x[1] > 0
    # KKT: grad(xy) = lambda grad(x^2 + y^2 - 1)  ->  lambda = 1/2
    np.testing.assert_allclose(r.multipliers, [0.5], rtol=1e-3)


def test_disc_penalty_continuation():
    r = maximize_subject_to(disc_obj, disc_con, X0, method="penalty", outer_iters=8, tol=1e-5)
    assert r.feasible and r.max_violation <= 1e-5
    np.testing.assert_allclose(r.value, 0.5, rtol=1e-4)


def test_linear_objective_polytope():
    # max 2x + 3y - z  s.t. x <= 1, y <= 2, z >= -1, x + y <= 2.5  ->  8 at (0.5, 2, -1)
    def obj(v):
        return 2 * v["x"] + 3 * v["y"] - v["z"]

    def con(v):
        return jnp.array([v["x"] - 1, v["y"] - 2, -1 - v["z"], v["x"] + v["y"] - 2.5])

    x0 = {k: jax.random.normal(jax.random.PRNGKey(i), (4,)) for i, k in enumerate("xyz")}
    r = maximize_subject_to(obj, con, x0)
    assert r.feasible
    np.testing.assert_allclose(r.value, 8.0, rtol=1e-4)
    np.testing.assert_allclose([r.x["x"], r.x["y"], r.x["z"]], [0.5, 2.0, -1.0], atol=1e-4)


def test_infeasible_is_reported():
    r = maximize_subject_to(lambda x: -(x[0] ** 2), lambda x: jnp.array([x[0] - 1, 2 - x[0]]), X0, outer_iters=6)
    assert not r.feasible and r.max_violation > 0.4


def ell_obj(x, m):
    return x[0] + m * x[1]


def ell_con(x, m):
    return jnp.array([x[0] ** 2 + 2 * x[1] ** 2 - 1.0])


def test_profile_matches_analytic_and_brute_force():
    grid = jnp.array([0.0, 0.5, 1.0, 2.0])
    p = profile(ell_obj, ell_con, grid, X0)
    assert p.feasible.all()
    # max a.x on x^T A x <= 1 is sqrt(a^T A^-1 a) = sqrt(1 + m^2/2)
    np.testing.assert_allclose(p.value, np.sqrt(1 + np.asarray(grid) ** 2 / 2), rtol=1e-6)
    # brute force at m = 1: 1201^2 grid, spacing h = 2e-3; the grid maximum is below the true
    # one by at most |grad g| h sqrt(2) ~ 4e-3
    h = 2e-3
    u = np.arange(-1.2, 1.2 + h / 2, h)
    xx, yy = np.meshgrid(u, u, indexing="ij")
    feas = xx**2 + 2 * yy**2 <= 1.0
    brute = np.max(np.where(feas, xx + 1.0 * yy, -np.inf))
    assert brute <= p.value[2] + 1e-9
    assert p.value[2] - brute < 4e-3
    assert "max g" in p.table()


def test_profile_per_point_starts():
    grid = jnp.array([0.5, 1.5])
    x0 = jnp.stack([X0, -X0])
    p = profile(ell_obj, ell_con, grid, x0, per_point_starts=True, method="penalty", outer_iters=8, tol=1e-5)
    np.testing.assert_allclose(p.value, np.sqrt(1 + np.asarray(grid) ** 2 / 2), rtol=1e-4)


@pytest.mark.parametrize("inner", ["adam"])
def test_inner_adam(inner):
    r = maximize_subject_to(
        disc_obj, disc_con, X0, inner=inner, inner_steps=1500, learning_rate=0.01, outer_iters=10, tol=1e-6
    )
    assert r.feasible
    np.testing.assert_allclose(r.value, 0.5, rtol=1e-3)
