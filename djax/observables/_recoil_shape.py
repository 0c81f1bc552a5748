"""Spectral-shape diagnostic of the equivalent-moment recast (numpy, host side; not for jit).

Every direct experiment is emulated by counting events in a flat recoil window [T_1, T_2] (no resolution, no
efficiency). Since the propagator S(T; m) = 2 m_e T/(2 m_e T + m_A'^2) depends on T only, the massive-mediator
recoil spectrum is the massless one times S^2 at every T:

    dN_m/dT = S(T; m)^2 dN_0/dT,    dN_0/dT ∝ sum_k mu_k^2 K_k(T)   (solar: mass states k; reactor: K(T) mu_e^2),

and the recast uses only the window average F(m) = int dN_m / int dN_0 = <S^2>_0 (= sum_k w_k mu_k^2 /
sum_k w_k(0) mu_k^2 of the weight tables). The shape factor S^2(T)/F is the ratio of the normalised massive to
the normalised massless spectrum: where it departs from 1 by O(1) over the window (m_A'^2 >~ 2 m_e T_1) the
signal is pushed to the top of the window, where an experiment's spectral fit (resolution, efficiency,
backgrounds) weighs events differently from a flat count, and the recast is then uncertain by a factor O(1-few)
in mu.
"""

from __future__ import annotations

import difflib

import numpy as np

from .. import constants as C
from ..errors import DjaxError
from . import _reactor_tables as rt
from . import _solar_tables as st

#: Experiments the diagnostic knows: the solar ones of ``_solar_tables`` and the reactor ones.
DIRECT_EXPERIMENTS = tuple(st.EXPERIMENTS) + tuple(rt.REACTOR_EXPERIMENTS)


def _window_and_kernel(experiment: str, mu_sq):
    """(window, kernel(T) -> (nT,), quadrature nodes T, weights wT) of one experiment."""
    if experiment in st.EXPERIMENTS:
        cfg = st.EXPERIMENTS[experiment]
        w = np.ones(3) if mu_sq is None else np.asarray(mu_sq, dtype=np.float64).reshape(3)

        def kernel(T):
            return st._kernel(np.asarray(T, dtype=np.float64), cfg["stepping"]) @ w

        T, wT = st._t_nodes(cfg["window"], cfg["stepping"])
        return cfg["window"], kernel, T, wT
    cfg = rt.REACTOR_EXPERIMENTS[experiment]
    T, wT = rt.reactor_t_nodes(cfg["window"])
    return cfg["window"], rt.reactor_kernel, T, wT


def recoil_shape(experiment: str, m_Aprime: float, *, n_T: int = 200, mu_sq=None) -> dict:
    """Massive- vs massless-mediator recoil spectrum of one direct experiment over its window.

    Args:
      experiment: one of :data:`DIRECT_EXPERIMENTS` ('borexino', 'xenonnt', 'lz', 'pandax4t', 'gemma', 'texono').
      m_Aprime: dark-photon mass (GeV, >= 0).
      n_T: number of log-spaced display points in the window.
      mu_sq: solar experiments only: mass-state moments mu_k^2 (3,) weighting the massless spectrum
        (default universal, ones); the reactor beam is pure nu_e.

    Returns a dict of numpy arrays / floats:
      ``T_GeV`` (n_T,) display grid; ``suppression`` S(T)^2; ``shape_factor`` S(T)^2 / F (normalised massive over
      normalised massless spectrum); ``massless_pdf`` and ``massive_pdf`` (GeV^-1, each normalised on the window);
      ``window_factor`` F = <S^2> (the factor by which mu_equiv^2 falls below the massless moment^2);
      ``distortion`` max over the window of |shape_factor - 1|; ``mean_T_massless_GeV``, ``mean_T_massive_GeV``;
      ``window_GeV`` (T_1, T_2); ``m_transition_GeV`` sqrt(2 m_e T) at the two window edges.
    """
    if experiment not in DIRECT_EXPERIMENTS:
        close = difflib.get_close_matches(str(experiment), DIRECT_EXPERIMENTS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise DjaxError(
            "<recoil_shape>", "experiment", f"{experiment!r} is not one of {list(DIRECT_EXPERIMENTS)}{hint}"
        )
    m = float(m_Aprime)
    if not np.isfinite(m) or m < 0.0:
        raise DjaxError("<recoil_shape>", "m_Aprime", f"must be a finite mass >= 0 GeV, got {m_Aprime!r}")
    if int(n_T) < 2:
        raise DjaxError("<recoil_shape>", "n_T", f"needs at least 2 points, got {n_T!r}")
    if mu_sq is not None and experiment not in st.EXPERIMENTS:
        raise DjaxError("<recoil_shape>", "mu_sq", f"only for the solar experiments; {experiment!r} sees pure nu_e")
    window, kernel, Tq, wq = _window_and_kernel(experiment, mu_sq)

    def s2(T):
        aT = 2.0 * C.M_E * T
        return (aT / (aT + m * m)) ** 2

    Kq = kernel(Tq) * wq
    n0 = float(np.sum(Kq))
    n_m = float(np.sum(Kq * s2(Tq)))
    F = n_m / n0
    t1, t2 = window
    T = np.geomspace(t1, t2, int(n_T))
    K = kernel(T)
    sup = s2(T)
    return {
        "T_GeV": T,
        "suppression": sup,
        "shape_factor": sup / F,
        "massless_pdf": K / n0,
        "massive_pdf": K * sup / n_m,
        "window_factor": F,
        "distortion": float(np.max(np.abs(sup / F - 1.0))),
        "mean_T_massless_GeV": float(np.sum(Kq * Tq) / n0),
        "mean_T_massive_GeV": float(np.sum(Kq * s2(Tq) * Tq) / n_m),
        "window_GeV": (float(t1), float(t2)),
        "m_transition_GeV": (float(np.sqrt(2.0 * C.M_E * t1)), float(np.sqrt(2.0 * C.M_E * t2))),
    }


__all__ = ["recoil_shape", "DIRECT_EXPERIMENTS"]
