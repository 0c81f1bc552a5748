"""Likelihood terms for published limits (pure JAX), presets, and term forms.

The terms are evaluated from a :class:`TermSpec` of arrays compiled by ``djax.io.compile_terms`` from the
limit registry; ``djax.likelihood_terms(p, preset)`` / ``djax.log_likelihood(p, preset)`` do both steps.
Kinetic-mixing terms come in two kinds, both evaluated at the same BR(A' -> invisible) ``br_inv``
(:func:`decay_mode_br_inv` maps the run file's ``model.dark_photon_decays`` to it): invisible-decay curves
(``CurveTerms``, x = BR_inv (eps/eps_90)^2) and visible-decay searches (``VisibleTerms``, ``_visible``).
"""

from ._curves import (
    CurveTable,
    CurveTerms,
    TermSpec,
    combined_envelope,
    curve_loglike,
    eps90,
    make_table,
    stack_tables,
    terms_loglike,
)
from ._forms import (
    FORM_CODES,
    FORM_NAMES,
    TAIL_LNL,
    UPPER_LIMIT_SHAPES,
    ScalarTerms,
    counting,
    gaussian,
    half_gaussian,
    poisson_zero_count,
    soft_log_limit,
    upper_limit_loglike,
    yield_ratio,
)
from ._presets import (
    ALPHA_E_CHOICES,
    DIRECT_DETECTION_OBSERVABLES,
    EDM_CHOICES,
    MNU_CHOICES,
    MNU_TERMS,
    MODEL_CONSTRAINTS,
    PRESET_DECAYS,
    PRESETS,
    VISIBLE,
    preset_ids,
)
from ._terms import (
    TAU_OBSERVABLES,
    cl_thresholds,
    evaluate_log_likelihood,
    evaluate_terms,
    inactive_terms,
    is_direct,
    needs_solar,
    terms_blocked_by_fixed,
    terms_from_observables,
)
from ._visible import DECAY_MODES, VisibleTable, VisibleTerms, decay_mode_br_inv, visible_terms_loglike
from ._visible import make_visible_table as make_visible_table
from ._visible import make_visible_terms as make_visible_terms

__all__ = [
    "TAIL_LNL",
    "upper_limit_loglike",
    "make_visible_table",
    "make_visible_terms",
    "TermSpec",
    "CurveTable",
    "CurveTerms",
    "make_table",
    "stack_tables",
    "FORM_CODES",
    "FORM_NAMES",
    "UPPER_LIMIT_SHAPES",
    "ScalarTerms",
    "eps90",
    "combined_envelope",
    "curve_loglike",
    "terms_loglike",
    "poisson_zero_count",
    "half_gaussian",
    "gaussian",
    "counting",
    "soft_log_limit",
    "yield_ratio",
    "PRESETS",
    "preset_ids",
    "ALPHA_E_CHOICES",
    "EDM_CHOICES",
    "MNU_CHOICES",
    "MNU_TERMS",
    "MODEL_CONSTRAINTS",
    "DIRECT_DETECTION_OBSERVABLES",
    "evaluate_terms",
    "evaluate_log_likelihood",
    "cl_thresholds",
    "terms_from_observables",
    "is_direct",
    "needs_solar",
    "inactive_terms",
    "terms_blocked_by_fixed",
    "TAU_OBSERVABLES",
    "PRESET_DECAYS",
    "VISIBLE",
    "DECAY_MODES",
    "decay_mode_br_inv",
    "VisibleTable",
    "VisibleTerms",
    "visible_terms_loglike",
]
