"""The VLL-doublet + two-dark-scalar + dark-photon model: parameters, validation, couplings."""
from ._couplings import Couplings, couplings, mixing_matrix
from ._params import FIELDS, PERTURBATIVITY_BOUND, Params, check_params

__all__ = ["Params", "check_params", "Couplings", "couplings", "mixing_matrix", "FIELDS", "PERTURBATIVITY_BOUND"]
