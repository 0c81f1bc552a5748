"""Independent reference for the solar-neutrino weight tables (docs/physics.md section 6), by adaptive quadrature.

djax builds W_k(m) = sum_s int dE phi_s P_ek int dT f(T) (1/T - 1/E) S(T; m)^2 with the *recoil* integral
outermost (fixed piecewise Gauss-Legendre in ln T), the energy integral innermost, evaluated once on a ln m grid
and interpolated (cubic Hermite). This reference integrates in the opposite order -- energy outermost with
``scipy.integrate.quad_vec`` (adaptive Gauss-Kronrod), recoil innermost with ``scipy.integrate.quad`` in T --
and evaluates at the requested m exactly, with no grid and no interpolation. It shares only the physics
inputs (fluxes, 8B mixture, MSW fractions, Xe shells) with ``djax.observables._solar_tables``; the allowed
beta+ shapes and their normalisations are re-implemented here (scalar ``math`` + ``quad``). The inputs are
tested separately against literature numbers in tests/test_solar.py.

Run as a script to print w_k(m)/sum_k w_k(0) for both experiments at a few masses.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.integrate import quad, quad_vec

from djax.observables import _solar_tables as st

M_E = st.M_E
ALPHA = st.ALPHA


def _shape(E, E0, Z):
    """Allowed beta+ neutrino shape E^2 p W F(Z, W), scalar pure-Python re-implementation (F = y/(e^y - 1))."""
    te = E0 - E
    if te <= 0.0 or E <= 0.0:
        return 0.0
    W = te + M_E
    p = math.sqrt(te * (te + 2.0 * M_E))
    y = 2.0 * math.pi * Z * ALPHA * W / p
    return E * E * p * W * (y / math.expm1(y) if y < 700.0 else 0.0)


@functools.lru_cache(maxsize=64)
def _norm(E0, Z):
    return quad(lambda e: _shape(e, E0, Z), 0.0, E0, epsabs=0.0, epsrel=1e-12, limit=200)[0]


def spectrum(E, source):
    """Normalised dN/dE of a continuous source (reference implementation)."""
    if source == "8B":
        return sum(w * _shape(E, e0, st.B8_Z) / _norm(e0, st.B8_Z) for w, e0 in st.b8_components())
    E0, Z = st.BETA_SOURCES[source]
    return _shape(E, E0, Z) / _norm(E0, Z)


def _inner(E, m, window, edges):
    """int_{T1}^{min(T2, Tmax(E))} f(T) (1/T - 1/E) S(T; m)^2 dT, f = sum_i n_i theta(T - B_i)/54 or 1."""
    t1, t2 = window
    top = min(t2, 2.0 * E * E / (M_E + 2.0 * E))
    if top <= t1:
        return 0.0
    m2 = m * m

    def g(T):
        aT = 2.0 * M_E * T
        s = aT / (aT + m2)
        return (1.0 / T - 1.0 / E) * s * s

    if edges is None:
        return quad(g, t1, top, epsabs=0.0, epsrel=1e-11, limit=200)[0]
    # stepping: integrate between consecutive shell edges with the constant occupied fraction
    cuts = [t1] + [b for b in sorted(edges) if t1 < b < top] + [top]
    total = 0.0
    for a, b in zip(cuts[:-1], cuts[1:]):
        frac = sum(n for n, bb in st.XE_SHELLS if bb <= 0.5 * (a + b)) / 54.0
        total += frac * quad(g, a, b, epsabs=0.0, epsrel=1e-11, limit=200)[0]
    return total


def reference_W(experiment: str, m: float) -> np.ndarray:
    """W_k(m) (k = 1, 2, 3) in the tables' units (flux-weighted, no cross-section prefactor)."""
    cfg = st.EXPERIMENTS[experiment]
    window = cfg["window"]
    edges = [b for _, b in st.XE_SHELLS] if cfg["stepping"] else None
    ne = {s: st.mean_electron_density_NA(s) for s in st.FLUX_B16_GS98}
    e_lo, e_knee = float(st.e_min(window[0])), float(st.e_min(window[1]))
    W = np.zeros(3)
    for s, flux, e in st.line_components():
        W += flux * st.msw_mass_fractions(e, ne[s]) * _inner(e, m, window, edges)
    sources = [(s, st.BETA_SOURCES[s][0], []) for s in st.BETA_SOURCES]
    b8_ends = sorted(e0 for _, e0 in st.b8_components())
    sources.append(("8B", b8_ends[-1], b8_ends[:-1]))
    for s, e_end, kinks in sources:
        if e_end <= e_lo:
            continue
        pts = [p for p in kinks + [e_knee] if e_lo < p < e_end]

        def f(E, s=s):
            return spectrum(E, s) * st.msw_mass_fractions(E, ne[s]) * _inner(E, m, window, edges)

        val, _ = quad_vec(f, e_lo, e_end, epsabs=0.0, epsrel=1e-9, points=pts or None, limit=400)
        W += st.FLUX_B16_GS98[s] * val
    return W


def reference_weights(experiment: str, masses) -> tuple[np.ndarray, np.ndarray]:
    """(w(0) (3,), w(m) (len(masses), 3)) with w = W_k(m)/sum_k W_k(0)."""
    W0 = reference_W(experiment, 0.0)
    Wm = np.array([reference_W(experiment, float(m)) for m in masses])
    return W0 / W0.sum(), Wm / W0.sum()


if __name__ == "__main__":
    # mu_equiv(m)/mu_equiv(0) for a universal moment (all mu_k equal): sqrt(sum_k w_k(m)) with w(0) summing to 1
    ms = [1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    for exp in ("borexino", "xenonnt"):
        w0, wm = reference_weights(exp, ms)
        print(exp, "w_k(0) =", w0)
        for m, w in zip(ms, wm):
            print(f"  m_A' = {m:8.1e} GeV  mu_equiv(m)/mu_equiv(0) = {math.sqrt(w.sum() / w0.sum()):.6e}  w_k = {w}")
