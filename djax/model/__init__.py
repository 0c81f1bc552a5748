"""The VLL-doublet + two-dark-scalar + dark-photon model: parameters, the parameter schema (bounds, units,
priors), validation and the Lagrangian -> couplings map."""

from ._couplings import MEMBERS as MEMBERS
from ._couplings import Couplings as Couplings
from ._couplings import couplings as couplings
from ._couplings import mixing_matrix as mixing_matrix
from ._params import FIELDS as FIELDS
from ._params import Params as Params
from ._params import check_params as check_params
from ._schema import DARK_COUPLINGS as DARK_COUPLINGS
from ._schema import DEFAULT_FIXED as DEFAULT_FIXED
from ._schema import DEFAULT_PRIORS as DEFAULT_PRIORS
from ._schema import DEFAULT_SIGNED_LOG_SCALE as DEFAULT_SIGNED_LOG_SCALE
from ._schema import PARAMETER_INFO as PARAMETER_INFO
from ._schema import PARAMETER_NAMES as PARAMETER_NAMES
from ._schema import PERTURBATIVITY_BOUND as PERTURBATIVITY_BOUND
from ._schema import PRIOR_BOX as PRIOR_BOX
from ._schema import PRIOR_TYPES as PRIOR_TYPES
from ._schema import SQRT_4PI as SQRT_4PI
from ._schema import YUKAWA_E_NAMES as YUKAWA_E_NAMES
from ._schema import YUKAWA_STRUCTURES as YUKAWA_STRUCTURES
from ._schema import ParameterInfo as ParameterInfo
from ._schema import Prior as Prior
from ._schema import SchemaError as SchemaError
from ._schema import free_parameters as free_parameters
from ._schema import latent_to_physical as latent_to_physical
from ._schema import make_prior as make_prior
from ._schema import parameter_names as parameter_names
from ._schema import params_from_values as params_from_values
from ._schema import prior_from_table as prior_from_table
from ._schema import resolve_priors as resolve_priors
from ._schema import shared_yukawa_message as shared_yukawa_message

__all__ = [
    "Params",
    "check_params",
    "Couplings",
    "couplings",
    "mixing_matrix",
    "MEMBERS",
    "FIELDS",
    "PERTURBATIVITY_BOUND",
    "SQRT_4PI",
    "PRIOR_TYPES",
    "DEFAULT_SIGNED_LOG_SCALE",
    "DARK_COUPLINGS",
    "YUKAWA_STRUCTURES",
    "YUKAWA_E_NAMES",
    "shared_yukawa_message",
    "SchemaError",
    "ParameterInfo",
    "PARAMETER_INFO",
    "PARAMETER_NAMES",
    "parameter_names",
    "Prior",
    "make_prior",
    "DEFAULT_PRIORS",
    "DEFAULT_FIXED",
    "PRIOR_BOX",
    "prior_from_table",
    "resolve_priors",
    "free_parameters",
    "params_from_values",
    "latent_to_physical",
]
