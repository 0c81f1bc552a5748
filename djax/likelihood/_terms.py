"""Pure evaluation of likelihood terms for a parameter point (no I/O: the TermSpec arrives compiled)."""

from __future__ import annotations

import math
from statistics import NormalDist

import jax
import jax.numpy as jnp
import numpy as np

from ..model import Params
from ..observables import observables
from ._curves import TermSpec, terms_loglike
from ._forms import COUNTING, GAUSSIAN, HALF_GAUSSIAN, LOG_UPPER_LIMIT, LOWER_LIMIT, POISSON_ZERO_COUNT
from ._presets import DIRECT_DETECTION_OBSERVABLES

_SOLAR = DIRECT_DETECTION_OBSERVABLES


def needs_solar(spec: TermSpec) -> bool:
    """True when a term needs the solar-neutrino observables (Borexino, XENONnT, red giants)."""
    return any(o in _SOLAR for o in spec.observables)


def is_direct(spec: TermSpec):
    """Boolean tuple aligned with ``spec.ids``: True for direct-detection (solar/stellar moment) terms."""
    return tuple(o in _SOLAR for o in spec.observables) + tuple(False for _ in spec.epsilon_ids)


def inactive_terms(spec: TermSpec, br_inv) -> dict:
    """``{term id: reason}`` for the kinetic-mixing terms that cannot act at BR(A' -> invisible) = ``br_inv``
    (their ln L is 0 everywhere): invisible-decay curves (x = BR_inv (eps/eps_90)^2) at BR_inv = 0 and
    visible-decay searches (x ~ 1 - BR_inv) at BR_inv = 1. Host-side (``br_inv`` a plain number)."""
    b = float(br_inv)
    out = {}
    if b == 0.0:
        for tid in spec.curve_ids:
            out[tid] = "an invisible-decay (missing-energy) search: its yield scales with BR(A' -> invisible) = 0"
    if b == 1.0:
        for tid in spec.visible_ids:
            out[tid] = "a visible-decay search: its yield scales with 1 - BR(A' -> invisible) = 0"
    return out


#: Observables that vanish identically when both tau Yukawas are zero (every diagram has a tau vertex).
TAU_OBSERVABLES = ("br_tau_e_gamma", "br_tau_mu_gamma", "delta_a_tau", "d_tau_ecm")


def terms_blocked_by_fixed(spec: TermSpec, priors) -> dict:
    """``{term id: reason}`` for the terms whose observable cannot change under ``priors`` (a sequence of
    :class:`djax.model.Prior`): the tau terms when y_tau = yp_tau = 0 are both fixed (the default priors; with
    separate Yukawas the charged lepton's B-type tau coupling is ypE_tau). Their ln L is a constant, so they
    constrain nothing. Host-side."""
    pri = {p.name: p for p in priors}
    b_tau = "ypE_tau" if "ypE_tau" in pri else "yp_tau"
    tau_off = all(n in pri and pri[n].is_fixed and float(pri[n].value) == 0.0 for n in ("y_tau", b_tau))
    out = {}
    if tau_off:
        for tid, obs in zip(spec.scalar_ids, spec.observables):
            if obs in TAU_OBSERVABLES:
                out[tid] = (
                    f"{obs} needs a tau Yukawa and the priors fix y_tau = {b_tau} = 0 (free them, e.g. "
                    '[priors.y_tau] type = "signed_log_uniform", to let the tau terms constrain the model)'
                )
    return out


def terms_from_observables(obs: dict, spec: TermSpec, *, br_inv=1.0) -> dict:
    """``{term id: ln L}`` from precomputed observables (pure)."""
    vals = terms_loglike(obs, spec, br_inv=br_inv)
    return {tid: vals[i] for i, tid in enumerate(spec.ids)}


def _single(p: Params, spec: TermSpec, br_inv):
    obs = observables(p, solar=needs_solar(spec), **dict(spec.model_options))
    return terms_from_observables(obs, spec, br_inv=br_inv)


def evaluate_terms(p: Params, spec: TermSpec, *, br_inv=1.0) -> dict:
    """Per-term ln L of ``p`` (one point or a batch: leading axes are vmapped). Pure, jit/vmap/grad-safe.

    ln L is normalised so that zero signal gives 0 for upper limits and the central value gives 0 for
    Gaussian measurements; a 90% CL upper limit costs -2.303 (Poisson) or -1.353 (half-Gaussian).
    """
    fn = lambda q: _single(q, spec, br_inv)  # noqa: E731
    for _ in range(jnp.ndim(p.M_F)):
        fn = jax.vmap(fn)
    return fn(p)


def evaluate_log_likelihood(p: Params, spec: TermSpec, *, br_inv=1.0):
    """Sum of the per-term ln L (see :func:`evaluate_terms`)."""
    terms = evaluate_terms(p, spec, br_inv=br_inv)
    if not terms:
        return jnp.zeros(jnp.shape(p.M_F))
    return sum(terms.values())


def cl_thresholds(spec: TermSpec, cl: float) -> np.ndarray:
    """ln L_i at which term i sits at confidence level ``cl`` (order of ``spec.ids``): the "allowed" criterion.

    Poisson zero-count and counting: ln(1 - cl); half-Gaussian, lower_limit and log_upper_limit: -z^2/2 with
    z = Phi^-1((1+cl)/2); Gaussian (a two-sided measurement of a new-physics contribution, mean mu and
    width sigma): min(-z^2/2, -mu^2/(2 sigma^2)), i.e. |x - mu| <= max(z, |mu|/sigma) sigma, so that a
    measurement in tension with the Standard Model never excludes the model's Standard-Model limit x = 0
    (every coupling -> 0 satisfies every constraint; a point is excluded by such a measurement only when
    it fits it worse than the SM and worse than the CL region); curves and visible searches: by their
    shape (x = 1 on the tabulated boundary, so ln(1 - cl) for the default Poisson shape). A point is allowed
    at ``cl`` when every term satisfies ln L_i >= threshold_i (each limit within its own ``cl`` region).
    """
    z = NormalDist().inv_cdf(0.5 * (1.0 + cl))

    def thr(code, mean=0.0, sigma=1.0):
        if code in (POISSON_ZERO_COUNT, COUNTING):
            return math.log(1.0 - cl)
        if code == GAUSSIAN:
            return min(-0.5 * z * z, -0.5 * (mean / sigma) ** 2)
        if code in (HALF_GAUSSIAN, LOWER_LIMIT, LOG_UPPER_LIMIT):
            return -0.5 * z * z
        raise ValueError(f"no CL threshold for form code {code}")

    out = []
    if spec.scalar is not None:
        sc = spec.scalar
        out += [
            thr(int(c), float(m), float(s))
            for c, m, s in zip(np.asarray(sc.form), np.asarray(sc.value), np.asarray(sc.sigma))
        ]
    if spec.curves is not None:
        out += [thr(int(c)) for c in np.asarray(spec.curves.shape)]
    if spec.visible is not None:
        out += [thr(int(c)) for c in np.asarray(spec.visible.shape)]
    return np.array(out, dtype=np.float64)
