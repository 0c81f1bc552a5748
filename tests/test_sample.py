"""NUTS driver: posterior recovery on toys, bit-for-bit checkpoint/resume, ArviZ output."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest

from djax.errors import CheckpointError
from djax.inference import SamplingInterrupted, log_density_model, run_chees, run_nuts, summarize, to_datatree
from djax.io import NutsCheckpoint, read_datatree, write_datatree

MU = np.array([1.0, -2.0])
SD = np.array([1.0, 2.0])
RHO = 0.8
COV = np.array([[SD[0] ** 2, RHO * SD[0] * SD[1]], [RHO * SD[0] * SD[1], SD[1] ** 2]])
PREC = np.linalg.inv(COV)


def gauss_log_density(x):
    d = x - MU
    return -0.5 * d @ PREC @ d


@pytest.fixture(scope="module")
def gauss_run():
    return run_nuts(
        log_density_model(gauss_log_density, 2),
        num_warmup=300,
        num_samples=500,
        num_chains=4,
        seed=1,
        progress=False,
    )


def test_correlated_gaussian_recovered(gauss_run):
    x = gauss_run.samples["x"]
    assert x.shape == (4, 500, 2)
    flat = x.reshape(-1, 2)
    # ESS is several hundred: MCSE(mean) ~ 0.04 sd, so 0.2 sd is a > 4-sigma band
    np.testing.assert_allclose(flat.mean(0), MU, atol=0.2 * SD.max())
    np.testing.assert_allclose(flat.std(0), SD, rtol=0.1)
    assert abs(np.corrcoef(flat.T)[0, 1] - RHO) < 0.05
    s = summarize(gauss_run)
    assert s.ok, s.warnings
    assert (s.table["r_hat"] < 1.01).all()
    st = gauss_run.sample_stats
    for k in ("lp", "energy", "tree_depth", "n_steps", "diverging", "acceptance_rate", "step_size"):
        assert st[k].shape == (4, 500), k
    # lp is the log density itself here (ImproperUniform prior, no transform)
    np.testing.assert_allclose(st["lp"], np.apply_along_axis(gauss_log_density, -1, x), atol=1e-10)
    assert np.all(st["tree_depth"] >= 1) and np.all(st["tree_depth"] <= 10)
    # the step size is fixed after warm-up
    assert np.all(st["step_size"] == st["step_size"][:, :1])


# hierarchical normal toy with known tau and sigma_j: the posterior is exactly Gaussian
Y = np.array([0.5, 2.0, -1.0])
SIG = np.array([0.5, 1.0, 0.8])
TAU, S_MU = 1.0, 5.0


def hier_model(y, sigma):
    mu = numpyro.sample("mu", dist.Normal(0.0, S_MU))
    theta = numpyro.sample("theta", dist.Normal(mu, TAU).expand([3]).to_event(1))
    numpyro.deterministic("theta_minus_mu", theta - mu)
    numpyro.sample("y", dist.Normal(theta, sigma).to_event(1), obs=y)


def hier_exact():
    """Gaussian conditioning: prior of (mu, theta) and y = theta + noise."""
    # Var(mu) = S^2, Cov(mu, theta_j) = S^2, Cov(theta_i, theta_j) = S^2 + tau^2 delta_ij
    prior_cov = S_MU**2 * np.ones((4, 4)) + np.diag([0.0, TAU**2, TAU**2, TAU**2])
    h = np.hstack([np.zeros((3, 1)), np.eye(3)])
    s = h @ prior_cov @ h.T + np.diag(SIG**2)
    gain = prior_cov @ h.T @ np.linalg.inv(s)
    mean = gain @ Y
    cov = prior_cov - gain @ h @ prior_cov
    return mean, np.sqrt(np.diag(cov))


def test_hierarchical_toy_recovered():
    r = run_nuts(
        hier_model,
        {"y": jnp.asarray(Y), "sigma": jnp.asarray(SIG)},
        num_warmup=300,
        num_samples=400,
        num_chains=2,
        seed=3,
        progress=False,
        segment=100,
    )
    mean, sd = hier_exact()
    draws = np.concatenate([r.samples["mu"][..., None], r.samples["theta"]], axis=-1).reshape(-1, 4)
    np.testing.assert_allclose(draws.mean(0), mean, atol=0.25 * sd.max())
    np.testing.assert_allclose(draws.std(0), sd, rtol=0.15)
    np.testing.assert_allclose(r.deterministic["theta_minus_mu"], r.samples["theta"] - r.samples["mu"][..., None])
    dt = to_datatree(
        r,
        observed={"y": Y},
        dims={"theta": ["flavour"], "theta_minus_mu": ["flavour"]},
        coords={"flavour": ["e", "mu", "tau"]},
    )
    assert list(dt["posterior"]["theta"].dims) == ["chain", "draw", "flavour"]
    assert list(dt["posterior"].coords["flavour"].values) == ["e", "mu", "tau"]
    s = summarize(dt, var_names=["mu", "theta"])
    assert (s.table["r_hat"] < 1.01).all(), s.table
    assert "theta[mu]" in s.table.index


GAUSS_MODEL = log_density_model(gauss_log_density, 2)


def _small(tmp, **kw):
    args = dict(num_warmup=40, num_samples=60, num_chains=2, seed=7, progress=False, segment=20)
    args.update(kw)
    return run_nuts(GAUSS_MODEL, store=None if tmp is None else NutsCheckpoint(tmp), **args)


def _assert_same(a, b):
    for k in a.samples:
        np.testing.assert_array_equal(a.samples[k], b.samples[k])
    for k in a.sample_stats:
        np.testing.assert_array_equal(a.sample_stats[k], b.sample_stats[k])


def test_checkpoint_resume_bit_for_bit(tmp_path):
    ref = _small(str(tmp_path / "ref"))
    # the chain does not depend on checkpointing (same segment length, no files)
    _assert_same(ref, _small(None))

    stops = [("warmup", 20), ("sampling", 40)]

    def hook(info):
        key = "warmup_done" if info["phase"] == "warmup" else "draws_done"
        if stops and info["phase"] == stops[0][0] and info[key] == stops[0][1]:
            stops.pop(0)
            raise KeyboardInterrupt

    d = str(tmp_path / "run")
    with pytest.raises(SamplingInterrupted) as e1:
        _small(d, on_segment=hook)
    assert e1.value.warmup_done == 20 and e1.value.draws_done == 0
    with pytest.raises(SamplingInterrupted) as e2:
        _small(d, on_segment=hook)
    assert e2.value.warmup_done == 40 and e2.value.draws_done == 40
    man = json.load(open(os.path.join(d, "manifest.json")))
    assert man["progress"]["draws_done"] == 40 and len(man["segments"]) == 2
    resumed = _small(d, on_segment=hook)
    _assert_same(ref, resumed)
    # resuming a finished run just reloads it; extending num_samples continues the chain
    _assert_same(ref, _small(d))
    longer = _small(d, num_samples=80)
    np.testing.assert_array_equal(longer.samples["x"][:, :60], ref.samples["x"])
    assert longer.samples["x"].shape == (2, 80, 2)


def test_corrupt_checkpoint_is_refused(tmp_path):
    d = tmp_path / "ck"
    _small(str(d), num_samples=20)
    man = json.loads((d / "manifest.json").read_text())
    state = d / man["state"]["file"]
    state.write_bytes(state.read_bytes()[:-7] + b"garbage")
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        _small(str(d), num_samples=20)
    (d / "manifest.json").write_text("{ not json")
    with pytest.raises(CheckpointError, match="corrupt checkpoint manifest"):
        _small(str(d), num_samples=20)


def test_sequential_and_parallel_fallback():
    with pytest.warns(UserWarning, match="sequentially"):
        r = run_nuts(
            log_density_model(gauss_log_density, 2),
            num_warmup=100,
            num_samples=100,
            num_chains=2,
            seed=2,
            chain_method="parallel",
            progress=False,
        )
    assert r.settings["chain_method"] == "sequential"
    assert r.samples["x"].shape == (2, 100, 2)
    assert np.all(np.isfinite(r.samples["x"]))


def test_datatree_roundtrip(gauss_run, tmp_path):
    dt = to_datatree(gauss_run, attrs={"run_name": "toy"})
    for p in (tmp_path / "post.zarr", tmp_path / "post.nc"):
        write_datatree(dt, p)
        write_datatree(dt, p)  # overwriting is atomic too
        back = read_datatree(p)
        np.testing.assert_array_equal(back["posterior"]["x"].values, gauss_run.samples["x"])
        np.testing.assert_array_equal(back["sample_stats"]["diverging"].values, gauss_run.sample_stats["diverging"])
        assert back.attrs["setting_seed"] == 1
        assert back.attrs["run_name"] == "toy"
        assert json.loads(back.attrs["settings_json"])["num_chains"] == 4
        assert not [f for f in os.listdir(tmp_path) if f.startswith(".")]


def test_summary_warns_on_bad_run():
    bad = run_nuts(
        log_density_model(gauss_log_density, 2), num_warmup=3, num_samples=15, num_chains=2, seed=0, progress=False
    )
    s = summarize(to_datatree(bad))
    assert not s.ok
    assert any("ess_bulk" in w for w in s.warnings)
    assert "WARNING" in s.text()
    # divergence check is independent of the others
    dt = to_datatree(bad)
    dt["sample_stats"]["diverging"][0, 0] = True
    s2 = summarize(dt, rhat_max=10.0, ess_min_per_chain=0.0)
    assert s2.num_divergences >= 1
    assert any("divergent" in w for w in s2.warnings)


def test_requires_x64():
    jax.config.update("jax_enable_x64", False)
    try:
        with pytest.raises(RuntimeError, match="64-bit"):
            run_nuts(log_density_model(gauss_log_density, 2), num_warmup=1, num_samples=1, progress=False)
    finally:
        jax.config.update("jax_enable_x64", True)


# ----------------------------------------------------------------------------- ChEES-HMC
def test_chees_correlated_gaussian_recovered():
    r = run_chees(GAUSS_MODEL, num_warmup=150, num_samples=400, num_chains=16, seed=4, progress=False)
    x = r.samples["x"]
    assert x.shape == (16, 400, 2)
    flat = x.reshape(-1, 2)
    np.testing.assert_allclose(flat.mean(0), MU, atol=0.1 * SD.max())
    np.testing.assert_allclose(flat.std(0), SD, rtol=0.08)
    assert abs(np.corrcoef(flat.T)[0, 1] - RHO) < 0.04
    s = summarize(r)
    assert (s.table["r_hat"] < 1.01).all(), s.table
    st = r.sample_stats
    assert r.num_divergences == 0
    # every chain takes the same number of leapfrog steps in an iteration; eps, T and the mass are fixed after
    # warm-up
    assert np.all(st["n_steps"] == st["n_steps"][:1])
    assert np.all(st["step_size"] == st["step_size"][0, 0])
    np.testing.assert_allclose(st["lp"], np.apply_along_axis(gauss_log_density, -1, x), atol=1e-10)
    assert r.settings["method"] == "chees" and r.settings["space"] == "latent"


def test_chees_hierarchical_with_prior_moves_recovered():
    r = run_chees(
        hier_model,
        {"y": jnp.asarray(Y), "sigma": jnp.asarray(SIG)},
        num_warmup=150,
        num_samples=200,
        num_chains=32,
        seed=5,
        prior_moves=2,
        progress=False,
    )
    mean, sd = hier_exact()
    draws = np.concatenate([r.samples["mu"][..., None], r.samples["theta"]], axis=-1).reshape(-1, 4)
    np.testing.assert_allclose(draws.mean(0), mean, atol=0.1 * sd.max())
    np.testing.assert_allclose(draws.std(0), sd, rtol=0.08)
    np.testing.assert_allclose(r.deterministic["theta_minus_mu"], r.samples["theta"] - r.samples["mu"][..., None])
    assert (summarize(r).table["r_hat"] < 1.01).all()


BOX_LO, BOX_HI, WALL_MU, WALL_SD = -1.0, 2.0, 1.8, 0.5


def box_model():
    """Uniform prior on a box cut by a Gaussian likelihood: the posterior is a truncated normal per coordinate."""
    x = numpyro.sample("x", dist.Uniform(BOX_LO, BOX_HI).expand([2]).to_event(1))
    numpyro.factor("ll", jnp.sum(-0.5 * ((x - WALL_MU) / WALL_SD) ** 2))


@pytest.mark.parametrize(("space", "prior_moves"), [("latent", 0), ("latent", 3), ("unconstrained", 1)])
def test_chees_truncated_normal_in_a_box(space, prior_moves):
    from scipy.stats import truncnorm

    r = run_chees(
        box_model,
        num_warmup=150,
        num_samples=150,
        num_chains=64,
        seed=6,
        space=space,
        prior_moves=prior_moves,
        progress=False,
    )
    tn = truncnorm((BOX_LO - WALL_MU) / WALL_SD, (BOX_HI - WALL_MU) / WALL_SD, loc=WALL_MU, scale=WALL_SD)
    flat = r.samples["x"].reshape(-1, 2)
    assert flat.min() >= BOX_LO and flat.max() <= BOX_HI
    np.testing.assert_allclose(flat.mean(0), tn.mean(), atol=0.03)
    np.testing.assert_allclose(flat.std(0), tn.std(), rtol=0.06)
    for q in (0.05, 0.5, 0.95):
        np.testing.assert_allclose(np.quantile(flat, q, axis=0), tn.ppf(q), atol=0.04)
    assert r.settings["space"] == space


WALL_K = 6.0


def wall_model():
    """An exponential likelihood wall exp(-e^{K x_0}) in a box, a Gaussian in x_1 (the shape of the cLFV walls)."""
    x = numpyro.sample("x", dist.Uniform(-4.0, 4.0).expand([2]).to_event(1))
    numpyro.factor("ll", -jnp.exp(WALL_K * x[0]) - 0.5 * x[1] ** 2)


def test_chees_stiff_points_keep_the_target(monkeypatch):
    """With prior moves, points where one leapfrog kick exceeds STIFF_KICK take no trajectory and HMC proposals onto
    them are rejected. With a threshold low enough that a tenth of the posterior is stiff, the marginal of x_0 still
    matches quadrature (proposals onto stiff points accepted, as with a one-sided rule, move it by ~0.2)."""
    from scipy import integrate

    from djax.inference import _chees

    monkeypatch.setattr(_chees, "STIFF_KICK", 0.3)
    r = run_chees(wall_model, num_warmup=150, num_samples=400, num_chains=64, seed=3, prior_moves=1, progress=False)
    x0 = r.samples["x"][..., 0].ravel()
    dens = lambda t: np.exp(-np.exp(WALL_K * t))  # noqa: E731
    Z = integrate.quad(dens, -4, 4)[0]
    mean = integrate.quad(lambda t: t * dens(t), -4, 4)[0] / Z
    cdf = lambda q: integrate.quad(dens, -4, q)[0] / Z  # noqa: E731
    np.testing.assert_allclose(x0.mean(), mean, atol=0.06)
    for q in (0.5, 0.9, 0.99):
        assert abs(cdf(np.quantile(x0, q)) - q) < 0.02, q
    assert r.settings["stiff_kick"] == 0.3 and r.num_divergences == 0


def _small_chees(tmp, **kw):
    args = dict(num_warmup=40, num_samples=60, num_chains=4, seed=7, progress=False, segment=20)
    args.update(kw)
    return run_chees(box_model, prior_moves=1, store=None if tmp is None else NutsCheckpoint(tmp), **args)


def test_chees_checkpoint_resume_bit_for_bit(tmp_path):
    ref = _small_chees(str(tmp_path / "ref"))
    _assert_same(ref, _small_chees(None))
    stops = [("warmup", 20), ("sampling", 40)]

    def hook(info):
        key = "warmup_done" if info["phase"] == "warmup" else "draws_done"
        if stops and info["phase"] == stops[0][0] and info[key] == stops[0][1]:
            stops.pop(0)
            raise KeyboardInterrupt

    d = str(tmp_path / "run")
    with pytest.raises(SamplingInterrupted) as e1:
        _small_chees(d, on_segment=hook)
    assert e1.value.warmup_done == 20 and e1.value.draws_done == 0
    with pytest.raises(SamplingInterrupted) as e2:
        _small_chees(d, on_segment=hook)
    assert e2.value.warmup_done == 40 and e2.value.draws_done == 40
    _assert_same(ref, _small_chees(d, on_segment=hook))
    longer = _small_chees(d, num_samples=80)
    np.testing.assert_array_equal(longer.samples["x"][:, :60], ref.samples["x"])


def test_chees_argument_errors():
    with pytest.raises(ValueError, match="proper priors"):
        run_chees(GAUSS_MODEL, num_warmup=2, num_samples=2, num_chains=2, prior_moves=1, progress=False)
    with pytest.raises(ValueError, match="num_chains >= 2"):
        run_chees(GAUSS_MODEL, num_warmup=2, num_samples=2, num_chains=1, progress=False)
    with pytest.raises(ValueError, match="space"):
        run_chees(GAUSS_MODEL, num_warmup=2, num_samples=2, num_chains=2, space="other", progress=False)


def test_chees_stored_programs_skip_initialisation_and_give_the_same_draws(tmp_path, monkeypatch):
    """With a program store, a repeated run reads the exported programs back instead of initialising and
    tracing the model, and gives the same draws as a run without the store (also across an interrupted run)."""
    from djax.inference import _chees
    from djax.io import ProgramFolder

    store = ProgramFolder(tmp_path / "programs")
    kw = dict(programs=store, program_key="box-model")
    ref = _small_chees(None)
    _assert_same(ref, _small_chees(None, **kw))
    assert sorted(p.suffix for p in store.path.iterdir()) == [".jaxexport", ".jaxexport", ".json", ".json"]

    def no_initialisation(*a, **k):
        raise AssertionError("initialize_model called")

    monkeypatch.setattr(_chees, "initialize_model", no_initialisation)
    _assert_same(ref, _small_chees(None, **kw))

    # interrupted on the stored path, resumed on it: the same draws
    def stop_once(info, done=[]):
        if not done and info["phase"] == "sampling":
            done.append(1)
            raise KeyboardInterrupt

    d = str(tmp_path / "run")
    with pytest.raises(SamplingInterrupted):
        _small_chees(d, on_segment=stop_once, **kw)
    _assert_same(ref, _small_chees(d, **kw))

    # other settings, another key, or a damaged entry: nothing stored applies, the model is initialised afresh
    for other in (dict(kw, seed=8), dict(kw, program_key="other-model")):
        with pytest.raises(AssertionError, match="initialize_model"):
            _small_chees(None, **other)
    seg = next(store.path.glob("*-segment.jaxexport"))
    seg.write_bytes(seg.read_bytes()[:100])
    with pytest.raises(AssertionError, match="initialize_model"):
        _small_chees(None, **kw)


def test_program_folder_round_trip_and_refusals(tmp_path):
    from djax.io import ProgramFolder, environment_digest

    f = ProgramFolder(tmp_path)
    assert f.load("k1") is None
    f.save("k1", b"\x00program", {"z0": [0.1, 1e-300]})
    assert f.load("k1") == (b"\x00program", {"z0": [0.1, 1e-300]})
    assert f.path == tmp_path / environment_digest()
    (f.path / "k1.json").write_text("{not json")
    assert f.load("k1") is None
    with pytest.raises(ValueError, match="program key"):
        f.load("../escape")
