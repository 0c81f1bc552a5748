"""Where the default sampler's divergent transitions start, for several seeds.

Runs the default sampler (the embedded run file's ``[sample]`` settings, as ``djax bench sampling``) for each seed
and prints the number of post-warm-up divergent transitions, and for each one its start point (the chain's state
before that iteration), ln L of every term there and the parameter with the largest ln-density gradient.
Usage: ``python scripts/sampler_divergences.py [first_seed] [n_seeds]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from numpyro.infer.util import log_density  # noqa: E402

import djax  # noqa: E402

djax.enable_x64()

from benchmarks import suite_sampling  # noqa: E402
from djax.inference import run_chees, run_nuts  # noqa: E402


def main(first: int = 3, n: int = 10) -> None:
    config, model = suite_sampling.default_model()
    method, kw = suite_sampling._sampler_kwargs(config, dict(suite_sampling.FULL))
    suite_sampling._persistent_cache()
    sampler = run_chees if method == "chees" else run_nuts
    value_and_grad = jax.jit(jax.value_and_grad(lambda p: log_density(model, (), {}, p)[0]))
    total = 0
    for seed in range(first, first + n):
        res = sampler(model, seed=seed, **kw)
        div = np.asarray(res.sample_stats["diverging"])
        total += int(div.sum())
        print(f"seed {seed}: {int(div.sum())} divergent of {div.size} transitions ({method})", flush=True)
        for c, i in zip(*np.nonzero(div)):
            if i == 0:
                continue
            start = {k: jnp.float64(v[c, i - 1]) for k, v in res.samples.items()}
            lnl = {k[4:]: float(v[c, i - 1]) for k, v in res.deterministic.items() if k.startswith("lnL_")}
            _, g = value_and_grad(start)
            k_max = max(g, key=lambda k: abs(float(g[k])))
            print(f"  chain {c} draw {i}: start {{{', '.join(f'{k}: {float(v):.5g}' for k, v in start.items())}}}")
            print(f"    ln L {lnl}; largest gradient d ln p / d {k_max} = {float(g[k_max]):.3g}")
    print(f"total: {total} divergent transitions over {n} seeds")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
