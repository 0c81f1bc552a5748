"""Inference (pure computation, no file I/O): the NumPyro model, the NUTS driver, optax fits and constrained
maximisation, the upper-bound profile, streamed scans, the nested-sampling evidence and ArviZ diagnostics. The
jobs that run these from a run file, with run folders and checkpoints, are in :mod:`djax.jobs`."""

from ._certified import CERTIFIED_EXPERIMENTS as CERTIFIED_EXPERIMENTS
from ._certified import CertifiedProfile as CertifiedProfile
from ._certified import CertifiedProfiler as CertifiedProfiler
from ._certified import NotSeparable as NotSeparable
from ._certified import certified_profile as certified_profile
from ._certified import omega_matrix as omega_matrix
from ._chees import SPACES as SPACES
from ._chees import ProgramStore as ProgramStore
from ._chees import run_chees as run_chees
from ._diagnostics import LOG_LIKELIHOOD_NOTE as LOG_LIKELIHOOD_NOTE
from ._diagnostics import SAMPLE_STATS_INFO as SAMPLE_STATS_INFO
from ._diagnostics import Summary as Summary
from ._diagnostics import loo_by_term as loo_by_term
from ._diagnostics import plain_data as plain_data
from ._diagnostics import prior_draws as prior_draws
from ._diagnostics import stack_log_likelihood as stack_log_likelihood
from ._diagnostics import summarize as summarize
from ._diagnostics import term_attrs as term_attrs
from ._diagnostics import to_datatree as to_datatree
from ._diagnostics import variable_attrs as variable_attrs
from ._evidence import EvidenceResult as EvidenceResult
from ._evidence import evidence as evidence
from ._model import DEFAULT_DERIVED as DEFAULT_DERIVED
from ._model import make_model as make_model
from ._model import sample_parameters as sample_parameters
from ._nuts import CHAIN_METHODS as CHAIN_METHODS
from ._nuts import SAMPLE_METHODS as SAMPLE_METHODS
from ._nuts import STAT_NAMES as STAT_NAMES
from ._nuts import CheckpointStore as CheckpointStore
from ._nuts import SamplingInterrupted as SamplingInterrupted
from ._nuts import SamplingResult as SamplingResult
from ._nuts import default_segment as default_segment
from ._nuts import log_density_model as log_density_model
from ._nuts import run_nuts as run_nuts
from ._nuts import state_from_arrays as state_from_arrays
from ._nuts import state_to_arrays as state_to_arrays
from ._optimize import OPT_METHODS as OPT_METHODS
from ._optimize import ConstrainedResult as ConstrainedResult
from ._optimize import FitResult as FitResult
from ._optimize import ProfileResult as ProfileResult
from ._optimize import best_fit as best_fit
from ._optimize import best_fit_model as best_fit_model
from ._optimize import maximize_subject_to as maximize_subject_to
from ._optimize import profile as profile
from ._points import build_point_fn as build_point_fn
from ._points import point_observables as point_observables
from ._profile import PROFILE_EXPERIMENTS as PROFILE_EXPERIMENTS
from ._profile import ProfileSolver as ProfileSolver
from ._profile import profile_grid as profile_grid
from ._profile import profile_solver as profile_solver
from ._profile import values_from_z as values_from_z
from ._scan import SCAN_CRITERIA as SCAN_CRITERIA
from ._scan import SCAN_METHODS as SCAN_METHODS
from ._scan import ScanBox as ScanBox
from ._scan import ScanError as ScanError
from ._scan import ScanPlan as ScanPlan
from ._scan import ScanResult as ScanResult
from ._scan import ScanStore as ScanStore
from ._scan import ScanSummary as ScanSummary
from ._scan import ShardedEvaluator as ShardedEvaluator
from ._scan import benchmark_point_fn as benchmark_point_fn
from ._scan import run_scan as run_scan
from ._scan import scan_maps as scan_maps
from ._scan import scan_settings as scan_settings

__all__ = [
    "Summary",
    "summarize",
    "to_datatree",
    "LOG_LIKELIHOOD_NOTE",
    "SAMPLE_STATS_INFO",
    "loo_by_term",
    "plain_data",
    "prior_draws",
    "stack_log_likelihood",
    "term_attrs",
    "variable_attrs",
    "EvidenceResult",
    "evidence",
    "DEFAULT_DERIVED",
    "make_model",
    "sample_parameters",
    "CHAIN_METHODS",
    "SAMPLE_METHODS",
    "SPACES",
    "run_chees",
    "STAT_NAMES",
    "CheckpointStore",
    "ProgramStore",
    "SamplingInterrupted",
    "SamplingResult",
    "default_segment",
    "log_density_model",
    "run_nuts",
    "state_from_arrays",
    "state_to_arrays",
    "OPT_METHODS",
    "ConstrainedResult",
    "FitResult",
    "ProfileResult",
    "best_fit",
    "best_fit_model",
    "maximize_subject_to",
    "profile",
    "build_point_fn",
    "point_observables",
    "PROFILE_EXPERIMENTS",
    "CERTIFIED_EXPERIMENTS",
    "CertifiedProfile",
    "CertifiedProfiler",
    "NotSeparable",
    "certified_profile",
    "omega_matrix",
    "ProfileSolver",
    "profile_grid",
    "profile_solver",
    "values_from_z",
    "SCAN_CRITERIA",
    "SCAN_METHODS",
    "ScanBox",
    "ScanError",
    "ScanPlan",
    "ScanResult",
    "ScanStore",
    "ScanSummary",
    "ShardedEvaluator",
    "benchmark_point_fn",
    "run_scan",
    "scan_maps",
    "scan_settings",
]
