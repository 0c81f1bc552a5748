r"""Catalogue of every observable and every model parameter: units, names, LaTeX labels, one-line equations.

Pure data (no JAX, no NumPy at import), so writers (netCDF/Zarr attributes, tables, plot labels, run reports)
can read it anywhere. Units are UDUNITS-style strings: ``"GeV"``, ``"GeV-1"``, ``"e cm"``, ``"mu_B"``
(Bohr magneton, e/(2 m_e) = 2.9e-7 GeV^-1 in natural units), ``"eV"``, ``"rad"``, ``"1"`` (dimensionless).

Each entry is a read-only mapping with the keys

* ``name``: the key in :func:`djax.observables` output (or the parameter / NumPyro site name);
* ``units``, ``long_name`` (plain English), ``latex`` (math-mode label without ``$``);
* ``description``: one line with the equation as implemented (symbols as in ``docs/physics.md``);
* ``shape``: ``()`` for scalars per point, ``(3,)`` / ``(3, 3)`` for flavour vectors / matrices
  (rows/columns e, mu, tau); ``dtype``: ``"float64"`` or ``"complex128"``;
* ``kind``: ``"observable"``, ``"parameter"`` or ``"latent"``.

Symbols: ``c, s = cos theta, sin theta``; ``r_k = M_F^2 / m_Sk^2``; ``A_a1 = c y_a, A_a2 = s y_a,
B_a1 = -s y'_a, B_a2 = c y'_a``; loop functions ``I_F, I_S, K = I_F + I_S, L_F, G`` of ``djax.loops``;
``e = sqrt(4 pi alpha)``; ``mu_B = e / (2 m_e)``; ``U`` the PMNS matrix (NuFIT 6.0, ``djax.constants``).

API: :func:`observable_info`, :func:`parameter_info` (both return a fresh ``dict``), the read-only mappings
:data:`OBSERVABLE_INFO` and :data:`PARAMETER_CATALOGUE`, and :func:`info` (either kind).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_FLAV_TEX = {"e": "e", "mu": r"\mu", "tau": r"\tau"}
_MASSES_TEX = {"e": "m_e", "mu": r"m_\mu", "tau": r"m_\tau"}


def _entry(name, units, long_name, latex, description, *, shape=(), dtype="float64", kind="observable"):
    return MappingProxyType(
        {
            "name": name,
            "units": units,
            "long_name": long_name,
            "latex": latex,
            "description": description,
            "shape": tuple(shape),
            "dtype": dtype,
            "kind": kind,
        }
    )


# ------------------------------------------------------------------------------------------------------------
# observables (keys of djax.observables(p))
# ------------------------------------------------------------------------------------------------------------
_OBS: dict = {}


def _add(*args, **kwargs):
    e = _entry(*args, **kwargs)
    _OBS[e["name"]] = e


_add(
    "dipole_C_GeV",
    "GeV-1",
    "charged-lepton dipole coefficient matrix",
    r"C^{ji}",
    "L = C^{ji} (lbar_j sigma^{mu nu} P_R l_i) F_{mu nu} + h.c. (flavio WET convention; row j outgoing, column "
    "i decaying lepton); C^{ji} = e/(32 pi^2) sum_k [M_F A*_jk B_ik I_F(r_k) + (m_i A*_jk A_ik + m_j B*_jk B_ik) "
    "L_F(r_k)/2] / m_Sk^2",
    shape=(3, 3),
    dtype="complex128",
)

for _i, _j in (("mu", "e"), ("tau", "e"), ("tau", "mu")):
    _add(
        f"br_{_i}_{_j}_gamma",
        "1",
        f"branching ratio of {_i} -> {_j} gamma",
        rf"\mathrm{{BR}}({_FLAV_TEX[_i]}\to {_FLAV_TEX[_j]}\gamma)",
        f"BR({_i} -> {_j} gamma) = m_{_i}^3 / (4 pi Gamma_{_i}) (1 - m_{_j}^2/m_{_i}^2)^3 "
        f"(|C^{{{_j}{_i}}}|^2 + |C^{{{_i}{_j}}}|^2), Gamma_{_i} = hbar / tau_{_i} (PDG 2024)",
    )

_add(
    "br_mu_3e",
    "1",
    "branching ratio of mu -> 3e in photon-dipole dominance",
    r"\mathrm{BR}(\mu\to 3e)",
    "BR(mu -> 3e) = (alpha / 3 pi) (ln(m_mu^2/m_e^2) - 11/4) BR(mu -> e gamma) (dipole dominance; Kuno & Okada "
    "2001, eq. 57)",
)

_NUCLEUS = {"Au": "gold", "Ti": "titanium", "Al": "aluminium"}
for _n, _long in _NUCLEUS.items():
    _add(
        f"cr_mu_e_{_n}",
        "1",
        f"mu -> e conversion rate in {_long} over the muon capture rate",
        rf"\mathrm{{CR}}(\mu\,\mathrm{{{_n}}}\to e\,\mathrm{{{_n}}})",
        f"CR(mu {_n} -> e {_n}) = pi D_{_n}^2 Gamma_mu / omega_capt({_n}) BR(mu -> e gamma) (dipole dominance; "
        f"overlap integral D_{_n} of Kitano, Koike, Okada 2002, in units of m_mu^(5/2))",
    )

for _l in ("e", "mu", "tau"):
    _add(
        f"delta_a_{_l}",
        "1",
        f"new-physics contribution to the {_l} anomalous magnetic moment (g-2)/2",
        rf"\Delta a_{{{_FLAV_TEX[_l]}}}",
        f"Delta a_{_l} = (4 m_{_l} / e) Re C^{{{_l}{_l}}}",
    )
    _add(
        f"d_{_l}_ecm",
        "e cm",
        f"{_l} electric dipole moment",
        rf"d_{{{_FLAV_TEX[_l]}}}",
        f"d_{_l} / e = -(2/e) Im C^{{{_l}{_l}}} hbar c (L_EDM = -(i/2) d lbar sigma^{{mu nu}} gamma_5 l F_{{mu nu}}; "
        f"hbar c = 1.9733e-14 GeV cm)",
    )

_LAMBDA_EQ = "lambda_ab = g_D Q_F M_F/(16 pi^2) (-s c) (y*_a y'_b - y*_b y'_a) [f(r_1)/m_S1^2 - f(r_2)/m_S2^2]"
_add(
    "lambda_dark_GeV",
    "GeV-1",
    "Majorana dark transition magnetic moment matrix",
    r"\lambda^D_{ab}",
    _LAMBDA_EQ + " with f = K = I_F + I_S (3x3 antisymmetric, flavour basis; coefficient of the Dirac-like "
    "nubar sigma P_R nu dark-photon amplitude)",
    shape=(3, 3),
    dtype="complex128",
)
_add(
    "lambda_dark_muB",
    "mu_B",
    "Majorana dark transition magnetic moment matrix in Bohr magnetons",
    r"\lambda^D_{ab}/\mu_B",
    "lambda^D_ab / mu_B, mu_B = e/(2 m_e); " + _LAMBDA_EQ + ", f = K",
    shape=(3, 3),
    dtype="complex128",
)
_add(
    "lambda_dark_fermion_muB",
    "mu_B",
    "fermion-radiated part of the dark transition moment",
    r"\lambda^{D,F}_{ab}/\mu_B",
    "part of lambda^D with the dark photon radiated from N: " + _LAMBDA_EQ + " with f = I_F, over mu_B",
    shape=(3, 3),
    dtype="complex128",
)
_add(
    "lambda_dark_scalar_muB",
    "mu_B",
    "scalar-radiated part of the dark transition moment",
    r"\lambda^{D,S}_{ab}/\mu_B",
    "part of lambda^D with the dark photon radiated from S_k (charge -Q_F): " + _LAMBDA_EQ + " with f = I_S, over mu_B",
    shape=(3, 3),
    dtype="complex128",
)
_add(
    "lambda_em_muB",
    "mu_B",
    "electromagnetic-like transition moment matrix (large momentum transfer)",
    r"\epsilon\lambda^D_{ab}/\mu_B",
    "epsilon lambda^D_ab / mu_B: the photon-like moment for |q^2| >> m_A'^2 (kinetic mixing epsilon)",
    shape=(3, 3),
    dtype="complex128",
)
_add(
    "lambda_dark_max_muB",
    "mu_B",
    "largest dark transition moment",
    r"\max_{ab}|\lambda^D_{ab}|/\mu_B",
    "max_ab |lambda^D_ab| / mu_B",
)
_add(
    "lambda_em_max_muB",
    "mu_B",
    "largest electromagnetic-like transition moment",
    r"\epsilon\max_{ab}|\lambda^D_{ab}|/\mu_B",
    "epsilon max_ab |lambda^D_ab| / mu_B",
)
_add(
    "fermion_to_scalar_ratio",
    "1",
    "ratio of the fermion- to the scalar-radiated transition moment",
    r"\lambda^{D,F}/\lambda^{D,S}",
    "[I_F(r_1)/m_S1^2 - I_F(r_2)/m_S2^2] / [I_S(r_1)/m_S1^2 - I_S(r_2)/m_S2^2] (flavour independent; the ratio "
    "of m-derivatives at m_S1 = m_S2)",
)

_add(
    "m_nu_eV",
    "eV",
    "one-loop Majorana neutrino mass matrix",
    r"m_\nu^{ab}",
    "m_nu^ab = M_F s c/(16 pi^2) (y_a y'*_b + y_b y'*_a) [G(M_F, m_S1) - G(M_F, m_S2)], "
    "G(M, m) = m^2 ln(m^2/M^2)/(m^2 - M^2) (3x3 complex symmetric, rank <= 2)",
    shape=(3, 3),
    dtype="complex128",
)
_add(
    "m_nu_sum_eV",
    "eV",
    "sum of the light-neutrino masses (trace norm of m_nu)",
    r"\sum m_\nu",
    "sum of the singular values of m_nu: sqrt(||m||_F^2 + 2 sqrt(sum |2x2 minors|^2)) (rank <= 2, Cauchy-Binet)",
)
_add("m_nu_max_eV", "eV", "largest entry of the neutrino mass matrix", r"\max_{ab}|m_\nu^{ab}|", "max_ab |m_nu^ab|")

_add(
    "epsilon",
    "1",
    "kinetic mixing (copy of the parameter)",
    r"\epsilon",
    "epsilon: the dark photon couples to the electromagnetic current as epsilon e Q_f",
)
_add("m_Aprime", "GeV", "dark-photon mass (copy of the parameter)", r"m_{A'}", "m_A' (GeV)")

_add(
    "vll_mass_splitting_GeV",
    "GeV",
    "electroweak radiative mass splitting M_E - M_N of the vector-like doublet",
    r"\Delta M_F",
    "Delta M = (alpha(M_Z)/4 pi) M_F f(M_Z/M_F) = (alpha_2 M_F/4 pi) s_W^2 f(M_Z/M_F), f(r) = (r/2)[2 r^3 ln r - 2 r + "
    "sqrt(4 - r^2)(r^2 + 2) arccos((r^2 - 2)/2)] (Cirelli, Fornengo, Strumia 2006, eq. 5); -> alpha(M_Z) M_Z/2 = "
    "0.356 GeV for M_F >> M_Z",
)
_add(
    "m_E_GeV",
    "GeV",
    "mass of the charged vector-like lepton E",
    r"M_E",
    "M_E = M_F + Delta M (M_F is the neutral state's mass M_N)",
)
_add(
    "epsilon_loop",
    "1",
    "kinetic mixing induced by the charged vector-like lepton loop",
    r"\epsilon_{\rm loop}",
    "|epsilon_loop| = e |g_D Q_F| / (12 pi^2) |ln(Lambda^2 / M_F^2)| (E: charges -e and g_D Q_F; N and the dark scalars "
    "are electrically neutral; Lambda = model.kinetic_mixing_cutoff, default 1e16 GeV)",
)
_add(
    "kinetic_mixing_tuning",
    "1",
    "tuning of the kinetic mixing against its loop-induced value",
    r"|\epsilon_{\rm loop}|/\epsilon",
    "|epsilon_loop| / epsilon (> 1: a tree-level epsilon must cancel the loop)",
)
_add(
    "kappa_portal",
    "1",
    "Higgs-portal coupling that the dark-scalar mixing needs",
    r"\kappa",
    "kappa = sin(2 theta)(m_S2^2 - m_S1^2)/(2 v^2), from the mass term kappa v^2 (phi_1^* phi_2 + h.c.), v = 246.22 GeV "
    "(exact with m_S1, m_S2 the mass eigenvalues)",
)
_add(
    "theta_vev_max",
    "rad",
    "largest scalar mixing angle a portal coupling of 1 induces",
    r"\theta_{\rm vev}^{\max}",
    "(1/2) arcsin(min(1, 2 v^2 / |m_S2^2 - m_S1^2|)) (kappa = 1); pi/4 where 2 v^2 >= |m_S2^2 - m_S1^2|",
)

_MU_EQ = (
    "mu_equiv = sqrt(sum_k w_k(m_A') mu_k^2), mu_k^2 = sum_j |epsilon lambda^mass_jk / mu_B|^2, "
    "lambda^mass = U^T conj(lambda^D) U, w_k = W_k(m_A')/W_tot(0) rate weights with the propagator "
    "S(T) = 2 m_e T/(2 m_e T + m_A'^2)"
)
_add(
    "borexino_mu_equiv_muB",
    "mu_B",
    "Borexino-equivalent massless-photon neutrino magnetic moment",
    r"\mu_\nu^{\mathrm{Bx}}",
    _MU_EQ + "; Borexino Phase-II window 0.19-2.9 MeV; compare with 2.8e-11 mu_B (90% CL, arXiv:1707.09355)",
)
_add(
    "xenonnt_mu_equiv_muB",
    "mu_B",
    "XENONnT-equivalent massless-photon neutrino magnetic moment",
    r"\mu_\nu^{\mathrm{XnT}}",
    _MU_EQ + "; XENONnT SR0 window 1-30 keV; compare with 6.3e-12 mu_B (90% CL, arXiv:2207.11330)",
)
_add(
    "red_giant_mu_equiv_muB",
    "mu_B",
    "red-giant plasmon-decay equivalent neutrino magnetic moment",
    r"\mu_\nu^{\mathrm{RG}}",
    "mu_RG sqrt(mask), mu_RG^2 = (1/2) sum_ab |epsilon lambda^D_ab / mu_B|^2, mask = 1/(1 + (m_A'/omega_p)^4), "
    "omega_p = 10 keV; compare with 1.2e-12 mu_B (95% CL, Capozzi & Raffelt 2020)",
)
_add(
    "borexino_mu_massless_muB",
    "mu_B",
    "Borexino-equivalent moment for a massless dark photon",
    r"\mu_\nu^{\mathrm{Bx}}(m_{A'}=0)",
    "mu_equiv at m_A' = 0: sqrt(sum_k w_k(0) mu_k^2) with the Borexino Phase-II weights",
)

# --- direct experiments beyond Borexino / XENONnT (same equivalent-moment recast, docs/physics.md section 7) ---
_add(
    "lz_mu_equiv_muB",
    "mu_B",
    "LZ-equivalent massless-photon neutrino magnetic moment",
    r"\mu_\nu^{\mathrm{LZ}}",
    _MU_EQ + "; LZ (WS2022 data) window 1.5-15 keV, Xe stepping; compare with 1.1e-11 mu_B (90% CL, recast "
    "arXiv:2207.05036 of arXiv:2207.03764)",
)
_add(
    "pandax4t_mu_equiv_muB",
    "mu_B",
    "PandaX-4T-equivalent massless-photon neutrino magnetic moment",
    r"\mu_\nu^{\mathrm{PX4T}}",
    _MU_EQ + "; PandaX-4T Run0+Run1 window 1-30 keV, Xe stepping (arXiv:2408.07641; no registry term: limit "
    "not verified)",
)
_REACTOR_EQ = (
    "mu_equiv = sqrt(w(m_A')) mu_e, mu_e^2 = sum_b |epsilon lambda^D_eb / mu_B|^2 (reactor nu_e-bar, no "
    "oscillation), w = W(m_A')/W(0) the window rate weight with S(T) = 2 m_e T/(2 m_e T + m_A'^2), Vogel-Engel "
    "reactor spectrum, Ge stepping"
)
_add(
    "gemma_mu_equiv_muB",
    "mu_B",
    "GEMMA-equivalent massless-photon electron-antineutrino magnetic moment",
    r"\mu_{\bar\nu_e}^{\mathrm{GEMMA}}",
    _REACTOR_EQ + "; window 2.8-55 keV; compare with 2.9e-11 mu_B (90% CL, Beda et al. 2012/2013)",
)
_add(
    "texono_mu_equiv_muB",
    "mu_B",
    "TEXONO-equivalent massless-photon electron-antineutrino magnetic moment",
    r"\mu_{\bar\nu_e}^{\mathrm{TEXONO}}",
    _REACTOR_EQ + "; window 12-60 keV; compare with 7.4e-11 mu_B (90% CL, PRD 75 (2007) 012001)",
)

#: Every key of :func:`djax.observables` (``solar=True``): read-only mapping ``name -> entry``.
OBSERVABLE_INFO: Mapping[str, Mapping] = MappingProxyType(dict(_OBS))

#: Keys present only with ``djax.observables(p, solar=True)`` (the default).
SOLAR_OBSERVABLES = (
    "borexino_mu_equiv_muB",
    "xenonnt_mu_equiv_muB",
    "red_giant_mu_equiv_muB",
    "borexino_mu_massless_muB",
    "lz_mu_equiv_muB",
    "pandax4t_mu_equiv_muB",
    "gemma_mu_equiv_muB",
    "texono_mu_equiv_muB",
)

# ------------------------------------------------------------------------------------------------------------
# parameters (djax.Params fields and the 13 sampled real parameters) and their latent coordinates
# ------------------------------------------------------------------------------------------------------------
_PAR: dict = {}


def _par(name, units, long_name, latex, description, *, shape=(), dtype="float64"):
    _PAR[name] = _entry(name, units, long_name, latex, description, shape=shape, dtype=dtype, kind="parameter")


_par(
    "M_F",
    "GeV",
    "vector-like lepton mass",
    r"M_F",
    "mass of the vector-like lepton doublet F = (N, E) (N and E degenerate); M_F > 0",
)
_par(
    "m_S1",
    "GeV",
    "first dark scalar mass eigenvalue",
    r"m_{S_1}",
    "mass of the scalar eigenstate S_1, (phi_1, phi_2)^T = O(theta) (S_1, S_2)^T; m_S1 > 0",
)
_par(
    "m_S2",
    "GeV",
    "second dark scalar mass eigenvalue",
    r"m_{S_2}",
    "mass of the scalar eigenstate S_2; m_S2 > 0 (m_S1 = m_S2 switches every chirally enhanced effect off: GIM)",
)
_par(
    "theta",
    "rad",
    "dark scalar mixing angle",
    r"\theta",
    "O(theta) = [[c, s], [-s, c]] mixes phi_1 (A-type) and phi_2 (B-type); chirally enhanced effects scale as "
    "s c = sin(2 theta)/2",
)
for _l in ("e", "mu", "tau"):
    _par(
        f"y_{_l}",
        "1",
        f"A-type Yukawa coupling, {_l} flavour",
        f"y_{_FLAV_TEX[_l]}",
        f"coupling of phi_1 to Fbar P_L l_{_l}: A_{_l}k = y_{_l} O_1k; |y_{_l}| <= sqrt(4 pi) (perturbativity)",
    )
    _par(
        f"yp_{_l}",
        "1",
        f"B-type Yukawa coupling, {_l} flavour",
        f"y'_{_FLAV_TEX[_l]}",
        f"coupling of phi_2 to Fbar P_R l_{_l}: B_{_l}k = y'_{_l} O_2k; |y'_{_l}| <= sqrt(4 pi) (perturbativity); "
        f"with model.yukawa_structure = 'separate' only the neutral member N's (lambda^D, m_nu)",
    )
    _par(
        f"ypE_{_l}",
        "1",
        f"B-type Yukawa of the charged VLL member E to {_l}",
        f"y'_{{E,{_FLAV_TEX[_l]}}}",
        f"coupling of phi_2 to Ebar P_R l_{_l} when model.yukawa_structure = 'separate' (charged-lepton dipoles, "
        f"g-2, EDMs, cLFV): B^E_{_l}k = y'_E,{_l} O_2k; |y'_E,{_l}| <= sqrt(4 pi) (perturbativity)",
    )
_par(
    "g_D",
    "1",
    "dark U(1)_D gauge coupling",
    r"g_D",
    "gauge coupling of the dark photon A' to F (charge Q_F) and the scalars (charge -Q_F); 0 <= g_D <= sqrt(4 pi)",
)
_par(
    "alpha_D",
    "1",
    "dark fine-structure constant",
    r"\alpha_D",
    "alpha_D = g_D^2 / (4 pi); alternative to g_D as the sampled dark coupling; 0 <= alpha_D <= 1",
)
_par(
    "m_Aprime",
    "GeV",
    "dark-photon mass",
    r"m_{A'}",
    "mass of the dark photon A'; enters the solar signal through S(T) = 2 m_e T/(2 m_e T + m_A'^2) and the "
    "NA64/BaBar bounds on epsilon(m_A')",
)
_par(
    "epsilon",
    "1",
    "kinetic mixing",
    r"\epsilon",
    "L contains -(epsilon/2) F_{mu nu} F'^{mu nu}: A' couples to the EM current as epsilon e Q_f; 0 <= epsilon < 1",
)
_par(
    "Q_F",
    "1",
    "dark charge of the vector-like lepton",
    r"Q_F",
    "U(1)_D charge of F (the scalars carry -Q_F); lambda^D is proportional to g_D Q_F; fixed (default 1)",
)
_par(
    "y",
    "1",
    "A-type Yukawa vector (y_e, y_mu, y_tau)",
    r"\vec y",
    "djax.Params field y = (y_e, y_mu, y_tau) (complex allowed); A_ak = y_a O_1k",
    shape=(3,),
    dtype="complex128",
)
_par(
    "yp",
    "1",
    "B-type Yukawa vector (y'_e, y'_mu, y'_tau)",
    r"\vec y\,'",
    "djax.Params field yp = (y'_e, y'_mu, y'_tau) (complex allowed); B_ak = y'_a O_2k",
    shape=(3,),
    dtype="complex128",
)
_par(
    "yp_E",
    "1",
    "B-type Yukawa vector of the charged VLL member E (y'_E,e, y'_E,mu, y'_E,tau)",
    r"\vec y\,'_E",
    "djax.Params field yp_E (complex allowed; None: y'_E = y', the shared default); B^E_ak = y'_E,a O_2k enters "
    "the charged-lepton dipoles",
    shape=(3,),
    dtype="complex128",
)

#: The 13 sampled real parameters, y'_E (separate Yukawas) and the dark-coupling alternative (each may have a
#: latent ``<name>__u``).
SAMPLED_PARAMETERS = (
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
    "ypE_e",
    "ypE_mu",
    "ypE_tau",
    "g_D",
    "alpha_D",
    "m_Aprime",
    "epsilon",
)

_UNITS_WORD = {"GeV": " (x in GeV)", "rad": " (x in rad)", "1": ""}

for _name in SAMPLED_PARAMETERS:
    _p = _PAR[_name]
    _lat = f"{_name}__u"
    _PAR[_lat] = _entry(
        _lat,
        "1",
        f"latent sampling coordinate of {_p['long_name']}",
        rf"u_{{{_p['latex']}}}",
        f"uniform latent u of {_name} (NumPyro site '{_lat}', deterministic site '{_name}'): x = exp(u) for a "
        f"log_uniform prior (u = ln x{_UNITS_WORD.get(_p['units'], '')}, u ~ U(ln low, ln high)); x = s sinh(u) for a "
        f"signed_log_uniform prior of scale s (u = asinh(x/s), u ~ U(asinh(low/s), asinh(high/s))); a uniform "
        f"prior samples x itself (no latent site)",
        kind="latent",
    )

#: Every parameter (Params fields, the 13 sampled names, y'_E, alpha_D) and every latent ``<name>__u``.
PARAMETER_CATALOGUE: Mapping[str, Mapping] = MappingProxyType(dict(_PAR))


def _lookup(table, name, what):
    try:
        return dict(table[name])
    except KeyError:
        import difflib

        close = difflib.get_close_matches(str(name), list(table), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise KeyError(f"{what} {name!r} is not in the djax catalogue{hint}") from None


def observable_info(name: str) -> dict:
    """Units, long name, LaTeX label and one-line equation of the observable ``name`` (a fresh dict).

    Raises ``KeyError`` (with close matches) for an unknown name.
    """
    return _lookup(OBSERVABLE_INFO, name, "observable")


def parameter_info(name: str) -> dict:
    """Units, long name, LaTeX label and description of a parameter or latent coordinate ``<name>__u``."""
    return _lookup(PARAMETER_CATALOGUE, name, "parameter")


def info(name: str) -> dict:
    """:func:`observable_info` or :func:`parameter_info`, whichever knows ``name`` (observables first:
    ``epsilon`` and ``m_Aprime`` are both)."""
    if name in OBSERVABLE_INFO:
        return dict(OBSERVABLE_INFO[name])
    return parameter_info(name)


def units(name: str) -> str:
    """The UDUNITS string of an observable or parameter."""
    return info(name)["units"]


def latex(name: str, *, dollars: bool = False) -> str:
    """The LaTeX label (``dollars=True`` wraps it in ``$...$`` for matplotlib)."""
    s = info(name)["latex"]
    return f"${s}$" if dollars else s


__all__ = [
    "OBSERVABLE_INFO",
    "PARAMETER_CATALOGUE",
    "SOLAR_OBSERVABLES",
    "SAMPLED_PARAMETERS",
    "observable_info",
    "parameter_info",
    "info",
    "units",
    "latex",
]
