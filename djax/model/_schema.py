r"""The parameter schema: every model parameter, its physical bounds, units, labels and priors (one home).

The run-file validator, the NumPyro model, scans, the optimiser, plotting and the tests all read this
module; nothing else states the prior box or the bounds.

Parameters (masses in GeV; real Yukawas): ``M_F, m_S1, m_S2, theta, y_e, y_mu, y_tau, yp_e, yp_mu, yp_tau,
g_D`` (or ``alpha_D = g_D^2 / 4 pi``), ``m_Aprime, epsilon``; with ``model.yukawa_structure = "separate"`` also
``ypE_e, ypE_mu, ypE_tau`` (the B-type Yukawa of the charged member E, after ``yp_tau``).

Physical bounds (a prior box beyond them is an error naming the key):

* masses ``M_F, m_S1, m_S2, m_Aprime`` > 0;
* ``|y_a|, |y'_a| <= sqrt(4 pi)`` and ``0 <= g_D <= sqrt(4 pi)`` (perturbativity; ``0 <= alpha_D <= 1``);
* ``0 < epsilon < 1`` (kinetic mixing; 0 allowed for a fixed value: no mixing);
* ``theta`` in ``[-pi/2, pi/2]`` (``theta -> theta + pi`` flips the sign of both Yukawa vectors' couplings,
  which no observable sees).

Prior families: every free parameter ``x`` is a deterministic function of one latent ``u`` with a uniform
prior on ``[u_lo, u_hi]``:

=====================  ============================================  ====================
type                   latent bounds                                 x(u)
=====================  ============================================  ====================
``uniform``            ``low, high``                                 ``u``
``log_uniform``        ``ln low, ln high``                           ``exp(u)``
``signed_log_uniform`` ``asinh(low/s), asinh(high/s)``               ``s sinh(u)``
``fixed``              (none)                                        ``value``
=====================  ============================================  ====================

``signed_log_uniform`` (scale ``s``) is log-uniform in ``|x|`` for ``|x| >> s``, with both signs and a linear
core ``|x| <~ s``: the natural prior for a Yukawa whose order of magnitude is unknown, and a geometry NUTS
can sample (the cLFV bounds ``|y_a y'_b| < c`` become near-linear constraints ``|u_a| + |u_b| <~
ln(4c/s^2)`` instead of thin ridges along the axes of a uniform box).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import jax.numpy as jnp
import numpy as np

from ..errors import DjaxError

SQRT_4PI = math.sqrt(4.0 * math.pi)
#: Perturbativity bound on |y_a|, |y'_a| and g_D.
PERTURBATIVITY_BOUND = SQRT_4PI

PRIOR_TYPES = ("uniform", "log_uniform", "signed_log_uniform", "fixed")
#: Linear-core width s of the default signed-log-uniform Yukawa priors (y = s sinh(u)).
DEFAULT_SIGNED_LOG_SCALE = 1.0e-12
DARK_COUPLINGS = ("g_D", "alpha_D")
#: ``model.yukawa_structure``: one B-type Yukawa y' for N and E ("shared", the default) or an own y'_E for E.
YUKAWA_STRUCTURES = ("shared", "separate")
#: The parameters of y'_E, present only with ``yukawa_structure = "separate"``.
YUKAWA_E_NAMES = ("ypE_e", "ypE_mu", "ypE_tau")


class SchemaError(DjaxError, ValueError):
    """A parameter or prior violates the schema. ``key`` is the dotted key (``priors.y_e.high``); ``file`` is
    filled in by whoever read the value (the run file)."""

    def __init__(self, key: str, message: str, *, file=None, line=None):
        self.message = message
        super().__init__(file if file is not None else "<priors>", key, message, line=line)


@dataclasses.dataclass(frozen=True)
class ParameterInfo:
    """One model parameter: physical range, units and labels.

    ``lo``/``hi``: physical bounds (None: unbounded); ``lo_open``/``hi_open``: whether the bound itself is
    excluded. ``units`` follows UDUNITS spelling (``"GeV"``, ``"rad"``, ``"1"``).
    """

    name: str
    long_name: str
    units: str
    latex: str
    lo: float | None
    hi: float | None
    lo_open: bool = False
    hi_open: bool = False

    def contains(self, x: float) -> bool:
        if self.lo is not None and (x < self.lo or (self.lo_open and x == self.lo)):
            return False
        if self.hi is not None and (x > self.hi or (self.hi_open and x == self.hi)):
            return False
        return True

    def range_text(self) -> str:
        lb = "(" if self.lo_open or self.lo is None else "["
        ub = ")" if self.hi_open or self.hi is None else "]"
        lo = "-inf" if self.lo is None else f"{self.lo:.10g}"
        hi = "inf" if self.hi is None else f"{self.hi:.10g}"
        return f"{lb}{lo}, {hi}{ub}"


def _yukawa(name, latex, long_name):
    return ParameterInfo(name, long_name, "1", latex, -SQRT_4PI, SQRT_4PI)


#: Every parameter of the model, in canonical order (``alpha_D`` replaces ``g_D`` when chosen).
PARAMETER_INFO: Mapping[str, ParameterInfo] = MappingProxyType(
    {
        "M_F": ParameterInfo("M_F", "vector-like lepton mass", "GeV", r"M_F", 0.0, None, lo_open=True),
        "m_S1": ParameterInfo(
            "m_S1", "lighter-index dark scalar mass eigenvalue", "GeV", r"m_{S_1}", 0.0, None, lo_open=True
        ),
        "m_S2": ParameterInfo("m_S2", "second dark scalar mass eigenvalue", "GeV", r"m_{S_2}", 0.0, None, lo_open=True),
        "theta": ParameterInfo("theta", "dark scalar mixing angle", "rad", r"\theta", -0.5 * math.pi, 0.5 * math.pi),
        "y_e": _yukawa("y_e", r"y_e", "A-type Yukawa coupling to the electron doublet"),
        "y_mu": _yukawa("y_mu", r"y_\mu", "A-type Yukawa coupling to the muon doublet"),
        "y_tau": _yukawa("y_tau", r"y_\tau", "A-type Yukawa coupling to the tau doublet"),
        "yp_e": _yukawa("yp_e", r"y'_e", "B-type Yukawa coupling, electron flavour"),
        "yp_mu": _yukawa("yp_mu", r"y'_\mu", "B-type Yukawa coupling, muon flavour"),
        "yp_tau": _yukawa("yp_tau", r"y'_\tau", "B-type Yukawa coupling, tau flavour"),
        "ypE_e": _yukawa("ypE_e", r"y'_{E,e}", "B-type Yukawa of the charged VLL member E to e"),
        "ypE_mu": _yukawa("ypE_mu", r"y'_{E,\mu}", "B-type Yukawa of the charged VLL member E to mu"),
        "ypE_tau": _yukawa("ypE_tau", r"y'_{E,\tau}", "B-type Yukawa of the charged VLL member E to tau"),
        "g_D": ParameterInfo("g_D", "dark U(1)_D gauge coupling", "1", r"g_D", 0.0, SQRT_4PI),
        "alpha_D": ParameterInfo("alpha_D", "dark fine-structure constant g_D^2/(4 pi)", "1", r"\alpha_D", 0.0, 1.0),
        "m_Aprime": ParameterInfo("m_Aprime", "dark-photon mass", "GeV", r"m_{A'}", 0.0, None, lo_open=True),
        "epsilon": ParameterInfo("epsilon", "kinetic mixing", "1", r"\epsilon", 0.0, 1.0, hi_open=True),
    }
)

#: The 13 sampled parameters of the default model (g_D as the dark coupling), canonical order.
PARAMETER_NAMES = (
    "M_F",
    "m_S1",
    "m_S2",
    "theta",
    "y_e",
    "y_mu",
    "y_tau",
    "yp_e",
    "yp_mu",
    "yp_tau",
    "g_D",
    "m_Aprime",
    "epsilon",
)


def parameter_names(dark_coupling: str = "g_D", *, yukawa_structure: str = "shared") -> tuple[str, ...]:
    """The 13 real parameters of the model, with ``g_D`` or ``alpha_D`` (= g_D^2/4 pi) as the dark coupling;
    ``yukawa_structure = "separate"`` adds ``ypE_e, ypE_mu, ypE_tau`` after ``yp_tau`` (16)."""
    if dark_coupling not in DARK_COUPLINGS:
        raise SchemaError("model.dark_coupling", f"expected one of {DARK_COUPLINGS}, got {dark_coupling!r}")
    if yukawa_structure not in YUKAWA_STRUCTURES:
        raise SchemaError("model.yukawa_structure", f"expected one of {YUKAWA_STRUCTURES}, got {yukawa_structure!r}")
    out = []
    for n in PARAMETER_NAMES:
        out.append(dark_coupling if n == "g_D" else n)
        if n == "yp_tau" and yukawa_structure == "separate":
            out.extend(YUKAWA_E_NAMES)
    return tuple(out)


def shared_yukawa_message(name: str) -> str:
    """Why a prior of ``ypE_*`` is refused in a run whose ``model.yukawa_structure`` is "shared"."""
    return (
        f"model.yukawa_structure is 'shared' (y'_E = y': the charged member E couples through yp_*), so there is "
        f"no parameter {name!r}; set model.yukawa_structure = 'separate' to give y'_E its own priors"
    )


@dataclasses.dataclass(frozen=True)
class Prior:
    """One parameter's prior (see the module table); ``scale`` is the linear core of ``signed_log_uniform``.

    Build through :func:`make_prior` (which checks the physical bounds), or use :data:`DEFAULT_PRIORS`.
    """

    name: str
    type: str
    low: float | None = None
    high: float | None = None
    value: float | None = None
    scale: float | None = None

    @property
    def is_fixed(self) -> bool:
        return self.type == "fixed"

    def latent_bounds(self) -> tuple[float, float]:
        """``(u_lo, u_hi)`` of the uniform latent."""
        if self.type == "uniform":
            return float(self.low), float(self.high)
        if self.type == "log_uniform":
            return math.log(self.low), math.log(self.high)
        if self.type == "signed_log_uniform":
            return math.asinh(self.low / self.scale), math.asinh(self.high / self.scale)
        raise SchemaError(f"priors.{self.name}", "a fixed prior has no latent variable")

    def to_physical(self, u):
        """``x(u)`` for the latent ``u`` (jnp or numpy array)."""
        if self.is_fixed:
            raise SchemaError(f"priors.{self.name}", "a fixed prior has no latent variable")
        xp = np if isinstance(u, (np.ndarray, float)) else jnp
        return latent_to_physical(u, (self,), xp)

    def to_latent(self, x):
        """Inverse of :meth:`to_physical`."""
        xp = np if isinstance(x, (np.ndarray, float)) else jnp
        if self.type == "uniform":
            return x
        if self.type == "log_uniform":
            return xp.log(x)
        if self.type == "signed_log_uniform":
            return xp.arcsinh(x / self.scale)
        raise SchemaError(f"priors.{self.name}", "a fixed prior has no latent variable")

    def from_unit(self, t):
        """``x`` at the point ``t`` in ``[0, 1]`` of the latent range (scans)."""
        lo, hi = self.latent_bounds()
        return self.to_physical(lo + t * (hi - lo))

    @property
    def transform_code(self) -> int:
        """0 uniform, 1 log, 2 signed log (vectorised transforms in scans)."""
        return {"uniform": 0, "log_uniform": 1, "signed_log_uniform": 2}[self.type]

    def as_dict(self) -> dict[str, Any]:
        """Plain-data view (the run-file table of this prior)."""
        if self.is_fixed:
            return {"type": "fixed", "value": self.value}
        d: dict[str, Any] = {"type": self.type, "low": self.low, "high": self.high}
        if self.type == "signed_log_uniform":
            d["scale"] = self.scale
        return d

    def describe(self) -> str:
        """One line, e.g. ``log_uniform on [100, 1e+04] GeV``."""
        unit = PARAMETER_INFO[self.name].units if self.name in PARAMETER_INFO else "1"
        unit = "" if unit == "1" else f" {unit}"
        if self.is_fixed:
            return f"fixed at {self.value:.6g}{unit}"
        extra = f", scale {self.scale:g}" if self.type == "signed_log_uniform" else ""
        return f"{self.type} on [{self.low:.6g}, {self.high:.6g}]{unit}{extra}"


def latent_to_physical(u, priors: Sequence[Prior], xp=jnp):
    """``x(u)`` for latents ``u`` whose last axis runs over ``priors`` (one axis per free prior), vectorised:
    ``u`` (uniform), ``exp(u)`` (log_uniform), ``s sinh(u)`` (signed_log_uniform)."""
    codes = [p.transform_code for p in priors]
    if len(priors) == 1:
        c, s = codes[0], priors[0].scale
        return u if c == 0 else (xp.exp(u) if c == 1 else s * xp.sinh(u))
    code = xp.asarray(codes)
    scale = xp.asarray([p.scale or 1.0 for p in priors], dtype=u.dtype)
    return xp.where(code == 1, xp.exp(u), xp.where(code == 2, scale * xp.sinh(u), u))


def _finite(key, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
        raise SchemaError(key, f"expected a finite number, got {v!r}")
    return float(v)


def make_prior(
    name: str, type: str, low=None, high=None, value=None, scale=None, *, model_parameter: bool = True
) -> Prior:
    """A validated :class:`Prior`: known parameter and type, finite numbers, ``low < high`` inside the
    physical bounds of :data:`PARAMETER_INFO`, positive ``low`` for ``log_uniform``, positive ``scale``.

    ``model_parameter=False`` accepts any name without physical bounds (generic scans of a user's function).
    Raises :class:`SchemaError` with the dotted key (``priors.<name>.<field>``).
    """
    key = f"priors.{name}"
    if model_parameter and name not in PARAMETER_INFO:
        raise SchemaError(key, f"unknown parameter; parameters are {', '.join(PARAMETER_INFO)}")
    if type not in PRIOR_TYPES:
        raise SchemaError(f"{key}.type", f"expected one of {', '.join(map(repr, PRIOR_TYPES))}, got {type!r}")
    info = PARAMETER_INFO.get(name) or ParameterInfo(name, name, "", name, None, None)
    if type == "fixed":
        if value is None:
            raise SchemaError(f"{key}.value", "a fixed prior needs value = <number>")
        v = _finite(f"{key}.value", value)
        if not info.contains(v):
            raise SchemaError(f"{key}.value", f"{v!r} is outside the physical range {info.range_text()} of {name}")
        return Prior(name, "fixed", value=v)
    lo = _finite(f"{key}.low", low)
    hi = _finite(f"{key}.high", high)
    if not lo < hi:
        raise SchemaError(key, f"low ({lo!r}) must be smaller than high ({hi!r})")
    for field, v in (("low", lo), ("high", hi)):
        if not info.contains(v):
            raise SchemaError(
                f"{key}.{field}",
                f"{v!r} is outside the physical range {info.range_text()} of {name} ({info.long_name})",
            )
    if type == "log_uniform" and lo <= 0:
        raise SchemaError(f"{key}.low", f"must be positive for a log_uniform prior, got {lo!r}")
    s = None
    if type == "signed_log_uniform":
        s = DEFAULT_SIGNED_LOG_SCALE if scale is None else _finite(f"{key}.scale", scale)
        if not s > 0:
            raise SchemaError(f"{key}.scale", f"must be positive, got {s!r}")
    elif scale is not None:
        raise SchemaError(f"{key}.scale", f"only allowed with type = 'signed_log_uniform' (type is {type!r})")
    return Prior(name, type, low=lo, high=hi, scale=s)


def _default(name, type, low, high, scale=None):
    return make_prior(name, type, low, high, scale=scale)


#: The prior box: every parameter free over its default range -- log-uniform masses and epsilon,
#: signed-log-uniform Yukawas (both signs, scale 1e-12), flat theta and g_D. m_A' spans the common range of the
#: NA64 2023 (from 1.055 MeV) and BaBar 2017 (to 7.9999 GeV) curves: a curve that ends inside the box is a
#: likelihood cliff that traps NUTS chains. A run-file table that names a prior type without bounds takes them
#: from here (``[priors.y_tau] type = "signed_log_uniform"`` frees y_tau over the box).
PRIOR_BOX: Mapping[str, Prior] = MappingProxyType(
    {
        "M_F": _default("M_F", "log_uniform", 100.0, 1.0e4),
        "m_S1": _default("m_S1", "log_uniform", 10.0, 1.0e4),
        "m_S2": _default("m_S2", "log_uniform", 10.0, 1.0e4),
        "theta": _default("theta", "uniform", 0.0, 0.5 * math.pi),
        **{
            n: _default(n, "signed_log_uniform", -SQRT_4PI, SQRT_4PI, DEFAULT_SIGNED_LOG_SCALE)
            for n in ("y_e", "y_mu", "y_tau", "yp_e", "yp_mu", "yp_tau", *YUKAWA_E_NAMES)
        },
        "g_D": _default("g_D", "uniform", 0.0, SQRT_4PI),
        "alpha_D": _default("alpha_D", "log_uniform", 1.0e-6, 1.0),
        "m_Aprime": _default("m_Aprime", "log_uniform", 1.06e-3, 7.99),
        "epsilon": _default("epsilon", "log_uniform", 1.0e-7, 1.0e-2),
    }
)

#: Parameters of the default (shared-Yukawa) model that :data:`DEFAULT_PRIORS` fixes, with their values: the tau
#: couplings of the reference study's e-mu family (y_tau = y'_tau = 0). Presets with tau terms ("full") need them
#: freed; djax warns when a term cannot act because of them.
DEFAULT_FIXED: Mapping[str, float] = MappingProxyType({"y_tau": 0.0, "yp_tau": 0.0})
#: The same for the parameters of ``yukawa_structure = "separate"``: y'_{E,tau} = 0.
_SEPARATE_FIXED = {"ypE_tau": 0.0}
_ALL_FIXED = {**DEFAULT_FIXED, **_SEPARATE_FIXED}

#: The default priors, the same for the CLI (the embedded run file) and Python (``djax.numpyro_model``,
#: :func:`resolve_priors`): :data:`PRIOR_BOX` with the parameters of :data:`DEFAULT_FIXED` (and ``ypE_tau``)
#: fixed.
DEFAULT_PRIORS: Mapping[str, Prior] = MappingProxyType(
    {n: (make_prior(n, "fixed", value=_ALL_FIXED[n]) if n in _ALL_FIXED else p) for n, p in PRIOR_BOX.items()}
)


def prior_from_table(name: str, table: Mapping[str, Any]) -> Prior:
    """A prior from a run-file table (``type``, ``low``, ``high``, ``value``, ``scale``); missing bounds and type
    fall back to :data:`PRIOR_BOX` (so a table frees a parameter that :data:`DEFAULT_PRIORS` fixes); a table with
    only ``value`` is a fixed prior."""
    key = f"priors.{name}"
    allowed = ("type", "low", "high", "value", "scale")
    for k in table:
        if k not in allowed:
            raise SchemaError(f"{key}.{k}", f"unknown key; allowed keys: {', '.join(allowed)}")
    if name not in PARAMETER_INFO:
        raise SchemaError(key, f"unknown parameter; parameters are {', '.join(PARAMETER_INFO)}")
    d = PRIOR_BOX[name]
    kind = table.get("type", "fixed" if "value" in table else d.type)
    if not isinstance(kind, str):
        raise SchemaError(f"{key}.type", f"expected one of {', '.join(map(repr, PRIOR_TYPES))}, got {kind!r}")
    if kind == "fixed":
        for k in ("low", "high", "scale"):
            if k in table:
                raise SchemaError(f"{key}.{k}", "not allowed for a fixed prior (give only value)")
        return make_prior(name, "fixed", value=table.get("value"))
    if "value" in table:
        raise SchemaError(f"{key}.value", f"only allowed with type = 'fixed' (type is {kind!r})")
    scale = table.get("scale", d.scale if kind == "signed_log_uniform" and d.type == kind else None)
    return make_prior(name, kind, table.get("low", d.low), table.get("high", d.high), scale=scale)


def resolve_priors(
    priors: Any = None, *, dark_coupling: str = "g_D", yukawa_structure: str = "shared"
) -> tuple[Prior, ...]:
    """Priors for all 13 parameters (16 with ``yukawa_structure = "separate"``) in canonical order, the missing
    ones from :data:`DEFAULT_PRIORS` (y_tau, yp_tau and ypE_tau fixed to 0; pass ``PRIOR_BOX`` or tables for them
    to free them).

    ``priors``: None, a sequence of :class:`Prior`, or a mapping ``name -> Prior | number (fixed) |
    (type, low, high[, scale]) | run-file table``. Unknown names raise :class:`SchemaError`, and so does a
    ``ypE_*`` prior with the shared structure.
    """
    names = parameter_names(dark_coupling, yukawa_structure=yukawa_structure)
    given: dict[str, Prior] = {}
    if priors is None:
        items: Sequence[Prior] = ()
    elif isinstance(priors, Mapping):
        items = []
        for n, v in priors.items():
            if priors is PRIOR_BOX and n not in names:
                continue  # the box names both dark couplings and y'_E; the model samples what it has
            if isinstance(v, Prior):
                items.append(v)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                items.append(make_prior(n, "fixed", value=float(v)))
            elif isinstance(v, Mapping):
                items.append(prior_from_table(n, v))
            else:
                kind, lo, hi, *rest = v
                items.append(make_prior(n, kind, lo, hi, scale=rest[0] if rest else None))
    else:
        items = list(priors)
    for p in items:
        if not isinstance(p, Prior):
            raise TypeError(f"priors: expected djax.model.Prior objects, got {type(p).__name__}")
        if p.name not in names:
            other = "alpha_D" if dark_coupling == "g_D" else "g_D"
            if p.name == other:
                raise SchemaError(
                    f"priors.{p.name}",
                    f"model.dark_coupling is {dark_coupling!r}, so the dark "
                    f"coupling parameter is {dark_coupling!r}, not {p.name!r}",
                )
            if p.name in YUKAWA_E_NAMES:
                raise SchemaError(f"priors.{p.name}", shared_yukawa_message(p.name))
            raise SchemaError(f"priors.{p.name}", f"unknown parameter; parameters are {', '.join(names)}")
        given[p.name] = p
    out = tuple(given.get(n, DEFAULT_PRIORS[n]) for n in names)
    if all(p.is_fixed for p in out):
        raise SchemaError("priors", "every parameter is fixed; at least one must be free")
    return out


def free_parameters(priors: Sequence[Prior]) -> tuple[str, ...]:
    return tuple(p.name for p in priors if not p.is_fixed)


def params_from_values(values: Mapping[str, Any], *, Q_F: float = 1.0):
    """Assemble :class:`djax.Params` from the 13 named real values (a dict of scalars or arrays); with the three
    ``ypE_*`` values too (``yukawa_structure = "separate"``) it fills ``yp_E``, else ``yp_E`` is None (shared)."""
    from ._params import Params

    if "g_D" not in values:
        values = dict(values, g_D=jnp.sqrt(4.0 * jnp.pi * values["alpha_D"]))
    given_E = [n for n in YUKAWA_E_NAMES if n in values]
    if given_E and len(given_E) != len(YUKAWA_E_NAMES):
        missing = [n for n in YUKAWA_E_NAMES if n not in values]
        raise SchemaError("priors", f"y'_E needs all of {', '.join(YUKAWA_E_NAMES)}; missing {', '.join(missing)}")
    yp_E = jnp.stack([values[n] for n in YUKAWA_E_NAMES], axis=-1) if given_E else None
    return Params(
        M_F=values["M_F"],
        m_S1=values["m_S1"],
        m_S2=values["m_S2"],
        theta=values["theta"],
        y=jnp.stack([values["y_e"], values["y_mu"], values["y_tau"]], axis=-1),
        yp=jnp.stack([values["yp_e"], values["yp_mu"], values["yp_tau"]], axis=-1),
        g_D=values["g_D"],
        m_Aprime=values["m_Aprime"],
        epsilon=values["epsilon"],
        Q_F=jnp.asarray(Q_F) + 0.0 * jnp.asarray(values["M_F"]),
        yp_E=yp_E,
    )


__all__ = [
    "SQRT_4PI",
    "PERTURBATIVITY_BOUND",
    "PRIOR_TYPES",
    "DEFAULT_SIGNED_LOG_SCALE",
    "DARK_COUPLINGS",
    "YUKAWA_STRUCTURES",
    "YUKAWA_E_NAMES",
    "shared_yukawa_message",
    "SchemaError",
    "ParameterInfo",
    "PARAMETER_INFO",
    "PARAMETER_NAMES",
    "parameter_names",
    "Prior",
    "make_prior",
    "PRIOR_BOX",
    "DEFAULT_FIXED",
    "DEFAULT_PRIORS",
    "prior_from_table",
    "resolve_priors",
    "free_parameters",
    "params_from_values",
    "latent_to_physical",
]
