"""Prior families over the dark-sector parameter box, shared by the NumPyro model and scans.

Each free parameter x is a deterministic function of one latent u with a uniform prior:

=====================  ============================================  ==========================================
type                   latent u ~ Uniform(u_lo, u_hi)                x(u)
=====================  ============================================  ==========================================
``uniform``            u_lo, u_hi = low, high                        x = u
``log_uniform``        u_lo, u_hi = ln low, ln high                  x = exp(u)
``signed_log_uniform`` u_lo, u_hi = asinh(low/s), asinh(high/s)      x = s sinh(u)
``fixed``              (none)                                        x = value
=====================  ============================================  ==========================================

``signed_log_uniform`` (scale s) is log-uniform in |x| for |x| >> s, with both signs and a linear core
|x| <~ s: the natural prior for a Yukawa whose order of magnitude is unknown, and a geometry NUTS can
sample (the cLFV bounds |y_a y'_b| < c become near-linear constraints |u_a| + |u_b| <~ ln(4c/s^2)
instead of thin ridges along the axes of a uniform box).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import jax.numpy as jnp
import numpy as np

SQRT_4PI = math.sqrt(4.0 * math.pi)

PRIOR_TYPES = ("uniform", "log_uniform", "signed_log_uniform", "fixed")

#: The 13 parameters of the default model (real Yukawas), in canonical order.
PARAMETER_NAMES = ("M_F", "m_S1", "m_S2", "theta", "y_e", "y_mu", "y_tau", "yp_e", "yp_mu", "yp_tau",
                   "g_D", "m_Aprime", "epsilon")


@dataclass(frozen=True)
class PriorSpec:
    """One parameter's prior (see the module table). ``scale`` is used by ``signed_log_uniform``."""

    name: str
    type: str
    low: float | None = None
    high: float | None = None
    value: float | None = None
    scale: float = 1.0e-12

    @property
    def is_fixed(self) -> bool:
        return self.type == "fixed"

    def latent_bounds(self) -> tuple[float, float]:
        if self.type == "uniform":
            return float(self.low), float(self.high)
        if self.type == "log_uniform":
            return math.log(self.low), math.log(self.high)
        if self.type == "signed_log_uniform":
            return math.asinh(self.low / self.scale), math.asinh(self.high / self.scale)
        raise ValueError(f"priors.{self.name}: a fixed prior has no latent variable")

    def to_physical(self, u):
        """x(u) for the latent u (jnp or numpy array)."""
        xp = np if isinstance(u, np.ndarray) else jnp
        if self.type == "uniform":
            return u
        if self.type == "log_uniform":
            return xp.exp(u)
        if self.type == "signed_log_uniform":
            return self.scale * xp.sinh(u)
        raise ValueError(f"priors.{self.name}: a fixed prior has no latent variable")

    def from_unit(self, t):
        """x for a point t in [0, 1] of the latent range (scans)."""
        lo, hi = self.latent_bounds()
        return self.to_physical(lo + t * (hi - lo))


#: Default priors: the PHYSICS.md section-1 box; log-uniform masses and epsilon; signed-log Yukawas.
DEFAULT_PRIORS: Mapping[str, PriorSpec] = {
    "M_F": PriorSpec("M_F", "log_uniform", 100.0, 1.0e4),
    "m_S1": PriorSpec("m_S1", "log_uniform", 10.0, 1.0e4),
    "m_S2": PriorSpec("m_S2", "log_uniform", 10.0, 1.0e4),
    "theta": PriorSpec("theta", "uniform", 0.0, 0.5 * math.pi),
    **{n: PriorSpec(n, "signed_log_uniform", -SQRT_4PI, SQRT_4PI, scale=1.0e-12)
       for n in ("y_e", "y_mu", "y_tau", "yp_e", "yp_mu", "yp_tau")},
    "g_D": PriorSpec("g_D", "uniform", 0.0, SQRT_4PI),
    "alpha_D": PriorSpec("alpha_D", "log_uniform", 1.0e-6, 1.0),
    # the common mass range of the NA64 2023 (from 1.055 MeV) and BaBar 2017 (to 7.9999 GeV) curves: outside a
    # curve its term vanishes, and such a cliff inside the box traps NUTS chains (PHYSICS.md box: 1 MeV - 8 GeV)
    "m_Aprime": PriorSpec("m_Aprime", "log_uniform", 1.06e-3, 7.99),
    "epsilon": PriorSpec("epsilon", "log_uniform", 1.0e-7, 1.0e-2),
}


def parameter_names(dark_coupling: str = "g_D") -> tuple[str, ...]:
    """The 13 sampled parameters, with ``g_D`` or ``alpha_D`` (= g_D^2/4 pi) as the dark coupling."""
    if dark_coupling not in ("g_D", "alpha_D"):
        raise ValueError(f"dark_coupling must be 'g_D' or 'alpha_D', got {dark_coupling!r}")
    return tuple(dark_coupling if n == "g_D" else n for n in PARAMETER_NAMES)


def resolve_priors(priors: Any = None, *, dark_coupling: str = "g_D") -> tuple[PriorSpec, ...]:
    """Priors for all 13 parameters, defaults filled in.

    ``priors`` may be None, a sequence of PriorSpec / run-file ``Prior`` objects, or a mapping
    ``name -> PriorSpec | number (fixed) | (type, low, high[, scale])``. Unknown names raise ``ValueError``.
    """
    given: dict[str, PriorSpec] = {}
    if priors is None:
        items: Sequence = ()
    elif isinstance(priors, Mapping):
        items = []
        for n, v in priors.items():
            if isinstance(v, PriorSpec):
                items.append(v)
            elif isinstance(v, (int, float)):
                items.append(PriorSpec(n, "fixed", value=float(v)))
            else:
                kind, lo, hi, *rest = v
                items.append(PriorSpec(n, kind, float(lo), float(hi), scale=float(rest[0]) if rest else 1e-12))
    else:
        items = [p if isinstance(p, PriorSpec) else
                 PriorSpec(p.name, p.type, p.low, p.high, p.value, getattr(p, "scale", None) or 1.0e-12)
                 for p in priors]
    names = parameter_names(dark_coupling)
    for p in items:
        if p.name not in names:
            raise ValueError(f"priors.{p.name}: unknown parameter; allowed are {list(names)}")
        if p.type not in PRIOR_TYPES:
            raise ValueError(f"priors.{p.name}.type: {p.type!r} is not one of {list(PRIOR_TYPES)}")
        given[p.name] = p
    return tuple(given.get(n, DEFAULT_PRIORS[n]) for n in names)


def params_from_values(values: Mapping[str, Any], *, Q_F: float = 1.0):
    """Assemble :class:`djax.Params` from the 13 named real values (a dict of scalars or arrays)."""
    from ..model import Params

    if "g_D" not in values:
        values = dict(values, g_D=jnp.sqrt(4.0 * jnp.pi * values["alpha_D"]))
    return Params(
        M_F=values["M_F"], m_S1=values["m_S1"], m_S2=values["m_S2"], theta=values["theta"],
        y=jnp.stack([values["y_e"], values["y_mu"], values["y_tau"]], axis=-1),
        yp=jnp.stack([values["yp_e"], values["yp_mu"], values["yp_tau"]], axis=-1),
        g_D=values["g_D"], m_Aprime=values["m_Aprime"], epsilon=values["epsilon"],
        Q_F=jnp.asarray(Q_F) + 0.0 * jnp.asarray(values["M_F"]),
    )
