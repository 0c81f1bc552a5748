"""djax.io: every file format djax reads or writes, one writer and one reader each (host side, not traced).

Run files (TOML), the limit registry and its data files (curves, scalar limits), posterior DataTrees, NUTS
checkpoints, exported compiled programs, the scan store, the optimize tables, the evidence record and run metadata, plus atomic writing and
checksums.
"""

from ._atomic import atomic_folder as atomic_folder
from ._atomic import atomic_path as atomic_path
from ._atomic import atomic_write_bytes as atomic_write_bytes
from ._atomic import atomic_write_json as atomic_write_json
from ._atomic import atomic_write_text as atomic_write_text
from ._atomic import sha256_arrays as sha256_arrays
from ._atomic import sha256_file as sha256_file
from ._checkpoint import NutsCheckpoint as NutsCheckpoint
from ._datatree import read_datatree as read_datatree
from ._datatree import write_datatree as write_datatree
from ._evidence import EVIDENCE_FILE as EVIDENCE_FILE
from ._evidence import EVIDENCE_KEYS as EVIDENCE_KEYS
from ._evidence import read_evidence as read_evidence
from ._evidence import write_evidence as write_evidence
from ._limits import ARTEFACT_RULES as ARTEFACT_RULES
from ._limits import CLEANING_RULES as CLEANING_RULES
from ._limits import CURVE_HEADER as CURVE_HEADER
from ._limits import CleanCurve as CleanCurve
from ._limits import LimitFileError as LimitFileError
from ._limits import RawCurve as RawCurve
from ._limits import ScalarRow as ScalarRow
from ._limits import clean_curve as clean_curve
from ._limits import cleaning_report as cleaning_report
from ._limits import curve_table as curve_table
from ._limits import data_dir as data_dir
from ._limits import load_curve as load_curve
from ._limits import read_curve_csv as read_curve_csv
from ._limits import read_scalar_limits_csv as read_scalar_limits_csv
from ._metadata import METADATA_FILE as METADATA_FILE
from ._metadata import STATUSES as STATUSES
from ._metadata import device_info as device_info
from ._metadata import now_utc as now_utc
from ._metadata import package_versions as package_versions
from ._metadata import platform_info as platform_info
from ._metadata import read_metadata as read_metadata
from ._metadata import write_metadata as write_metadata
from ._programs import ProgramFolder as ProgramFolder
from ._programs import environment_digest as environment_digest
from ._registry import ENTRY_KEYS as ENTRY_KEYS
from ._registry import FORMS as FORMS
from ._registry import KINDS as KINDS
from ._registry import OBSERVABLES as OBSERVABLES
from ._registry import STATUSES as LIMIT_STATUSES
from ._registry import LimitEntry as LimitEntry
from ._registry import Reference as Reference
from ._registry import Registry as Registry
from ._registry import compile_terms as compile_terms
from ._registry import default_power as default_power
from ._registry import default_registry_path as default_registry_path
from ._registry import load_registry as load_registry
from ._registry import resolve_likelihood as resolve_likelihood
from ._registry import term_provenance as term_provenance
from ._runfile import DEFAULT_OUTPUT_DIR as DEFAULT_OUTPUT_DIR
from ._runfile import EMBEDDED as EMBEDDED
from ._runfile import JOBS as JOBS
from ._runfile import OUTPUT_FORMATS as OUTPUT_FORMATS
from ._runfile import PLOT_FORMATS as PLOT_FORMATS
from ._runfile import SCHEMA_VERSION as SCHEMA_VERSION
from ._runfile import EvidenceSection as EvidenceSection
from ._runfile import LikelihoodSection as LikelihoodSection
from ._runfile import ModelSection as ModelSection
from ._runfile import OptimizeSection as OptimizeSection
from ._runfile import OutputSection as OutputSection
from ._runfile import ProfileSection as ProfileSection
from ._runfile import RunConfig as RunConfig
from ._runfile import RunFileError as RunFileError
from ._runfile import RunSection as RunSection
from ._runfile import SampleSection as SampleSection
from ._runfile import ScanSection as ScanSection
from ._runfile import config_to_dict as config_to_dict
from ._runfile import default_run_text as default_run_text
from ._runfile import load_run as load_run
from ._runfile import parse_run as parse_run
from ._runfile import parse_set_option as parse_set_option
from ._runfile import resolved_toml as resolved_toml
from ._runfile import validate_run as validate_run
from ._runfile import with_overrides as with_overrides
from ._scanstore import STATE_FILE as SCAN_STATE_FILE
from ._scanstore import STORE_DIR as SCAN_STORE_DIR
from ._scanstore import SUMMARY_FILE as SCAN_SUMMARY_FILE
from ._scanstore import ScanStore as ScanStore
from ._scanstore import open_scan as open_scan
from ._scanstore import read_scan as read_scan
from ._scanstore import read_scan_summary as read_scan_summary
from ._tables import BEST_FIT_FILE as BEST_FIT_FILE
from ._tables import HIERARCHY_COLUMNS as HIERARCHY_COLUMNS
from ._tables import HIERARCHY_FILE as HIERARCHY_FILE
from ._tables import HIERARCHY_STATUSES as HIERARCHY_STATUSES
from ._tables import LIMITS_FILE as LIMITS_FILE
from ._tables import PROFILE_FILE as PROFILE_FILE
from ._tables import profile_column as profile_column
from ._tables import read_best_fit as read_best_fit
from ._tables import read_hierarchy_table as read_hierarchy_table
from ._tables import read_limits as read_limits
from ._tables import read_profile_csv as read_profile_csv
from ._tables import write_best_fit as write_best_fit
from ._tables import write_hierarchy_table as write_hierarchy_table
from ._tables import write_limits as write_limits
from ._tables import write_profile_csv as write_profile_csv

