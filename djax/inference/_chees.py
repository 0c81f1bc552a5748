"""ChEES-HMC: many chains in lockstep-free HMC with a jittered, cross-chain adapted trajectory length.

Every chain takes the same number of leapfrog steps in an iteration (the trajectory length is shared), so a
vectorised step over C chains wastes nothing on waiting for the slowest chain, unlike vectorised NUTS. Warm-up
adapts, from the whole ensemble of chains at once:

* the step size eps by dual averaging (Hoffman & Gelman 2014, Alg. 5) on the harmonic mean over chains of the
  acceptance probability (a divergent chain counts as 1e-3, which drives eps below where divergences occur);
* the trajectory length T by Adam ascent on the ChEES criterion (Hoffman, Radul & Sountsov 2021, "An adaptive
  MCMC scheme for setting trajectory lengths in Hamiltonian Monte Carlo", AISTATS), with the per-chain gradient
  estimate  g_c = h T (|x'_c - <x'>|^2 - |x_c - <x>|^2) (x'_c - <x'>) . v'_c  weighted by the acceptance
  probability (x, x': start and proposal, v' the proposal's velocity, h the jitter, norms in the metric of
  the inverse mass matrix);
* the inverse mass matrix (diagonal or dense) from the cross-chain covariance of the current states
  (exponential moving average; as in MEADS, Hoffman & Sountsov 2022).

Each iteration draws a jitter h ~ U(0, 1) shared by all chains and runs ceil(h T / eps) leapfrog steps followed
by a Metropolis correction. With prior moves (below), a chain at a *stiff* point, where one leapfrog kick exceeds
``STIFF_KICK`` in whitened units (eps |grad U|_M > STIFF_KICK: a likelihood wall far thinner than the step, as in
the GIM-cancellation tubes of the cLFV terms), takes no trajectory (the identity move), and a trajectory that ends
at a stiff point is rejected. The indicator is symmetric in start and end, so the HMC move keeps detailed balance;
the independence moves from the prior carry chains into and out of the stiff points, which the integrator would
otherwise cross only with divergent energy errors. Without prior moves the rule is off (it would isolate them). After warm-up eps, T and the mass matrix are frozen (the final eps is the dual
averaging's iterate average), so the sampling phase is a fixed Markov kernel per chain.

Sampling space: ``"latent"`` samples the model's sample sites directly in their constrained coordinates when
every site's support is the real line or an interval (the djax model: uniform latents), with specular
reflection at the box faces (exact, volume-preserving and reversible for a diagonal mass, Neal 2011 sec. 5.1);
``"unconstrained"`` samples NumPyro's unconstrained coordinates (as NUTS does). Runs in resumable segments as
:func:`djax.inference.run_nuts` does: the whole state (positions, adaptation, PRNG key) is a pytree carried
between segments.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from jax import export as jax_export
from jax.flatten_util import ravel_pytree
from numpyro.distributions import constraints
from numpyro.infer import init_to_uniform
from numpyro.infer.util import initialize_model, log_density

from ..precision import require_x64
from ._nuts import (
    STAT_NAMES,
    CheckpointStore,
    SamplingResult,
    _partition_kwargs,
    _plain,
    default_segment,
    drive_segments,
)

__all__ = ["run_chees", "SPACES", "ChEESState", "ProgramStore"]

#: Coordinates the chains move in (see the module docstring).
SPACES = ("latent", "unconstrained")
#: Energy error above which a trajectory counts as divergent (as NumPyro's NUTS).
DIVERGENCE_THRESHOLD = 1000.0
# dual averaging constants (Hoffman & Gelman 2014)
_DA_GAMMA, _DA_T0, _DA_KAPPA = 0.05, 10.0, 0.75
# Adam on log T (beta1 = 0, as in the ChEES reference implementation)
_ADAM_B2, _ADAM_EPS = 0.95, 1e-8
#: With prior moves, a chain at a point where one leapfrog kick exceeds this (eps |grad U|_M > STIFF_KICK, the
#: whitened gradient norm: a likelihood wall far steeper than the step size resolves) takes no trajectory, and a
#: trajectory ending at such a point is rejected; the prior moves carry chains into and out of those points.
STIFF_KICK = 10.0


class ChEESState(NamedTuple):
    """Ensemble state: chain positions ``x`` (C, d) with potential and gradient, and the shared adaptation."""

    x: jax.Array
    pot: jax.Array
    grad: jax.Array
    key: jax.Array
    iteration: jax.Array
    log_eps: jax.Array
    da_mu: jax.Array
    da_t: jax.Array
    da_g: jax.Array
    da_avg: jax.Array
    log_T: jax.Array
    log_T_avg: jax.Array
    adam_v: jax.Array
    inv_mass: jax.Array
    mass_n: jax.Array


jax_export.register_namedtuple_serialization(ChEESState, serialized_name="djax.inference.ChEESState")


class ProgramStore(Protocol):
    """Where :func:`run_chees` keeps its exported programs across processes (``djax.io.ProgramFolder``).

    ``load(key)`` returns None or ``(program bytes, meta)``; ``save(key, program, meta)`` stores one (``meta``:
    JSON-able host data).
    """

    def load(self, key: str) -> tuple[bytes, dict] | None: ...

    def save(self, key: str, program: bytes, meta: dict) -> None: ...


def _callable_name(f) -> str:
    """A process-independent name of a callable (functools.partial: function and keywords), for cache keys."""
    kw = getattr(f, "keywords", None)
    inner = getattr(f, "func", f)
    name = f"{getattr(inner, '__module__', '')}.{getattr(inner, '__qualname__', type(inner).__name__)}"
    return name + (repr(sorted(kw.items())) if kw else "")


def _export(fn, *args):
    """``jax.export`` of a jitted function at ``args`` (arrays or ShapeDtypeStructs); None when the computation
    cannot be serialised (e.g. a user model with a host callback): the caller then compiles it directly."""
    try:
        return jax_export.export(fn)(*args)
    except (ValueError, NotImplementedError, TypeError):
        return None


def _compile(exported, fn, *args):
    """Compile the exported program (the same executable whether it was traced now or read from a store), or
    ``fn`` itself when there is none."""
    target = jax.jit(exported.call) if exported is not None else jax.jit(fn)
    return target.lower(*args).compile()


def _reflect(x, p, lo, hi):
    """Fold positions into [lo, hi] (per coordinate, infinite bounds allowed) with specular reflection of p."""
    w = hi - lo
    both = jnp.isfinite(lo) & jnp.isfinite(hi)
    w_safe = jnp.where(both, w, 1.0)
    y = x - jnp.where(jnp.isfinite(lo), lo, 0.0)
    k = jnp.floor(y / w_safe)
    r = y - k * w_safe
    odd = jnp.mod(k, 2.0) != 0
    x_both = lo + jnp.where(odd, w_safe - r, r)
    p_both = jnp.where(odd, -p, p)
    below = jnp.isfinite(lo) & ~jnp.isfinite(hi) & (x < lo)
    above = jnp.isfinite(hi) & ~jnp.isfinite(lo) & (x > hi)
    x_new = jnp.where(both, x_both, jnp.where(below, 2 * lo - x, jnp.where(above, 2 * hi - x, x)))
    p_new = jnp.where(both, p_both, jnp.where(below | above, -p, p))
    return x_new, p_new


def _make_step(
    vg,
    lo,
    hi,
    *,
    dense,
    num_warmup,
    target_accept,
    max_steps,
    mass_end,
    da_restart,
    reflect,
    prior_moves=0,
    prior_draw=None,
    loglike=None,
):
    """One iteration on the ensemble (pure function of the state): a ChEES-HMC trajectory, then ``prior_moves``
    independence Metropolis-Hastings moves with the prior as proposal (acceptance min(1, L(x') / L(x)), L the
    likelihood: exact for any target posterior = prior x L)."""

    def matvec(m, p):
        return p @ m.T if dense else p * m

    def kinetic(m, p):
        return 0.5 * jnp.sum(p * matvec(m, p), axis=-1)

    def _stiff(m, g, eps):
        """eps |grad U|_M > STIFF_KICK per chain (the kick of one leapfrog step in whitened units)."""
        G2 = jnp.sum(g * matvec(m, g), axis=-1)
        return ~(eps**2 * G2 <= STIFF_KICK**2)

    def step(st: ChEESState, kw):
        key, k_mom, k_jit, k_acc, k_prior = jax.random.split(st.key, 5)
        C, d = st.x.shape
        warm = st.iteration < num_warmup
        eps = jnp.exp(st.log_eps)
        T = jnp.exp(st.log_T)
        m = st.inv_mass
        z = jax.random.normal(k_mom, (C, d))
        if dense:
            # p ~ N(0, M) with M^-1 = L L^T: p = L^-T z
            L = jnp.linalg.cholesky(m)
            p0 = jax.scipy.linalg.solve_triangular(L, z.T, lower=True, trans=1).T
        else:
            p0 = z / jnp.sqrt(m)
        h = jax.random.uniform(k_jit, (), minval=0.0, maxval=1.0)
        n_steps = jnp.clip(jnp.ceil(h * T / eps), 1, max_steps).astype(jnp.int32)

        def leap(_, c):
            x, p, g, pot = c
            p = p - 0.5 * eps * g
            x = x + eps * matvec(m, p)
            if reflect:
                x, p = _reflect(x, p, lo, hi)
            pot, g = vg(x, kw)
            p = p - 0.5 * eps * g
            return x, p, g, pot

        x1, p1, g1, pot1 = jax.lax.fori_loop(0, n_steps, leap, (st.x, p0, st.grad, st.pot))
        h0 = st.pot + kinetic(m, p0)
        h1 = pot1 + kinetic(m, p1)
        dh = jnp.where(jnp.isfinite(h1), h1 - h0, jnp.inf)
        acc_prob = jnp.where(jnp.isfinite(dh), jnp.exp(jnp.minimum(0.0, -dh)), 0.0)
        if prior_moves > 0:
            # stiff points: the kernel there is the identity, and HMC proposals onto them are rejected (the
            # indicator is symmetric in start and end, so detailed balance holds); the lanes of stiff starts are
            # computed with the others (vectorised) and discarded
            stiff0 = _stiff(m, st.grad, eps)
            acc_prob = jnp.where(stiff0 | _stiff(m, g1, eps), 0.0, acc_prob)
        else:
            stiff0 = jnp.zeros((C,), bool)
        diverging = (dh > DIVERGENCE_THRESHOLD) & ~stiff0
        accept = jax.random.uniform(k_acc, (C,)) < acc_prob
        x_new = jnp.where(accept[:, None], x1, st.x)
        pot_new = jnp.where(accept, pot1, st.pot)
        g_new = jnp.where(accept[:, None], g1, st.grad)
        energy = jnp.where(accept, h1, h0)
        if prior_moves > 0:
            x_hmc = x_new

            def move(j, c):
                x, ll = c
                kd, ku = jax.random.split(jax.random.fold_in(k_prior, j))
                xp = jax.vmap(lambda k_: prior_draw(k_, kw))(jax.random.split(kd, C))
                llp = loglike(xp, kw)
                ok = jnp.log(jax.random.uniform(ku, (C,))) < jnp.where(jnp.isfinite(llp), llp - ll, -jnp.inf)
                return jnp.where(ok[:, None], xp, x), jnp.where(ok, llp, ll)

            x_new, _ = jax.lax.fori_loop(0, prior_moves, move, (x_new, loglike(x_new, kw)))
            moved = jnp.any(x_new != x_hmc, axis=-1)
            pot_m, g_m = vg(x_new, kw)
            pot_new = jnp.where(moved, pot_m, pot_new)
            g_new = jnp.where(moved[:, None], g_m, g_new)
            energy = jnp.where(moved, pot_m + kinetic(m, jnp.where(accept[:, None], p1, p0)), energy)

        # ---- adaptation (applied only during warm-up)
        it = st.iteration
        # dual averaging on the mean acceptance, restarted when the mass matrix is frozen
        restart = it == da_restart
        da_t = jnp.where(restart, 0.0, st.da_t) + 1.0
        da_g = jnp.where(restart, 0.0, st.da_g)
        da_avg = jnp.where(restart, 0.0, st.da_avg)
        da_mu = jnp.where(restart, st.log_eps + math.log(10.0), st.da_mu)
        # harmonic mean over chains (as in the ChEES reference): one divergent chain (acceptance 0, floored at
        # 1e-3) pulls the statistic far below the target, so the step size avoids the likelihood walls
        live = ~stiff0  # chains at stiff points took no trajectory: they do not inform the step size
        mean_acc = jnp.sum(live) / jnp.maximum(jnp.sum(jnp.where(live, 1.0 / jnp.maximum(acc_prob, 1e-3), 0.0)), 1e-300)
        w = 1.0 / (da_t + _DA_T0)
        da_g = (1.0 - w) * da_g + w * (target_accept - mean_acc)
        log_eps_new = da_mu - jnp.sqrt(da_t) / _DA_GAMMA * da_g
        eta = da_t ** (-_DA_KAPPA)
        da_avg = eta * log_eps_new + (1.0 - eta) * da_avg
        # ChEES gradient in the metric of the inverse mass matrix (whitened coordinates)
        x0c = st.x - jnp.mean(st.x, axis=0)
        x1c = x1 - jnp.mean(x1, axis=0)
        if dense:
            minv = jnp.linalg.inv(m)
            n0 = jnp.sum(x0c * (x0c @ minv), axis=-1)
            n1 = jnp.sum(x1c * (x1c @ minv), axis=-1)
        else:
            n0 = jnp.sum(x0c**2 / m, axis=-1)
            n1 = jnp.sum(x1c**2 / m, axis=-1)
        # d ChEES / d log T = h T (|x1c|^2 - |x0c|^2) x1c . (M^-1 p1) ... and x1c . M^-1 p1 = x1c^T v1
        v1 = matvec(m, p1)
        g_c = h * T * (n1 - n0) * jnp.sum(x1c * v1, axis=-1)
        wts = jnp.where(jnp.isfinite(g_c) & ~diverging, acc_prob, 0.0)
        g_T = jnp.sum(wts * jnp.where(jnp.isfinite(g_c), g_c, 0.0)) / jnp.maximum(jnp.sum(wts), 1e-300)
        adam_v = _ADAM_B2 * st.adam_v + (1.0 - _ADAM_B2) * g_T**2
        v_hat = adam_v / (1.0 - _ADAM_B2 ** (it + 1.0))
        lr = 0.05
        log_T = st.log_T + lr * g_T / (jnp.sqrt(v_hat) + _ADAM_EPS)
        log_T = jnp.clip(log_T, log_eps_new, log_eps_new + math.log(max_steps))
        log_T_avg = jnp.where(it < da_restart, log_T, 0.9 * st.log_T_avg + 0.1 * log_T)
        # cross-chain covariance of the current states (moving average), until mass_end
        xc = x_new - jnp.mean(x_new, axis=0)
        cov = (xc.T @ xc) / (C - 1) if dense else jnp.sum(xc**2, axis=0) / (C - 1)
        reg = 1e-3 * (jnp.eye(d) if dense else jnp.ones(d))
        cov = (C / (C + 5.0)) * cov + (5.0 / (C + 5.0)) * reg
        mass_n = st.mass_n + 1.0
        wm = jnp.maximum(1.0 / mass_n, 0.1)
        inv_mass = jnp.where(it < mass_end, (1.0 - wm) * m + wm * cov, m)
        last = it == num_warmup - 1

        def pick(a, b):
            return jnp.where(warm, a, b)

        new = ChEESState(
            x=x_new,
            pot=pot_new,
            grad=g_new,
            key=key,
            iteration=it + 1,
            log_eps=pick(jnp.where(last, da_avg, log_eps_new), st.log_eps),
            da_mu=pick(da_mu, st.da_mu),
            da_t=pick(da_t, st.da_t),
            da_g=pick(da_g, st.da_g),
            da_avg=pick(da_avg, st.da_avg),
            log_T=pick(jnp.where(last, log_T_avg, log_T), st.log_T),
            log_T_avg=pick(log_T_avg, st.log_T_avg),
            adam_v=pick(adam_v, st.adam_v),
            inv_mass=pick(inv_mass, st.inv_mass),
            mass_n=pick(mass_n, st.mass_n),
        )
        stats = (
            -pot_new,
            energy,
            jnp.broadcast_to(n_steps, (C,)),
            acc_prob,
            diverging,
            jnp.broadcast_to(eps, (C,)),
        )
        return new, stats

    return step


def _latent_bounds(model_trace, names):
    """Per-site (lo, hi) of the supports (real line or interval); None if some site has another support."""
    out = {}
    for n in names:
        sup = model_trace[n]["fn"].support
        base = sup.base_constraint if isinstance(sup, constraints.independent) else sup
        if base is constraints.real:
            lo, hi = -np.inf, np.inf
        elif isinstance(base, constraints.interval):
            lo, hi = base.lower_bound, base.upper_bound
        else:
            return None
        shape = np.shape(model_trace[n]["value"])
        out[n] = (np.broadcast_to(np.asarray(lo, float), shape), np.broadcast_to(np.asarray(hi, float), shape))
    return out


def run_chees(
    model: Callable,
    model_kwargs: Mapping[str, Any] | None = None,
    *,
    num_warmup: int,
    num_samples: int,
    num_chains: int = 128,
    seed: int = 0,
    target_accept: float = 0.8,
    max_leapfrog: int = 1024,
    dense_mass: bool = False,
    space: str = "latent",
    prior_moves: int = 0,
    segment: int | None = None,
    store: CheckpointStore | None = None,
    progress: bool = True,
    init_strategy: Callable = init_to_uniform,
    init_params: Mapping[str, Any] | None = None,
    on_segment: Callable[[dict], None] | None = None,
    programs: ProgramStore | None = None,
    program_key: str | None = None,
) -> SamplingResult:
    """Sample a NumPyro model with ChEES-HMC over ``num_chains`` vectorised chains, in resumable segments.

    Arguments as :func:`djax.inference.run_nuts`; ``max_leapfrog`` caps the leapfrog steps per iteration (and
    with it the trajectory length at ``max_leapfrog`` step sizes); ``target_accept`` is the dual-averaging target of the chains' harmonic-mean acceptance;
    ``space``: ``"latent"`` (constrained coordinates with reflecting box faces; falls back to
    ``"unconstrained"`` with a warning for a model with other supports or with ``dense_mass``) or
    ``"unconstrained"``. ``prior_moves``: independence moves from the prior after each trajectory (needs proper
    priors; 0 for none; with them, chains at stiff points take no trajectory: see the module docstring). The warm-up needs ``num_chains >= 2`` (cross-chain statistics). ``timings["init"]``
    includes the (ahead-of-time) compilation of the segment function.

    ``programs`` and ``program_key``: a :class:`ProgramStore` and a key that determines the model (the caller's
    promise: same key, same model and ``model_kwargs`` structure). The initialisation and segment functions are
    exported with ``jax.export`` and stored with the chains' starting points; a later call with the same key and
    settings reads them back and skips NumPyro's model initialisation, tracing and lowering, so that with JAX's
    persistent compilation cache its start is cache retrieval only. Either way the executable is compiled from
    the exported program, so stored and fresh runs give the same draws.
    """
    require_x64("run_chees")
    t_start = time.perf_counter()
    model_kwargs = dict(model_kwargs or {})
    if num_warmup < 0 or num_samples < 1 or num_chains < 2:
        raise ValueError("need num_warmup >= 0, num_samples >= 1, num_chains >= 2")
    if space not in SPACES:
        raise ValueError(f"space must be one of {SPACES}, got {space!r}")
    seg = default_segment(num_warmup, num_samples) if segment is None else int(segment)
    if seg < 1:
        raise ValueError("segment must be a positive integer")

    key = jax.random.PRNGKey(seed)
    key_init, key_chains = jax.random.split(key)
    bundle_key = None
    if programs is not None and program_key:
        given = None if init_params is None else sorted((k, np.asarray(v).tobytes()) for k, v in init_params.items())
        parts = (
            str(program_key),
            int(num_warmup),
            int(num_chains),
            int(seed),
            float(target_accept),
            int(max_leapfrog),
            bool(dense_mass),
            space,
            int(prior_moves),
            STIFF_KICK,
            seg,
            _callable_name(init_strategy),
            given,
            jax.tree.structure(dict(model_kwargs)),
        )
        bundle_key = "chees-" + hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
        stored = _load_bundle(programs, bundle_key)
        if stored is not None:
            return _run_stored(
                stored,
                model_kwargs,
                key_chains=key_chains,
                init_params=init_params,
                num_warmup=num_warmup,
                num_samples=num_samples,
                seg=seg,
                store=store,
                progress=progress,
                on_segment=on_segment,
                t_start=t_start,
            )
    init_keys = jax.random.split(key_init, num_chains)
    info = initialize_model(init_keys, model, init_strategy=init_strategy, dynamic_args=True, model_kwargs=model_kwargs)
    names = sorted(info.param_info.z)
    z0 = info.param_info.z
    if init_params is not None:
        z0 = jax.tree.map(lambda a: jnp.asarray(a, dtype=jnp.float64), dict(init_params))
        if set(z0) != set(names):
            raise ValueError(f"init_params must have the sites {names}")
    bounds = _latent_bounds(info.model_trace, names) if space == "latent" else None
    if space == "latent" and (bounds is None or dense_mass):
        import warnings

        why = "dense_mass" if dense_mass else "a sample site's support is neither the real line nor an interval"
        warnings.warn(
            f"space='latent' needs a diagonal mass and real/interval supports ({why}): "
            "sampling the unconstrained space",
            stacklevel=2,
        )
        space = "unconstrained"
    dyn, rebuild = _partition_kwargs(model_kwargs)
    one = {k: z0[k][0] for k in names}
    _, unravel = ravel_pytree(one)
    from numpyro.distributions.transforms import biject_to as _bj

    transforms_c = {n: _bj(info.model_trace[n]["fn"].support) for n in names}
    transforms = {}
    if space == "latent":
        from numpyro.distributions.transforms import biject_to

        transforms = {n: biject_to(info.model_trace[n]["fn"].support) for n in names}
        lo = jnp.asarray(ravel_pytree({n: bounds[n][0] for n in names})[0])
        hi = jnp.asarray(ravel_pytree({n: bounds[n][1] for n in names})[0])

        def to_space(z):
            return {n: transforms[n](z[n]) for n in names}

        def potential(x, kw):
            lp, _ = log_density(model, (), kw, unravel(x))
            return -lp

        def post_one(x, kw):
            _, tr = log_density(model, (), kw, unravel(x))
            return {
                n: s["value"]
                for n, s in tr.items()
                if (s["type"] == "sample" and not s.get("is_observed", False)) or s["type"] == "deterministic"
            }

    else:
        lo = jnp.full((len(ravel_pytree(one)[0]),), -jnp.inf)
        hi = -lo

        def to_space(z):
            return z

        def potential(x, kw):
            return info.potential_fn(*(), **kw)(unravel(x))

        def post_one(x, kw):
            return info.postprocess_fn(*(), **kw)(unravel(x))

    d = int(lo.shape[0])
    from numpyro.distributions import ImproperUniform
    from numpyro.handlers import seed as _seed
    from numpyro.handlers import trace as _trace

    if prior_moves < 0:
        raise ValueError("prior_moves must be >= 0")
    if prior_moves and any(isinstance(info.model_trace[n]["fn"], ImproperUniform) for n in names):
        raise ValueError("prior_moves needs proper priors on every sample site (the model has an ImproperUniform)")
    from numpyro.distributions.transforms import biject_to as _biject

    inv_tf = {n: _biject(info.model_trace[n]["fn"].support).inv for n in names}

    def prior_draw(k, kw):
        tr = _trace(_seed(model, k)).get_trace(**kw)
        vals = {n: tr[n]["value"] for n in names}
        if space == "unconstrained":
            vals = {n: inv_tf[n](vals[n]) for n in names}
        return ravel_pytree(vals)[0]

    def _loglike_one(x, kw):
        """ln L = ln(joint) - ln(prior) at the constrained values of the position x."""
        vals = unravel(x) if space == "latent" else {n: transforms_c[n](unravel(x)[n]) for n in names}
        lj, tr = log_density(model, (), kw, vals)
        lp = sum(jnp.sum(tr[n]["fn"].log_prob(tr[n]["value"])) for n in names)
        return lj - lp

    # one jitted function per point quantity, shared by every call site (initialisation, trajectory, prior moves,
    # draws): JAX traces the model once per quantity instead of once per site, and vmap batches the traced jaxpr
    vg_one = jax.jit(jax.value_and_grad(potential))
    loglike_one = jax.jit(_loglike_one)
    post_point = jax.jit(post_one)

    def loglike(xs, kw):
        return jax.vmap(loglike_one, in_axes=(0, None))(xs, kw)

    def vg(xs, kw):
        return jax.vmap(vg_one, in_axes=(0, None))(xs, kw)

    reflect = space == "latent" and bool(np.any(np.isfinite(np.asarray(lo)) | np.isfinite(np.asarray(hi))))
    if max_leapfrog < 1:
        raise ValueError("max_leapfrog must be >= 1")
    max_steps = int(max_leapfrog)
    mass_end = int(0.75 * num_warmup)
    step = _make_step(
        vg,
        lo,
        hi,
        dense=dense_mass,
        num_warmup=num_warmup,
        target_accept=target_accept,
        max_steps=max_steps,
        mass_end=mass_end,
        da_restart=mass_end,
        reflect=reflect,
        prior_moves=int(prior_moves),
        prior_draw=prior_draw,
        loglike=loglike,
    )
    settings = {
        "seed": int(seed),
        "num_warmup": int(num_warmup),
        "num_samples": int(num_samples),
        "num_chains": int(num_chains),
        "chain_method": "vectorized",
        "target_accept": float(target_accept),
        "max_leapfrog": int(max_leapfrog),
        "dense_mass": bool(dense_mass),
        "space": space,
        "prior_moves": int(prior_moves),
        "stiff_kick": STIFF_KICK if prior_moves else None,
        "segment": seg,
        "init_strategy": _plain(init_strategy),
        "init_params_given": init_params is not None,
        "sampler": f"djax ChEES-HMC (numpyro {numpyro.__version__} model)",
        "method": "chees",
    }

    @jax.jit
    def init_state(z, dyn_leaves, k):
        kw = rebuild(dyn_leaves)
        x = jax.vmap(lambda zz: ravel_pytree(to_space({n: zz[n] for n in names}))[0])(z)
        pot, g = vg(x, kw)
        xc = x - jnp.mean(x, axis=0)
        var = jnp.maximum(jnp.sum(xc**2, axis=0) / (num_chains - 1), 1e-8)
        inv_mass = jnp.diag(var) if dense_mass else var
        log_eps = jnp.asarray(math.log(0.1))  # in whitened units (the mass is the initial cross-chain variance)
        f = jnp.asarray(0.0)
        return ChEESState(
            x=x,
            pot=pot,
            grad=g,
            key=k,
            iteration=jnp.asarray(0, jnp.int32),
            log_eps=log_eps,
            da_mu=log_eps + math.log(10.0),
            da_t=f,
            da_g=f,
            da_avg=f,
            log_T=log_eps + math.log(4.0),
            log_T_avg=log_eps + math.log(4.0),
            adam_v=f,
            inv_mass=inv_mass,
            mass_n=f,
        )

    exp_init = _export(init_state, z0, dyn, key_chains)
    state = _compile(exp_init, init_state, z0, dyn, key_chains)(z0, dyn, key_chains)

    def _segment(st, dyn_leaves, n):
        kw = rebuild(dyn_leaves)
        xbuf = jnp.zeros((seg,) + st.x.shape, st.x.dtype)
        sbuf = (
            jnp.zeros((seg, num_chains), st.pot.dtype),
            jnp.zeros((seg, num_chains), st.pot.dtype),
            jnp.zeros((seg, num_chains), jnp.int32),
            jnp.zeros((seg, num_chains), st.pot.dtype),
            jnp.zeros((seg, num_chains), bool),
            jnp.zeros((seg, num_chains), st.pot.dtype),
        )

        def body(i, c):
            s, xb, sb = c
            s, stats = step(s, kw)
            xb = xb.at[i].set(s.x)
            sb = tuple(b.at[i].set(v) for b, v in zip(sb, stats))
            return s, xb, sb

        st, xb, sb = jax.lax.fori_loop(0, n, body, (st, xbuf, sbuf))
        flat = xb.reshape((seg * num_chains, d))
        post = jax.lax.map(lambda x: post_point(x, kw), flat, batch_size=min(seg * num_chains, 1024))
        post = jax.tree.map(lambda a: jnp.swapaxes(a.reshape((seg, num_chains) + a.shape[1:]), 0, 1), post)
        sb = tuple(jnp.swapaxes(b, 0, 1) for b in sb)
        return st, (post, sb)

    # one compiled function for both phases (the warm-up discards the draws): one compilation per model, done
    # ahead of time so that the ``init`` timing holds it and ``warmup`` / ``sampling`` are run time only
    n_arg = jnp.asarray(seg, jnp.int32)
    exp_seg = _export(jax.jit(_segment), state, dyn, n_arg) if exp_init is not None else None
    compiled = _compile(exp_seg, _segment, state, dyn, n_arg)
    if bundle_key is not None and exp_init is not None and exp_seg is not None:
        meta = {
            "names": list(names),
            "space": space,
            "z0": {n: np.asarray(z0[n], np.float64).tolist() for n in names},
            "settings": settings,
        }
        try:
            blobs = bytes(exp_init.serialize()), bytes(exp_seg.serialize())
        except ImportError:  # jax's serialisation needs flatbuffers: without it nothing is stored
            blobs = None
        if blobs is not None:
            programs.save(bundle_key + "-init", blobs[0], meta)
            programs.save(bundle_key + "-segment", blobs[1], {})
    return _drive(
        compiled, state, dyn, settings, names, num_warmup, num_samples, seg, store, progress, on_segment, t_start
    )


def _load_bundle(programs: ProgramStore, key: str):
    """(exported init, exported segment, meta) of a stored run, or None."""
    a, b = programs.load(key + "-init"), programs.load(key + "-segment")
    if a is None or b is None:
        return None
    try:
        return jax_export.deserialize(bytearray(a[0])), jax_export.deserialize(bytearray(b[0])), a[1]
    except (ValueError, TypeError, KeyError, ImportError):
        return None


def _run_stored(
    stored, model_kwargs, *, key_chains, init_params, num_warmup, num_samples, seg, store, progress, on_segment, t_start
):
    """:func:`run_chees` from a stored bundle: no model initialisation, tracing or lowering of the model."""
    exp_init, exp_seg, meta = stored
    names = list(meta["names"])
    if init_params is not None:
        z0 = jax.tree.map(lambda a: jnp.asarray(a, dtype=jnp.float64), dict(init_params))
    else:
        z0 = {n: jnp.asarray(np.asarray(meta["z0"][n], np.float64)) for n in names}
    dyn, _ = _partition_kwargs(model_kwargs)
    state = _compile(exp_init, None, z0, dyn, key_chains)(z0, dyn, key_chains)
    compiled = _compile(exp_seg, None, state, dyn, jnp.asarray(seg, jnp.int32))
    settings = dict(meta["settings"])
    settings["num_samples"] = int(num_samples)
    return _drive(
        compiled, state, dyn, settings, names, num_warmup, num_samples, seg, store, progress, on_segment, t_start
    )


def _drive(compiled, state, dyn, settings, names, num_warmup, num_samples, seg, store, progress, on_segment, t_start):
    """Run the compiled segments (resumable) and assemble the :class:`SamplingResult`."""
    num_chains = int(state.x.shape[0])

    def run_segment(st, dyn_leaves, n):
        return compiled(st, dyn_leaves, jnp.asarray(n, jnp.int32))

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
        warmup_postfix=lambda s: f"step size {float(jnp.exp(s.log_eps)):.3g}, T {float(jnp.exp(s.log_T)):.3g}",
    )

    samples: dict[str, np.ndarray] = {}
    deterministic: dict[str, np.ndarray] = {}
    for i, name in enumerate(prog["site_names"]):
        arr = np.concatenate([s[f"post_{i}"] for s in segments], axis=1)
        (samples if name in names else deterministic)[name] = arr
    stats = {name: np.concatenate([s[f"stat_{i}"] for s in segments], axis=1) for i, name in enumerate(STAT_NAMES)}
    stats["diverging"] = stats["diverging"].astype(bool)
    stats["tree_depth"] = (np.floor(np.log2(np.maximum(stats["n_steps"], 1))) + 1).astype(np.int64)
    imm = np.asarray(state.inv_mass)
    settings["trajectory_length"] = float(np.exp(state.log_T))
    settings["step_size"] = float(np.exp(state.log_eps))
    total["total"] = sum(total.values())
    return SamplingResult(
        samples, deterministic, stats, settings, total, {"all": np.broadcast_to(imm, (num_chains,) + imm.shape).copy()}
    )
