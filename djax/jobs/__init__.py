"""Jobs: what users run, from a run file, with a run folder that records and protects the results.

``sample``, ``optimize``, ``scan`` and ``evidence`` are what the command line runs (``djax sample`` ...); ``check``
validates a run file exactly as a job would, without running anything. Each job loads and checks the run file, resolves the
registry, curves and priors (all before any folder exists), opens the run folder (refusing to overwrite, locking
it, comparing the job fingerprint on resume), marks it running, and records done / interrupted / failed.
"""

from ._check import check as check
from ._evidence import EvidenceOutput as EvidenceOutput
from ._evidence import evidence as evidence
from ._folder import LOCK as LOCK
from ._folder import MARKER as MARKER
from ._folder import JobInterrupted as JobInterrupted
from ._folder import RunFolder as RunFolder
from ._folder import StopRequest as StopRequest
from ._folder import fingerprint_diff as fingerprint_diff
from ._folder import handle_signals as handle_signals
from ._folder import open_run_folder as open_run_folder
from ._folder import running as running
from ._optimize import OptimizeOutput as OptimizeOutput
from ._optimize import direct_limits as direct_limits
from ._optimize import hierarchy_table as hierarchy_table
from ._optimize import optimize as optimize
from ._prepare import Prepared as Prepared
from ._prepare import compilation_cache as compilation_cache
from ._prepare import job_fingerprint as job_fingerprint
from ._prepare import load_config as load_config
from ._prepare import prepare as prepare
from ._prepare import program_key as program_key
from ._prepare import program_store as program_store
from ._sample import SampleOutput as SampleOutput
from ._sample import sample as sample
from ._scan import scan as scan

__all__ = [
    "check",
    "EvidenceOutput",
    "evidence",
    "LOCK",
    "MARKER",
    "JobInterrupted",
    "RunFolder",
    "StopRequest",
    "running",
    "fingerprint_diff",
    "handle_signals",
    "open_run_folder",
    "OptimizeOutput",
    "direct_limits",
    "hierarchy_table",
    "optimize",
    "Prepared",
    "compilation_cache",
    "job_fingerprint",
    "program_key",
    "program_store",
    "load_config",
    "prepare",
    "SampleOutput",
    "sample",
    "scan",
]
