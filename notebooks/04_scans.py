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
# # Scans over the prior box
#
# A quasi-random (Sobol) scan of the default prior box ("paper" likelihood), streamed in chunks through one
# jitted, vmapped point function, written to Zarr, with 2D exclusion maps accumulated on the fly in
# (m_A', ε) and (M_F, m_S1). A point is *allowed* when every likelihood term is inside its 90 % CL region.
# Then: how an interrupted scan is resumed.
#
# `DJAX_NOTEBOOK_SMALL=1`: 2·10⁴ points in chunks of 5000; unset: 10⁶ points.

# %%
import os
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import djax

djax.enable_x64()
from djax.inference import build_point_fn, run_scan
from djax.io import SCAN_STATE_FILE, ScanStore, read_scan
from djax.jobs import load_config, prepare

SMALL = os.environ.get("DJAX_NOTEBOOK_SMALL") == "1"
RUN_DIR = Path(tempfile.mkdtemp(prefix="djax_nb04_")) if SMALL else Path("notebook_runs") / "04_scans"
N_POINTS, CHUNK = (20_000, 5_000) if SMALL else (1_000_000, 65_536)
config = load_config(
    None,
    {
        "run.output_dir": (RUN_DIR / "scan").as_posix(),
        "run.overwrite": True,
        "output.plots": False,
        "scan.n_points": N_POINTS,
        "scan.chunk_size": CHUNK,
        "scan.method": "sobol",
        "scan.bins": 30,
        "scan.projections": [["m_Aprime", "epsilon"], ["M_F", "m_S1"]],
    },
)
print(
    f"small settings: {SMALL}; {config.scan.n_points} points, chunks of {config.scan.chunk_size}, "
    f"preset {config.likelihood.preset!r}, output {config.output_path}"
)

# %% [markdown]
# ## The scan
#
# `djax.scan(config)` is what `djax scan` runs. The log-uniform priors are scanned uniformly in log, the
# signed-log Yukawas uniformly in their latent variable.

# %%
t0 = time.perf_counter()
res = djax.scan(config, quiet=True)
dt_scan = time.perf_counter() - t0
print(
    f"scan of {res.n_done} points in {dt_scan:.1f} s ({res.n_done / dt_scan:.3g} points/s incl. compilation); "
    f"complete: {res.complete}"
)
print(f"ALLOWED FRACTION: {res.allowed_fraction:.5f} ({res.n_allowed} of {res.n_done} points)")
print(f"best ln L = {res.best_loglike:.4g} at", {k: float(f"{v:.4g}") for k, v in res.best_point.items()})
print("timings [s]:", {k: round(v, 3) if isinstance(v, float) else v for k, v in res.timings.items()})

# %% [markdown]
# ## Exclusion maps
#
# The fraction of points allowed in each cell of the two projections. In (m_A', ε) the NA64 and BaBar curves
# carve out the upper region; MEG II acts on the Yukawas and therefore lowers the allowed fraction everywhere.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
for ax, (key, m) in zip(axes, res.maps.items()):
    pc = ax.pcolormesh(m["x_edges"], m["y_edges"], m["fraction"].T, vmin=0, vmax=1, cmap="viridis")
    ax.set_xscale("log" if m["x_scale"].startswith("log") else "linear")
    ax.set_yscale("log" if m["y_scale"].startswith("log") else "linear")
    ax.set_xlabel(m["x"])
    ax.set_ylabel(m["y"])
    ax.set_title(f"allowed fraction: {m['x']} vs {m['y']}")
    frac = m["allowed"].sum() / max(m["total"].sum(), 1)
    print(
        f"map {key}: {m['total'].sum()} points, allowed {frac:.5f}; "
        f"allowed fraction per cell from {np.nanmin(m['fraction']):.3f} to {np.nanmax(m['fraction']):.3f}"
    )
fig.colorbar(pc, ax=axes, label="allowed fraction")
fig.savefig(RUN_DIR / "exclusion_maps.png", dpi=110)
print("wrote", RUN_DIR / "exclusion_maps.png")

# %% [markdown]
# The stored points and outputs can be read back (here: the allowed fraction per term, i.e. which constraint
# does the excluding).

# %%
data = read_scan(config.output_path, params=False)
names = sorted(k.split("/", 1)[1] for k in data if k.startswith("outputs/lnL_"))
thr = np.log(0.1)  # 90% CL of the Poisson zero-count terms
for n in names:
    v = data[f"outputs/{n}"]
    print(f"{n:22s} fraction inside 90% CL: {float(np.mean(v >= thr)):.4f}")
print("stored outputs:", sorted(k.split("/", 1)[1] for k in data))

# %% [markdown]
# ## Resuming an interrupted scan
#
# The scan state (`scan_state.json`) is updated only after a chunk is durable in `scan.zarr`, so an
# interruption (Ctrl-C, a lost job) loses at most the chunk in flight. The job continues such a run with
# `run.resume = true` (CLI: `djax scan RUNFILE --resume`; Python: `djax.scan(config, resume=True)`). Here the same
# machinery one level down: `djax.inference.run_scan`, the driver the job calls, with the job's point function
# and priors (`djax.jobs.prepare`) and a `djax.io.ScanStore`. We interrupt a second scan after its first chunk
# (a callback raising `KeyboardInterrupt`, as Ctrl-C would), then run it again on the same store, which
# continues it from the first incomplete chunk. Settings must match the stored ones.

# %%
resumable = load_config(
    None,
    {
        "run.output_dir": (RUN_DIR / "resumable").as_posix(),
        "output.plots": False,
        "scan.n_points": 4 * CHUNK if SMALL else 4 * 65_536,
        "scan.chunk_size": CHUNK if SMALL else 65_536,
        "scan.bins": 30,
        "scan.projections": [["m_Aprime", "epsilon"]],
    },
)


prep = prepare(resumable, "scan")  # the compiled terms and priors the scan job would use
sc = resumable.scan
point_fn = build_point_fn(
    prep.spec, prep.priors, Q_F=resumable.model.Q_F, br_inv=resumable.model.br_invisible, cl=sc.cl
)
scan_kw = dict(
    n_points=sc.n_points,
    method=sc.method,
    chunk_size=sc.chunk_size,
    seed=resumable.run.seed,
    projections=sc.projections,
    bins=sc.bins,
    store_keys=("all",),
    progress=False,
)


def stop_after_first(i, summary):
    if i == 0:
        raise KeyboardInterrupt


folder = resumable.output_path
try:
    run_scan(point_fn, prep.priors, store=ScanStore(folder), on_chunk=stop_after_first, **scan_kw)
except KeyboardInterrupt:
    print("interrupted after the first chunk")
import json

state = json.loads((Path(folder) / SCAN_STATE_FILE).read_text())
print(f"on disk: {state['completed_chunks']} complete chunk(s) of {sc.n_points // sc.chunk_size}")
res2 = run_scan(point_fn, prep.priors, store=ScanStore(folder), **scan_kw)  # the store holds a scan: continued
print(f"RESUMED: {res2.n_done} points done, complete: {res2.complete}, allowed fraction {res2.allowed_fraction:.5f}")
fresh = run_scan(point_fn, prep.priors, store=None, **scan_kw)  # no store: summaries only
same = (
    fresh.n_allowed == res2.n_allowed
    and fresh.best_loglike == res2.best_loglike
    and all(np.array_equal(fresh.maps[k]["allowed"], res2.maps[k]["allowed"]) for k in fresh.maps)
)
print(f"an uninterrupted scan of the same points: allowed fraction {fresh.allowed_fraction:.5f} (identical: {same})")
