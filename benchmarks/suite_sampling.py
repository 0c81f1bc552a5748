"""``sampling``: djax's default sampler (the run file's ``sample.method``) against emcee on the same posterior.

Both samplers target the posterior of the embedded default run file ("paper" likelihood). The default sampler runs
with the run file's ``[sample]`` settings (``djax.inference.run_chees`` or ``run_nuts``); emcee (stretch move,
vectorised) gets the jitted, vmapped log density of NumPyro's unconstrained space (``initialize_model``) and its
draws are mapped to the model's latent sites, so both are compared in the same coordinates. Several seeds;
per seed the figures are:

* ESS: for the default sampler the rank-normalised bulk ESS of ``arviz_stats`` (independent chains); for emcee
  N_total / tau with tau the ensemble's integrated autocorrelation time, ``emcee.autocorr.integrated_time`` on the
  (steps, walkers) chain (the walkers are *not* treated as independent chains). Min over the latent parameters.
  The other estimator is reported too, for both samplers.
* ESS/s = min ESS / wall time of the whole run (warm-up / burn-in included, compilation excluded: a first run
  with another seed compiles, later runs load the segment functions from JAX's persistent compilation cache,
  ``djax.jobs.compilation_cache``, as ``djax sample`` does; ``run_chees`` traces and compiles ahead of time, in
  its ``init`` timing, reported as ``init_s``; for ``run_nuts`` the tracing and cache look-up remain in the time).
* max R-hat and divergences (the default sampler), and the same-posterior check: the 5 / 50 / 95 % quantiles of
  every latent parameter, z = (q_djax - q_emcee) / sqrt(mcse_djax^2 + mcse_emcee^2) (quantile MCSE from
  ``arviz_stats.mcse``).

``ratio_nuts_over_emcee`` is the median over seeds of the default sampler's ESS/s over emcee's (the key keeps its
old name; ``default_sampler`` names the method).
"""

from __future__ import annotations

import time

import numpy as np

from . import harness as H

QUICK = {
    "seeds": [0, 1, 2],
    "num_chains": 32,
    "num_warmup": 60,
    "num_samples": 100,
    "emcee_walkers": 32,
    "emcee_burn": 300,
    "emcee_steps": 600,
}
FULL = {
    "seeds": [0, 1, 2],
    # None: the embedded default run file's value
    "num_chains": None,
    "num_warmup": None,
    "num_samples": None,
    "emcee_walkers": 64,
    "emcee_burn": 5000,
    "emcee_steps": 10000,
}
QUANTILES = (0.05, 0.5, 0.95)


def _dt(posterior: dict):
    import arviz_base

    return arviz_base.from_dict({"posterior": posterior})


def _get(res, k):
    return float(np.asarray(res["posterior"][k] if "posterior" in res.children else res[k]))


def _diagnostics(posterior: dict) -> dict:
    """Bulk ESS, R-hat (arviz_stats) and the ensemble-tau ESS of a ``{name: (chain, draw)}`` dict."""
    import arviz_stats
    import emcee

    dt = _dt(posterior)
    ess = arviz_stats.ess(dt, method="bulk")
    rh = arviz_stats.rhat(dt)
    ess_v = {k: _get(ess, k) for k in posterior}
    rh_v = {k: _get(rh, k) for k in posterior}
    names = sorted(posterior)
    chain = np.stack([np.swapaxes(posterior[k], 0, 1) for k in names], axis=-1)  # (steps, walkers, ndim)
    tau = np.atleast_1d(emcee.autocorr.integrated_time(chain, quiet=True))
    n_tot = chain.shape[0] * chain.shape[1]
    ess_tau = {k: float(n_tot / t) for k, t in zip(names, tau)}
    return {
        "min_ess_bulk": min(ess_v.values()),
        "min_ess_tau": min(ess_tau.values()),
        "max_rhat": max(rh_v.values()),
        "ess_bulk": ess_v,
        "ess_tau": ess_tau,
        "rhat": rh_v,
    }


def _quantiles(posterior: dict) -> dict:
    """``{name: [(q, mcse) for each of QUANTILES]}``."""
    import arviz_stats

    dt = _dt(posterior)
    out = {}
    for k, v in posterior.items():
        flat = np.asarray(v).ravel()
        out[k] = []
        for p in QUANTILES:
            se = _get(arviz_stats.mcse(dt, method="quantile", prob=p, var_names=[k]), k)
            out[k].append((float(np.quantile(flat, p)), se))
    return out


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


