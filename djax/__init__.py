"""djax: a GPU-ready, differentiable fitter for dark-sector Majorana-neutrino transition magnetic moments.

Public API (stable names; see docs/DESIGN.md for the architecture)::

    djax.enable_x64()                           # call first: djax is float64
    p = djax.Params.default()                   # a pytree; jax.vmap over stacked Params works
    djax.check_params(p)                        # ValueError naming the field for bad input
    obs = djax.observables(p)                   # BRs, g-2, EDMs, lambda, m_nu, solar-equivalent moments
    djax.likelihood_terms(p, "paper")           # {term id: ln L}; presets "paper", "full", "future"
    djax.log_likelihood(p, "full")              # joint ln L
    model = djax.numpyro_model("paper")         # NumPyro model for NUTS
    djax.sample(config), djax.optimize(config), djax.scan(config)   # the CLI's jobs (djax.jobs), from Python
    djax.evidence(config).log_Z                 # ln Z by nested sampling (evidence.json in the run folder)
    djax.check(config)                          # validate a run file as a job would

The physics core (constants, loops, dipoles, model, observables, likelihood) needs only JAX and NumPy; the jobs,
the NumPyro model and the file formats (NumPyro, optax, ArviZ, xarray, Zarr) load on first use.
"""

__version__ = "0.2.0"

from . import constants, dipoles, errors, loops, model, precision  # noqa: E402
from .model import Params, check_params  # noqa: E402
from .observables import SCALAR_OBSERVABLES, observables  # noqa: E402
from .precision import enable_x64, x64_enabled  # noqa: E402

_LAZY = {
    "likelihood_terms": "._api",
    "log_likelihood": "._api",
    "numpyro_model": "._api",
    "resolve_terms": "._api",
    "check": ".jobs",
    "evidence": ".jobs",
    "optimize": ".jobs",
    "sample": ".jobs",
    "scan": ".jobs",
}


def __getattr__(name):
    """The jobs and the registry-backed likelihood API, imported on first use."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'djax' has no attribute {name!r}")


__all__ = [
    "Params",
    "check_params",
    "observables",
    "SCALAR_OBSERVABLES",
    "likelihood_terms",
    "log_likelihood",
    "resolve_terms",
    "numpyro_model",
    "sample",
    "optimize",
    "scan",
    "evidence",
    "check",
    "enable_x64",
    "x64_enabled",
    "constants",
    "loops",
    "dipoles",
    "model",
    "errors",
    "precision",
    "__version__",
]
