"""Likelihood presets: which registry entries make up each analysis.

* ``paper``: the reference study's set (arXiv:2603.25704): MEG II 2025 mu -> e gamma, NA64 2023 and
  BaBar 2017 kinetic-mixing curves, Borexino Phase-II.
* ``full``: ``paper`` plus tau -> e gamma (BaBar 2010, the best), tau -> mu gamma (Belle 2021, the best),
  mu -> 3e (SINDRUM, dipole dominance), mu -> e conversion on Au (SINDRUM II, dipole dominance), XENONnT SR0,
  Delta a_mu (2025 world average - WP25), Delta a_e (alpha from Rb (default) or Cs), the electron EDM
  (JILA 2023 (default) or ACME 2018) and the neutrino-mass naturalness term (Planck 2018 sum m_nu).
* ``future``: ``full`` with projections swapped in: MEG II final, Mu3e phase I, Belle II tau -> mu gamma,
  Mu2e run I (Al), plus the NA64mu 1e14 MOT projection.
"""
from __future__ import annotations

PAPER = ("meg2_mueg", "na64_2023", "babar2017", "borexino_mueff")
FULL_EXTRA = ("babar_taueg", "belle_taumug", "sindrum_mu3e", "sindrum2_au", "xenonnt_mueff", "damu_2025",
              "<alpha_e>", "<edm>", "planck2018_mnu")
FUTURE_SWAPS = {
    "meg2_mueg": "proj_meg2_final",
    "sindrum_mu3e": "proj_mu3e_phase1",
    "belle_taumug": "proj_belle2_taumug",
    "sindrum2_au": "proj_mu2e_run1",
}
FUTURE_EXTRA = ("proj_na64mu_1e14",)

ALPHA_E_CHOICES = {"Rb": "dae_rb", "Cs": "dae_cs"}
EDM_CHOICES = {"JILA2023": "jila2023_de", "ACME2018": "acme2018_de"}
PRESETS = ("paper", "full", "future")

#: Observables measured by direct (solar-neutrino / stellar) moment searches; every other term is "indirect".
DIRECT_DETECTION_OBSERVABLES = ("borexino_mu_equiv_muB", "xenonnt_mu_equiv_muB", "red_giant_mu_equiv_muB")


def preset_ids(preset: str = "paper", *, alpha_e: str = "Rb", edm: str = "JILA2023",
               include=(), exclude=()) -> tuple[str, ...]:
    """Registry ids of a preset, with ``include`` appended and ``exclude`` removed (order kept)."""
    if preset not in PRESETS:
        raise ValueError(f"likelihood preset {preset!r} is not one of {list(PRESETS)}")
    if alpha_e not in ALPHA_E_CHOICES:
        raise ValueError(f"alpha_e {alpha_e!r} is not one of {list(ALPHA_E_CHOICES)}")
    if edm not in EDM_CHOICES:
        raise ValueError(f"edm {edm!r} is not one of {list(EDM_CHOICES)}")
    ids = list(PAPER)
    if preset in ("full", "future"):
        subst = {"<alpha_e>": ALPHA_E_CHOICES[alpha_e], "<edm>": EDM_CHOICES[edm]}
        ids += [subst.get(i, i) for i in FULL_EXTRA]
    if preset == "future":
        ids = [FUTURE_SWAPS.get(i, i) for i in ids] + list(FUTURE_EXTRA)
    for i in include:
        if i not in ids:
            ids.append(i)
    excl = set(exclude)
    return tuple(i for i in ids if i not in excl)
