"""From a run file to everything a job needs, checked before any folder exists; the job fingerprint; the
persistent compilation cache."""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..errors import DjaxError
from ..io import (
    EMBEDDED,
    RunConfig,
    cleaning_report,
    load_run,
    parse_run,
    resolve_likelihood,
    term_provenance,
    with_overrides,
)
from ..likelihood import MNU_TERMS, PRESET_DECAYS, TermSpec, inactive_terms, terms_blocked_by_fixed
from ..model import Prior


def load_config(config: Any = None, overrides: Mapping[str, Any] | None = None) -> RunConfig:
    """A RunConfig from None (embedded default), a path, TOML text or a RunConfig, with dotted-key ``overrides``
    (``{"sample.num_chains": 2}``, as ``--set``)."""
    overrides = dict(overrides or {})
    if isinstance(config, RunConfig):
        return with_overrides(config, overrides)
    if isinstance(config, str) and "\n" in config:
        return parse_run(config, source="<run file text>", overrides=overrides)
    return load_run(config, overrides=overrides)


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A resolved job: the run file, the registry and term ids, the compiled terms, the priors and the
    fingerprint of everything that determines the results."""

    config: RunConfig
    job: str
    registry: Any
    ids: tuple[str, ...]
    spec: TermSpec
    priors: tuple[Prior, ...]
    fingerprint: dict
    notes: tuple[str, ...]


_JOB_SECTIONS = {"sample": ("sample",), "optimize": ("optimize",), "scan": ("scan",), "evidence": ("evidence",)}


def job_fingerprint(config: RunConfig, job: str, registry, ids) -> dict:
    """Everything that determines a job's results, as plain data: djax version, job, seed, model options,
    priors, the resolved likelihood terms (values, forms, curve-file hashes) and the job's settings."""
    lk = config.likelihood
    fp = {
        "djax_version": __version__,
        "job": job,
        "seed": config.run.seed,
        "model": dataclasses.asdict(config.model),
        "priors": {p.name: p.as_dict() for p in config.priors},
        "likelihood": {
            "preset": lk.preset,
            "include": list(lk.include),
            "exclude": list(lk.exclude),
            "alpha_e": lk.alpha_e,
            "edm": lk.edm,
            "mnu": lk.mnu,
            "terms": term_provenance(registry, ids),
        },
    }
    for sec in _JOB_SECTIONS[job]:
        fp[sec] = dataclasses.asdict(getattr(config, sec))
    if job in ("sample", "evidence"):
        fp["output"] = {"formats": list(config.output.formats)}
    return fp


def _with_source(exc: DjaxError, source: str) -> DjaxError:
    if exc.file in ("<likelihood>", "<priors>", "<scan>", "<unknown>"):
        exc.file = source
    return exc


def prepare(config: RunConfig, job: str | None = None) -> Prepared:
    """Resolve the registry, curves and terms exactly as the job will, and compute the fingerprint.

    Raises :class:`djax.errors.DjaxError` naming the run file (or the registry/curve file) and the key."""
    job = job or config.run.job
    lk = config.likelihood
    source = config.source
    notes = []
    try:
        reg, ids, spec = resolve_likelihood(
            preset=lk.preset,
            include=lk.include,
            exclude=lk.exclude,
            alpha_e=lk.alpha_e,
            edm=lk.edm,
            mnu=lk.mnu,
            mnu_cancellation=config.model.mnu_cancellation,
            registry=lk.registry or None,
            overrides=lk.overrides,
            source=source,
        )
    except DjaxError as exc:
        raise _with_source(exc, source) from None
    spec = dataclasses.replace(spec, model_options=model_options(config))
    for i in ids:
        e = reg[i]
        if e.form == "curve":
            c = reg.curve(i)
            if c.n_removed or c.reordered:
                notes.append(cleaning_report(c))
        if e.status in ("memory", "projection", "unknown"):
            notes.append(f"term {i}: value has status {e.status!r} ({e.reference}); re-check before relying on it")
    notes += decay_mode_notes(config, spec)
    notes += fixed_parameter_notes(config, spec)
    notes += model_constraint_notes(config, ids)
    fp = job_fingerprint(config, job, reg, ids)
    return Prepared(config, job, reg, tuple(ids), spec, tuple(config.priors), fp, tuple(notes))


def model_options(config: RunConfig) -> tuple:
    """The ``djax.observables`` keyword arguments the run file's model section sets (``TermSpec.model_options``)."""
    return (("kinetic_mixing_cutoff", float(config.model.kinetic_mixing_cutoff)),)


def model_constraint_notes(config: RunConfig, ids) -> list[str]:
    """Warnings (``"model.<key>: ..."``) for assumptions of the run file's model section: the sum m_nu
    cancellation, and the BBN bound used for an A' that does not decay visibly."""
    out = []
    if config.model.mnu_cancellation:
        dropped = [t for t in MNU_TERMS if t in config.likelihood.include]
        extra = f" (also the included {', '.join(dropped)})" if dropped else ""
        out.append(
            "model.mnu_cancellation = true: assuming that a tree-level neutrino mass cancels the one-loop mass "
            f"m_nu of this model; every sum m_nu term is dropped from the likelihood{extra}"
        )
    if "bbn_cmb_mass" in ids and config.model.dark_photon_decays != "visible":
        out.append(
            f"model.dark_photon_decays = {config.model.dark_photon_decays!r}: term bbn_cmb_mass is the BBN + Planck "
            "bound on an electrophilic (visibly decaying) thermal A' (Sabti et al. 2020); it is used unchanged"
        )
    return out


