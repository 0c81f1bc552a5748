"""Inference: the NumPyro model, NUTS sampling, optax fits and profiles, streamed scans (jobs and drivers)."""
from ._jobs import (
    DIRECT_LIMITS_MUB,
    OptimizeOutput,
    SampleOutput,
    build_point_fn,
    cl_thresholds,
    hierarchy_table,
    load_config,
    model_from_config,
    optimize,
    priors_from_config,
    sample,
    scan,
    spec_from_config,
    upper_bound_profile,
)
from ._model import DEFAULT_DERIVED, make_model, numpyro_model
from ._priors import DEFAULT_PRIORS, PARAMETER_NAMES, PriorSpec, params_from_values, resolve_priors
from ._scan import plot_scan, read_scan, run_scan, run_scan_config

__all__ = [
    "numpyro_model", "make_model", "DEFAULT_DERIVED", "DEFAULT_PRIORS", "PARAMETER_NAMES", "PriorSpec",
    "resolve_priors", "params_from_values", "sample", "optimize", "scan", "build_point_fn", "load_config",
    "spec_from_config", "priors_from_config", "model_from_config", "upper_bound_profile", "cl_thresholds",
    "hierarchy_table", "SampleOutput", "OptimizeOutput", "DIRECT_LIMITS_MUB", "run_scan", "run_scan_config",
    "read_scan", "plot_scan",
]