def _sampler_kwargs(config, cfg: dict) -> tuple[str, dict]:
    from numpyro.infer import init_to_uniform

    s = config.sample
    kw = dict(
        num_warmup=cfg["num_warmup"] if cfg.get("num_warmup") is not None else s.num_warmup,
        num_samples=cfg["num_samples"] if cfg.get("num_samples") is not None else s.num_samples,
        num_chains=cfg["num_chains"] if cfg.get("num_chains") is not None else s.num_chains,
        target_accept=s.target_accept,
        dense_mass=s.dense_mass,
        progress=False,
        init_strategy=init_to_uniform(radius=0.5),  # as djax sample (djax.jobs INIT_RADIUS)
    )
    seg = s.checkpoint_every if s.checkpoint_every > 0 else max(kw["num_warmup"], kw["num_samples"], 1)
    kw["segment"] = seg
    if s.method == "chees":
        kw.update(max_leapfrog=s.max_leapfrog, prior_moves=s.prior_moves)
    else:
        kw.update(max_tree_depth=s.max_tree_depth, chain_method=s.chain_method)
    return s.method, kw


def run_default(config, model, kw: dict, method: str, seed: int) -> tuple[dict, dict]:
    from djax.inference import run_chees, run_nuts

    fn = run_chees if method == "chees" else run_nuts
    t = time.perf_counter()
    res = fn(model, seed=seed, **kw)
    total = time.perf_counter() - t
    wall = float(res.timings["warmup"] + res.timings["sampling"])
    post = {k: np.asarray(v) for k, v in res.samples.items()}
    d = _diagnostics(post)
    steps = res.sample_stats["n_steps"]
    evals = int(np.sum(steps))
    if method == "chees":
        # per iteration and chain: the trajectory, prior_moves + 1 likelihood values, one value and gradient
        evals += int((kw["prior_moves"] + 2) * kw["num_chains"] * (kw["num_warmup"] + kw["num_samples"]))
    row = {
        "sampler": f"djax {method} ({res.settings['sampler']})",
        "seed": seed,
        "wall_s": wall,
        "run_total_s": total,
        "init_s": float(res.timings.get("init", float("nan"))),
        **d,
        "ess_per_s": d["min_ess_bulk"] / wall,
        "draws": int(steps.size),
        "mean_leapfrog_steps": float(np.mean(steps)),
        "divergences": int(res.num_divergences),
        "log_density_evals": evals,
        "step_size": float(np.mean(res.sample_stats["step_size"][:, -1])),
    }
    return row, post


def run_emcee(model, cfg: dict, seed: int) -> tuple[dict, dict]:
    import emcee
    import jax
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree
    from numpyro.distributions.transforms import biject_to
    from numpyro.infer import init_to_uniform
    from numpyro.infer.util import initialize_model

    nw = cfg["emcee_walkers"]
    keys = jax.random.split(jax.random.PRNGKey(seed), nw)
    # the same initialisation as djax sample: uniform in (-0.5, 0.5) in the unconstrained space, one per walker
    info = initialize_model(keys, model, init_strategy=init_to_uniform(radius=0.5))
    z0 = info.param_info.z
    names = sorted(z0)
    _, unravel = ravel_pytree({k: z0[k][0] for k in names})
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
    chain = np.swapaxes(sampler.get_chain(discard=cfg["emcee_burn"]), 0, 1)  # (walkers, steps, ndim)
    # to the model's latent sites (the coordinates the default sampler reports); one scalar site per column
    post = {}
    for j, k in enumerate(names):
        tf = biject_to(info.model_trace[k]["fn"].support)
        post[k] = np.asarray(tf(jnp.asarray(chain[..., j])))
    d = _diagnostics(post)
    row = {
        "sampler": f"emcee {emcee.__version__} (stretch move, vectorised)",
        "seed": seed,
        "wall_s": wall,
        **d,
        "ess_per_s": d["min_ess_tau"] / wall,
        "draws": int(nw * cfg["emcee_steps"]),
        "acceptance": float(np.mean(sampler.acceptance_fraction)),
        "log_density_evals": int(nw * (cfg["emcee_burn"] + cfg["emcee_steps"])),
    }
    return row, post


def quantile_z(a: dict, b: dict) -> dict:
    """z-scores of the 5/50/95 % quantiles of two posteriors (same site names)."""
    qa, qb = _quantiles(a), _quantiles(b)
    out = {}
    for k in sorted(a):
        out[k] = [(x - y) / np.hypot(sx, sy) for (x, sx), (y, sy) in zip(qa[k], qb[k])]
    return out


