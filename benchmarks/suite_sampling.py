"""``sampling``: NUTS (djax's ``run_nuts`` on the NumPyro "paper" model) against emcee on the same posterior.

Both samplers use the same log density: numpyro's potential of the default run file's model ("paper") in the unconstrained
space (``numpyro.infer.util.initialize_model``). emcee gets a vectorised log-probability (the jitted, vmapped
-potential over the walkers). Compilation is excluded for both: NUTS is run once to compile and then again
(another seed; its segment function comes from JAX's persistent compilation cache,
``djax.jobs.compilation_cache``, as in ``djax sample``); its wall time is the second run's warm-up + sampling
time (model set-up reported separately; the tracing and cache look-up of the segment function remain in the
warm-up time). emcee's jitted log-density is called once per batch shape before the timed run. R-hat and bulk
ESS come from ``arviz_stats`` on both outputs (emcee walkers are treated as chains); ESS/s = min bulk ESS over
the 13 latent parameters / wall time of the whole run (NUTS warm-up + sampling, emcee burn-in + sampling). Rank-normalised R-hat and bulk ESS are invariant
under the monotone map between numpyro's unconstrained coordinates (emcee) and the latent sites (NUTS).
"""

from __future__ import annotations

import time

import numpy as np

from . import harness as H

QUICK = {
    "nuts_chains": 2,
    "nuts_warmup": 100,
    "nuts_samples": 100,
    "max_tree_depth": 6,
    "emcee_walkers": 32,
    "emcee_burn": 300,
    "emcee_steps": 600,
}
FULL = {
    "nuts_chains": 4,
    "nuts_warmup": 500,
    "nuts_samples": 500,
    "max_tree_depth": 10,
    "emcee_walkers": 64,
    "emcee_burn": 5000,
    "emcee_steps": 10000,
}


def _diagnostics(posterior: dict) -> dict:
    """min bulk ESS, max R-hat over variables of a ``{name: (chain, draw)}`` dict (arviz_stats)."""
    import arviz_base
    import arviz_stats

    dt = arviz_base.from_dict({"posterior": posterior})
    ess = arviz_stats.ess(dt, method="bulk")
    rh = arviz_stats.rhat(dt)
    ess_v = {k: float(np.asarray(ess["posterior"][k] if "posterior" in ess.children else ess[k])) for k in posterior}
    rh_v = {k: float(np.asarray(rh["posterior"][k] if "posterior" in rh.children else rh[k])) for k in posterior}
    return {"min_ess_bulk": min(ess_v.values()), "max_rhat": max(rh_v.values()), "ess_bulk": ess_v, "rhat": rh_v}


def default_model():
    """The embedded default run file and its NumPyro model (the posterior of `djax sample`)."""
    from djax.inference import make_model
    from djax.jobs import load_config, prepare

    config = load_config()
    prep = prepare(config, "sample")
    return config, make_model(prep.spec, prep.priors, Q_F=config.model.Q_F, br_inv=config.model.br_invisible)


def _persistent_cache() -> str | None:
    """Switch on JAX's persistent compilation cache as ``djax sample`` does (None if DJAX_COMPILATION_CACHE=0).

    JAX decides once per process, at its first compilation, whether the cache is used; ``reset_cache`` makes it
    decide again now that the folder is set (earlier suites of the same ``djax bench`` run have compiled)."""
    from jax.experimental.compilation_cache import compilation_cache as cc

    from djax.jobs import compilation_cache

    path = compilation_cache()
    if path is not None:
        cc.reset_cache()
    return path


def run_nuts_bench(cfg: dict, seed: int) -> dict:
    from numpyro.infer import init_to_uniform

    from djax.inference import run_nuts

    # the posterior and sampler settings of `djax sample` (the embedded default run file)
    config, model = default_model()
    # run_nuts jits a new segment function per call: the persistent compilation cache (what `djax sample` uses)
    # serves the second run's compilation from the first one's
    cache_dir = _persistent_cache()
    kw = dict(
        num_warmup=cfg["nuts_warmup"],
        num_samples=cfg["nuts_samples"],
        num_chains=cfg["nuts_chains"],
        max_tree_depth=cfg["max_tree_depth"],
        progress=False,
        target_accept=config.sample.target_accept,
        init_strategy=init_to_uniform(radius=0.5),
    )
    t = time.perf_counter()
    run_nuts(model, seed=seed, **kw)  # compiles (excluded)
    compile_run_s = time.perf_counter() - t
    t = time.perf_counter()
    res = run_nuts(model, seed=seed + 1, **kw)
    total = time.perf_counter() - t
    # the second run's segment function is compiled from the persistent cache (tracing and the cache look-up
    # remain in its warm-up time); the model set-up (initialize_model, kernel init) is reported as init_s
    wall = float(res.timings["warmup"] + res.timings["sampling"])
    post = {k: np.asarray(v) for k, v in res.samples.items()}
    d = _diagnostics(post)
    steps = res.sample_stats["n_steps"]
    return {
        "sampler": "NUTS (djax run_nuts)",
        "wall_s": wall,
        "first_run_s": compile_run_s,
        "second_run_total_s": total,
        "compilation_cache": cache_dir,
        "init_s": float(res.timings.get("init", float("nan"))),
        **d,
        "ess_per_s": d["min_ess_bulk"] / wall,
        "draws": int(cfg["nuts_chains"] * cfg["nuts_samples"]),
        "mean_leapfrog_steps": float(np.mean(steps)),
        "divergences": int(res.num_divergences),
        "log_density_evals": int(np.sum(steps)),
    }


