"""djax.io: data files, the limit registry and (elsewhere) run files. Host-side code, not traced."""
from ._limits import (
    CURVE_HEADER,
    CleanCurve,
    LimitFileError,
    RawCurve,
    ScalarRow,
    clean_curve,
    cleaning_report,
    curve_table,
    data_dir,
    load_curve,
    read_curve_csv,
    read_scalar_limits_csv,
)
from ._registry import (
    ENTRY_KEYS,
    FORMS,
    KINDS,
    OBSERVABLES,
    STATUSES,
    LimitEntry,
    Reference,
    Registry,
    compile_terms,
    default_power,
    default_registry_path,
    load_registry,
)

__all__ = [
    "CURVE_HEADER", "CleanCurve", "LimitFileError", "RawCurve", "ScalarRow", "clean_curve", "cleaning_report",
    "curve_table", "data_dir", "load_curve", "read_curve_csv", "read_scalar_limits_csv",
    "ENTRY_KEYS", "FORMS", "KINDS", "OBSERVABLES", "STATUSES", "LimitEntry", "Reference", "Registry",
    "compile_terms", "default_power", "default_registry_path", "load_registry",
]
