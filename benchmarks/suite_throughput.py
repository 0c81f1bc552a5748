"""``throughput``: points per second of ``djax.observables``, the joint "paper" ln L, and ln L + gradient vs N.

Points are drawn uniformly in the latent variables of the prior box (``djax.model.PRIOR_BOX``, all 13 parameters free). Inputs are
generated on the device beforehand (a pool of at most 4 distinct chunks); N above the chunk size is run as a
Python loop over chunks of one compiled function (blocking on every chunk). Compilation is excluded (one warm-up
call per compiled shape); the figure is the median over ``repeats`` of N / wall time.
"""

from __future__ import annotations

import math
import time

import numpy as np

from . import harness as H

QUICK_N = (1_000, 10_000, 100_000)
FULL_N_CPU = (1_000, 10_000, 100_000, 1_000_000, 10_000_000)
FULL_N_GPU = tuple(10**k for k in range(3, 10))


def _repeats(n: int, quick: bool) -> int:
    if quick:
        return 3
    return 5 if n <= 100_000 else (3 if n <= 1_000_000 else 1)


def make_functions(spec=None):
    """Jitted batch functions of unit-cube points u (n, 13): observables, ln L, (ln L, d ln L/du)."""
    import jax
    import jax.numpy as jnp

    from djax import observables, resolve_terms
    from djax.likelihood import evaluate_log_likelihood
    from djax.model import params_from_values

    spec = resolve_terms("paper") if spec is None else spec

    def params(u):
        return params_from_values(H.unit_to_values(u))

    def obs(u):
        return observables(params(u), solar=True)

    def loglike(u):
        return evaluate_log_likelihood(params(u), spec)

    def value_grad(u):
        return jax.vmap(jax.value_and_grad(lambda v: evaluate_log_likelihood(params(v), spec)))(u)

    del jnp
    return {"observables": jax.jit(obs), "loglike": jax.jit(loglike), "loglike_value_and_grad": jax.jit(value_grad)}


def _pool(n_chunk: int, n_pool: int, seed: int):
    import jax

    key = jax.random.PRNGKey(seed)
    keys = jax.random.split(key, n_pool)
    return [jax.block_until_ready(jax.random.uniform(k, (n_chunk, 13), dtype=np.float64)) for k in keys]


def measure(fn, n: int, chunk: int, repeats: int, seed: int = 0) -> dict:
    """Median points/s of ``fn`` over N points (chunked loop above ``chunk``)."""
    import jax

    if n <= chunk:
        pool = _pool(n, 1, seed)
        n_chunks, size = 1, n
    else:
        n_chunks = math.ceil(n / chunk)
        size = chunk
        pool = _pool(chunk, min(4, n_chunks), seed)

    def run():
        for i in range(n_chunks):
            jax.block_until_ready(fn(pool[i % len(pool)]))

    t0 = time.perf_counter()
    jax.block_until_ready(fn(pool[0]))  # compile (excluded)
    compile_s = time.perf_counter() - t0
    t = H.time_call(run, repeats, warmup=0)
    n_eval = n_chunks * size
    return {
        "N": n_eval,
        "chunk": size,
        "n_chunks": n_chunks,
        "repeats": t["repeats"],
        "median_s": t["median_s"],
        "points_per_s": n_eval / t["median_s"],
        "best_points_per_s": n_eval / t["min_s"],
        "first_call_s": compile_s,
    }


#: Batch sizes of the value+grad / value ratio (target: <= GRAD_RATIO_TARGET at every size).
GRAD_RATIO_N = (4, 16, 64, 256, 1024, 4096, 16384, 100_000)
QUICK_GRAD_RATIO_N = (4, 1024)
GRAD_RATIO_TARGET = 4.0


