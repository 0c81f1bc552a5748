"""Likelihood presets: which registry entries make up each analysis.

* ``paper``: the reference study's set (arXiv:2603.25704): MEG II 2025 mu -> e gamma, NA64 2023 and
  BaBar 2017 kinetic-mixing curves, Borexino Phase-II. The two curves are invisible-decay (missing-energy)
  searches: meant for ``model.dark_photon_decays = "invisible"``, the study's assumption.
* ``minimal``: the minimal model's set, meant for ``model.dark_photon_decays = "visible"`` (every dark state
  >= 10 GeV > m_A', so BR(A' -> invisible) = 0): the scalar terms of ``paper`` (MEG II, Borexino) plus the
  22 visible-decay searches tagged ``visible`` in the registry (prompt e+e- / mu+mu- / hadron resonance
  searches and beam-dump islands, DarkCast digitisations; docs/dark_photon.md section 5).
* ``full``: ``paper`` plus tau -> e gamma (BaBar 2010, the best), tau -> mu gamma (Belle 2021, the best),
  mu -> 3e (SINDRUM, dipole dominance), mu -> e conversion on Au (SINDRUM II, dipole dominance), XENONnT SR0,
  LZ (WS2022 data; the reactor terms ``gemma_mueff`` and ``texono_mueff`` are registry options),
  Delta a_mu (2025 world average - WP25), Delta a_e (alpha from Rb (default) or Cs), the electron EDM
  (JILA 2023 (default) or ACME 2018), the neutrino-mass naturalness term (sum m_nu from Planck 2018 (default)
  or DESI DR2 + CMB: ``mnu = "Planck2018" | "DESI2025"``), the constraints the model implies on itself
  (``MODEL_CONSTRAINTS``: BBN + Planck on a thermalised A', LEP and the ATLAS disappearing-track search on the
  charged VLL E, docs/physics.md section 7) and the visible-decay searches of ``minimal``: with both kinds of
  kinetic-mixing terms it suits every decay mode (the invisible curves act for BR_inv > 0, the visible
  searches for BR_inv < 1).
* ``mnu_cancellation=True`` (run file ``model.mnu_cancellation``) drops every sum m_nu term (``MNU_TERMS``) from
  any preset and from ``include``: the user assumes a tree-level mass cancels the one-loop one.
* Off by default (registry tag ``option``, switch on with ``include``): ``eps_loop_naturalness`` (tuning of
  epsilon against its E-loop value), ``theta_vev_portal`` (the portal coupling the scalar mixing needs) and
  ``atlas2026_disappearing`` (the newer disappearing-track result).
* ``future``: ``full`` with projections swapped in: MEG II final, Mu3e phase I, Belle II tau -> mu gamma,
  Mu2e run I (Al), plus the NA64mu 1e14 MOT projection.
"""

from __future__ import annotations

PAPER = ("meg2_mueg", "na64_2023", "babar2017", "borexino_mueff")
#: Invisible-decay (missing-energy) kinetic-mixing curves of ``paper``: left out of ``minimal``.
PAPER_INVISIBLE = ("na64_2023", "babar2017")
#: Visible-decay searches of the ``minimal`` preset (registry tag ``visible``; one term per independent data set).
VISIBLE = (
    # prompt (one-sided)
    "babar2014_visible",
    "lhcb2019_prompt",
    "kloe2012_phieta",
    "kloe2015_ee",
    "kloe2018_mumu_pipi",
    "na48_2015",
    "a1_2014",
    "apex_2011",
    "hps_2018",
    "besiii_2017",
    # displaced / beam dumps (two-sided islands)
    "e137_andreas2012",
    "e141_1987",
    "e774_1991",
    "orsay_1989",
    "kek_1986",
    "nucal_pbrem_1991",
    "charm_1985",
    "na64_visible_2019",
    "ps191_1985",
    "nomad_2001",
    "lhcb2019_displaced_island1",
    "lhcb2019_displaced_island2",
)
FULL_EXTRA = (
    "babar_taueg",
    "belle_taumug",
    "sindrum_mu3e",
    "sindrum2_au",
    "xenonnt_mueff",
    "lz_mueff",
    "damu_2025",
    "<alpha_e>",
    "<edm>",
    "<mnu>",
)
#: Constraints the model implies on itself (docs/physics.md section 7): lower limits on m_A' and on M_E.
MODEL_CONSTRAINTS = ("bbn_cmb_mass", "lep_l3_heavy_lepton", "atlas2022_disappearing")
FULL_EXTRA = FULL_EXTRA + MODEL_CONSTRAINTS + VISIBLE
FUTURE_SWAPS = {
    "meg2_mueg": "proj_meg2_final",
    "sindrum_mu3e": "proj_mu3e_phase1",
    "belle_taumug": "proj_belle2_taumug",
    "sindrum2_au": "proj_mu2e_run1",
}
FUTURE_EXTRA = ("proj_na64mu_1e14",)