#: Observables that vanish unless a tau Yukawa (y_tau or yp_tau) is non-zero.
def fixed_parameter_notes(config: RunConfig, spec: TermSpec) -> list[str]:
    """Warnings for terms whose observable cannot change because the parameters it needs are fixed in [priors]
    (the tau decays with y_tau = yp_tau = 0, the default)."""
    return [f"term {tid}: cannot act: {why}" for tid, why in terms_blocked_by_fixed(spec, config.priors).items()]


def decay_mode_notes(config: RunConfig, spec: TermSpec) -> list[str]:
    """Warnings for terms that cannot act under ``model.dark_photon_decays`` (their ln L is 0 everywhere), one
    ``"term <id>: ..."`` line each, and one for a likelihood preset meant for another decay mode."""
    mode, b = config.model.dark_photon_decays, config.model.br_inv
    out = []
    meant = PRESET_DECAYS.get(config.likelihood.preset)
    if meant is not None and meant != mode:
        out.append(
            f"likelihood.preset {config.likelihood.preset!r} is meant for model.dark_photon_decays = "
            f"{meant!r}, this run uses {mode!r}"
        )
    for tid, why in inactive_terms(spec, b).items():
        out.append(f"term {tid}: cannot act with model.dark_photon_decays = {mode!r} ({why}); ln L = 0 everywhere")
    return out


def _cache_base() -> Path | None:
    """``$DJAX_CACHE_DIR`` (default ``$XDG_CACHE_HOME/djax`` or ``~/.cache/djax``), None when
    ``DJAX_COMPILATION_CACHE=0``."""
    if os.environ.get("DJAX_COMPILATION_CACHE", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    return Path(
        os.environ.get("DJAX_CACHE_DIR")
        or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "djax")
    )


def program_store():
    """The store of exported sampler programs (``$DJAX_CACHE_DIR/programs``, :class:`djax.io.ProgramFolder`) that
    lets a repeated job skip model initialisation, tracing and lowering; None when the cache is switched off
    (``DJAX_COMPILATION_CACHE=0``)."""
    from ..io import ProgramFolder

    base = _cache_base()
    return None if base is None else ProgramFolder(base / "programs")


def program_key(prep: Prepared) -> str:
    """Digest of everything a job's model is built from: the fingerprint (priors, model options, the resolved
    terms' values and file hashes, the job settings) and the compiled term arrays themselves."""
    import hashlib
    import json

    import jax

    h = hashlib.sha256(json.dumps(prep.fingerprint, sort_keys=True, default=str).encode())
    for leaf in jax.tree.leaves(prep.spec):
        a = np.asarray(leaf)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    h.update(repr((prep.spec.ids, prep.spec.observables, prep.spec.model_options, prep.priors)).encode())
    return h.hexdigest()[:32]


def compilation_cache() -> str | None:
    """Turn on JAX's persistent compilation cache (``$DJAX_CACHE_DIR/jax``, default ``~/.cache/djax/jax``); set
    ``DJAX_COMPILATION_CACHE=0`` to switch it off (and the program store, :func:`program_store`). Returns the
    folder or None."""
    import jax

    base = _cache_base()
    if base is None:
        return None
    path = str(base / "jax")
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError:
        warnings.warn(f"djax: cannot create the compilation cache {path}; running without it", stacklevel=2)
        return None
    if getattr(jax.config, "jax_compilation_cache_dir", None) != path:
        jax.config.update("jax_compilation_cache_dir", path)
        # cache every program: the many small ones (below 0.5 s each) add up to seconds on every start
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path


def check_text(prep: Prepared) -> str:
    """What ``djax check`` prints: the resolved job, priors, terms and cleaning notes."""
    c = prep.config
    lines = [
        f"run file: {c.source}",
        f"job: {prep.job}; output folder: {c.output_path}",
        "",
        f"priors ({len(c.free_parameters)} free of {len(c.priors)}):",
    ]
    for p in c.priors:
        lines.append(f"  {p.name:<9} {p.describe()}")
    lines += [
        "",
        f"A' decays: model.dark_photon_decays = {c.model.dark_photon_decays!r} "
        f"(BR(A' -> invisible) = {c.model.br_inv:g})",
        f"likelihood preset {c.likelihood.preset!r}: {len(prep.ids)} terms",
    ]
    for i in prep.ids:
        e = prep.registry[i]
        val = "curve " + Path(e.file).name if e.form in ("curve", "visible_curve") else f"{e.value:.4g}"
        cl = f"{e.cl:.0%} CL" if e.cl is not None else ""
        lines.append(f"  {i:<22} {e.observable:<24} {e.form:<18} {val:<44} {cl:<7} {e.status:<10} {e.reference}")
    if prep.notes:
        lines += ["", "notes:"] + [f"  {n}" for n in prep.notes]
    return "\n".join(lines)


__all__ = [
    "load_config",
    "Prepared",
    "prepare",
    "job_fingerprint",
    "decay_mode_notes",
    "model_constraint_notes",
    "model_options",
    "compilation_cache",
    "program_store",
    "program_key",
    "check_text",
    "EMBEDDED",
]