def run(quick: bool = False, cfg: dict | None = None, seed: int | None = None) -> dict:
    cfg = dict(cfg or (QUICK if quick else FULL))
    seeds = [int(seed)] if seed is not None else list(cfg["seeds"])
    config, model = default_model()
    method, kw = _sampler_kwargs(config, cfg)
    cache_dir = _persistent_cache()
    from djax.inference import run_chees, run_nuts

    t = time.perf_counter()
    (run_chees if method == "chees" else run_nuts)(model, seed=10_000 + seeds[0], **kw)  # compiles (excluded)
    compile_run_s = time.perf_counter() - t
    rows, ratios, zs = [], [], []
    for s in seeds:
        dj, post_dj = run_default(config, model, kw, method, s)
        em, post_em = run_emcee(model, cfg, s)
        z = quantile_z(post_dj, post_em)
        zmax = max(abs(v) for q in z.values() for v in q)
        dj["quantile_z"] = z
        dj["max_abs_quantile_z"] = zmax
        ratio = dj["ess_per_s"] / em["ess_per_s"] if em["ess_per_s"] > 0 else float("inf")
        dj["ratio_over_emcee"] = ratio
        # end to end: the default sampler's model set-up, tracing and compilation (from the persistent cache) added
        dj["ratio_over_emcee_with_init"] = (dj["min_ess_bulk"] / (dj["wall_s"] + dj["init_s"])) / em["ess_per_s"]
        rows += [dj, em]
        ratios.append(ratio)
        zs += [abs(v) for q in z.values() for v in q]
    ratio = float(np.median(ratios))
    dj_rows = [r for r in rows if r["sampler"].startswith("djax")]
    em_rows = [r for r in rows if r["sampler"].startswith("emcee")]
    cols = ["sampler", "seed", "wall_s", "draws", "min_ess_bulk", "min_ess_tau", "max_rhat", "ess_per_s"]
    zs = np.asarray(zs)
    notes = [
        f"Default sampler ({method}) ESS/s over emcee ESS/s, per seed: {', '.join(f'{r:.3g}' for r in ratios)}; "
        f"median {ratio:.3g} (target >= 10: {'met' if ratio >= 10 else 'NOT met'}).",
        "With the default sampler's init_s (model set-up, tracing, compilation loaded from the persistent cache) "
        "added to its wall time, per seed: "
        f"{', '.join(f'{r["ratio_over_emcee_with_init"]:.3g}' for r in dj_rows)} (init_s "
        f"{', '.join(f'{r["init_s"]:.1f}' for r in dj_rows)} s; emcee's jit compilation is excluded likewise).",
        f"Settings: {kw | {'init_strategy': 'init_to_uniform(radius=0.5)'}}; emcee {cfg['emcee_walkers']} walkers, "
        f"{cfg['emcee_burn']} burn-in + {cfg['emcee_steps']} steps.",
        f"Default sampler: max R-hat {max(r['max_rhat'] for r in dj_rows):.4f}, divergences "
        f"{[r['divergences'] for r in dj_rows]}, mean leapfrog steps per iteration "
        f"{np.mean([r['mean_leapfrog_steps'] for r in dj_rows]):.1f}; emcee acceptance "
        f"{np.mean([r['acceptance'] for r in em_rows]):.3f}.",
        f"Same posterior: {zs.size} quantile z-scores (5/50/95 % of every latent parameter, every seed): max |z| "
        f"{zs.max():.2f}, {np.mean(zs > 2):.1%} above 2 (about 5 % expected), {int(np.sum(zs > 3))} above 3.",
        "ESS: default sampler min rank-normalised bulk ESS (arviz_stats, independent chains); emcee min N_total/tau "
        "with tau the ensemble integrated autocorrelation time (emcee.autocorr.integrated_time); min_ess_bulk / "
        "min_ess_tau give the other estimator for both. ESS/s uses the whole wall time (warm-up/burn-in included, "
        "compilation excluded).",
    ]
    if cache_dir is None:
        notes.append(
            "The persistent compilation cache is off (DJAX_COMPILATION_CACHE=0): the default sampler's wall time "
            "includes a compilation of its segment functions."
        )
    return {
        "suite": "sampling",
        "figures": [{k: r[k] for k in cols} for r in rows],
        "details": rows,
        "default_sampler": method,
        "ratio_nuts_over_emcee": ratio,
        "ratios_per_seed": ratios,
        "ratios_with_init_per_seed": [r["ratio_over_emcee_with_init"] for r in dj_rows],
        "max_abs_quantile_z": float(zs.max()),
        "compile_run_s": compile_run_s,
        "compilation_cache": cache_dir,
        "markdown": H.markdown_table(rows, cols),
        "notes": notes,
        "settings": {"config": cfg, "seeds": seeds, "sampler": {k: v for k, v in kw.items() if k != "init_strategy"}},
    }
