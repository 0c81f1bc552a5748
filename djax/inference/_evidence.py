r"""Bayesian evidence ln Z of a NumPyro model by nested sampling, in pure JAX (no extra dependency).

Model comparison (Bayes factors ln B = ln Z_1 - ln Z_2) needs the evidence

    Z = \int L(x) pi(x) dx,

which MCMC does not give. :func:`evidence` runs Skilling's nested sampling (Bayesian Analysis 1 (2006) 833) on
the unit hypercube of the model's latent sites: every non-observed sample site is mapped from u in [0, 1) by its
inverse CDF (``Uniform``: ``low + u (high - low)``; any distribution with ``icdf``, evaluated in the model's own
order so hierarchical priors work), and ln L is the sum of the observed sites' log densities, i.e. the
``numpyro.factor`` terms of djax's models (djax samples every parameter through a uniform latent, so its prior is
exactly the unit cube).

Algorithm (vectorised; each iteration is one jitted call):

* ``n`` live points drawn from the prior; each iteration removes the ``k`` lowest-likelihood points (live counts
  n, n-1, ..., n-k+1, so ln X drops by 1/n, 1/(n-1), ...: the expected shrinkage of sequential removal) and
  replaces them by ``k`` independent chains of constrained **slice sampling** (Neal 2003; stepping out and
  shrinkage, one likelihood evaluation per loop turn) started at random surviving live points, along random
  directions whitened by the survivors' covariance (as in PolyChord), for ``num_slice_steps`` accepted moves.
* weights ``w_i = X_{i-1} - X_i`` with ``ln X_i = -sum_{j<=i} 1/n_j``; the final live points share the remaining
  volume equally (``X_end / n`` each).
* stop when the live points can add at most ``dlogz`` to ln Z: ``ln(Z + L_max X) - ln Z < dlogz``, or when
  ``max_samples`` dead points are stored.
* uncertainty: ``log_Z_err = sqrt(H / n_live)`` with the information ``H = sum_i p_i ln L_i - ln Z`` (Skilling's
  standard estimate); ``log_Z_err_mc`` repeats the ln Z sum with simulated shrinkage factors t_i ~ Beta(n_i, 1)
  (the spread of the volume estimates; the two agree for a well-resolved run).

Why not NumPyro's ``numpyro.contrib.nested_sampling.NestedSampler``: it needs ``jaxns`` < 3 (it imports
``jaxns.Model``, gone in jaxns 3.0.0, the only jaxns on PyPI that supports jax 0.12); jaxns 3 itself runs with
jax 0.12 but brings its own model DSL and ``tfp-nightly``. This module has no dependency beyond jax, numpyro and
numpy.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpyro import distributions as dist
from numpyro import handlers


# ------------------------------------------------------------------------------------------------------------
# result
# ------------------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class EvidenceResult:
    """Outcome of :func:`evidence`.

    Attributes:
      log_Z, log_Z_err: ln Z and its standard error ``sqrt(H / n_live)``.
      log_Z_err_mc: standard deviation of ln Z over simulated shrinkage factors (same meaning, other estimate).
      information: H, the KL divergence posterior -> prior in nats (``exp(H)``: the prior-to-posterior
        compression).
      n_likelihood_evals: likelihood evaluations (initial live points and every slice-sampling proposal inside the
        unit cube).
      n_live, n_dead, n_iterations: live points, stored dead points, batches.
      samples: ``site name -> array (n_samples, *site shape)`` for the latent and deterministic sites (dead points
        then final live points); weight them with ``exp(log_weights)`` or draw from :meth:`resample`.
      log_weights: normalised ln posterior weights (``logsumexp == 0``).
      log_likelihood, log_X: ln L and the prior volume ln X of each sample.
      ess: Kish effective sample size of the weights.
      converged: whether ``dlogz`` was reached (else ``termination`` says why it stopped).
      wall_time_s: wall time of the run (compilation included).
    """

    log_Z: float
    log_Z_err: float
    n_likelihood_evals: int
    samples: Mapping[str, np.ndarray]
    log_weights: np.ndarray
    log_likelihood: np.ndarray
    log_X: np.ndarray
    log_Z_err_mc: float
    information: float
    ess: float
    n_live: int
    n_dead: int
    n_iterations: int
    converged: bool
    termination: str
    wall_time_s: float
    latent_sites: tuple[str, ...]
    settings: Mapping[str, Any]

    def resample(self, num_samples: int | None = None, seed: int = 0) -> dict[str, np.ndarray]:
        """Equally weighted posterior draws (systematic resampling); default size: the ESS, rounded."""
        n = int(round(self.ess)) if num_samples is None else int(num_samples)
        if n <= 0:
            raise ValueError(f"resample: num_samples must be positive, got {n}")
        w = np.exp(self.log_weights - np.max(self.log_weights))
        cdf = np.cumsum(w / w.sum())
        cdf[-1] = 1.0
        u0 = np.random.default_rng(seed).uniform()
        idx = np.searchsorted(cdf, (u0 + np.arange(n)) / n, side="left")
        idx = np.minimum(idx, len(cdf) - 1)
        return {k: np.asarray(v)[idx] for k, v in self.samples.items()}

    def summary(self) -> str:
        flag = "converged" if self.converged else f"NOT converged ({self.termination})"
        return (
            f"ln Z = {self.log_Z:.4f} +- {self.log_Z_err:.4f} (MC {self.log_Z_err_mc:.4f}); H = "
            f"{self.information:.3f} nats; {self.n_live} live, {self.n_dead} dead, {self.n_iterations} "
            f"iterations, {self.n_likelihood_evals:,} likelihood evaluations, ESS {self.ess:.0f}, "
            f"{self.wall_time_s:.1f} s; {flag}"
        )


# ------------------------------------------------------------------------------------------------------------
# the model on the unit cube
# ------------------------------------------------------------------------------------------------------------
def _base(fn):
    while isinstance(fn, (dist.ExpandedDistribution, dist.Independent)):
        fn = fn.base_dist
    return fn


def _icdf(fn, u, name):
    try:
        return _base(fn).icdf(u)
    except NotImplementedError:
        raise ValueError(
            f"evidence: the prior of site {name!r} ({type(_base(fn)).__name__}) has no icdf; nested "
            "sampling maps every latent site from the unit cube by its inverse CDF (use Uniform "
            "latents, as djax's models do)"
        ) from None


def _trace(model, args, kwargs, u: Mapping[str, Any] | None):
    def sub(msg):
        if u is not None and msg["type"] == "sample" and not msg["is_observed"] and msg["name"] in u:
            return _icdf(msg["fn"], u[msg["name"]], msg["name"])
        return None

    m = handlers.seed(model, rng_seed=0)
    if u is not None:
        m = handlers.substitute(m, substitute_fn=sub)
    return handlers.trace(m).get_trace(*args, **kwargs)


def _latent_layout(model, args, kwargs):
    tr = _trace(model, args, kwargs, None)
    layout = []
    for name, site in tr.items():
        if site["type"] != "sample" or site["is_observed"]:
            continue
        fn = site["fn"]
        if getattr(fn, "is_discrete", False):
            raise ValueError(f"evidence: latent site {name!r} is discrete; only continuous latents are supported")
        shape = tuple(jnp.shape(site["value"]))
        layout.append((name, shape, int(np.prod(shape, dtype=int))))
    if not layout:
        raise ValueError("evidence: the model has no latent sample sites")
    return tuple(layout)


def _unflatten(layout, u_flat):
    out, i = {}, 0
    for name, shape, size in layout:
        out[name] = jnp.reshape(u_flat[i : i + size], shape)
        i += size
    return out


def _loglike_of_trace(tr):
    ll = jnp.zeros(())
    for site in tr.values():
        if site["type"] == "sample" and site["is_observed"]:
            lp = site["fn"].log_prob(site["value"])
            if site.get("scale") is not None:
                lp = lp * site["scale"]
            ll = ll + jnp.sum(lp)
    return jnp.where(jnp.isnan(ll), -jnp.inf, ll)


# ------------------------------------------------------------------------------------------------------------
# constrained slice sampling (one chain; vmapped over the replacements)
# ------------------------------------------------------------------------------------------------------------
def _slice_chain(key, x0, L0, logL_star, chol, loglike, *, n_steps, width, max_out, max_shrink):
    D = x0.shape[0]

    def direction(k):
        k1, k2 = jax.random.split(k)
        z = jax.random.normal(k1, (D,))
        z = z / jnp.linalg.norm(z)
        r = jax.random.uniform(k2)
        return chol @ z, -r * width, (1.0 - r) * width

    key, kd = jax.random.split(key)
    d, lo, hi = direction(kd)
    zero_i = jnp.zeros((), dtype=jnp.int32)
    init = dict(
        key=key,
        x=x0,
        L=L0,
        d=d,
        lo=lo,
        hi=hi,
        t=jnp.zeros(()),
        phase=zero_i,
        n_out=zero_i,
        n_shrink=zero_i,
        step=zero_i,
        n_eval=zero_i,
    )

    def cond(s):
        return s["step"] < n_steps

    def body(s):
        key, kt, kd = jax.random.split(s["key"], 3)
        phase = s["phase"]
        t_c = jnp.where(phase == 0, s["lo"], jnp.where(phase == 1, s["hi"], s["t"]))
        y = s["x"] + t_c * s["d"]
        in_cube = jnp.all((y >= 0.0) & (y < 1.0))
        Ly = loglike(jnp.where(in_cube, y, s["x"]))
        Ly = jnp.where(in_cube, Ly, -jnp.inf)
        ok = Ly > logL_star
        n_eval = s["n_eval"] + in_cube.astype(jnp.int32)

        can_out = ok & (s["n_out"] < max_out)
        # phase 0: step out to the left; phase 1: to the right; phase 2: shrink
        lo = jnp.where((phase == 0) & can_out, s["lo"] - width, s["lo"])
        hi = jnp.where((phase == 1) & can_out, s["hi"] + width, s["hi"])
        lo = jnp.where((phase == 2) & ~ok & (t_c < 0.0), t_c, lo)
        hi = jnp.where((phase == 2) & ~ok & (t_c >= 0.0), t_c, hi)
        n_shrink = jnp.where(phase == 2, s["n_shrink"] + 1, zero_i)
        accepted = (phase == 2) & ok
        give_up = (phase == 2) & ~ok & (n_shrink >= max_shrink)
        done = accepted | give_up
        t_new = jax.random.uniform(kt, minval=lo, maxval=hi)
        new_phase = jnp.where(
            phase == 0, jnp.where(can_out, 0, 1), jnp.where(phase == 1, jnp.where(can_out, 1, 2), jnp.where(done, 0, 2))
        )
        n_out = jnp.where((phase < 2) & can_out, s["n_out"] + 1, zero_i)
        d_new, lo_new, hi_new = direction(kd)
        x = jnp.where(accepted, y, s["x"])
        L = jnp.where(accepted, Ly, s["L"])
        return dict(
            key=key,
            x=x,
            L=L,
            d=jnp.where(done, d_new, s["d"]),
            lo=jnp.where(done, lo_new, lo),
            hi=jnp.where(done, hi_new, hi),
            t=t_new,
            phase=new_phase.astype(jnp.int32),
            n_out=n_out,
            n_shrink=jnp.where(done, zero_i, n_shrink),
            step=s["step"] + done.astype(jnp.int32),
            n_eval=n_eval,
        )

    out = jax.lax.while_loop(cond, body, init)
    return out["x"], out["L"], out["n_eval"]


# ------------------------------------------------------------------------------------------------------------
# the sampler
# ------------------------------------------------------------------------------------------------------------
def _make_step(loglike, *, n, k, D, n_steps, width, max_out, max_shrink):
    """One jitted iteration: remove the k worst live points (returned) and replace them by slice sampling."""
    chain = jax.vmap(
        lambda key, x0, L0, Ls, chol: _slice_chain(
            key, x0, L0, Ls, chol, loglike, n_steps=n_steps, width=width, max_out=max_out, max_shrink=max_shrink
        ),
        in_axes=(0, 0, 0, None, None),
    )
    n_seq = (n - jnp.arange(k)).astype(float)

    @jax.jit
    def step(c):
        key, k_idx, k_chain = jax.random.split(c["key"], 3)
        order = jnp.argsort(c["live_L"])
        live_u, live_L = c["live_u"][order], c["live_L"][order]
        dead_u, dead_L = live_u[:k], live_L[:k]
        logL_star = dead_L[k - 1]
        log_X_seq = c["log_X"] - jnp.cumsum(1.0 / n_seq)
        log_X_prev = jnp.concatenate([c["log_X"][None], log_X_seq[:-1]])
        log_w = log_X_prev + jnp.log(-jnp.expm1(-1.0 / n_seq))
        contrib = jnp.where(jnp.isfinite(dead_L), log_w + dead_L, -jnp.inf)
        log_Z = jnp.logaddexp(c["log_Z"], jax.scipy.special.logsumexp(contrib))

        surv_u, surv_L = live_u[k:], live_L[k:]
        cov = jnp.atleast_2d(jnp.cov(surv_u, rowvar=False))
        scale2 = jnp.maximum(jnp.max(jnp.diag(cov)), 1e-30)
        chol = jnp.linalg.cholesky(cov + 1e-10 * scale2 * jnp.eye(D))
        chol = jnp.where(jnp.all(jnp.isfinite(chol)), chol, jnp.sqrt(scale2) * jnp.eye(D))
        start = jax.random.randint(k_idx, (k,), 0, n - k)
        new_u, new_L, n_eval = chain(jax.random.split(k_chain, k), surv_u[start], surv_L[start], logL_star, chol)
        new = dict(
            key=key,
            live_u=jnp.concatenate([new_u, surv_u]),
            live_L=jnp.concatenate([new_L, surv_L]),
            log_X=log_X_seq[-1],
            log_Z=log_Z,
        )
        return new, dead_u, dead_L, jnp.sum(n_eval)

    return step


#: Compiled (init, step, sites) functions per (model, args, kwargs, n, k, n_steps, width): repeated runs of one
#: model (other seeds, dlogz, max_samples) compile once.
_COMPILED: dict[Any, tuple] = {}
_COMPILED_MAX = 16


def _compiled(model, args, kwargs, layout, *, n, k, n_steps, width):
    D = sum(s for _, _, s in layout)
    try:
        cache_key = (
            model,
            args,
            tuple(sorted(kwargs.items())),
            layout,
            n,
            k,
            n_steps,
            width,
            bool(jax.config.jax_enable_x64),
        )
        hash(cache_key)
    except TypeError:  # unhashable model arguments (arrays): no caching
        cache_key = None
    if cache_key is not None and cache_key in _COMPILED:
        return _COMPILED[cache_key]

    def loglike(u_flat):
        return _loglike_of_trace(_trace(model, args, kwargs, _unflatten(layout, u_flat)))

    def sites(u_flat):
        tr = _trace(model, args, kwargs, _unflatten(layout, u_flat))
        return {
            name: st["value"]
            for name, st in tr.items()
            if (st["type"] == "sample" and not st["is_observed"]) or st["type"] == "deterministic"
        }

    fns = (
        jax.jit(jax.vmap(loglike)),
        _make_step(loglike, n=n, k=k, D=D, n_steps=n_steps, width=width, max_out=50, max_shrink=100),
        jax.jit(jax.vmap(sites)),
    )
    if cache_key is not None:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[cache_key] = fns
    return fns


def _finalise(dead_L, dead_n, live_L, n):
    """ln w (prior mass) of every sample, ln X, ln Z, H; dead points then the final live points."""
    log_X = -np.cumsum(1.0 / dead_n) if dead_n.size else np.zeros(0)
    log_X_prev = np.concatenate([[0.0], log_X[:-1]]) if dead_n.size else np.zeros(0)
    log_w_dead = log_X_prev + np.log(-np.expm1(-1.0 / dead_n))
    log_X_end = log_X[-1] if dead_n.size else 0.0
    order = np.argsort(live_L)
    live_L = live_L[order]
    log_w_live = np.full(n, log_X_end - math.log(n))
    log_X_live = log_X_end + np.log1p(-np.arange(1, n + 1) / (n + 1))
    log_w = np.concatenate([log_w_dead, log_w_live])
    logL = np.concatenate([dead_L, live_L])
    with np.errstate(invalid="ignore"):
        terms = np.where(np.isfinite(logL), log_w + logL, -np.inf)
    log_Z = float(_logsumexp(terms))
    p = np.exp(terms - log_Z)
    H = float(np.sum(np.where(p > 0, p * np.where(np.isfinite(logL), logL, 0.0), 0.0)) - log_Z)
    return log_w, np.concatenate([log_X, log_X_live]), logL, log_Z, max(H, 0.0), order


def _logsumexp(a, axis=None):
    a = np.asarray(a, dtype=float)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis) if axis is not None else float(out.squeeze())


def _mc_log_Z_err(dead_L, dead_n, live_L, n, rng, num=128, chunk=16):
    """std of ln Z over simulated shrinkages ln t_i = ln(U_i)/n_i (the live tail shares X_end equally)."""
    vals = []
    finite_dead = np.isfinite(dead_L)
    live_term = _logsumexp(np.where(np.isfinite(live_L), live_L, -np.inf)) - math.log(n)
    for start in range(0, num, chunk):
        m = min(chunk, num - start)
        log_t = np.log(rng.uniform(size=(m, dead_n.size))) / dead_n
        log_X = np.cumsum(log_t, axis=1)
        log_X_prev = np.concatenate([np.zeros((m, 1)), log_X[:, :-1]], axis=1)
        log_w = log_X_prev + np.log(-np.expm1(log_t))
        terms = np.where(finite_dead, log_w + dead_L, -np.inf)
        tail = (log_X[:, -1] if dead_n.size else np.zeros(m)) + live_term
        vals.append(np.logaddexp(_logsumexp(terms, axis=1), tail))
    return float(np.std(np.concatenate(vals), ddof=1))


def evidence(
    model: Callable,
    *,
    num_live_points: int = 500,
    seed: int | jax.Array = 0,
    max_samples: int = 100_000,
    dlogz: float = 0.01,
    num_slice_steps: int | None = None,
    num_delete: int | None = None,
    slice_width: float = 2.0,
    model_args: tuple = (),
    model_kwargs: Mapping | None = None,
    return_sites: bool = True,
    chunk_size: int = 2048,
    progress: bool = False,
) -> EvidenceResult:
    """ln Z of a NumPyro ``model`` (latents mapped from the unit cube by their icdf) by nested sampling.

    Args:
      model: a NumPyro model (djax: ``djax.numpyro_model(...)``); ``model_args``/``model_kwargs`` are passed on.
      num_live_points: live points n (the ln Z error scales as sqrt(H/n)).
      seed: int or a JAX PRNG key.
      max_samples: the run stops when this many dead points are stored (``converged=False``); the final live
        points come on top.
      dlogz: stop when the live points can raise ln Z by less than this.
      num_slice_steps: accepted slice moves per replacement (default ``max(5, 3 D)``, D = latent dimension).
      num_delete: points replaced per iteration (default ``max(1, n // 5)``).
      slice_width: initial slice width in units of the live points' standard deviation along the direction.
      return_sites: evaluate the model at every sample for the latent and deterministic sites (one model call per
        sample, chunked); ``False`` returns only the unit-cube coordinates (key ``"__u"``).
      progress: print one line per iteration.

    Returns :class:`EvidenceResult`.
    """
    t0 = time.perf_counter()
    kwargs = dict(model_kwargs or {})
    n = int(num_live_points)
    if n < 2:
        raise ValueError(f"evidence: num_live_points must be >= 2, got {num_live_points!r}")
    if not (isinstance(dlogz, (int, float)) and dlogz > 0):
        raise ValueError(f"evidence: dlogz must be a positive number, got {dlogz!r}")
    k = max(1, n // 5) if num_delete is None else int(num_delete)
    if not 1 <= k < n:
        raise ValueError(f"evidence: num_delete must be in [1, num_live_points), got {num_delete!r}")
    layout = _latent_layout(model, model_args, kwargs)
    D = sum(s for _, _, s in layout)
    n_steps = max(5, 3 * D) if num_slice_steps is None else int(num_slice_steps)
    if n_steps < 1:
        raise ValueError(f"evidence: num_slice_steps must be >= 1, got {num_slice_steps!r}")
    cap = int(max_samples)
    if cap < k:
        raise ValueError(f"evidence: max_samples ({cap}) must be at least num_delete ({k})")

    init_fn, step, sites_fn = _compiled(
        model, tuple(model_args), kwargs, layout, n=n, k=k, n_steps=n_steps, width=float(slice_width)
    )
    key = seed if isinstance(seed, jax.Array) else jax.random.PRNGKey(int(seed))
    key, k0 = jax.random.split(key)
    live_u = jax.random.uniform(k0, (n, D), dtype=float)
    fdt = live_u.dtype
    carry = dict(
        key=key,
        live_u=live_u,
        live_L=init_fn(live_u).astype(fdt),
        log_X=jnp.zeros((), fdt),
        log_Z=jnp.full((), -jnp.inf, fdt),
    )
    n_eval = n

    dead_u_parts, dead_L_parts = [], []
    n_dead, it, converged, termination = 0, 0, False, "max_samples"
    while n_dead + k <= cap:
        carry, d_u, d_L, n_ev = step(carry)
        n_eval += int(n_ev)
        dead_u_parts.append(np.asarray(d_u))
        dead_L_parts.append(np.asarray(d_L))
        it += 1
        n_dead += k
        log_Z, log_X, L_max = (float(carry["log_Z"]), float(carry["log_X"]), float(jnp.max(carry["live_L"])))
        remain = L_max + log_X
        delta = math.inf if not math.isfinite(log_Z) else float(np.logaddexp(log_Z, remain) - log_Z)
        if progress:
            print(
                f"[evidence] it {it:5d}  dead {n_dead:7d}  ln Z {log_Z: .5f}  ln X {log_X: .3f}  "
                f"max ln L {L_max: .4f}  delta ln Z {delta:.2e}",
                flush=True,
            )
        if delta < dlogz:
            converged, termination = True, "dlogz"
            break
        if L_max == -math.inf and log_X < -50.0:
            termination = "zero likelihood everywhere"
            break

    dead_L = np.concatenate(dead_L_parts) if dead_L_parts else np.zeros(0)
    dead_n = np.tile((n - np.arange(k)).astype(float), it)
    dead_u = np.concatenate(dead_u_parts) if dead_u_parts else np.zeros((0, D))
    live_L_f = np.asarray(carry["live_L"])
    log_w, log_X_all, logL_all, log_Z, H, order = _finalise(dead_L, dead_n, live_L_f, n)
    u_all = np.concatenate([dead_u, np.asarray(carry["live_u"])[order]])
    with np.errstate(invalid="ignore"):
        log_post = np.where(np.isfinite(logL_all), log_w + logL_all - log_Z, -np.inf)
    w = np.exp(log_post)
    ess = float(w.sum() ** 2 / np.sum(w**2)) if np.any(w > 0) else 0.0
    err_mc = _mc_log_Z_err(
        dead_L,
        dead_n,
        live_L_f,
        n,
        np.random.default_rng(int(jax.random.randint(jax.random.fold_in(key, 1), (), 0, 2**31 - 1))),
    )

    if return_sites:
        samples = _site_values(sites_fn, u_all, chunk_size)
    else:
        samples = {"__u": u_all}
    return EvidenceResult(
        log_Z=log_Z,
        log_Z_err=float(math.sqrt(H / n)),
        n_likelihood_evals=n_eval,
        samples=samples,
        log_weights=log_post,
        log_likelihood=logL_all,
        log_X=log_X_all,
        log_Z_err_mc=err_mc,
        information=H,
        ess=ess,
        n_live=n,
        n_dead=n_dead,
        n_iterations=it,
        converged=converged,
        termination=termination,
        wall_time_s=time.perf_counter() - t0,
        latent_sites=tuple(name for name, _, _ in layout),
        settings=dict(
            num_live_points=n,
            num_delete=k,
            num_slice_steps=n_steps,
            slice_width=float(slice_width),
            dlogz=float(dlogz),
            max_samples=cap,
            dimension=D,
        ),
    )


def _site_values(fn, u_all, chunk_size):
    """Latent and deterministic site values at every sample (vmapped, chunked; one compiled shape)."""
    N = u_all.shape[0]
    size = max(1, int(chunk_size))  # fixed block shape (padded): one compilation per model
    parts = []
    for start in range(0, N, size):
        block = u_all[start : start + size]
        pad = size - block.shape[0]
        if pad:
            block = np.concatenate([block, np.repeat(block[-1:], pad, axis=0)])
        out = fn(jnp.asarray(block))
        parts.append({k: np.asarray(v)[: size - pad] for k, v in out.items()})
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


__all__ = ["evidence", "EvidenceResult"]
