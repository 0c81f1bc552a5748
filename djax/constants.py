"""Standard-Model and neutrino inputs, natural units (GeV), each with its source.

Values are plain Python floats so that importing this module has no JAX side effects. A "status" note marks
numbers that were quoted from memory and should be re-checked against the named source before a
publication-grade analysis (the same convention as ``djax/data/limits/scalar_limits.csv``).
"""

from __future__ import annotations

import math

# --- electromagnetic coupling --------------------------------------------------------------------------------
#: Fine-structure constant in the Thomson limit q^2 = 0. CODATA 2018 as tabulated in PDG 2024
#: (R.L. Workman et al. / S. Navas et al., Phys. Rev. D 110, 030001 (2024)), 1/137.035 999 084(21).
ALPHA_EM = 1.0 / 137.035999084
#: Elementary charge in natural (Heaviside-Lorentz) units, e = sqrt(4 pi alpha).
E_CHARGE = math.sqrt(4.0 * math.pi * ALPHA_EM)

# --- lepton masses (PDG 2024) --------------------------------------------------------------------------------
#: Electron mass, PDG 2024: 0.51099895000(15) MeV.
M_E = 0.51099895000e-3
#: Muon mass, PDG 2024: 105.6583755(23) MeV.
M_MU = 0.1056583755
#: Tau mass, PDG 2024: 1776.93(9) MeV.
M_TAU = 1.77693
#: Charged-lepton masses ordered (e, mu, tau).
M_LEPTONS = (M_E, M_MU, M_TAU)

# --- lifetimes (PDG 2024) and hbar ---------------------------------------------------------------------------
#: hbar in GeV s, PDG 2024 (exact SI definition): 6.582119569e-25 GeV s.
HBAR_GEV_S = 6.582119569e-25
#: hbar c in GeV cm: 1.973269804e-14 GeV cm (PDG 2024).
HBARC_GEV_CM = 1.973269804e-14
#: Muon lifetime, PDG 2024: 2.1969811(22) us.
TAU_MU = 2.1969811e-6
#: Tau lifetime, PDG 2024: 290.3(5) fs.
TAU_TAU = 290.3e-15
#: Total widths in GeV (Gamma = hbar / tau).
GAMMA_MU = HBAR_GEV_S / TAU_MU
GAMMA_TAU = HBAR_GEV_S / TAU_TAU
#: Total widths ordered (e, mu, tau); the electron is stable (width 0, never used as a decaying state).
GAMMA_LEPTONS = (0.0, GAMMA_MU, GAMMA_TAU)

# --- electroweak ---------------------------------------------------------------------------------------------
#: Fermi constant, PDG 2024: 1.1663788(6) x 1e-5 GeV^-2 (MuLan).
G_F = 1.1663788e-5
#: Higgs vacuum expectation value v = (sqrt(2) G_F)^(-1/2) = 246.22 GeV.
V_HIGGS = (math.sqrt(2.0) * G_F) ** -0.5
#: Higgs boson mass, PDG 2024: 125.20(11) GeV.
M_H = 125.20

# --- derived magnetic-moment units ---------------------------------------------------------------------------
#: Bohr magneton mu_B = e / (2 m_e) in GeV^-1.
MU_BOHR = E_CHARGE / (2.0 * M_E)

# --- neutrino oscillations: NuFIT 6.0 (2024), normal ordering, with SK atmospheric data ---------------------
# I. Esteban, M.C. Gonzalez-Garcia, M. Maltoni, I. Martinez-Soler, J.P. Pinheiro, T. Schwetz,
# JHEP 12 (2024) 216, arXiv:2410.05380, www.nu-fit.org (v6.0). Status: memory -- re-check the best-fit
# values against the NuFIT 6.0 table before publication-grade use.
SIN2_THETA12 = 0.308
SIN2_THETA13 = 0.02215
SIN2_THETA23 = 0.470
DELTA_CP_DEG = 212.0
DM21_EV2 = 7.49e-5
DM31_EV2 = 2.513e-3

# --- mu -> e conversion in dipole dominance ------------------------------------------------------------------
# Overlap integrals D (units of m_mu^{5/2}) from R. Kitano, M. Koike, Y. Okada, Phys. Rev. D 66, 096002 (2002),
# Table I (method 1); muon capture rates (1e6 s^-1) from T. Suzuki, D.F. Measday, J.P. Roalsvig,
# Phys. Rev. C 35, 2212 (1987), as quoted by Kitano et al. Status: memory.
MUE_CONVERSION_D = {"Al": 0.0362, "Ti": 0.0864, "Au": 0.189, "Pb": 0.161}
MU_CAPTURE_RATE_PER_S = {"Al": 0.7054e6, "Ti": 2.590e6, "Au": 13.07e6, "Pb": 13.45e6}

# --- cosmology -----------------------------------------------------------------------------------------------
#: Planck 2018 (TT,TE,EE+lowE+lensing+BAO) bound sum m_nu < 0.12 eV (95% CL), A&A 641 (2020) A6.
SUM_MNU_PLANCK_EV = 0.12

GEV_TO_EV = 1.0e9

__all__ = [
    "ALPHA_EM",
    "E_CHARGE",
    "M_E",
    "M_MU",
    "M_TAU",
    "M_LEPTONS",
    "HBAR_GEV_S",
    "HBARC_GEV_CM",
    "TAU_MU",
    "TAU_TAU",
    "GAMMA_MU",
    "GAMMA_TAU",
    "GAMMA_LEPTONS",
    "G_F",
    "V_HIGGS",
    "M_H",
    "MU_BOHR",
    "SIN2_THETA12",
    "SIN2_THETA13",
    "SIN2_THETA23",
    "DELTA_CP_DEG",
    "DM21_EV2",
    "DM31_EV2",
    "MUE_CONVERSION_D",
    "MU_CAPTURE_RATE_PER_S",
    "SUM_MNU_PLANCK_EV",
    "GEV_TO_EV",
]
