"""Nested-sampling evidence: toy problems with analytic ln Z (small and fast: ~30 s on 2 cores in all)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest
from scipy.special import erf

from djax.inference._evidence import EvidenceResult, evidence

L_BOX = 5.0
MU = np.array([0.3, -1.0, 2.0])
SIGMA = np.array([0.5, 1.0, 0.3])


def gaussian_in_box():
    x = numpyro.sample("x", dist.Uniform(-L_BOX, L_BOX).expand([3]))
    numpyro.deterministic("r2", jnp.sum(x**2))
    numpyro.factor("loglike", jnp.sum(-0.5 * ((x - MU) / SIGMA) ** 2 - jnp.log(math.sqrt(2 * math.pi) * SIGMA)))


def exact_log_Z_box():
    """ln Z = sum_i ln[(Phi((L - mu_i)/s_i) - Phi((-L - mu_i)/s_i)) / (2 L)] for a normalised Gaussian L."""
    a = (L_BOX - MU) / (math.sqrt(2) * SIGMA)
    b = (-L_BOX - MU) / (math.sqrt(2) * SIGMA)
    return float(np.sum(np.log(0.5 * (erf(a) - erf(b)))) - 3 * math.log(2 * L_BOX))


@pytest.fixture(scope="module")
def box_result():
    return evidence(gaussian_in_box, num_live_points=300, seed=1)


def test_gaussian_in_a_box_matches_the_analytic_evidence(box_result):
    r = box_result
    exact = exact_log_Z_box()
    assert isinstance(r, EvidenceResult)
    assert r.converged and r.termination == "dlogz"
    assert abs(r.log_Z - exact) < 3 * r.log_Z_err, r.summary()
    # the reported error is the standard sqrt(H/n) and is close to the simulated-shrinkage spread
    assert r.log_Z_err == pytest.approx(math.sqrt(r.information / r.n_live))
    assert 0.5 < r.log_Z_err_mc / r.log_Z_err < 2.0
    # H of a Gaussian in a much larger box: ln(V / (sqrt(2 pi e) s)^3) (the posterior is nearly untruncated)
    H_exact = float(np.sum(np.log(2 * L_BOX / (math.sqrt(2 * math.pi * math.e) * SIGMA))))
    assert r.information == pytest.approx(H_exact, abs=0.3)
    assert r.n_likelihood_evals > r.n_dead + r.n_live


def test_posterior_samples_and_weights(box_result):
    r = box_result
    n = r.n_dead + r.n_live
    assert r.samples["x"].shape == (n, 3) and r.samples["r2"].shape == (n,)
    assert r.log_weights.shape == r.log_likelihood.shape == r.log_X.shape == (n,)
    np.testing.assert_allclose(np.logaddexp.reduce(r.log_weights), 0.0, atol=1e-10)
    np.testing.assert_allclose(r.samples["r2"], np.sum(r.samples["x"] ** 2, axis=1), rtol=1e-12)
    w = np.exp(r.log_weights)
    mean = w @ r.samples["x"]
    std = np.sqrt(w @ (r.samples["x"] - mean) ** 2)
    np.testing.assert_allclose(mean, MU, atol=0.15)
    np.testing.assert_allclose(std, SIGMA, rtol=0.2)
    draws = r.resample(2000, seed=3)
    assert draws["x"].shape == (2000, 3)
    np.testing.assert_allclose(draws["x"].mean(0), MU, atol=0.15)
    assert 300 < r.ess <= n
    assert "ln Z" in r.summary()


def normal_prior_with_observation():
    """x ~ N(0, 1), y ~ U(0, 2) (not in the likelihood), obs ~ N(x, 0.5) observed at 1, a constant factor."""
    x = numpyro.sample("x", dist.Normal(0.0, 1.0))
    numpyro.sample("y", dist.Uniform(0.0, 2.0))
    numpyro.sample("obs", dist.Normal(x, 0.5), obs=1.0)
    numpyro.factor("const", -0.3)


def test_icdf_priors_observed_sites_and_factors():
    r = evidence(normal_prior_with_observation, num_live_points=200, seed=0, return_sites=True)
    s = math.sqrt(1.0 + 0.25)
    exact = -0.5 * (1.0 / s) ** 2 - math.log(math.sqrt(2 * math.pi) * s) - 0.3
    assert r.latent_sites == ("x", "y")
    assert abs(r.log_Z - exact) < 3 * r.log_Z_err, r.summary()
    w = np.exp(r.log_weights)
    assert w @ r.samples["x"] == pytest.approx(1.0 / 1.25, abs=0.1)  # posterior mean of x
    assert np.all((r.samples["y"] >= 0) & (r.samples["y"] <= 2))


def test_seed_key_and_unit_cube_output():
    r1 = evidence(
        normal_prior_with_observation, num_live_points=50, seed=jax.random.PRNGKey(5), dlogz=0.5, return_sites=False
    )
    r2 = evidence(
        normal_prior_with_observation, num_live_points=50, seed=jax.random.PRNGKey(5), dlogz=0.5, return_sites=False
    )
    assert r1.log_Z == r2.log_Z  # reproducible
    u = r1.samples["__u"]
    assert u.shape == (r1.n_dead + r1.n_live, 2) and np.all((u >= 0) & (u < 1))


def test_max_samples_stops_unconverged():
    r = evidence(normal_prior_with_observation, num_live_points=50, seed=0, max_samples=100, return_sites=False)
    assert not r.converged and r.termination == "max_samples" and r.n_dead == 100


def test_input_errors():
    def discrete():
        numpyro.sample("k", dist.Poisson(3.0))

    def no_icdf():
        numpyro.sample("p", dist.Dirichlet(jnp.ones(3)))

    with pytest.raises(ValueError, match="discrete"):
        evidence(discrete, num_live_points=10)
    with pytest.raises(ValueError, match="icdf"):
        evidence(no_icdf, num_live_points=10)
    with pytest.raises(ValueError, match="num_live_points"):
        evidence(gaussian_in_box, num_live_points=1)
    with pytest.raises(ValueError, match="num_delete"):
        evidence(gaussian_in_box, num_live_points=10, num_delete=10)
    with pytest.raises(ValueError, match="dlogz"):
        evidence(gaussian_in_box, num_live_points=10, dlogz=0.0)


@pytest.mark.slow
def test_djax_model_with_two_free_parameters():
    """ln Z of the 'paper' model with only epsilon and m_A' free vs the brute-force prior average of L (~40 s)."""
    import djax
    from djax.inference import _evidence as E

    djax.enable_x64()
    fixed = dict(
        M_F=1000.0,
        m_S1=400.0,
        m_S2=700.0,
        theta=math.pi / 4,
        y_e=4e-4,
        y_mu=8e-4,
        y_tau=0.0,
        yp_e=8e-4,
        yp_mu=-4e-4,
        yp_tau=0.0,
        g_D=0.3,
    )
    model = djax.numpyro_model("paper", priors=fixed)
    r = evidence(model, num_live_points=100, seed=0, dlogz=0.1)
    assert r.converged and set(r.latent_sites) == {"m_Aprime__u", "epsilon__u"}
    assert {"epsilon", "m_Aprime", "br_mu_e_gamma"} <= set(r.samples)
    layout = E._latent_layout(model, (), {})
    ll = jax.jit(jax.vmap(lambda u: E._loglike_of_trace(E._trace(model, (), {}, E._unflatten(layout, u)))))
    lls = np.asarray(ll(jax.random.uniform(jax.random.PRNGKey(42), (100_000, 2))))
    m = lls.max()
    brute = m + math.log(np.mean(np.exp(lls - m)))
    assert abs(r.log_Z - brute) < 3 * r.log_Z_err + 0.01, (r.summary(), brute)
