# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Posterior sampling with NUTS
#
# NUTS (NumPyro) on the default posterior: the embedded run file, i.e. the reference study's "paper"
# likelihood (MEG II, NA64, BaBar, Borexino) with the default priors. Then the ArviZ diagnostics (R-hat,
# bulk/tail ESS, divergences), corner and trace plots, and the posteriors of derived observables against their
# limits.
#
# `DJAX_NOTEBOOK_SMALL=1`: 2 chains x (50 warm-up + 50 draws), enough to exercise the machinery but *not* a
# converged posterior (the diagnostics will say so). Unset: the run file's defaults (4 chains x (500 warm-up +
# 500 draws)).

# %%
import os
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np

import djax

djax.enable_x64()
from djax.jobs import load_config
from djax.plotting import corner_plot, observable_posteriors, save_figure, trace_plot

SMALL = os.environ.get("DJAX_NOTEBOOK_SMALL") == "1"
RUN_DIR = Path(tempfile.mkdtemp(prefix="djax_nb03_")) if SMALL else Path("notebook_runs") / "03_posterior_sampling"
overrides = {"run.output_dir": (RUN_DIR / "sample").as_posix(), "run.overwrite": True, "output.plots": False}
if SMALL:
    overrides.update(
        {"sample.num_warmup": 50, "sample.num_samples": 50, "sample.num_chains": 2, "sample.checkpoint_every": 25}
    )
config = load_config(None, overrides)  # None: the embedded default run file
s = config.sample
print(
    f"small settings: {SMALL}; {s.num_chains} chains x ({s.num_warmup} warm-up + {s.num_samples} draws), "
    f"preset {config.likelihood.preset!r}; output {config.output_path}"
)

# %% [markdown]
# ## Sampling
#
# `djax.sample(config)` is what `djax sample` runs: it writes `posterior.nc` (an ArviZ DataTree with the
# parameters, the per-term ln L and derived observables), `summary.txt`/`summary.csv`, checkpoints and the
# run's metadata into the run folder, and returns them.

# %%
t0 = time.perf_counter()
out = djax.sample(config, progress=False, quiet=True)
print(f"sampling took {time.perf_counter() - t0:.1f} s; run folder {out.folder}")
print("files:", sorted(p.name for p in out.folder.iterdir()))
dt = out.datatree
post = dt["posterior"]
print("posterior variables:", list(post.data_vars))

# %% [markdown]
# ## Diagnostics
#
# Rank-normalised split R-hat (should be ≤ 1.01), bulk and tail ESS (≥ 100 per chain) and divergent transitions
# after warm-up (should be 0). With the small settings expect warnings.

# %%
free = list(config.free_parameters)
table = out.summary.table
cols = [c for c in ("mean", "sd", "ess_bulk", "ess_tail", "r_hat") if c in table.columns]
print("DIAGNOSTICS TABLE")
print(table.loc[free, cols].to_string(float_format=lambda x: f"{x:.4g}"))
print(f"divergent transitions: {out.summary.num_divergences}")
print(
    f"max R-hat: {float(table.loc[free, 'r_hat'].max()):.4f}; min bulk ESS: {float(table.loc[free, 'ess_bulk'].min()):.1f}"
)
for w in out.summary.warnings or ["all convergence checks passed"]:
    print("  -", w)
print("sampler timings [s]:", {k: round(v, 2) for k, v in out.result.timings.items()})

# %% [markdown]
# ## Corner and trace plots
#
# Log-uniform parameters are shown as log10; the signed-log-uniform Yukawas (y = s sinh u, s = 10⁻¹²) as
# asinh(y/s) = u, on which their prior is flat.

# %%
scales = {p.name: p.scale for p in config.priors if p.type == "signed_log_uniform"}
fig = corner_plot(dt, signed_log_scales=scales, max_draws=500)
print("wrote", [str(p) for p in save_figure(fig, RUN_DIR / "corner", ("png",))])
fig

# %%
fig = trace_plot(dt, signed_log_scales=scales)
print("wrote", [str(p) for p in save_figure(fig, RUN_DIR / "trace", ("png",))])
fig

# %% [markdown]
# ## Derived observables
#
# Posteriors of BR(μ → eγ), the largest electromagnetic transition moment, the Borexino- and
# XENONnT-equivalent moments and Σm_ν, with the experimental limits.

# %%
fig = observable_posteriors(dt)
print("wrote", [str(p) for p in save_figure(fig, RUN_DIR / "observables", ("png",))])
for name in ("br_mu_e_gamma", "borexino_mu_equiv_muB", "xenonnt_mu_equiv_muB", "m_nu_sum_eV"):
    if name in post:
        v = np.ravel(np.asarray(post[name].values, dtype=float))
        q05, q50, q95 = np.quantile(v, [0.05, 0.5, 0.95])
        print(f"{name:24s} median {q50:.3e}  90% interval [{q05:.3e}, {q95:.3e}]")
bx = np.ravel(np.asarray(post["borexino_mu_equiv_muB"].values, dtype=float))
print(f"posterior P(Borexino-equivalent moment > 1e-3 x Borexino limit) = {float(np.mean(bx > 2.8e-14)):.4f}")
fig
