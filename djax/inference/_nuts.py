"""NUTS sampling driver with segmented, bit-for-bit resumable checkpoints.

The driver uses NumPyro's functional NUTS kernel (:func:`numpyro.infer.hmc.hmc`, Hoffman & Gelman
2014, with NumPyro's windowed step-size / mass-matrix adaptation) and runs it in segments of
``checkpoint_every`` iterations, each one jitted ``lax.scan`` over the kernel. The whole Markov
chain state (position, gradient, adaptation state incl. the dual-averaging and Welford
accumulators, RNG key) is carried from segment to segment, so splitting a run into segments does
not change the chain, and a run resumed from a saved state continues exactly where it stopped.

Chains run vectorised on one device (``vmap``), across devices (``pmap``) or one after another
(``lax.map``).
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer import init_to_uniform
from numpyro.infer.hmc import hmc
from numpyro.infer.util import initialize_model

from ..precision import require_x64

__all__ = [
    "SamplingResult",
    "SamplingInterrupted",
    "CheckpointStore",
    "run_nuts",
    "log_density_model",
    "state_to_arrays",
    "state_from_arrays",
    "default_segment",
    "STAT_NAMES",
    "CHAIN_METHODS",
    "SAMPLE_METHODS",
]

#: Names of the per-draw sampler statistics, in the order of the stored ``stat_<i>`` arrays.
STAT_NAMES = ("lp", "energy", "n_steps", "acceptance_rate", "diverging", "step_size")
#: How chains are run: vmap on one device, pmap across devices, or one after another.
CHAIN_METHODS = ("vectorized", "parallel", "sequential")
#: Posterior samplers of ``djax sample`` (run file ``sample.method``): ChEES-HMC over many vectorised chains with
#: independence moves from the prior (:func:`djax.inference.run_chees`, the default) or NUTS (:func:`run_nuts`).
SAMPLE_METHODS = ("chees", "nuts")


class SamplingInterrupted(KeyboardInterrupt):
    """Raised when sampling is interrupted (Ctrl-C); the checkpoint on disk is resumable."""

    def __init__(self, message: str, checkpoint_dir: str | None, warmup_done: int, draws_done: int):
        super().__init__(message)
        self.checkpoint_dir = checkpoint_dir
        self.warmup_done = warmup_done
        self.draws_done = draws_done


@dataclasses.dataclass
class SamplingResult:
    """Draws and diagnostics of a NUTS run; every array has leading axes ``(chain, draw)``.

    Attributes:
      samples: latent sites in the constrained space.
      deterministic: ``numpyro.deterministic`` sites.
      sample_stats: ``lp`` (= -potential energy, log joint density in the unconstrained space),
        ``energy``, ``n_steps`` (leapfrog steps), ``tree_depth``, ``acceptance_rate``,
        ``diverging``, ``step_size``.
      settings: seed and sampler settings (JSON-serialisable).
      timings: wall-clock seconds (``init``, ``warmup``, ``sampling``, ``total``), including
        compilation and, for resumed runs, the time spent before the interruption.
      inverse_mass_matrix: adapted inverse mass matrix per chain (block name -> array).
    """

    samples: dict[str, np.ndarray]
    deterministic: dict[str, np.ndarray]
    sample_stats: dict[str, np.ndarray]
    settings: dict[str, Any]
    timings: dict[str, float]
    inverse_mass_matrix: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    @property
    def posterior(self) -> dict[str, np.ndarray]:
        """Latent and deterministic sites together."""
        return {**self.samples, **self.deterministic}

    @property
    def num_chains(self) -> int:
        return int(self.sample_stats["lp"].shape[0])

    @property
    def num_draws(self) -> int:
        return int(self.sample_stats["lp"].shape[1])

    @property
    def num_divergences(self) -> int:
        return int(np.sum(self.sample_stats["diverging"]))


def log_density_model(log_density: Callable[[jax.Array], jax.Array], dim: int, name: str = "x"):
    """NumPyro model for an unnormalised log density on R^dim.

    ``x ~ ImproperUniform(R^dim)``, ``factor(log_density(x))``; lets :func:`run_nuts` sample a
    plain log-density function. Initial points are drawn uniformly in [-2, 2]^dim.
    """

    def model():
        x = numpyro.sample(name, dist.ImproperUniform(dist.constraints.real_vector, (), event_shape=(dim,)))
        numpyro.factor("log_density", log_density(x))

    return model


# ----------------------------------------------------------------------------- state <-> arrays
def _is_key(x) -> bool:
    return hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jax.dtypes.prng_key)


def state_to_arrays(state) -> dict[str, np.ndarray]:
    """The sampler state (a pytree, PRNG keys included) as named host arrays (for checkpoints)."""
    leaves = jax.tree.leaves(state)
    return {f"leaf_{i:03d}": np.asarray(jax.random.key_data(x) if _is_key(x) else x) for i, x in enumerate(leaves)}


def state_from_arrays(arrays: Mapping[str, np.ndarray], template):
    """Inverse of :func:`state_to_arrays` for a state shaped like ``template``; ``ValueError`` on mismatch."""
    leaves, treedef = jax.tree.flatten(template)
    if len(arrays) != len(leaves):
        raise ValueError("checkpointed sampler state does not match this model/settings")
    out = []
    for i, t in enumerate(leaves):
        a = arrays[f"leaf_{i:03d}"]
        if _is_key(t):
            a = jax.random.wrap_key_data(a, impl=jax.random.key_impl(t))
        if a.shape != t.shape or a.dtype != t.dtype:
            raise ValueError(
                f"checkpointed sampler state leaf {i} has shape/dtype {a.shape}/{a.dtype}, "
                f"expected {t.shape}/{t.dtype}: model or settings changed since the checkpoint"
            )
        out.append(jnp.asarray(a))
    return jax.tree.unflatten(treedef, out)


def _partition_kwargs(model_kwargs: Mapping[str, Any]):
    """Split kwargs into array leaves (traced jit arguments) and everything else (static)."""
    leaves, treedef = jax.tree.flatten(dict(model_kwargs))
    is_arr = [isinstance(x, (np.ndarray, jax.Array)) for x in leaves]
    dyn = [x for x, a in zip(leaves, is_arr) if a]
    static = [None if a else x for x, a in zip(leaves, is_arr)]

    def rebuild(dyn_leaves):
        it = iter(dyn_leaves)
        return jax.tree.unflatten(treedef, [next(it) if a else s for s, a in zip(static, is_arr)])

    return dyn, rebuild


# ----------------------------------------------------------------------------- main driver
class CheckpointStore(Protocol):
    """Where :func:`run_nuts` keeps its checkpoints (``djax.io.NutsCheckpoint`` writes them to a folder).

    ``load()`` returns None (nothing stored) or ``{"progress": dict, "state": arrays, "segments": [arrays]}``;
    ``save(progress, state_arrays, segment_arrays)`` stores a completed segment (``segment_arrays`` is None
    during warm-up) atomically.
    """

    def load(self) -> dict | None: ...

    def save(self, progress: dict, state_arrays: dict, segment_arrays: dict | None) -> None: ...


def run_nuts(
    model: Callable,
    model_kwargs: Mapping[str, Any] | None = None,
    *,
    num_warmup: int,
    num_samples: int,
    num_chains: int = 4,
    seed: int = 0,
    chain_method: str = "vectorized",
    target_accept: float = 0.8,
    max_tree_depth: int = 10,
    dense_mass: bool = False,
    segment: int | None = None,
    store: CheckpointStore | None = None,
    progress: bool = True,
    init_strategy: Callable = init_to_uniform,
    init_params: Mapping[str, Any] | None = None,
    on_segment: Callable[[dict], None] | None = None,
) -> SamplingResult:
    """Sample a NumPyro model with NUTS, in resumable segments.

    Args:
      model: NumPyro model function, called as ``model(**model_kwargs)``.
      model_kwargs: keyword arguments of the model. Array leaves are passed to the jitted segment as
        arguments; other leaves are static.
      num_warmup, num_samples, num_chains: NUTS iterations per chain (warm-up draws are discarded).
      seed: integer seed; the run is a deterministic function of (seed, settings, model).
      chain_method: ``"vectorized"`` (vmap on one device), ``"parallel"`` (pmap; needs
        ``jax.device_count() >= num_chains``, else ``"sequential"`` with a warning) or ``"sequential"``.
      target_accept: dual-averaging target acceptance probability.
      max_tree_depth: maximal NUTS tree depth (at most 2**max_tree_depth - 1 leapfrog steps).
      dense_mass: adapt a dense (True) or diagonal (False) mass matrix.
      segment: iterations per segment (warm-up and sampling); default about 10 segments per phase.
        Results do not depend on it only through the chain: changing it changes the PRNG stream
        never, but a resumed run must use the same value (the jobs layer fingerprints it).
      store: checkpoint store (see :class:`CheckpointStore`); with a stored state the run continues from
        the last complete segment and the result is bit-for-bit the one an uninterrupted run gives.
        ``num_samples`` may be raised on resume to extend a finished run.
      progress: show a tqdm bar (updated once per segment).
      init_strategy: NumPyro init strategy for the chains' starting points.
      init_params: optional starting points in the *unconstrained* space (leading axis ``num_chains``).
      on_segment: callback ``f(info)`` after each completed (and stored) segment.

    Returns:
      :class:`SamplingResult`.

    Raises:
      SamplingInterrupted: on KeyboardInterrupt; the last complete segment is in ``store``.
    """
    require_x64("run_nuts")
    t_start = time.perf_counter()
    model_kwargs = dict(model_kwargs or {})
    if chain_method not in CHAIN_METHODS:
        raise ValueError(f"chain_method must be one of {CHAIN_METHODS}, got {chain_method!r}")
    if chain_method == "parallel" and jax.device_count() < num_chains:
        import warnings

        warnings.warn(
            f"chain_method='parallel' needs {num_chains} devices but only {jax.device_count()} exist; "
            "running chains sequentially",
            stacklevel=2,
        )
        chain_method = "sequential"
    if num_warmup < 0 or num_samples < 1 or num_chains < 1:
        raise ValueError("need num_warmup >= 0, num_samples >= 1, num_chains >= 1")
    seg = default_segment(num_warmup, num_samples) if segment is None else int(segment)
    if seg < 1:
        raise ValueError("segment must be a positive integer")
    settings = {
        "seed": int(seed),
        "num_warmup": int(num_warmup),
        "num_samples": int(num_samples),
        "num_chains": int(num_chains),
        "chain_method": chain_method,
        "target_accept": float(target_accept),
        "max_tree_depth": int(max_tree_depth),
        "dense_mass": bool(dense_mass),
        "segment": seg,
        "init_strategy": _plain(init_strategy),
        "init_params_given": init_params is not None,
        "sampler": f"numpyro {numpyro.__version__} NUTS",
    }

    # ---- kernel set-up (always: rebuilds the kernel closures exactly, also on resume)
    key = jax.random.PRNGKey(seed)
    key_init, key_chains = jax.random.split(key)
    init_keys = jax.random.split(key_init, num_chains)
    chain_keys = jax.random.split(key_chains, num_chains)
    model_info = initialize_model(
        init_keys, model, init_strategy=init_strategy, dynamic_args=True, model_kwargs=model_kwargs
    )
    param_info = model_info.param_info
    z0 = param_info.z
    if init_params is not None:
        z0 = jax.tree.map(lambda a: jnp.asarray(a, dtype=jnp.float64), dict(init_params))
        if set(z0) != set(param_info.z):
            raise ValueError(f"init_params must have the sites {sorted(param_info.z)}")
    dense = [tuple(sorted(param_info.z))] if dense_mass else []
    dyn, rebuild = _partition_kwargs(model_kwargs)
    init_kernel, sample_kernel = hmc(potential_fn_gen=model_info.potential_fn, algo="NUTS")
    postprocess_gen = model_info.postprocess_fn

    def _init_one(z, k):
        return init_kernel(
            z,
            num_warmup=num_warmup,
            dense_mass=dense,
            target_accept_prob=target_accept,
            max_tree_depth=max_tree_depth,
            model_kwargs=model_kwargs,
            rng_key=k,
        )

    # the kernel's init sets the kernel's closure variables while it is traced; jit makes the first call one
    # compilation (cached across processes by the persistent compilation cache) instead of op-by-op dispatch
    state = jax.jit(jax.vmap(_init_one))(z0, chain_keys)
    latent_names = sorted(param_info.z)
    stat_dtypes = (
        state.potential_energy.dtype,
        state.energy.dtype,
        state.num_steps.dtype,
        state.accept_prob.dtype,
        state.diverging.dtype,
        state.adapt_state.step_size.dtype,
    )

    def _segment_single(st, dyn_leaves, n):
        """Run ``n <= seg`` kernel steps (dynamic trip count: one compilation for all segment lengths)."""
        kw = rebuild(dyn_leaves)
        zbuf = jax.tree.map(lambda a: jnp.zeros((seg,) + a.shape, a.dtype), st.z)
        sbuf = tuple(jnp.zeros((seg,), dt) for dt in stat_dtypes)

        def body(i, carry):
            s, zb, sb = carry
            s = sample_kernel(s, model_args=(), model_kwargs=kw)
            stats = (-s.potential_energy, s.energy, s.num_steps, s.accept_prob, s.diverging, s.adapt_state.step_size)
            zb = jax.tree.map(lambda b, v: b.at[i].set(v), zb, s.z)
            sb = tuple(b.at[i].set(v) for b, v in zip(sb, stats))
            return s, zb, sb

        st, zb, sb = jax.lax.fori_loop(0, n, body, (st, zbuf, sbuf))
        post = jax.vmap(postprocess_gen(**kw))(zb)
        return st, (post, sb)

    if chain_method == "vectorized":
        run_segment = jax.jit(jax.vmap(_segment_single, in_axes=(0, None, None)))
    elif chain_method == "parallel":
        run_segment = jax.pmap(_segment_single, in_axes=(0, None, None))
    else:
        run_segment = jax.jit(lambda st, d, n: jax.lax.map(lambda s_: _segment_single(s_, d, n), st))

    state, prog, segments, total = drive_segments(
        run_segment,
        state,
        dyn,
        store=store,
        num_warmup=num_warmup,
        num_samples=num_samples,
        seg=seg,
        progress=progress,
        on_segment=on_segment,
        t_start=t_start,
        warmup_postfix=lambda s: f"step size {float(jnp.mean(s.adapt_state.step_size)):.3g}",
    )

    # ---- assemble
    samples: dict[str, np.ndarray] = {}
    deterministic: dict[str, np.ndarray] = {}
    for i, name in enumerate(prog["site_names"]):
        arr = np.concatenate([s[f"post_{i}"] for s in segments], axis=1)
        (samples if name in latent_names else deterministic)[name] = arr
    stats = {name: np.concatenate([s[f"stat_{i}"] for s in segments], axis=1) for i, name in enumerate(STAT_NAMES)}
    stats["diverging"] = stats["diverging"].astype(bool)
    stats["tree_depth"] = (np.floor(np.log2(np.maximum(stats["n_steps"], 1))) + 1).astype(np.int64)
    imm = state.adapt_state.inverse_mass_matrix
    imm = {",".join(k): np.asarray(v) for k, v in imm.items()} if isinstance(imm, dict) else {"all": np.asarray(imm)}
    total["total"] = sum(total.values())
    return SamplingResult(samples, deterministic, stats, settings, total, imm)


def _plain(v):
    from ._diagnostics import plain_data

    return plain_data(v)


def default_segment(num_warmup: int, num_samples: int) -> int:
    """About ten segments per phase."""
    return max(1, math.ceil(max(num_warmup, num_samples) / 10))


def drive_segments(
    run_segment,
    state,
    dyn,
    *,
    store,
    num_warmup: int,
    num_samples: int,
    seg: int,
    progress: bool,
    on_segment,
    t_start: float,
    warmup_postfix,
):
    """The segmented, resumable loop shared by the samplers: warm-up segments, then sampling segments, each stored
    (``store.save``) as it completes; a stored run continues where it stopped (bit-identical). ``run_segment(state,
    dyn, n) -> (state, (post, stats))`` runs ``n <= seg`` steps; ``warmup_postfix(state)`` is the progress-bar text.
    Returns ``(state, prog, segments, timings)``."""
    prog = {
        "phase": "warmup",
        "warmup_done": 0,
        "draws_done": 0,
        "site_names": None,
        "timings": {"init": 0.0, "warmup": 0.0, "sampling": 0.0},
    }
    segments: list[dict[str, np.ndarray]] = []
    stored = store.load() if store is not None else None
    if stored is not None:
        prog.update({k: stored["progress"][k] for k in prog})
        if prog["draws_done"] > num_samples:
            raise ValueError(f"the checkpoint already holds {prog['draws_done']} draws > num_samples={num_samples}")
        state = state_from_arrays(stored["state"], state)
        segments = list(stored["segments"])
    t0_prev = dict(prog["timings"])
    timings_now = {"init": time.perf_counter() - t_start, "warmup": 0.0, "sampling": 0.0}

    def save(phase, new_state, seg_arrays=None):
        prog["phase"] = phase
        prog["timings"] = {k: t0_prev[k] + timings_now[k] for k in ("init", "warmup", "sampling")}
        if store is not None:
            store.save(dict(prog), state_to_arrays(new_state), seg_arrays)

    pbar = None
    if progress:
        from tqdm.auto import tqdm

        pbar = tqdm(
            total=num_warmup + num_samples,
            initial=prog["warmup_done"] + prog["draws_done"],
            desc="warmup" if prog["warmup_done"] < num_warmup else "sample",
            file=sys.stderr,
        )
    seg_counter = 0
    try:
        t0 = time.perf_counter()
        while prog["warmup_done"] < num_warmup:
            n = min(seg, num_warmup - prog["warmup_done"])
            state, _ = run_segment(state, dyn, n)
            jax.block_until_ready(state)
            prog["warmup_done"] += n
            timings_now["warmup"] = time.perf_counter() - t0
            save("warmup", state)
            if pbar is not None:
                pbar.update(n)
                pbar.set_postfix_str(warmup_postfix(state), refresh=False)
            seg_counter += 1
            if on_segment is not None:
                on_segment(_info(prog, seg_counter, "warmup"))
        if pbar is not None:
            pbar.set_description("sample")
        t0 = time.perf_counter()
        n_div = sum(int(np.sum(s["stat_4"])) for s in segments)
        while prog["draws_done"] < num_samples:
            n = min(seg, num_samples - prog["draws_done"])
            state, (post, stats) = run_segment(state, dyn, n)
            post = {k: np.asarray(v)[:, :n] for k, v in post.items()}
            if prog["site_names"] is None:
                prog["site_names"] = sorted(post)
            seg_arrays = {f"post_{i}": post[k] for i, k in enumerate(prog["site_names"])}
            seg_arrays.update({f"stat_{i}": np.asarray(v)[:, :n] for i, v in enumerate(stats)})
            segments.append(seg_arrays)
            prog["draws_done"] += n
            timings_now["sampling"] = time.perf_counter() - t0
            save("sampling", state, seg_arrays)
            n_div += int(np.sum(seg_arrays["stat_4"]))
            if pbar is not None:
                pbar.update(n)
                pbar.set_postfix_str(f"divergences {n_div}", refresh=False)
            seg_counter += 1
            if on_segment is not None:
                on_segment(_info(prog, seg_counter, "sampling"))
    except KeyboardInterrupt:
        if pbar is not None:
            pbar.close()
        msg = (
            f"sampling interrupted after {prog['warmup_done']}/{num_warmup} warm-up and "
            f"{prog['draws_done']}/{num_samples} draws"
        )
        raise SamplingInterrupted(msg, None, prog["warmup_done"], prog["draws_done"]) from None
    if pbar is not None:
        pbar.close()

    total = {k: t0_prev[k] + timings_now[k] for k in ("init", "warmup", "sampling")}
    return state, prog, segments, total


def _info(prog: dict, seg: int, phase: str) -> dict:
    return {"phase": phase, "warmup_done": prog["warmup_done"], "draws_done": prog["draws_done"], "segment": seg}