ALPHA_E_CHOICES = {"Rb": "dae_rb", "Cs": "dae_cs"}
EDM_CHOICES = {"JILA2023": "jila2023_de", "ACME2018": "acme2018_de"}
MNU_CHOICES = {"Planck2018": "planck2018_mnu", "DESI2025": "desi2025_mnu"}
#: Every sum m_nu term (dropped by ``mnu_cancellation``).
MNU_TERMS = tuple(MNU_CHOICES.values())
PRESETS = ("paper", "full", "future", "minimal")
#: The ``model.dark_photon_decays`` each preset is meant for (None: any; its kinetic-mixing terms cover all).
PRESET_DECAYS = {"paper": "invisible", "minimal": "visible", "full": None, "future": None}

#: Observables measured by direct (solar-neutrino / stellar) moment searches; every other term is "indirect".
DIRECT_DETECTION_OBSERVABLES = (
    "borexino_mu_equiv_muB",
    "xenonnt_mu_equiv_muB",
    "red_giant_mu_equiv_muB",
    "lz_mu_equiv_muB",
    "pandax4t_mu_equiv_muB",
    "gemma_mu_equiv_muB",
    "texono_mu_equiv_muB",
)


def preset_ids(
    preset: str = "paper",
    *,
    alpha_e: str = "Rb",
    edm: str = "JILA2023",
    mnu: str = "Planck2018",
    mnu_cancellation: bool = False,
    include=(),
    exclude=(),
) -> tuple[str, ...]:
    """Registry ids of a preset, with ``include`` appended and ``exclude`` removed (order kept);
    ``mnu_cancellation`` removes every sum m_nu term (:data:`MNU_TERMS`), included ones too."""
    if preset not in PRESETS:
        raise ValueError(f"likelihood preset {preset!r} is not one of {list(PRESETS)}")
    if alpha_e not in ALPHA_E_CHOICES:
        raise ValueError(f"alpha_e {alpha_e!r} is not one of {list(ALPHA_E_CHOICES)}")
    if edm not in EDM_CHOICES:
        raise ValueError(f"edm {edm!r} is not one of {list(EDM_CHOICES)}")
    if mnu not in MNU_CHOICES:
        raise ValueError(f"mnu {mnu!r} is not one of {list(MNU_CHOICES)}")
    if preset == "minimal":
        ids = [i for i in PAPER if i not in PAPER_INVISIBLE] + list(VISIBLE)
    else:
        ids = list(PAPER)
    if preset in ("full", "future"):
        subst = {"<alpha_e>": ALPHA_E_CHOICES[alpha_e], "<edm>": EDM_CHOICES[edm], "<mnu>": MNU_CHOICES[mnu]}
        ids += [subst.get(i, i) for i in FULL_EXTRA]
    if preset == "future":
        ids = [FUTURE_SWAPS.get(i, i) for i in ids] + list(FUTURE_EXTRA)
    for i in include:
        if i not in ids:
            ids.append(i)
    excl = set(exclude) | (set(MNU_TERMS) if mnu_cancellation else set())
    return tuple(i for i in ids if i not in excl)
