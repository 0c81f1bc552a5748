r"""Upper-bound profile of the effective moment: the largest Borexino-/XENONnT-equivalent moment allowed by the
indirect constraints, at fixed values of one parameter (default m_A').

For each grid value m of the profiled parameter and each experiment X in (Borexino, XENONnT):

    P_X(m) = max_x  ln mu_X^equiv(x, m)   subject to   c_i(x, m) = lnL_i^CL - lnL_i(x, m) <= 0

over the other free parameters x, for every *indirect* term i (all but the direct-detection terms), with
lnL_i^CL from :func:`djax.likelihood.cl_thresholds`. Solved by the augmented-Lagrangian method with multi-start
(:func:`djax.inference.maximize_subject_to`; Nocedal & Wright ch. 17), one grid value at a time with one
compiled solver, so a job can store each grid value as it completes and resume.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ..likelihood import TermSpec, cl_thresholds, is_direct
from ..model import Prior
from ._optimize import _pick, _solve_constrained
from ._points import point_observables

#: Experiments whose equivalent moment is profiled, with their observable.
PROFILE_EXPERIMENTS = (("borexino", "borexino_mu_equiv_muB"), ("xenonnt", "xenonnt_mu_equiv_muB"))


def _latent_box(priors, exclude=()):
    free = [p for p in priors if not p.is_fixed and p.name not in exclude]
    lo = np.array([p.latent_bounds()[0] for p in free])
    hi = np.array([p.latent_bounds()[1] for p in free])
    return free, lo, hi


def values_from_z(z, free, lo, hi, priors, extra=None):
    """Unconstrained z (d,) -> dict of physical values (sigmoid onto each latent box)."""
    u = lo + (hi - lo) * jax.nn.sigmoid(z)
    vals = {p.name: jnp.asarray(p.value, dtype=float) for p in priors if p.is_fixed}
    for i, p in enumerate(free):
        vals[p.name] = p.to_physical(u[i])
    if extra:
        vals.update(extra)
    return vals


@dataclasses.dataclass
class ProfileSolver:
    """Constrained maximisation of the equivalent moments at one grid value at a time (one compilation).

    Build with :func:`profile_solver`; ``solve(m)`` returns a row dict with, per experiment, the maximum (mu_B;
    NaN where no start ends feasible), a feasibility flag and the maximising point.
    """

    spec: TermSpec
    priors: tuple[Prior, ...]
    parameter: str
    starts: np.ndarray
    indirect_terms: tuple[str, ...]
    _run: object
    _unpack: object

    def solve(self, m: float) -> dict:
        """The row of one grid value."""
        return self._run([float(m)])[0]

    def solve_many(self, ms) -> list[dict]:
        """Rows of several grid values solved together (one vmapped solve; the outer iterations stop when every
        problem of the batch has converged, so a row depends on its batch: keep batches fixed to reproduce)."""
        return self._run([float(m) for m in ms])


def profile_solver(
    spec: TermSpec,
    priors: Sequence[Prior],
    *,
    parameter: str = "m_Aprime",
    cl: float = 0.9,
    n_starts: int = 8,
    seed: int = 0,
    Q_F: float = 1.0,
    br_inv: float = 1.0,
    outer_iters: int = 15,
    inner_steps: int = 100,
) -> ProfileSolver:
    """A :class:`ProfileSolver` for the indirect terms of ``spec`` at confidence level ``cl``.

    Starts: masses, angles and couplings spread over their latent boxes; Yukawas near the centre of their
    signed-log latent (|y| << any bound), so every start begins feasible for the cLFV terms and climbs
    towards the bound. The same starts serve every grid value.
    """
    priors = tuple(priors)
    direct = np.array(is_direct(spec))
    keep = np.flatnonzero(~direct)
    thr = jnp.asarray(cl_thresholds(spec, cl)[keep])
    free, lo, hi = _latent_box(priors, exclude=(parameter,))
    key = jax.random.PRNGKey(seed + 1)
    spread = np.array([0.3 if p.type == "signed_log_uniform" else 1.5 for p in free])
    x0s = np.asarray(jax.random.normal(key, (n_starts, len(free)))) * spread
    n_exp = len(PROFILE_EXPERIMENTS)

    def unravel(z):
        return z

    def objective(z, th):
        m, which = th
        obs, _ = point_observables(values_from_z(z, free, lo, hi, priors, {parameter: m}), spec, Q_F=Q_F, br_inv=br_inv)
        mus = jnp.stack([obs[o] for _, o in PROFILE_EXPERIMENTS])
        return jnp.log(mus[which] + 1e-300)

    def constraints(z, th):
        m, _ = th
        _, lnl = point_observables(values_from_z(z, free, lo, hi, priors, {parameter: m}), spec, Q_F=Q_F, br_inv=br_inv)
        return thr - lnl[keep]

    opts = dict(
        method="augmented_lagrangian",
        outer_iters=outer_iters,
        inner_steps=inner_steps,
        inner="lbfgs",
        learning_rate=0.02,
        mu0=10.0,
        mu_growth=10.0,
        tol=1e-6,
        gtol=1e-7,
        rtol=1e-8,
    )

    def run(ms: list[float]) -> list[dict]:
        n = len(ms)
        grid = np.repeat(np.asarray(ms, dtype=np.float64), n_exp)
        which = np.tile(np.arange(n_exp), n)
        flat = jnp.broadcast_to(jnp.asarray(x0s, dtype=jnp.float64), (n * n_exp,) + x0s.shape)
        z, gval, c, viol, lam, k, _ = _solve_constrained(
            objective, constraints, flat, (jnp.asarray(grid), jnp.asarray(which)), unravel, **opts
        )
        _, feas, zb, gb, cb, vb, lb = _pick(z, gval, c, viol, lam, opts["tol"])
        rows = []
        for i, m in enumerate(ms):
            row = {"value": float(m)}
            for e, (name, _) in enumerate(PROFILE_EXPERIMENTS):
                j = i * n_exp + e
                ok = bool(feas[j])
                row[name] = float(np.exp(gb[j])) if ok else float("nan")
                row[f"feasible_{name}"] = ok
                row[f"max_violation_{name}"] = float(vb[j])
                point = values_from_z(jnp.asarray(zb[j]), free, lo, hi, priors, {parameter: m})
                row[f"argmax_{name}"] = {kk: float(np.asarray(vv)) for kk, vv in point.items()}
            row["outer_iterations"] = int(k)
            rows.append(row)
        return rows

    return ProfileSolver(spec, priors, parameter, x0s, tuple(spec.ids[i] for i in keep), run, None)


def profile_grid(low: float, high: float, n_points: int, scale: str = "log") -> np.ndarray:
    """The grid of the profiled parameter: log- or linearly spaced from ``low`` to ``high``."""
    return np.geomspace(low, high, n_points) if scale == "log" else np.linspace(low, high, n_points)


__all__ = ["ProfileSolver", "profile_solver", "profile_grid", "values_from_z", "PROFILE_EXPERIMENTS"]