def run_emcee_bench(cfg: dict, seed: int) -> dict:
    import emcee
    import jax
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree
    from numpyro.infer import init_to_uniform
    from numpyro.infer.util import initialize_model

    _, model = default_model()  # the same posterior as the NUTS run
    nw = cfg["emcee_walkers"]
    keys = jax.random.split(jax.random.PRNGKey(seed), nw)
    # the same initialisation as NUTS: uniform in (-0.5, 0.5) in the unconstrained space, one per walker
    info = initialize_model(keys, model, init_strategy=init_to_uniform(radius=0.5))
    z0 = info.param_info.z
    names = sorted(z0)
    one = {k: z0[k][0] for k in names}
    _, unravel = ravel_pytree(one)
    pot = info.potential_fn

    @jax.jit
    def logp(zs):
        return jax.vmap(lambda z: -pot(unravel(z)))(zs)

    x0 = np.stack([np.asarray(ravel_pytree({k: z0[k][i] for k in names})[0]) for i in range(nw)])
    ndim = x0.shape[1]

    def lp(x):
        v = np.asarray(logp(jnp.asarray(x)))
        return np.where(np.isfinite(v), v, -np.inf)

    lp(x0)  # compile (excluded): the full ensemble and the half-ensemble the stretch move proposes
    lp(x0[: nw // 2])
    sampler = emcee.EnsembleSampler(nw, ndim, lp, vectorize=True)
    t = time.perf_counter()
    sampler.run_mcmc(x0, cfg["emcee_burn"] + cfg["emcee_steps"], progress=False)
    wall = time.perf_counter() - t
    chain = sampler.get_chain(discard=cfg["emcee_burn"])  # (steps, walkers, ndim)
    chain = np.swapaxes(chain, 0, 1)  # (walkers, steps, ndim)
    # column order of the flat vector: ravel_pytree flattens the dict by sorted key
    post = {k: chain[..., j] for j, k in enumerate(names)}
    d = _diagnostics(post)
    return {
        "sampler": f"emcee {emcee.__version__} (stretch move, vectorised)",
        "wall_s": wall,
        **d,
        "ess_per_s": d["min_ess_bulk"] / wall,
        "draws": int(nw * cfg["emcee_steps"]),
        "acceptance": float(np.mean(sampler.acceptance_fraction)),
        "log_density_evals": int(nw * (cfg["emcee_burn"] + cfg["emcee_steps"])),
    }


def run(quick: bool = False, cfg: dict | None = None, seed: int = 0) -> dict:
    cfg = dict(cfg or (QUICK if quick else FULL))
    nuts = run_nuts_bench(cfg, seed)
    em = run_emcee_bench(cfg, seed)
    ratio = nuts["ess_per_s"] / em["ess_per_s"] if em["ess_per_s"] > 0 else float("inf")
    cols = ["sampler", "wall_s", "draws", "min_ess_bulk", "max_rhat", "ess_per_s", "log_density_evals"]
    rows = [nuts, em]
    notes = [
        f"NUTS ESS/s over emcee ESS/s: {ratio:.3g} (target >= 10: {'met' if ratio >= 10 else 'NOT met'}).",
        f"Settings: {cfg}. NUTS: {nuts['divergences']} divergences, mean {nuts['mean_leapfrog_steps']:.1f} "
        f"leapfrog steps per draw; emcee mean acceptance {em['acceptance']:.3f}.",
        "ESS/s uses the whole wall time (warm-up/burn-in included, compilation excluded); min over the 13 "
        "latent parameters of the rank-normalised bulk ESS. A max R-hat far above 1.01 means the run is not "
        "converged and the ESS figure is not meaningful.",
    ]
    if nuts["compilation_cache"] is None:
        notes.append(
            "The persistent compilation cache is off (DJAX_COMPILATION_CACHE=0): the NUTS wall time "
            "includes a compilation of the segment function."
        )
    return {
        "suite": "sampling",
        "figures": [{k: r[k] for k in cols} for r in rows],
        "details": rows,
        "ratio_nuts_over_emcee": ratio,
        "markdown": H.markdown_table(rows, cols),
        "notes": notes,
        "settings": {"config": cfg, "seed": seed},
    }
