"""Observables of the dark-sector model: cLFV, g-2, EDMs, dark transition moments, m_nu, solar nu-e scattering."""
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

__all__ = [
    "observables", "SCALAR_OBSERVABLES", "dipole_coefficients", "radiative_branching_ratios", "br_mu_3e_dipole",
    "cr_mu_e_dipole", "anomalous_moments", "dark_transition_moment", "neutrino_mass_matrix", "trace_norm_rank2",
]
