"""GPU figures in one run: throughput of observables, ln L and value+grad from N = 1e5 to 1e9 points (chunked,
generated on the device), a 1e9-point scan streamed in bounded memory, and NUTS with many chains.

Runs with the accelerator image's own Python and JAX (jax >= 0.11, numpyro; no ArviZ, no Zarr needed):

    PYTHONPATH=. python3 -m benchmarks.suite_gpu --out "$OUT"          # what benchmarks/gpu.sh runs
    PYTHONPATH=. python3 -m benchmarks.suite_gpu --quick --out /tmp/g  # seconds on a CPU (the test does this)

Writes ``gpu-<backend>.json`` and ``.md`` (the harness's result format). float64 throughout: djax's public
functions require x64 and the cLFV rates (BR ~ 1e-13 from GIM differences) are not validated in float32, so
no float32 figure is claimed.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np


def _setup():
    import jax

    jax.config.update("jax_enable_x64", True)
    import djax  # noqa: F401  (the core only: jax + numpy)

    return jax


def _prior_sampler(jax, jnp):
    """Points uniform in the latent variables of the prior box (djax.model.PRIOR_BOX, all 13 free), drawn on the device."""
    from djax.model import PRIOR_BOX, params_from_values

    pri = [p for n, p in PRIOR_BOX.items() if n != "alpha_D"]
    lo = jnp.asarray([p.latent_bounds()[0] for p in pri])
    hi = jnp.asarray([p.latent_bounds()[1] for p in pri])

    def draw(key, n):
        u = lo + (hi - lo) * jax.random.uniform(key, (n, len(pri)), dtype=jnp.float64)
        vals = {p.name: p.to_physical(u[:, j]) for j, p in enumerate(pri)}
        return params_from_values(vals)

    return draw


def _spec():
    """The 'paper' TermSpec from the packaged registry (io reads the files; nothing else is needed)."""
    from djax.io import resolve_likelihood

    return resolve_likelihood(preset="paper")[2]


def throughput(ns, chunk, repeats=3):
    jax = _setup()
    import jax.numpy as jnp

    import djax
    from djax.likelihood import evaluate_log_likelihood

    spec = _spec()
    draw = _prior_sampler(jax, jnp)

    def ll_sum(p):
        return jnp.sum(evaluate_log_likelihood(p, spec))

    kernels = {
        "observables": lambda p: jnp.sum(djax.observables(p, solar=False)["br_mu_e_gamma"]),
        "loglike": ll_sum,
        "loglike_value_and_grad": lambda p: jax.value_and_grad(
            lambda q: jnp.sum(evaluate_log_likelihood(q, spec)), argnums=0
        )(p)[0],
    }
    rows = []
    for name, fn in kernels.items():

        @jax.jit
        def step(key, acc, fn=fn):
            key, sub = jax.random.split(key)
            return key, acc + fn(draw(sub, chunk))

        key = jax.random.PRNGKey(0)
        t0 = time.perf_counter()
        key, acc = step(key, jnp.zeros(()))
        acc.block_until_ready()
        first = time.perf_counter() - t0
        for n in ns:
            n_chunks = max(1, math.ceil(n / chunk))
            times = []
            for _ in range(repeats if n_chunks * chunk <= 10**8 else 1):
                t0 = time.perf_counter()
                acc = jnp.zeros(())
                for _ in range(n_chunks):
                    key, acc = step(key, acc)
                acc.block_until_ready()
                times.append(time.perf_counter() - t0)
            med = float(np.median(times))
            rows.append(
                {
                    "quantity": name,
                    "N": n_chunks * chunk,
                    "chunk": chunk,
                    "repeats": len(times),
                    "median_s": med,
                    "points_per_s": n_chunks * chunk / med,
                    "first_call_s": first,
                    "finite": bool(np.isfinite(float(acc))),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


def streamed_scan(n_points, chunk):
    """``djax.inference.run_scan`` over n_points with no store (summaries only): device memory stays flat."""
    jax = _setup()
    from djax.inference import build_point_fn, run_scan
    from djax.model import PRIOR_BOX

    priors = [p for n, p in PRIOR_BOX.items() if n != "alpha_D"]
    point_fn = build_point_fn(_spec(), priors, derived=())
    t0 = time.perf_counter()
    res = run_scan(
        point_fn,
        priors,
        n_points=n_points,
        method="random",
        chunk_size=chunk,
        seed=0,
        projections=[("m_Aprime", "epsilon")],
        bins=50,
        progress=False,
    )
    wall = time.perf_counter() - t0
    stats = {}
    try:
        stats = {
            k: int(v)
            for k, v in (jax.devices()[0].memory_stats() or {}).items()
            if k in ("peak_bytes_in_use", "bytes_in_use", "bytes_limit")
        }
    except Exception:  # noqa: BLE001 -- CPU devices have no memory statistics
        pass
    row = {
        "N": res.n_done,
        "chunk": chunk,
        "wall_s": wall,
        "points_per_s": res.n_done / wall,
        "allowed_fraction": res.allowed_fraction,
        "device_memory": stats,
    }
    print(json.dumps(row), flush=True)
    return row


def _ess(x):
    """Bulk ESS of one parameter from (chain, draw) draws: Geyer's initial positive sequence on the FFT
    autocorrelation of the chain-pooled centred draws (a compact numpy estimator, no ArviZ needed)."""
    x = np.asarray(x, float)
    m, n = x.shape
    xc = x - x.mean(axis=1, keepdims=True)
    f = np.fft.rfft(xc, n=2 * n, axis=1)
    acov = np.fft.irfft(f * np.conj(f), axis=1)[:, :n] / n
    w = acov[:, 0].mean()
    var = (n - 1) / n * w + x.mean(axis=1).var(ddof=1) if m > 1 else w
    rho = 1.0 - (w - acov.mean(axis=0)) / var
    s, t = 0.0, 1
    while t + 1 < n:
        pair = rho[t] + rho[t + 1]
        if pair < 0:
            break
        s += pair
        t += 2
    return m * n / (1.0 + 2.0 * s)


def nuts_many_chains(num_chains, warmup, samples):
    jax = _setup()
    from numpyro.infer import MCMC, NUTS

    import djax

    model = djax.numpyro_model("paper", priors={"y_tau": 0.0, "yp_tau": 0.0}, derived=(), record_terms=False)
    mcmc = MCMC(
        NUTS(model, target_accept_prob=0.99),
        num_warmup=warmup,
        num_samples=samples,
        num_chains=num_chains,
        chain_method="vectorized",
        progress_bar=False,
    )
    t0 = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(0))
    wall = time.perf_counter() - t0
    draws = mcmc.get_samples(group_by_chain=True)
    ess = {k: _ess(np.asarray(v)) for k, v in draws.items() if np.ndim(v) == 2}
    n_div = int(np.sum(np.asarray(mcmc.get_extra_fields()["diverging"])))
    row = {
        "num_chains": num_chains,
        "warmup": warmup,
        "samples": samples,
        "wall_s": wall,
        "min_ess": float(min(ess.values())),
        "ess_per_s": float(min(ess.values())) / wall,
        "divergences": n_div,
    }
    print(json.dumps(row), flush=True)
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--quick", action="store_true", help="tiny sizes (checks the script on a CPU)")
    args = ap.parse_args(argv)
    jax = _setup()
    if args.quick:
        ns, chunk, scan_n, scan_chunk, chains = [2048, 8192], 2048, 8192, 4096, (4, 20, 20)
    else:
        ns, chunk, scan_n, scan_chunk, chains = (
            [10**5, 10**6, 10**7, 10**8, 10**9],
            2**20,
            10**9,
            2**22,
            (256, 300, 300),
        )
    t0 = time.perf_counter()
    res = {
        "suite": "gpu",
        "meta": {
            "jax_version": jax.__version__,
            "backend": jax.default_backend(),
            "devices": [str(d) for d in jax.devices()],
            "device_kind": jax.devices()[0].device_kind,
            "python": platform.python_version(),
            "dtype": "float64",
            "timestamp_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "quick": args.quick,
        },
    }
    res["throughput"] = throughput(ns, chunk)
    res["scan"] = streamed_scan(scan_n, scan_chunk)
    res["nuts"] = nuts_many_chains(*chains)
    res["meta"]["total_s"] = time.perf_counter() - t0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = f"gpu-{res['meta']['backend']}"
    (out / f"{name}.json").write_text(json.dumps(res, indent=2) + "\n")
    lines = [
        f"#### djax benchmark: gpu ({res['meta']['device_kind']}, jax {jax.__version__}, float64)",
        "",
        "| quantity | N | chunk | median_s | points_per_s |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['quantity']} | {r['N']:,} | {r['chunk']:,} | {r['median_s']:.3g} | {r['points_per_s']:.3g} |"
        for r in res["throughput"]
    ]
    s = res["scan"]
    lines += [
        "",
        f"Streamed scan (no store, summaries only): {s['N']:,} points in {s['wall_s']:.3g} s "
        f"({s['points_per_s']:.3g} points/s), device memory {s['device_memory']}.",
        "",
        f"NUTS, {res['nuts']['num_chains']} vectorised chains: min bulk ESS {res['nuts']['min_ess']:.3g} in "
        f"{res['nuts']['wall_s']:.3g} s ({res['nuts']['ess_per_s']:.3g} ESS/s), "
        f"{res['nuts']['divergences']} divergences.",
    ]
    (out / f"{name}.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out / name}.json and .md in {res['meta']['total_s']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