__all__ = [
    "atomic_folder",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "sha256_arrays",
    "sha256_file",
    "NutsCheckpoint",
    "ProgramFolder",
    "environment_digest",
    "read_datatree",
    "EVIDENCE_FILE",
    "EVIDENCE_KEYS",
    "read_evidence",
    "write_evidence",
    "write_datatree",
    "ARTEFACT_RULES",
    "CLEANING_RULES",
    "CURVE_HEADER",
    "CleanCurve",
    "LimitFileError",
    "RawCurve",
    "ScalarRow",
    "clean_curve",
    "cleaning_report",
    "curve_table",
    "data_dir",
    "load_curve",
    "read_curve_csv",
    "read_scalar_limits_csv",
    "METADATA_FILE",
    "STATUSES",
    "device_info",
    "now_utc",
    "package_versions",
    "platform_info",
    "read_metadata",
    "write_metadata",
    "ENTRY_KEYS",
    "FORMS",
    "KINDS",
    "OBSERVABLES",
    "LIMIT_STATUSES",
    "LimitEntry",
    "Reference",
    "Registry",
    "compile_terms",
    "default_power",
    "default_registry_path",
    "load_registry",
    "resolve_likelihood",
    "term_provenance",
    "DEFAULT_OUTPUT_DIR",
    "EMBEDDED",
    "JOBS",
    "OUTPUT_FORMATS",
    "PLOT_FORMATS",
    "SCHEMA_VERSION",
    "LikelihoodSection",
    "ModelSection",
    "OptimizeSection",
    "EvidenceSection",
    "OutputSection",
    "ProfileSection",
    "RunConfig",
    "RunFileError",
    "RunSection",
    "SampleSection",
    "ScanSection",
    "config_to_dict",
    "default_run_text",
    "load_run",
    "parse_run",
    "parse_set_option",
    "resolved_toml",
    "validate_run",
    "with_overrides",
    "SCAN_STATE_FILE",
    "SCAN_STORE_DIR",
    "SCAN_SUMMARY_FILE",
    "ScanStore",
    "open_scan",
    "read_scan",
    "read_scan_summary",
    "BEST_FIT_FILE",
    "HIERARCHY_COLUMNS",
    "HIERARCHY_FILE",
    "HIERARCHY_STATUSES",
    "LIMITS_FILE",
    "PROFILE_FILE",
    "profile_column",
    "read_best_fit",
    "read_hierarchy_table",
    "read_limits",
    "read_profile_csv",
    "write_best_fit",
    "write_hierarchy_table",
    "write_limits",
    "write_profile_csv",
]
