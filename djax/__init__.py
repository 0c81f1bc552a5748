"""djax: a GPU-ready, differentiable fitter for dark-sector Majorana-neutrino transition magnetic moments.

Public API (stable names; see docs/DESIGN.md for the architecture)::

    djax.enable_x64()                           # call first: djax is float64
    p = djax.Params.default()                   # a pytree; jax.vmap over stacked Params works
    djax.check_params(p)                        # ValueError naming the field for bad input
    obs = djax.observables(p)                   # BRs, g-2, EDMs, lambda, m_nu, solar-equivalent moments
    djax.likelihood_terms(p, "paper")           # {term id: ln L}; presets "paper", "full", "future"
    djax.log_likelihood(p, "full")              # joint ln L
    model = djax.numpyro_model("paper")         # NumPyro model for NUTS
    djax.sample(config), djax.optimize(config), djax.scan(config)   # the CLI's jobs, from Python
"""
from . import constants, dipoles, loops, model
from ._api import likelihood_terms, log_likelihood, resolve_terms
from ._x64 import enable_x64, x64_enabled
from .inference import numpyro_model, optimize, sample, scan
from .model import Params, check_params
from .observables import SCALAR_OBSERVABLES, observables

__version__ = "0.1.0"

__all__ = [
    "Params", "check_params", "observables", "SCALAR_OBSERVABLES", "likelihood_terms", "log_likelihood",
    "resolve_terms", "numpyro_model", "sample", "optimize", "scan", "enable_x64", "x64_enabled",
    "constants", "loops", "dipoles", "model", "__version__",
]
