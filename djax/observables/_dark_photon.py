"""Decays of a kinetically mixed dark photon A' (pure JAX, float64; jit/vmap/grad safe, no I/O).

The A' of mass ``m`` couples to the electromagnetic current with strength ``eps e``; every visible partial
width is ``eps^2`` times the width of a (massive) virtual photon of mass ``m`` (docs/dark_photon.md)::

    Gamma(A' -> l+ l-)  = (eps^2 alpha m / 3) (1 + 2 m_l^2/m^2) sqrt(1 - 4 m_l^2/m^2)        l = e, mu, tau
    Gamma(A' -> hadrons) = Gamma(A' -> mu+ mu-) * R(s = m^2)
    Gamma_total         = Gamma_ee + Gamma_mumu + Gamma_tautau + Gamma_hadrons + Gamma_invisible
    c tau               = hbar c / Gamma_total

with alpha = alpha(0). ``R(s) = sigma(e+e- -> hadrons) / sigma(e+e- -> mu+mu-)`` (the muon cross section of
massless muons, 4 pi alpha^2/(3 s)) is modelled by :func:`r_ratio`:

* ``pi+ pi-``: ``R = beta_pi^3 |F_pi(s)|^2 / 4`` with the Gounaris-Sakurai rho(770) form factor (energy-
  dependent P-wave width), a rho(1450) admixture beta = -0.145 (Kuhn-Santamaria, Z. Phys. C 48 (1990) 445)
  and F_pi(0) = 1;
* omega(782), phi(1020), J/psi, psi(2S), Upsilon(1S), Upsilon(2S): relativistic Breit-Wigners normalised
  to their electronic widths, ``R_V = 9 s Gamma_ee Gamma Sum_c B_c T_c(s) / (alpha^2 [(s - M^2)^2 + M^2
  Gamma^2])``; ``T_c = [beta_c(s)/beta_c(M^2)]^3`` is a P-wave threshold factor of channel c (threshold
  masses >= 2 m_pi; ``int R_V ds = 9 pi M Gamma_ee B_h / alpha^2``, the narrow-width sum rule);
* the perturbative continuum ``R = N_c Sum_q Q_q^2 (1 + alpha_s/pi)``, switched on with C^2 "smootherstep"
  quark thresholds: u, d, s between 1.05 and 1.5 GeV, c between 2 m_D0 and 4.2 GeV, b between 2 m_B and
  11 GeV; alpha_s at one loop (n_f = 3) fixed to alpha_s(m_tau) = 0.31, evaluated at max(sqrt s, 1 GeV).

R = 0 exactly below the two-pion threshold (the radiative channels pi0 gamma, eta gamma that open lower
are dropped: R < 1e-4 there). Accuracy (against e+e- data, see docs/dark_photon.md): ~10 % on the rho and
at the omega, phi peaks; 30-40 % between 1.05 and 1.6 GeV (rho', omega', phi' region) and between 3.73
and 4.6 GeV (open-charm resonances); 5-10 % elsewhere up to 10 GeV (O(alpha_s) continuum, no
higher orders). Branching ratios are independent of eps. Below 2 m_e no channel is open (the physical
decay is A' -> 3 gamma, not modelled): the visible branching ratios are continued as BR_ee = 1 there
and c tau = +inf.

Masses and total widths: PDG 2024 (S. Navas et al., Phys. Rev. D 110 (2024) 030001), as tabulated in
``mass_width_2024.mcd`` of scikit-hep ``particle`` 0.26.2 (tests/test_dark_photon.py checks them there).
Electronic widths and decay branching fractions: PDG 2024 summary tables, status "memory" (quoted from
memory, re-check before publication-grade use; they enter only the hadronic width).
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from .. import constants as C

__all__ = [
    "CHANNELS",
    "VISIBLE_CHANNELS",
    "MODES",
    "lepton_width",
    "alpha_s",
    "r_ratio",
    "r_ratio_components",
    "pion_form_factor",
    "dark_photon_widths",
    "dark_photon_branching_ratios",
    "branching_ratios_from_widths",
    "dark_photon_ctau_cm",
    "unit_widths",
]

#: Visible decay channels, in the order used by arrays (``unit_widths``, ``_visible.VisibleTerms.ref_mask``).
VISIBLE_CHANNELS = ("ee", "mumu", "tautau", "hadrons")
#: All channels reported by :func:`dark_photon_widths` and :func:`dark_photon_branching_ratios`.
CHANNELS = VISIBLE_CHANNELS + ("invisible",)
#: Modes of :func:`dark_photon_branching_ratios`.
MODES = ("visible", "invisible", "mixed")

# ---------------------------------------------------------------------------------------------------------
# hadron masses and widths, GeV: PDG 2024 (mass_width_2024.mcd)
# ---------------------------------------------------------------------------------------------------------
M_PI = 0.13957039  # pi+-
M_PI0 = 0.1349768  # pi0
M_K = 0.493677  # K+-
M_K0 = 0.497611  # K0
M_ETA = 0.547862  # eta
M_D0 = 1.86484  # D0: open-charm threshold 2 m_D0 = 3.7297 GeV
M_B = 5.27941  # B+-: open-beauty threshold 2 m_B = 10.559 GeV
M_RHO, G_RHO = 0.77526, 0.1474  # rho(770)
M_RHO1, G_RHO1 = 1.465, 0.400  # rho(1450)
#: rho(1450) admixture of the pion form factor (Kuhn & Santamaria, Z. Phys. C 48 (1990) 445; memory).
BETA_RHO1 = -0.145
_M3PI = 2.0 * M_PI + M_PI0

#: Breit-Wigner resonances: (name, M, Gamma, Gamma_ee, ((B_c, threshold mass), ...)), GeV.
#: Channel thresholds below 2 m_pi are raised to 2 m_pi (R = 0 below the two-pion threshold).
RESONANCES = (
    # omega(782): M, Gamma PDG 2024; B(ee) = 7.38e-5; B(3pi) = 89.2 %, B(pi0 gamma) = 8.33 %, B(pi pi) = 1.53 %
    ("omega", 0.78266, 8.68e-3, 7.38e-5 * 8.68e-3, ((0.892, _M3PI), (0.0833, 2.0 * M_PI), (0.0153, 2.0 * M_PI))),
    # phi(1020): B(ee) = 2.979e-4; K+K- 49.1 %, KL KS 33.9 %, 3pi (incl. rho pi) 15.24 %, eta gamma 1.303 %
    (
        "phi",
        1.019461,
        4.249e-3,
        2.979e-4 * 4.249e-3,
        ((0.491, 2.0 * M_K), (0.339, 2.0 * M_K0), (0.1524, _M3PI), (0.01303, M_ETA)),
    ),
    # J/psi: Gamma_ee = 5.53 keV; B(ee) = 5.971 %, B(mumu) = 5.961 %
    ("J/psi", 3.096900, 9.26e-5, 5.53e-6, ((1.0 - 0.05971 - 0.05961, 2.0 * M_PI),)),
    # psi(2S): Gamma_ee = 2.33 keV; B(ee) = 0.793 %, B(mumu) = 0.80 %, B(tautau) = 0.31 %
    ("psi(2S)", 3.686097, 2.93e-4, 2.33e-6, ((1.0 - 0.00793 - 0.0080 - 0.0031, 2.0 * M_PI),)),
    # Upsilon(1S): Gamma_ee = 1.340 keV; B(ee) = 2.38 %, B(mumu) = 2.48 %, B(tautau) = 2.60 %
    ("Upsilon(1S)", 9.46040, 5.40e-5, 1.340e-6, ((1.0 - 0.0238 - 0.0248 - 0.0260, 2.0 * M_PI),)),
    # Upsilon(2S): Gamma_ee = 0.612 keV; B(ee) = 1.91 %, B(mumu) = 1.93 %, B(tautau) = 2.00 %
    ("Upsilon(2S)", 10.02340, 3.20e-5, 0.612e-6, ((1.0 - 0.0191 - 0.0193 - 0.0200, 2.0 * M_PI),)),
)

#: Perturbative continuum: (N_c Sum Q_q^2, threshold start, threshold end) in GeV of sqrt(s).
CONTINUUM = (
    (3.0 * (4.0 / 9.0 + 1.0 / 9.0 + 1.0 / 9.0), 1.05, 1.5),  # u, d, s
    (3.0 * 4.0 / 9.0, 2.0 * M_D0, 4.2),  # c
    (3.0 * 1.0 / 9.0, 2.0 * M_B, 11.0),  # b
)
#: alpha_s(m_tau) anchoring the one-loop, n_f = 3 running (PDG 2024 QCD review, tau decays; memory).
ALPHA_S_MTAU = 0.31
_BETA0_NF3 = 9.0  # 11 - 2 n_f / 3


def _f(x):
    return jnp.asarray(x, dtype=jnp.result_type(float))


def _safe_beta2(s, m_th):
    """(beta^2 = 1 - m_th^2/s clipped at 0, open mask) for s >= 0; finite gradients everywhere."""
    s_safe = jnp.where(s > 0, s, 1.0)
    b2 = 1.0 - m_th * m_th / s_safe
    open_ = (s > 0) & (b2 > 0)
    return jnp.where(open_, b2, 0.0), open_


def _safe_sqrt(x, mask):
    return jnp.where(mask, jnp.sqrt(jnp.where(mask, x, 1.0)), 0.0)


# ---------------------------------------------------------------------------------------------------------
# leptonic widths
# ---------------------------------------------------------------------------------------------------------
def lepton_width(m, eps, m_l):
    """Gamma(A' -> l+ l-) = (eps^2 alpha m/3)(1 + 2 m_l^2/m^2) sqrt(1 - 4 m_l^2/m^2) in GeV; 0 below 2 m_l."""
    m, eps = _f(m), _f(eps)
    b2, open_ = _safe_beta2(m * m, 2.0 * m_l)
    m_safe = jnp.where(open_, m, 1.0)
    w = eps * eps * C.ALPHA_EM * m_safe / 3.0 * (1.0 + 2.0 * m_l * m_l / (m_safe * m_safe)) * _safe_sqrt(b2, open_)
    return jnp.where(open_, w, 0.0)


# ---------------------------------------------------------------------------------------------------------
# R ratio
# ---------------------------------------------------------------------------------------------------------
def alpha_s(q):
    """One-loop, n_f = 3 strong coupling at scale ``q`` (GeV), fixed to ALPHA_S_MTAU at m_tau; q >= 1 GeV
    is enforced (the continuum that uses it is off below 1.05 GeV)."""
    q = jnp.maximum(_f(q), 1.0)
    inv = 1.0 / ALPHA_S_MTAU + _BETA0_NF3 / (4.0 * math.pi) * jnp.log(q * q / (C.M_TAU * C.M_TAU))
    return 1.0 / inv


def _smootherstep(x, a, b):
    t = jnp.clip((x - a) / (b - a), 0.0, 1.0)
    return t * t * t * (t * (6.0 * t - 15.0) + 10.0)


def _gs_constants(M, G, m=M_PI):
    """Gounaris-Sakurai constants (k_M, h(M^2), h'(M^2), d) of a rho-like resonance (plain floats)."""
    k = 0.5 * math.sqrt(M * M - 4.0 * m * m)
    L = math.log((M + 2.0 * k) / (2.0 * m))
    h = 2.0 / math.pi * k / M * L
    dh = h * (1.0 / (8.0 * k * k) - 1.0 / (2.0 * M * M)) + 1.0 / (2.0 * math.pi * M * M)
    d = 3.0 / math.pi * m * m / (k * k) * L + M / (2.0 * math.pi * k) - m * m * M / (math.pi * k**3)
    return k, h, dh, d


def _bw_gs(s, M, G, m=M_PI):
    """Gounaris-Sakurai Breit-Wigner M^2 (1 + d G/M) / (M^2 - s + f(s) - i M G(s)) for s > 4 m^2
    (PRL 21 (1968) 244); returns (real, imag). Callers mask s <= 4 m^2."""
    kM, hM, dhM, d = _gs_constants(M, G, m)
    s_ok = s > 4.0 * m * m * (1.0 + 1e-12)
    s = jnp.where(s_ok, s, 4.0 * m * m * 1.5)  # finite filler below threshold
    w = jnp.sqrt(s)
    k = 0.5 * jnp.sqrt(s - 4.0 * m * m)
    h = 2.0 / math.pi * k / w * jnp.log((w + 2.0 * k) / (2.0 * m))
    f = G * M * M / kM**3 * (k * k * (h - hM) + (M * M - s) * kM * kM * dhM)
    Gs = G * (M / w) * (k / kM) ** 3
    re_den = M * M - s + f
    im_den = -M * Gs
    num = M * M * (1.0 + d * G / M)
    den2 = re_den * re_den + im_den * im_den
    return num * re_den / den2, -num * im_den / den2


def pion_form_factor(s):
    """``(Re F_pi, Im F_pi)`` at s > 4 m_pi^2: [BW_GS(rho) + beta BW_GS(rho')] / (1 + beta), F_pi(0) = 1."""
    s = _f(s)
    r0, i0 = _bw_gs(s, M_RHO, G_RHO)
    r1, i1 = _bw_gs(s, M_RHO1, G_RHO1)
    n = 1.0 + BETA_RHO1
    return (r0 + BETA_RHO1 * r1) / n, (i0 + BETA_RHO1 * i1) / n


def _r_pipi(s):
    b2, open_ = _safe_beta2(s, 2.0 * M_PI)
    re, im = pion_form_factor(s)
    beta3 = b2 * _safe_sqrt(b2, open_)
    return jnp.where(open_, 0.25 * beta3 * (re * re + im * im), 0.0)


def _r_resonance(s, M, G, Gee, channels):
    alpha2 = C.ALPHA_EM**2
    acc = jnp.zeros_like(s)
    for B, m_th in channels:
        m_th = max(m_th, 2.0 * M_PI)
        b2, open_ = _safe_beta2(s, m_th)
        bM2 = 1.0 - m_th * m_th / (M * M)
        t = b2 * _safe_sqrt(b2, open_) / (bM2 * math.sqrt(bM2))
        acc = acc + B * jnp.where(open_, t, 0.0)
    return 9.0 * s * Gee * G * acc / (alpha2 * ((s - M * M) ** 2 + (M * G) ** 2))


def r_ratio_components(s) -> dict:
    """The parts of :func:`r_ratio` at ``s = m^2`` (GeV^2): ``pipi``, one entry per resonance name of
    :data:`RESONANCES`, ``continuum`` and ``total``."""
    s = jnp.maximum(_f(s), 0.0)
    out = {"pipi": _r_pipi(s)}
    for name, M, G, Gee, ch in RESONANCES:
        out[name] = _r_resonance(s, M, G, Gee, ch)
    w = jnp.sqrt(jnp.where(s > 0, s, 1.0))
    w = jnp.where(s > 0, w, 0.0)
    steps = sum(nq * _smootherstep(w, a, b) for nq, a, b in CONTINUUM)
    out["continuum"] = (1.0 + alpha_s(w) / math.pi) * steps
    out["total"] = sum(v for k, v in out.items())
    return out


def r_ratio(s):
    """R(s) = sigma(e+e- -> hadrons)/sigma(e+e- -> mu+mu-) of the model in this module's docstring; 0 below
    the two-pion threshold. ``s`` in GeV^2 (scalar or array)."""
    return r_ratio_components(s)["total"]


# ---------------------------------------------------------------------------------------------------------
# widths, branching ratios, lifetime
# ---------------------------------------------------------------------------------------------------------
def unit_widths(m):
    """Visible partial widths at eps = 1, stacked in the order of :data:`VISIBLE_CHANNELS` (shape (..., 4))."""
    m = _f(m)
    ee = lepton_width(m, 1.0, C.M_E)
    mumu = lepton_width(m, 1.0, C.M_MU)
    tautau = lepton_width(m, 1.0, C.M_TAU)
    had = mumu * r_ratio(m * m)
    return jnp.stack([ee, mumu, tautau, had], axis=-1)


def dark_photon_widths(m_Aprime, epsilon, gamma_invisible=0.0) -> dict:
    """Partial and total widths of the A' in GeV.

    Args:
      m_Aprime: A' mass in GeV.  epsilon: kinetic mixing.
      gamma_invisible: width into user-added invisible dark states, GeV (default 0: the minimal model,
        whose dark states are all heavier than the A').
    Returns:
      dict with ``ee``, ``mumu``, ``tautau``, ``hadrons``, ``invisible``, ``visible`` (sum of the four
      visible channels), ``total``, ``ctau_cm`` (proper decay length, +inf when no channel is open) and
      ``tau_s`` (proper lifetime).
    """
    m, eps = _f(m_Aprime), _f(epsilon)
    u = unit_widths(m) * (eps * eps)[..., None]
    out = {name: u[..., i] for i, name in enumerate(VISIBLE_CHANNELS)}
    vis = jnp.sum(u, axis=-1)
    inv = jnp.broadcast_to(_f(gamma_invisible), vis.shape)
    tot = vis + inv
    out.update(invisible=inv, visible=vis, total=tot)
    pos = tot > 0
    inv_tot = jnp.where(pos, 1.0 / jnp.where(pos, tot, 1.0), jnp.inf)
    out["ctau_cm"] = C.HBARC_GEV_CM * inv_tot
    out["tau_s"] = C.HBAR_GEV_S * inv_tot
    return out


def branching_ratios_from_widths(widths: dict) -> dict:
    """Branching ratios ``Gamma_c / Gamma_total`` for the channels of :data:`CHANNELS` plus ``visible``.

    Where no channel is open (m < 2 m_e, no invisible width) the continuation BR_ee = 1 is returned.
    """
    tot = widths["total"]
    pos = tot > 0
    t = jnp.where(pos, tot, 1.0)
    out = {}
    for c in CHANNELS:
        fill = 1.0 if c == "ee" else 0.0
        out[c] = jnp.where(pos, widths[c] / t, fill)
    out["visible"] = jnp.where(pos, widths["visible"] / t, 1.0)
    return out


def dark_photon_branching_ratios(m_Aprime, mode: str = "visible", br_invisible=None) -> dict:
    """A' branching ratios (independent of epsilon).

    Args:
      m_Aprime: A' mass in GeV.
      mode: ``"visible"`` -- the minimal model (no invisible width, BR_inv = 0);
        ``"invisible"`` -- BR_inv = 1 (what NA64 / BaBar missing-energy searches assume), visible BRs 0;
        ``"mixed"`` -- a fixed BR_inv = ``br_invisible`` into a light invisible dark state; the visible
        channels share 1 - BR_inv in their minimal-model ratios.
      br_invisible: BR(A' -> invisible) in [0, 1] for ``mode="mixed"`` (required there, ignored otherwise).
    Returns:
      dict with ``ee``, ``mumu``, ``tautau``, ``hadrons``, ``invisible`` and ``visible`` (= 1 - BR_inv);
      the five channels sum to 1.
    """
    if mode not in MODES:
        raise ValueError(f"dark_photon_branching_ratios: unknown mode {mode!r}; one of {MODES}")
    m = _f(m_Aprime)
    vis = branching_ratios_from_widths(dark_photon_widths(m, 1.0))
    if mode == "visible":
        b_inv = jnp.zeros_like(m)
    elif mode == "invisible":
        b_inv = jnp.ones_like(m)
    else:
        if br_invisible is None:
            raise ValueError("dark_photon_branching_ratios: mode='mixed' needs br_invisible")
        b_inv = jnp.broadcast_to(_f(br_invisible), m.shape)
    scale = 1.0 - b_inv
    out = {c: scale * vis[c] for c in VISIBLE_CHANNELS}
    out["invisible"] = b_inv
    out["visible"] = scale
    return out


def dark_photon_ctau_cm(m_Aprime, epsilon, *, gamma_invisible=0.0, br_invisible=None):
    """Proper decay length c tau in cm.

    With ``br_invisible`` (mode "mixed") the total width is Gamma_visible / (1 - BR_inv) (+inf lifetime
    is never returned for BR_inv = 1: c tau -> 0 there); otherwise Gamma_visible + ``gamma_invisible``.
    """
    w = dark_photon_widths(m_Aprime, epsilon, gamma_invisible)
    if br_invisible is None:
        return w["ctau_cm"]
    b = _f(br_invisible)
    vis = w["visible"]
    pos = vis > 0
    return jnp.where(pos, C.HBARC_GEV_CM * (1.0 - b) / jnp.where(pos, vis, 1.0), jnp.inf)
