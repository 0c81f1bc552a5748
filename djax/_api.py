"""Convenience API joining the limit registry (files, :mod:`djax.io`) to the pure likelihood core.

``djax.likelihood_terms(p, preset)`` resolves the preset through the packaged registry once (cached), then
evaluates the pure terms. Pass a TermSpec from :func:`resolve_terms` inside your own jitted code to skip the
resolution entirely.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path
from typing import Any

from .inference import DEFAULT_DERIVED, make_model
from .io import resolve_likelihood
from .likelihood import (
    PRESET_DECAYS,
    TermSpec,
    decay_mode_br_inv,
    evaluate_log_likelihood,
    evaluate_terms,
    terms_blocked_by_fixed,
)
from .model import resolve_priors


@functools.lru_cache(maxsize=32)
def _cached_spec(preset, alpha_e, edm, include, exclude, registry_path, mtime):
    return resolve_likelihood(
        preset=preset, alpha_e=alpha_e, edm=edm, include=include, exclude=exclude, registry=registry_path or None
    )[2]


def resolve_terms(
    preset: str | TermSpec = "paper",
    *,
    registry=None,
    include=(),
    exclude=(),
    alpha_e: str = "Rb",
    edm: str = "JILA2023",
) -> TermSpec:
    """Compile a preset (plus ``include``/``exclude`` ids) into a :class:`djax.likelihood.TermSpec`.

    ``registry``: None (packaged), a path to a user TOML file that extends/overrides the packaged registry,
    or a ``djax.io.Registry`` object.
    """
    if isinstance(preset, TermSpec):
        return preset
    include, exclude = tuple(include), tuple(exclude)
    if registry is None or isinstance(registry, (str, Path)):
        path = str(registry) if registry else ""
        mtime = Path(path).stat().st_mtime_ns if path else 0
        return _cached_spec(preset, alpha_e, edm, include, exclude, path, mtime)
    return resolve_likelihood(
        preset=preset, alpha_e=alpha_e, edm=edm, include=include, exclude=exclude, registry=registry
    )[2]


def _br_inv(preset, br_inv):
    """BR(A' -> invisible): as given, else what the preset is meant for (``djax.likelihood.PRESET_DECAYS``)."""
    if br_inv is not None:
        return br_inv
    mode = PRESET_DECAYS.get(preset) if isinstance(preset, str) else None
    return decay_mode_br_inv(mode or "invisible")


def likelihood_terms(p, preset: str | TermSpec = "paper", *, br_inv=None, **kw) -> dict:
    """``{term id: ln L}`` for parameter point(s) ``p`` under ``preset`` ("paper", "full", "future", "minimal");
    ``br_inv`` = BR(A' -> invisible), default: the decay mode the preset is meant for."""
    return evaluate_terms(p, resolve_terms(preset, **kw), br_inv=_br_inv(preset, br_inv))


def log_likelihood(p, preset: str | TermSpec = "paper", *, br_inv=None, **kw):
    """Joint ln L = sum of the terms' ln L (perturbativity is a prior boundary, not a term)."""
    return evaluate_log_likelihood(p, resolve_terms(preset, **kw), br_inv=_br_inv(preset, br_inv))


def numpyro_model(
    preset: str | TermSpec = "paper",
    priors: Any = None,
    *,
    registry=None,
    include=(),
    exclude=(),
    alpha_e: str = "Rb",
    edm: str = "JILA2023",
    Q_F: float = 1.0,
    br_inv: float | None = None,
    derived=DEFAULT_DERIVED,
    record_terms: bool = True,
    yukawa_structure: str = "shared",
):
    """The dark-sector NumPyro model for a likelihood ``preset`` and ``priors``.

    Default priors: ``djax.model.DEFAULT_PRIORS``, the same as the CLI's embedded run file (``djax check``
    prints them): the schema's box with y_tau = yp_tau = 0 fixed (the reference study's e-mu family), 11 free
    parameters; ``priors=djax.model.PRIOR_BOX`` frees all 13. A term that cannot act under the priors (a tau
    term with the tau Yukawas fixed) raises a ``UserWarning``. ``yukawa_structure = "separate"`` (the run file's
    ``model.yukawa_structure``) gives the charged VLL member its own B-type Yukawa y'_E: three more parameters
    ``ypE_e, ypE_mu, ypE_tau`` (default priors as yp_*, ypE_tau fixed to 0). Deterministic sites: the physical parameters, ``lnL_<term>`` for every term and the
    ``derived`` observables. Usage::

        model = djax.numpyro_model("paper")
        mcmc = numpyro.infer.MCMC(numpyro.infer.NUTS(model), num_warmup=500, num_samples=500)
        mcmc.run(jax.random.PRNGKey(0))
    """
    spec = resolve_terms(preset, registry=registry, include=include, exclude=exclude, alpha_e=alpha_e, edm=edm)
    resolved = resolve_priors(priors, yukawa_structure=yukawa_structure)
    for tid, why in terms_blocked_by_fixed(spec, resolved).items():
        warnings.warn(f"djax: term {tid}: cannot act: {why}", UserWarning, stacklevel=2)
    return make_model(
        spec,
        resolved,
        Q_F=Q_F,
        br_inv=_br_inv(preset, br_inv),
        derived=derived,
        record_terms=record_terms,
    )
