"""Convenience API joining the edge (limit registry, files) to the pure likelihood core.

``djax.likelihood_terms(p, preset)`` resolves the preset through the packaged registry once (cached), then
evaluates the pure terms. Pass ``spec=`` (a TermSpec from :func:`resolve_terms`) inside your own jitted code
to skip the resolution entirely.
"""
from __future__ import annotations

import functools
from pathlib import Path

from .likelihood import TermSpec, evaluate_log_likelihood, evaluate_terms, preset_ids


@functools.lru_cache(maxsize=32)
def _cached_spec(preset, alpha_e, edm, include, exclude, registry_path, mtime):
    from .io import compile_terms, load_registry

    reg = load_registry(registry_path) if registry_path else load_registry()
    ids = preset_ids(preset, alpha_e=alpha_e, edm=edm, include=include, exclude=exclude)
    missing = [i for i in ids if i not in reg]
    if missing:
        raise ValueError(f"likelihood: unknown term id(s) {missing}; known ids: {list(reg.ids)}")
    return compile_terms(reg, ids)


def resolve_terms(preset: str | TermSpec = "paper", *, registry=None, include=(), exclude=(),
                  alpha_e: str = "Rb", edm: str = "JILA2023") -> TermSpec:
    """Compile a preset (plus ``include``/``exclude`` ids) into a :class:`TermSpec`.

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
    from .io import compile_terms

    ids = preset_ids(preset, alpha_e=alpha_e, edm=edm, include=include, exclude=exclude)
    return compile_terms(registry, ids)


def likelihood_terms(p, preset: str | TermSpec = "paper", *, br_inv=1.0, **kw) -> dict:
    """``{term id: ln L}`` for parameter point(s) ``p`` under ``preset`` ("paper", "full", "future")."""
    return evaluate_terms(p, resolve_terms(preset, **kw), br_inv=br_inv)


def log_likelihood(p, preset: str | TermSpec = "paper", *, br_inv=1.0, **kw):
    """Joint ln L = Σ_terms ln L_i (perturbativity is a prior boundary, not a term)."""
    return evaluate_log_likelihood(p, resolve_terms(preset, **kw), br_inv=br_inv)
