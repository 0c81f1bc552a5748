"""Multi-start optax fits and constrained maximisation (augmented Lagrangian / penalty).

All solvers work on flat float64 vectors in an unconstrained space; pytree starting points are
flattened with :func:`jax.flatten_util.ravel_pytree`. Starts (and profile grid points) are
vectorised with ``vmap``; only the small number of outer augmented-Lagrangian iterations is a
Python loop.

References:
  J. Nocedal & S. J. Wright, *Numerical Optimization*, 2nd ed., Springer 2006: ch. 7 (L-BFGS),
  ch. 17.3-17.4 (augmented Lagrangian with bound-type inequality handling, eq. 17.65).
  D. P. Kingma & J. Ba, Adam, arXiv:1412.6980.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree
from numpyro.infer import init_to_uniform
from numpyro.infer.util import constrain_fn, initialize_model, log_density

from ..precision import require_x64

#: Optimisers of the best fit (``optimize.method``).
OPT_METHODS = ("adam", "lbfgs")

__all__ = [
    "OPT_METHODS",
    "FitResult",
    "ConstrainedResult",
    "ProfileResult",
    "best_fit",
    "best_fit_model",
    "maximize_subject_to",
    "profile",
]


# ----------------------------------------------------------------------------- inner solvers
def _nan_to_inf(v):
    return jnp.where(jnp.isfinite(v), v, jnp.inf)


def _adam(fun: Callable, x0, steps: int, learning_rate: float):
    """Adam with a cosine-decay learning rate (lr -> 1e-3 lr) for ``steps`` iterations."""
    if steps <= 0:
        return x0
    sched = optax.cosine_decay_schedule(learning_rate, steps, alpha=1e-3)
    opt = optax.adam(sched)
    vg = jax.value_and_grad(fun)

    def body(carry, _):
        x, st = carry
        _, g = vg(x)
        g = jnp.where(jnp.isfinite(g), g, 0.0)
        upd, st = opt.update(g, st, x)
        return (optax.apply_updates(x, upd), st), None

    (x, _), _ = jax.lax.scan(body, (x0, opt.init(x0)), None, length=steps)
    return x


def _lbfgs(fun: Callable, x0, max_iter: int, gtol: float):
    """optax L-BFGS with zoom line search until ||grad|| < gtol or max_iter iterations."""
    if max_iter <= 0:
        return x0
    opt = optax.lbfgs()
    vg = optax.value_and_grad_from_state(fun)

    def step(carry):
        x, st = carry
        v, g = vg(x, state=st)
        upd, st = opt.update(g, st, x, value=v, grad=g, value_fn=fun)
        x_new = optax.apply_updates(x, upd)
        # never accept a non-finite step (keeps vmapped starts independent of each other)
        ok = jnp.all(jnp.isfinite(x_new))
        return jnp.where(ok, x_new, x), st

    def cont(carry):
        _, st = carry
        k = optax.tree.get(st, "count")
        g = optax.tree.get(st, "grad")
        gn = optax.tree.norm(g)
        return (k == 0) | ((k < max_iter) & (gn >= gtol) & jnp.isfinite(gn))

    x, _ = jax.lax.while_loop(cont, step, (x0, opt.init(x0)))
    return x


# ----------------------------------------------------------------------------- best fit
@dataclasses.dataclass
class FitResult:
    """Result of a multi-start minimisation of f (all arrays are NumPy).

    Attributes:
      x: best point (same pytree structure as a single start).
      value: f(x) at the best point.
      values: f at the end point of every start, shape (n_starts,) (inf where non-finite).
      xs: end points of all starts (stacked pytree).
      grad_norm: ||grad f|| at every end point.
      converged: grad_norm < gtol per start.
      n_within: number of starts whose value lies within ``agree_tol`` of the best (a
        multi-start sanity check: 1 means the optimum was found only once).
      constrained: for :func:`best_fit_model`, the constrained sites (+ deterministic) at x.
    """

    x: Any
    value: float
    values: np.ndarray
    xs: Any
    grad_norm: np.ndarray
    converged: np.ndarray
    n_within: int
    constrained: dict[str, np.ndarray] | None = None


def best_fit(
    neg_log_density: Callable,
    unconstrained_init_fn: Callable[[jax.Array], Any],
    *,
    n_starts: int = 32,
    steps: int = 1000,
    learning_rate: float = 0.05,
    seed: int = 0,
    optimizer: str = "adam",
    polish_steps: int = 200,
    gtol: float = 1e-6,
    agree_tol: float = 1e-3,
) -> FitResult:
    """Minimise ``neg_log_density(x)`` from ``n_starts`` random starts (vmapped).

    ``optimizer="adam"``: ``steps`` Adam iterations, lr cosine-decayed from ``learning_rate``
    to 1e-3 of it, then ``polish_steps`` L-BFGS iterations (``optax.lbfgs``, zoom line search)
    stopping at ||grad|| < gtol. ``optimizer="lbfgs"``: L-BFGS only, ``steps`` iterations.

    Args:
      neg_log_density: scalar function of an unconstrained pytree x (e.g. -ln L or potential).
      unconstrained_init_fn: ``key -> x0`` drawing one starting point.
      n_starts, steps, learning_rate, seed, optimizer, polish_steps, gtol: as above.
      agree_tol: tolerance in f defining the ``n_within`` count.
    """
    require_x64("best_fit")
    if optimizer not in ("adam", "lbfgs"):
        raise ValueError("optimizer must be 'adam' or 'lbfgs'")
    keys = jax.random.split(jax.random.PRNGKey(seed), n_starts)
    x0s = jax.vmap(unconstrained_init_fn)(keys)
    _, unravel = ravel_pytree(jax.tree.map(lambda a: a[0], x0s))
    flat0 = jax.vmap(lambda x: ravel_pytree(x)[0])(x0s)

    zs, vals, gn = _multistart(
        lambda z: neg_log_density(unravel(z)),
        flat0,
        optimizer,
        steps,
        learning_rate,
        polish_steps,
        gtol,
    )
    return _fit_result(zs, vals, gn, unravel, gtol, agree_tol)


def _multistart(f, flat0, optimizer, steps, learning_rate, polish_steps, gtol):
    def solve(z0):
        if optimizer == "adam":
            z = _adam(f, z0, steps, learning_rate)
            z = _lbfgs(f, z, polish_steps, gtol)
        else:
            z = _lbfgs(f, z0, steps, gtol)
        v, g = jax.value_and_grad(f)(z)
        return z, _nan_to_inf(v), jnp.linalg.norm(g)

    return jax.jit(jax.vmap(solve))(flat0)


def _fit_result(zs, vals, gn, unravel, gtol, agree_tol, constrained=None):
    vals = np.asarray(vals)
    i = int(np.argmin(vals))
    xs = jax.vmap(unravel)(zs)
    return FitResult(
        x=jax.tree.map(np.asarray, unravel(zs[i])),
        value=float(vals[i]),
        values=vals,
        xs=jax.tree.map(np.asarray, xs),
        grad_norm=np.asarray(gn),
        converged=np.asarray(gn) < gtol,
        n_within=int(np.sum(vals <= vals[i] + agree_tol)),
        constrained=constrained,
    )


def best_fit_model(
    model: Callable,
    model_kwargs: Mapping[str, Any] | None = None,
    *,
    n_starts: int = 32,
    steps: int = 1000,
    learning_rate: float = 0.05,
    seed: int = 0,
    optimizer: str = "adam",
    polish_steps: int = 200,
    gtol: float = 1e-6,
    init_strategy: Callable = init_to_uniform,
    jacobian: bool = False,
) -> FitResult:
    """Maximum of a NumPyro model's joint density, by :func:`best_fit` in the unconstrained space.

    Minimises ``-log p(y, T(z))`` over unconstrained z, T = NumPyro's bijections to each site's
    support (``jacobian=False``: the mode in the model's own parametrisation, i.e. the MAP /
    best fit) or the potential energy ``-log p(y, T(z)) - log|det J_T(z)|`` (``jacobian=True``).
    Starts are drawn with ``init_strategy`` (NumPyro's ``initialize_model``). ``result.x`` is
    the unconstrained point (usable as :func:`run_nuts` ``init_params``), ``result.constrained``
    the constrained latent and deterministic sites there.
    """
    require_x64("best_fit_model")
    kw = dict(model_kwargs or {})
    keys = jax.random.split(jax.random.PRNGKey(seed), n_starts)
    info = initialize_model(keys, model, init_strategy=init_strategy, model_kwargs=kw)
    z0 = info.param_info.z

    if jacobian:
        nld = info.potential_fn
    else:

        def nld(z):
            params = constrain_fn(model, (), kw, z)
            ld, _ = log_density(model, (), kw, params)
            return -ld

    if optimizer not in ("adam", "lbfgs"):
        raise ValueError("optimizer must be 'adam' or 'lbfgs'")
    _, unravel = ravel_pytree(jax.tree.map(lambda a: a[0], z0))
    flat0 = jax.vmap(lambda x: ravel_pytree(x)[0])(z0)
    zs, vals, gn = _multistart(lambda z: nld(unravel(z)), flat0, optimizer, steps, learning_rate, polish_steps, gtol)
    i = int(np.argmin(np.asarray(vals)))
    constrained = {k: np.asarray(v) for k, v in info.postprocess_fn(unravel(zs[i])).items()}
    return _fit_result(zs, vals, gn, unravel, gtol, 1e-3, constrained)


# ----------------------------------------------------------------------------- constrained
@dataclasses.dataclass
class ConstrainedResult:
    """Result of :func:`maximize_subject_to` (NumPy arrays).

    Attributes:
      x: best feasible point (max violation <= tol); the least-violating point if none is.
      value: objective g(x).
      feasible: whether x satisfies every c_i(x) <= tol.
      max_violation: max(0, max_i c_i(x)).
      constraints: c(x).
      multipliers: Lagrange multipliers lambda_i at x (0 for the penalty method).
      xs, values, violations: end points, objective values and max violations of every start.
      n_outer: outer iterations run.
      history: per outer iteration, the best feasible objective and the smallest violation.
    """

    x: Any
    value: float
    feasible: bool
    max_violation: float
    constraints: np.ndarray
    multipliers: np.ndarray
    xs: Any
    values: np.ndarray
    violations: np.ndarray
    n_outer: int
    history: list[dict[str, float]]


@functools.lru_cache(maxsize=16)
def _compiled_solver(objective, constraints, unravel, inner, inner_steps, learning_rate, gtol):
    """Jitted inner solve and constraint evaluation, vmapped over (grid point, start); cached on the functions,
    so repeated solves (one grid point at a time, resumable) compile once."""

    def g_of(z, th):
        return objective(unravel(z), th)

    def c_of(z, th):
        return jnp.atleast_1d(jnp.asarray(constraints(unravel(z), th)))

    def merit(z, lam, mu, th):
        # Nocedal & Wright eq. (17.65): psi(c, lam; mu) summed over inequality constraints
        c = c_of(z, th)
        psi = 0.5 * mu * jnp.maximum(0.0, c + lam / mu) ** 2 - lam**2 / (2.0 * mu)
        return -g_of(z, th) + jnp.sum(psi)

    def inner_one(z0, lam, mu, th):
        f = lambda z: merit(z, lam, mu, th)  # noqa: E731
        if inner == "adam":
            z = _adam(f, z0, inner_steps, learning_rate)
        else:
            z = _lbfgs(f, z0, inner_steps, gtol)
        return z, g_of(z, th), c_of(z, th)

    over_starts = jax.vmap(inner_one, in_axes=(0, 0, 0, None))
    solve = jax.jit(jax.vmap(over_starts, in_axes=(0, 0, 0, 0)))
    eval_c = jax.jit(jax.vmap(jax.vmap(c_of, in_axes=(0, None)), in_axes=(0, 0)))
    return solve, eval_c


def _solve_constrained(
    objective: Callable,
    constraints: Callable,
    flat0,  # (G, n, d)
    thetas,  # pytree with leading axis G (or None)
    unravel,
    *,
    method: str,
    outer_iters: int,
    inner_steps: int,
    inner: str,
    learning_rate: float,
    mu0: float,
    mu_growth: float,
    tol: float,
    gtol: float,
    rtol: float,
):
    """Augmented-Lagrangian / penalty loop vectorised over (grid point, start)."""
    if method not in ("augmented_lagrangian", "penalty"):
        raise ValueError("method must be 'augmented_lagrangian' or 'penalty'")

    solve, eval_c = _compiled_solver(
        objective, constraints, unravel, inner, int(inner_steps), float(learning_rate), float(gtol)
    )

    G, n, _ = flat0.shape
    m = eval_c(flat0, thetas).shape[-1]
    z = flat0
    lam = jnp.zeros((G, n, m))
    mu = jnp.full((G, n), float(mu0))
    viol_prev = jnp.full((G, n), jnp.inf)
    g_prev = None
    history = []
    k = 0
    for k in range(1, outer_iters + 1):
        z, gval, c = solve(z, lam, mu[..., None], thetas)
        gval = jnp.where(jnp.isfinite(gval), gval, -jnp.inf)
        viol = jnp.max(jnp.maximum(c, 0.0), axis=-1)
        if method == "augmented_lagrangian":
            lam = jnp.maximum(0.0, lam + mu[..., None] * c)
            # raise mu where the violation did not shrink enough (N&W Alg. 17.4 spirit)
            mu = jnp.where(viol > 0.25 * viol_prev, mu * mu_growth, mu)
        else:
            mu = mu * mu_growth
        viol_prev = viol
        feas = viol <= tol
        best_feas = jnp.max(jnp.where(feas, gval, -jnp.inf), axis=1)
        history.append(
            {
                "best_feasible": np.asarray(best_feas).tolist(),
                "min_violation": np.asarray(jnp.min(viol, axis=1)).tolist(),
            }
        )
        if g_prev is not None and bool(jnp.all(feas | (viol <= 1e-2 * tol))):
            change = jnp.abs(gval - g_prev) <= rtol * (1.0 + jnp.abs(gval))
            if bool(jnp.all(change | ~jnp.isfinite(gval))):
                break
        g_prev = gval
    return z, gval, c, viol, lam, k, history


def _pick(z, gval, c, viol, lam, tol):
    """Best feasible start per grid point, else the least violating one."""
    feas = viol <= tol
    score = jnp.where(feas, gval, -jnp.inf)
    any_feas = jnp.any(feas, axis=1)
    i = jnp.where(any_feas, jnp.argmax(score, axis=1), jnp.argmin(viol, axis=1))
    take = lambda a: jnp.take_along_axis(  # noqa: E731
        a, i.reshape((-1,) + (1,) * (a.ndim - 1)), axis=1
    )[:, 0]
    return i, any_feas, take(z), take(gval), take(c), take(viol), take(lam)


def _stack_starts(x0s):
    _, unravel = ravel_pytree(jax.tree.map(lambda a: a[0], x0s))
    flat = jax.vmap(lambda x: ravel_pytree(x)[0])(x0s)
    return jnp.asarray(flat, dtype=jnp.float64), unravel


def maximize_subject_to(
    objective: Callable[[Any], jax.Array],
    constraints: Callable[[Any], jax.Array],
    x0s: Any,
    *,
    method: str = "augmented_lagrangian",
    outer_iters: int = 30,
    inner_steps: int = 300,
    inner: str = "lbfgs",
    learning_rate: float = 0.02,
    mu0: float = 10.0,
    mu_growth: float = 10.0,
    tol: float = 1e-7,
    gtol: float = 1e-9,
    rtol: float = 1e-10,
) -> ConstrainedResult:
    """Maximise g(x) subject to c_i(x) <= 0, from several starts (vmapped).

    ``method="augmented_lagrangian"`` (Nocedal & Wright sec. 17.4): for outer k minimise

        L_A(x; lam, mu) = -g(x) + sum_i [ (mu/2) max(0, c_i(x) + lam_i/mu)^2 - lam_i^2/(2 mu) ]

    (inner solver: L-BFGS, or Adam with ``inner="adam"``), then lam_i <- max(0, lam_i + mu c_i)
    and mu <- ``mu_growth`` * mu when max_i max(0, c_i) did not drop below 1/4 of its previous
    value. ``method="penalty"``: lam = 0 and mu multiplied by ``mu_growth`` every outer iteration
    (quadratic-penalty continuation; feasibility only up to O(1/mu)).
    Stops when every start is feasible within ``tol`` and g changed by less than ``rtol``.

    Args:
      objective: g(x), a scalar (e.g. log of a rate: maximise log g for positive g).
      constraints: c(x), array of shape (m,), feasible where all c_i <= 0 (e.g.
        c_i = -2 Delta lnL_i - q_i).
      x0s: starting points, a pytree whose leaves have a leading axis n_starts.
      tol: feasibility tolerance on max_i c_i.

    Returns:
      :class:`ConstrainedResult`; ``x`` is the best feasible end point over starts.
    """
    require_x64("maximize_subject_to")
    flat, unravel = _stack_starts(x0s)
    z, gval, c, viol, lam, k, hist = _solve_constrained(
        lambda x, th: objective(x),
        lambda x, th: constraints(x),
        flat[None],
        jnp.zeros((1,)),
        unravel,
        method=method,
        outer_iters=outer_iters,
        inner_steps=inner_steps,
        inner=inner,
        learning_rate=learning_rate,
        mu0=mu0,
        mu_growth=mu_growth,
        tol=tol,
        gtol=gtol,
        rtol=rtol,
    )
    _, feas, zb, gb, cb, vb, lb = _pick(z, gval, c, viol, lam, tol)
    return ConstrainedResult(
        x=jax.tree.map(np.asarray, unravel(zb[0])),
        value=float(gb[0]),
        feasible=bool(feas[0]),
        max_violation=float(vb[0]),
        constraints=np.asarray(cb[0]),
        multipliers=np.asarray(lb[0]),
        xs=jax.tree.map(np.asarray, jax.vmap(unravel)(z[0])),
        values=np.asarray(gval[0]),
        violations=np.asarray(viol[0]),
        n_outer=k,
        history=[{kk: v[0] for kk, v in h.items()} for h in hist],
    )


@dataclasses.dataclass
class ProfileResult:
    """Constrained-maximum profile over a grid (NumPy arrays, leading axis = grid).

    Attributes:
      grid: the grid values m_j.
      value: max_x g(x, m_j) subject to c(x, m_j) <= 0 (NaN where no start was feasible).
      x: maximiser per grid point (stacked pytree).
      feasible, max_violation, constraints, multipliers: as in :class:`ConstrainedResult`.
      n_outer: outer iterations run (shared by all grid points).
    """

    grid: np.ndarray
    value: np.ndarray
    x: Any
    feasible: np.ndarray
    max_violation: np.ndarray
    constraints: np.ndarray
    multipliers: np.ndarray
    n_outer: int

    def table(self) -> str:
        """Plain-text profile table."""
        rows = [f"{'m':>14} {'max g':>16} {'feasible':>9} {'max viol':>10}"]
        for m, v, f, mv in zip(self.grid, self.value, self.feasible, self.max_violation):
            rows.append(f"{float(np.ravel(m)[0]):14.6g} {v:16.9g} {bool(f)!s:>9} {mv:10.2e}")
        return "\n".join(rows)


def profile(
    objective_fn: Callable[[Any, Any], jax.Array],
    constraints_fn: Callable[[Any, Any], jax.Array],
    grid_m: Any,
    x0s: Any,
    *,
    per_point_starts: bool = False,
    **kwargs,
) -> ProfileResult:
    """Profile of the constrained maximum over a grid: P(m) = max_x g(x, m) s.t. c(x, m) <= 0.

    All grid points and starts are solved together (vmap over grid x starts) with the method
    of :func:`maximize_subject_to` (keyword arguments are passed on to it).

    Args:
      objective_fn: g(x, m).
      constraints_fn: c(x, m), shape (n_c,).
      grid_m: grid values, leading axis G (array or pytree).
      x0s: starting points with leading axis n_starts, shared by every grid point; with
        ``per_point_starts=True`` leading axes (G, n_starts), one set per grid point.
    """
    require_x64("profile")
    grid = jax.tree.map(jnp.asarray, grid_m)
    G = jax.tree.leaves(grid)[0].shape[0]
    if per_point_starts:
        flats = [_stack_starts(jax.tree.map(lambda a, j=j: a[j], x0s)) for j in range(G)]
        unravel = flats[0][1]
        flat = jnp.stack([f for f, _ in flats])
    else:
        f1, unravel = _stack_starts(x0s)
        flat = jnp.broadcast_to(f1, (G,) + f1.shape)
    tol = kwargs.get("tol", 1e-7)
    opts = dict(
        method="augmented_lagrangian",
        outer_iters=30,
        inner_steps=300,
        inner="lbfgs",
        learning_rate=0.02,
        mu0=10.0,
        mu_growth=10.0,
        tol=1e-7,
        gtol=1e-9,
        rtol=1e-10,
    )
    opts.update(kwargs)
    z, gval, c, viol, lam, k, _ = _solve_constrained(objective_fn, constraints_fn, flat, grid, unravel, **opts)
    _, feas, zb, gb, cb, vb, lb = _pick(z, gval, c, viol, lam, tol)
    value = np.where(np.asarray(feas), np.asarray(gb), np.nan)
    return ProfileResult(
        grid=np.asarray(jax.tree.leaves(grid)[0]),
        value=value,
        x=jax.tree.map(np.asarray, jax.vmap(unravel)(zb)),
        feasible=np.asarray(feas),
        max_violation=np.asarray(vb),
        constraints=np.asarray(cb),
        multipliers=np.asarray(lb),
        n_outer=k,
    )
