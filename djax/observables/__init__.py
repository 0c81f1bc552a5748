"""Observables of the dark-sector model: cLFV, g-2, EDMs, dark transition moments, m_nu, solar nu-e scattering,
and the quantities of the model's own constraints (VLL mass splitting, loop-induced kinetic mixing, portal size of
the scalar mixing).

The catalogue (:func:`observable_info`, :func:`parameter_info`, :data:`OBSERVABLE_INFO`) gives the units, names,
LaTeX labels and the implemented equation of every observable and parameter (output attributes, tables, plots).
The dark photon's decay widths and branching ratios (:func:`dark_photon_widths`, :func:`unit_widths`, the decay
``MODES`` and ``VISIBLE_CHANNELS``) are public here for the likelihood and the DarkCast reader.
"""

from ._catalogue import OBSERVABLE_INFO, PARAMETER_CATALOGUE, SOLAR_OBSERVABLES, observable_info, parameter_info
from ._catalogue import info as catalogue_info
from ._constraints import (
    KINETIC_MIXING_CUTOFF_GEV,
    epsilon_loop,
    kappa_portal,
    kinetic_mixing_tuning,
    splitting_function,
    theta_vev_max,
    vll_mass_splitting,
)
from ._dark_photon import (
    CHANNELS,
    MODES,
    VISIBLE_CHANNELS,
    branching_ratios_from_widths,
    dark_photon_branching_ratios,
    dark_photon_ctau_cm,
    dark_photon_widths,
    unit_widths,
)
from ._leptonic import (
    anomalous_moments,
    br_mu_3e_dipole,
    cr_mu_e_dipole,
    dark_transition_moment,
    dipole_coefficients,
    neutrino_mass_matrix,
    radiative_branching_ratios,
    trace_norm_rank2,
)
from ._observables import SCALAR_OBSERVABLES, observables
from ._reactor import flavour_moment_sq_muB, gemma_mu_equiv_muB, reactor_mu_equiv_muB, texono_mu_equiv_muB
from ._reactor_tables import reactor_spectrum, reactor_tables
from ._recoil_shape import DIRECT_EXPERIMENTS, recoil_shape
from ._solar import solar_weights
from ._solar_tables import solar_tables

__all__ = [
    "observables",
    "SCALAR_OBSERVABLES",
    "dipole_coefficients",
    "radiative_branching_ratios",
    "br_mu_3e_dipole",
    "cr_mu_e_dipole",
    "anomalous_moments",
    "dark_transition_moment",
    "neutrino_mass_matrix",
    "trace_norm_rank2",
    "OBSERVABLE_INFO",
    "PARAMETER_CATALOGUE",
    "SOLAR_OBSERVABLES",
    "observable_info",
    "parameter_info",
    "catalogue_info",
    "CHANNELS",
    "VISIBLE_CHANNELS",
    "MODES",
    "dark_photon_widths",
    "dark_photon_branching_ratios",
    "branching_ratios_from_widths",
    "dark_photon_ctau_cm",
    "unit_widths",
    "solar_tables",
    "KINETIC_MIXING_CUTOFF_GEV",
    "splitting_function",
    "vll_mass_splitting",
    "epsilon_loop",
    "kinetic_mixing_tuning",
    "kappa_portal",
    "theta_vev_max",
    "reactor_tables",
    "reactor_spectrum",
    "flavour_moment_sq_muB",
    "reactor_mu_equiv_muB",
    "gemma_mu_equiv_muB",
    "texono_mu_equiv_muB",
    "recoil_shape",
    "DIRECT_EXPERIMENTS",
    "solar_weights",
]