def grad_ratio(fns, ns, seed: int = 0, rounds: int = 3) -> list:
    """Per batch size n: wall time per call of ln L and of (ln L, gradient) on the same n points, measured in
    alternation (``rounds`` rounds of a block of calls each, ~0.2 s per block), and their ratio (median over rounds)."""
    import statistics

    import jax

    f, g = fns["loglike"], fns["loglike_value_and_grad"]
    rows = []
    for n in ns:
        u = _pool(int(n), 1, seed)[0]
        t0 = time.perf_counter()
        jax.block_until_ready(f(u))
        cf = time.perf_counter() - t0
        t0 = time.perf_counter()
        jax.block_until_ready(g(u))
        cg = time.perf_counter() - t0
        # calls per block from one timed call of the gradient (the slower one)
        t0 = time.perf_counter()
        jax.block_until_ready(g(u))
        reps = max(1, min(2000, int(0.2 / max(time.perf_counter() - t0, 1e-6))))
        tv, tg, ratios = [], [], []
        for _ in range(rounds):
            a = H.time_call(lambda: [jax.block_until_ready(f(u)) for _ in range(reps)], 1, warmup=0)["median_s"]
            b = H.time_call(lambda: [jax.block_until_ready(g(u)) for _ in range(reps)], 1, warmup=0)["median_s"]
            tv.append(a / reps)
            tg.append(b / reps)
            ratios.append(b / a)
        rows.append(
            {
                "N": int(n),
                "calls_per_block": reps,
                "rounds": rounds,
                "value_s": statistics.median(tv),
                "value_and_grad_s": statistics.median(tg),
                "ratio": statistics.median(ratios),
                "ratio_min": min(ratios),
                "ratio_max": max(ratios),
                "value_first_call_s": cf,
                "value_and_grad_first_call_s": cg,
            }
        )
    return rows


def run(quick: bool = False, ns=None, seed: int = 0, ratio_ns=None) -> dict:
    """Run the suite; ``ns`` overrides the list of N (used by the tests)."""
    import jax

    backend = jax.default_backend()
    if ns is None:
        ns = QUICK_N if quick else (FULL_N_GPU if backend == "gpu" else FULL_N_CPU)
    # quick: one compiled shape fewer (N = 1e5 runs as 10 chunks of 1e4)
    chunk = (10_000 if quick else 100_000) if backend == "cpu" else 10_000_000
    obs_chunk = (10_000 if quick else 100_000) if backend == "cpu" else 1_000_000
    fns = make_functions()
    rows = []
    for name, fn in fns.items():
        for n in ns:
            c = obs_chunk if name == "observables" else chunk
            r = measure(fn, int(n), c, _repeats(int(n), quick), seed)
            rows.append({"quantity": name, **r})
    notes = [
        "float64 throughout. float32: not claimed -- djax's public functions require x64 (require_x64) and the "
        "cLFV rates (BR ~ 1e-13 from GIM differences of loop functions) are not validated in float32, so no "
        "float32 figure is reported.",
        "observables = every output of djax.observables(p, solar=True); loglike = joint ln L of the 'paper' preset "
        "(MEG II, Borexino, NA64 2023, BaBar 2017); value_and_grad = ln L and its gradient w.r.t. the 13 latent "
        "prior coordinates per point.",
        "Compilation excluded (first call timed separately as first_call_s). Medians over `repeats`; N above the "
        f"chunk size ({chunk:,} for ln L, {obs_chunk:,} for observables) runs as a loop over chunks of one compiled "
        "function.",
    ]
    if backend == "cpu":
        notes.append("GPU figures (N up to 1e9): pending -- no GPU was available to this run.")
    cols = ["quantity", "N", "chunk", "repeats", "median_s", "points_per_s", "best_points_per_s", "first_call_s"]
    md = H.markdown_table(rows, cols)
    ratio_rows = []
    if "loglike" in fns and "loglike_value_and_grad" in fns:
        if ratio_ns is None:
            ratio_ns = QUICK_GRAD_RATIO_N if quick else GRAD_RATIO_N
        ratio_rows = grad_ratio(fns, ratio_ns, seed)
        worst = max(r["ratio"] for r in ratio_rows)
        md += (
            "\nTime of ln L + gradient over the time of ln L on the same batch (same process, alternating "
            f"blocks; target <= {GRAD_RATIO_TARGET:g} at every batch size):\n\n"
            + H.markdown_table(
                ratio_rows,
                ["N", "calls_per_block", "rounds", "value_s", "value_and_grad_s", "ratio", "ratio_min", "ratio_max"],
            )
        )
        notes.append(
            f"value+grad / value: worst median ratio {worst:.3g} over N = {', '.join(str(r['N']) for r in ratio_rows)} "
            f"({'met' if worst <= GRAD_RATIO_TARGET else 'NOT met'}: target <= {GRAD_RATIO_TARGET:g} at every N)."
        )
    return {
        "suite": "throughput",
        "figures": rows,
        "grad_ratio": ratio_rows,
        "markdown": md,
        "notes": notes,
        "settings": {
            "ns": list(ns),
            "chunk": chunk,
            "obs_chunk": obs_chunk,
            "seed": seed,
            "grad_ratio_ns": list(ratio_ns or ()),
        },
    }
