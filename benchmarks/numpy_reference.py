"""The "paper" log-likelihood written in plain vectorised NumPy, the way a user would write it without djax.

This is the peer of ``djax`` in the ``peers`` benchmark (not part of the package). It evaluates, for N points
given as arrays of the 13 real parameters (real Yukawas, Q_F = 1):

    C^{ji} = e/(32 pi^2) { M (-s c) y_j y'_i [I_F(r_1)/m_1^2 - I_F(r_2)/m_2^2]
             + (1/2) [m_i y_j y_i (c^2 L_1 + s^2 L_2) + m_j y'_j y'_i (s^2 L_1 + c^2 L_2)] },  L_k = L_F(r_k)/m_k^2
    BR(mu -> e gamma) = m_mu^3 (1 - m_e^2/m_mu^2)^3 / (4 pi Gamma_mu) (|C^{e mu}|^2 + |C^{mu e}|^2)  (docs/physics.md section 3)
    lambda_ab = g_D M/(16 pi^2) (-s c) (y_a y'_b - y_b y'_a) [K(r_1)/m_1^2 - K(r_2)/m_2^2]      (docs/physics.md section 3)
    mu_k^2 = sum_j |eps (U^T lambda U)_jk / mu_B|^2,  mu_equiv = sqrt(sum_k w_k(m_A') mu_k^2)  (docs/physics.md section 6)
    ln L = ln(1 - cl) x / x_90 per term (Poisson, zero events), with
           x/x_90 = BR/BR_90,  (mu_equiv/mu_90)^2,  (eps / eps_90(m_A'))^2 (NA64 2023, BaBar 2017; 0 off-range)

with the closed-form loop functions (r = M^2/m^2, a = r - 1)

    I_F(r) = [r^2 - 4 r + 3 + 2 ln r] / (2 (r - 1)^3),   K(r) = [r - 1 - ln r] / (r - 1)^2,
    L_F(r) = J_2(a) - J_3(a),   J_n(a) = (-1)^n [ln(1 + a) - sum_{k=1}^n (-1)^{k+1} a^k / k] / a^{n+1},

switched to their Taylor series sum_k (-a)^k sum_n q_n/(n+k+1) for |a| < 0.1 (the closed forms cancel there).
GIM differences are plain differences (no special treatment of nearly degenerate scalars).

Inputs that are *data* (constants, the solar weight tables, the digitised limit curves, the limit values) come
from :func:`load_inputs`, which reads them once from djax's data layer as plain NumPy arrays; the computation
below uses nothing from djax.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "load_inputs",
    "I_F",
    "K",
    "L_F",
    "br_mu_e_gamma",
    "dark_moment",
    "borexino_mu_equiv",
    "curve_loglike",
    "observables",
    "log_likelihood",
    "PARAM_NAMES",
]

PARAM_NAMES = (
    "M_F",
    "m_S1",
    "m_S2",
    "theta",
    "y_e",
    "y_mu",
    "y_tau",
    "yp_e",
    "yp_mu",
    "yp_tau",
    "g_D",
    "m_Aprime",
    "epsilon",
)

_A_SERIES = 0.1  # |r - 1| below which the Taylor series is used
_N_SERIES = 20  # 0.1^20: truncation far below float64 rounding


def load_inputs(preset: str = "paper") -> dict:
    """Plain-NumPy data bundle: constants, solar tables, curve knots and limit values of ``preset``.

    Uses djax only as a data source (``djax.constants``, ``djax.observables.solar_tables()``
    and the registry's compiled curve/limit arrays); every value is converted to NumPy float64/complex128.
    """
    from djax import constants as C
    from djax import resolve_terms
    from djax.observables import solar_tables

    spec = resolve_terms(preset)
    tab = solar_tables()
    scal = spec.scalar
    limits = {
        obs: (float(scal.value[i]), float(scal.cl[i]), float(scal.power[i]), int(scal.form[i]))
        for i, obs in enumerate(spec.observables)
    }
    curves = []
    for k, cid in enumerate(spec.curve_ids):
        t = spec.curves.tables
        hi = float(t.log_m_hi[k])
        lm = np.asarray(t.log_m[k], dtype=np.float64)
        keep = lm <= hi
        curves.append(
            {
                "id": cid,
                "log_m": lm[keep],
                "log_eps": np.asarray(t.log_eps[k], np.float64)[keep],
                "log_m_lo": float(t.log_m_lo[k]),
                "log_m_hi": hi,
                "power": float(spec.curves.power[k]),
                "cl": float(spec.curves.cl[k]),
                "shape": int(spec.curves.shape[k]),
            }
        )
    bx = tab["borexino"]
    return {
        "E": C.E_CHARGE,
        "M_MU": C.M_MU,
        "M_E": C.M_E,
        "GAMMA_MU": C.GAMMA_MU,
        "MU_BOHR": C.MU_BOHR,
        "M_LEPTONS": np.array(C.M_LEPTONS, dtype=np.float64),
        "U": np.array(tab["U"], dtype=np.complex128),
        "borexino": {k: np.array(bx[k], dtype=np.float64) for k in ("ln_m", "ln_w", "dln_w", "w0")},
        "limits": limits,
        "curves": curves,
        "scalar_ids": tuple(spec.scalar_ids),
        "observables": tuple(spec.observables),
        "curve_ids": tuple(spec.curve_ids),
    }


# ------------------------------------------------------------------------------------------------------------
# loop functions
# ------------------------------------------------------------------------------------------------------------
def _series(q, a):
    """sum_k (-a)^k sum_n q_n/(n + k + 1) (Taylor series of int_0^1 Q(x)/(1 + a x) dx)."""
    out = np.zeros_like(a)
    for k in range(_N_SERIES - 1, -1, -1):
        ck = sum(qn / (n + k + 1) for n, qn in enumerate(q))
        out = out * (-a) + ck
    return out


def _switch(closed, q, r):
    a = r - 1.0
    small = np.abs(a) < _A_SERIES
    a_safe = np.where(small, 1.0, a)  # keep the closed form away from a = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        val = closed(a_safe, np.log(np.where(small, 2.0, r)))
    return np.where(small, _series(q, np.where(small, a, 0.0)), val)


def I_F(r):
    """I_F(r) = int_0^1 x^2/(1 - x + r x) dx = [r^2 - 4r + 3 + 2 ln r] / (2 (r - 1)^3)."""
    return _switch(lambda a, lr: ((a + 1.0) ** 2 - 4.0 * (a + 1.0) + 3.0 + 2.0 * lr) / (2.0 * a**3), (0.0, 0.0, 1.0), r)


def K(r):
    """K(r) = int_0^1 x/(1 - x + r x) dx = [r - 1 - ln r] / (r - 1)^2."""
    return _switch(lambda a, lr: (a - lr) / a**2, (0.0, 1.0), r)


def L_F(r):
    """L_F(r) = int_0^1 x^2 (1 - x)/(1 - x + r x) dx = J_2(a) - J_3(a)."""

    def closed(a, l1):
        j2 = (l1 - a + a * a / 2.0) / a**3
        j3 = -(l1 - a + a * a / 2.0 - a**3 / 3.0) / a**4
        return j2 - j3

    return _switch(closed, (0.0, 0.0, 1.0, -1.0), r)


# ------------------------------------------------------------------------------------------------------------
# observables
# ------------------------------------------------------------------------------------------------------------
def _unpack(p):
    y = np.stack([p["y_e"], p["y_mu"], p["y_tau"]], axis=-1)
    yp = np.stack([p["yp_e"], p["yp_mu"], p["yp_tau"]], axis=-1)
    return p["M_F"], p["m_S1"], p["m_S2"], np.cos(p["theta"]), np.sin(p["theta"]), y, yp


def br_mu_e_gamma(p, inp):
    """BR(mu -> e gamma) for N points (dict of (N,) arrays of the 13 parameters)."""
    M, m1, m2, c, s, y, yp = _unpack(p)
    r1, r2 = (M / m1) ** 2, (M / m2) ** 2
    d_IF = I_F(r1) / m1**2 - I_F(r2) / m2**2
    L1, L2 = L_F(r1) / m1**2, L_F(r2) / m2**2
    pref = inp["E"] / (32.0 * math.pi**2)
    m_l = inp["M_LEPTONS"]

    def C(j, i):
        enh = M * (-s * c) * y[:, j] * yp[:, i] * d_IF
        non = 0.5 * (
            m_l[i] * y[:, j] * y[:, i] * (c**2 * L1 + s**2 * L2)
            + m_l[j] * yp[:, j] * yp[:, i] * (s**2 * L1 + c**2 * L2)
        )
        return pref * (enh + non)

    phase_space = (1.0 - (inp["M_E"] / inp["M_MU"]) ** 2) ** 3
    return inp["M_MU"] ** 3 * phase_space / (4.0 * math.pi * inp["GAMMA_MU"]) * (C(0, 1) ** 2 + C(1, 0) ** 2)


def dark_moment(p, inp):
    """lambda^D_ab (N, 3, 3), real antisymmetric (GeV^-1), Q_F = 1."""
    M, m1, m2, c, s, y, yp = _unpack(p)
    d_K = K((M / m1) ** 2) / m1**2 - K((M / m2) ** 2) / m2**2
    flav = y[:, :, None] * yp[:, None, :]
    flav = flav - np.swapaxes(flav, 1, 2)
    pref = p["g_D"] * M / (16.0 * math.pi**2) * (-s * c) * d_K
    return pref[:, None, None] * flav


def _solar_weights(m, tab):
    """w_k(m_A') by cubic Hermite in (ln m, ln w) on the uniform grid; m^2 form below, m^-4 above."""
    ln_m, ln_w, dln_w, w0 = tab["ln_m"], tab["ln_w"], tab["dln_w"], tab["w0"]
    n = ln_m.size
    x0, x1 = ln_m[0], ln_m[-1]
    h = (x1 - x0) / (n - 1)
    m_lo, m_hi = math.exp(x0), math.exp(x1)
    below, above = m <= m_lo, m >= m_hi
    inside = ~(below | above)
    x = np.log(np.where(inside, m, math.exp(x0 + 0.5 * h)))
    t = (x - x0) / h
    i = np.clip(np.floor(t), 0, n - 2).astype(np.int64)
    u = (t - i)[:, None]
    y0, y1 = ln_w[i], ln_w[i + 1]
    d0, d1 = dln_w[i] * h, dln_w[i + 1] * h
    u2, u3 = u * u, u * u * u
    w_in = np.exp((2 * u3 - 3 * u2 + 1) * y0 + (u3 - 2 * u2 + u) * d0 + (-2 * u3 + 3 * u2) * y1 + (u3 - u2) * d1)
    w_below = w0 + (np.exp(ln_w[0]) - w0) * (np.where(below, m, 0.0) / m_lo)[:, None] ** 2
    w_above = np.exp(ln_w[-1]) * (m_hi / np.where(above, m, m_hi))[:, None] ** 4
    return np.where(below[:, None], w_below, np.where(above[:, None], w_above, w_in))


def borexino_mu_equiv(p, inp, lam=None):
    """Borexino-equivalent massless-photon moment mu_equiv (mu_B) for N points."""
    lam = dark_moment(p, inp) if lam is None else lam
    U = inp["U"]
    lm = (U.T @ lam @ U) * (p["epsilon"] / inp["MU_BOHR"])[:, None, None]
    mu_sq = np.sum(lm.real**2 + lm.imag**2, axis=1)  # (N, 3): sum over j of |lm_jk|^2
    w = _solar_weights(p["m_Aprime"], inp["borexino"])
    return np.sqrt(np.sum(w * mu_sq, axis=1))


def curve_loglike(eps, m, curve, br_inv=1.0):
    """ln L of one kinetic-mixing curve: ln(1 - cl) br_inv (eps/eps_90(m))^power inside the curve's range."""
    lm = np.log(m)
    inside = (lm >= curve["log_m_lo"]) & (lm <= curve["log_m_hi"])
    le = np.interp(lm, curve["log_m"], curve["log_eps"])
    x = br_inv * (eps / np.exp(le)) ** curve["power"]
    ll = _upper_limit(x, curve["cl"], curve["shape"])
    return np.where(inside, ll, 0.0)


def _z(cl):
    from scipy.special import ndtri

    return float(ndtri(0.5 * (1.0 + cl)))


#: ln L where the upper-limit forms turn logarithmic in the yield (docs/physics.md, "Far tail of the upper limits").
TAIL_LNL = -25.0


def _upper_limit(x_over_x90, cl, form):
    """Poisson (form 0: a r) or half-Gaussian (b r^2) in r = x/x90, continued as TAIL (1 + k ln(r/r_t)) beyond
    the r_t where it reaches TAIL (k = 1, 2)."""
    r = np.asarray(x_over_x90, dtype=np.float64)
    if form == 0:
        a, k = math.log1p(-cl), 1.0
        exact, r_t = a * r, TAIL_LNL / a
    else:
        b, k = -0.5 * _z(cl) ** 2, 2.0
        exact, r_t = b * r * r, math.sqrt(TAIL_LNL / b)
    far = r > r_t
    tail = TAIL_LNL * (1.0 + k * np.log(np.where(far, r, r_t) / r_t))
    return np.where(far, tail, exact)


def observables(p, inp) -> dict:
    """The observables the "paper" likelihood needs: ``br_mu_e_gamma``, ``borexino_mu_equiv_muB``."""
    return {"br_mu_e_gamma": br_mu_e_gamma(p, inp), "borexino_mu_equiv_muB": borexino_mu_equiv(p, inp)}


def log_likelihood(p, inp, br_inv=1.0, *, terms: bool = False):
    """Joint ln L of the preset in ``inp`` (scalar upper limits + kinetic-mixing curves) for N points."""
    obs = observables(p, inp)
    out = {}
    for tid, name in zip(inp["scalar_ids"], inp["observables"]):
        value, cl, power, form = inp["limits"][name]
        out[tid] = _upper_limit((np.abs(obs[name]) / value) ** power, cl, form)
    for cv in inp["curves"]:
        out[cv["id"]] = curve_loglike(p["epsilon"], p["m_Aprime"], cv, br_inv)
    if terms:
        return out
    return sum(out.values())
