"""The dark-sector parameter pytree and its validation.

Model (docs/physics.md section 1): a vector-like lepton doublet F = (N, E) of mass ``M_F`` and dark charge ``Q_F``,
two complex dark scalars mixed by the angle ``theta`` into mass eigenstates of masses ``m_S1``, ``m_S2``,
Yukawa vectors ``y`` (A-type, phi_1) and ``yp`` (B-type, phi_2) over (e, mu, tau), the dark gauge coupling
``g_D``, the dark-photon mass ``m_Aprime`` and the kinetic mixing ``epsilon``. Masses in GeV. The optional
``yp_E`` gives the charged member E its own B-type Yukawa (``None``: shared with ``yp``, the default).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._schema import PERTURBATIVITY_BOUND

_SCALAR_FIELDS = ("M_F", "m_S1", "m_S2", "theta", "g_D", "m_Aprime", "epsilon", "Q_F")
_VECTOR_FIELDS = ("y", "yp", "yp_E")
_MASS_FIELDS = ("M_F", "m_S1", "m_S2", "m_Aprime")
_OPTIONAL_FIELDS = ("Q_F", "yp_E")
FIELDS = ("M_F", "m_S1", "m_S2", "theta", "y", "yp", "g_D", "m_Aprime", "epsilon", "Q_F", "yp_E")


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Params:
    """Parameters of the VLL + two-scalar + dark-photon model (a JAX pytree; every field is a leaf).

    Args:
      M_F: vector-like lepton mass M_F [GeV] (N and E degenerate).
      m_S1, m_S2: dark-scalar mass eigenvalues [GeV].
      theta: scalar mixing angle, (phi_1, phi_2)^T = O(theta) (S_1, S_2)^T.
      y: A-type Yukawa vector (y_e, y_mu, y_tau); complex allowed.
      yp: B-type Yukawa vector (y'_e, y'_mu, y'_tau) of phi_2 to N (and to E when ``yp_E`` is None); complex
        allowed.
      g_D: dark gauge coupling (alpha_D = g_D^2 / 4 pi).
      m_Aprime: dark-photon mass [GeV].
      epsilon: kinetic mixing (A' couples to the EM current as epsilon e Q_f).
      Q_F: dark charge of F (the scalars carry -Q_F).
      yp_E: B-type Yukawa vector (y'_{E,e}, y'_{E,mu}, y'_{E,tau}) of phi_2 to the charged member E, or None
        (default): y'_E = y' (the shared structure, docs/physics.md section 1). Charged-lepton observables use
        it, the neutral ones (lambda^D, m_nu) use ``yp``.

    Stacking: ``jax.tree.map(lambda *x: jnp.stack(x), p1, p2, ...)`` gives batched Params that ``jax.vmap``
    maps over (leading axis of every leaf); ``yp_E = None`` is an empty subtree, so stack points that all have
    it None or all have it set.
    """

    M_F: Any
    m_S1: Any
    m_S2: Any
    theta: Any
    y: Any
    yp: Any
    g_D: Any
    m_Aprime: Any
    epsilon: Any
    Q_F: Any = 1.0
    yp_E: Any = None

    @classmethod
    def default(cls) -> Params:
        """The documented benchmark point (the reference study's e-mu family, tau couplings off).

        M_F = 1 TeV, m_S1 = 400 GeV, m_S2 = 700 GeV, theta = pi/4 (maximal mixing),
        y = (4e-4, 8e-4, 0), y' = (8e-4, -4e-4, 0) (misaligned), g_D = 0.3, m_A' = 50 MeV, epsilon = 1e-5,
        Q_F = 1. It lies below the MEG II 2025 bound BR(mu -> e gamma) < 1.5e-13 and below the NA64 2023
        kinetic-mixing curve at 50 MeV.
        """
        return cls(
            M_F=jnp.asarray(1000.0),
            m_S1=jnp.asarray(400.0),
            m_S2=jnp.asarray(700.0),
            theta=jnp.asarray(math.pi / 4),
            y=jnp.asarray([4.0e-4, 8.0e-4, 0.0]),
            yp=jnp.asarray([8.0e-4, -4.0e-4, 0.0]),
            g_D=jnp.asarray(0.3),
            m_Aprime=jnp.asarray(0.05),
            epsilon=jnp.asarray(1.0e-5),
            Q_F=jnp.asarray(1.0),
        )

    @classmethod
    def from_dict(cls, d: dict) -> Params:
        """Build from a mapping; unknown keys raise ``ValueError`` naming them."""
        unknown = sorted(set(d) - set(FIELDS))
        if unknown:
            raise ValueError(f"Params: unknown field(s) {unknown}; allowed fields are {list(FIELDS)}")
        missing = [f for f in FIELDS if f not in d and f not in _OPTIONAL_FIELDS]
        if missing:
            raise ValueError(f"Params: missing field(s) {missing}")
        return cls(**{k: (None if v is None else jnp.asarray(v)) for k, v in d.items()})

    def to_dict(self) -> dict:
        return {f: getattr(self, f) for f in FIELDS}

    def replace(self, **changes) -> Params:
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise ValueError(f"Params.replace: unknown field(s) {unknown}; allowed fields are {list(FIELDS)}")
        return dataclasses.replace(self, **changes)

    @property
    def batch_shape(self) -> tuple:
        return tuple(jnp.shape(self.M_F))

    @property
    def yp_charged(self):
        """The B-type Yukawa vector of the charged member E: ``yp_E``, or ``yp`` when it is None (shared)."""
        return self.yp if self.yp_E is None else self.yp_E


def check_params(p: Params) -> Params:
    """Validate concrete parameter values; raise ``ValueError`` naming the offending field.

    Checks (scalars or batches): every field finite (no NaN/inf, real and imaginary parts); masses
    ``M_F, m_S1, m_S2, m_Aprime`` > 0; ``theta`` real; ``|y_a|, |y'_a| <= sqrt(4 pi)`` and
    ``0 <= g_D <= sqrt(4 pi)`` (perturbativity); ``0 <= epsilon < 1``; ``y``, ``yp`` (and ``yp_E`` unless it is
    None) of shape ``batch + (3,)`` with the same batch shape as the scalar fields. Not traceable: call it on concrete
    inputs at the edges (CLI, configuration, user scripts) before entering jitted code.
    """
    if not isinstance(p, Params):
        raise TypeError(f"check_params expects djax.Params, got {type(p).__name__}")
    vals = {}
    present = tuple(n for n in FIELDS if not (n == "yp_E" and p.yp_E is None))
    for name in present:
        v = getattr(p, name)
        if isinstance(v, jax.core.Tracer):
            raise TypeError(f"check_params: field '{name}' is a tracer; call check_params outside jit/vmap")
        try:
            arr = np.asarray(v)
        except Exception as exc:  # pragma: no cover - exotic inputs
            raise ValueError(f"Params.{name}: cannot be converted to an array ({exc})") from None
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise ValueError(f"Params.{name}: expected numbers, got dtype {arr.dtype}")
        vals[name] = arr
    batch = vals["M_F"].shape
    for name in _SCALAR_FIELDS:
        if vals[name].shape != batch:
            raise ValueError(f"Params.{name}: shape {vals[name].shape} does not match the batch shape {batch} of M_F")
        if np.iscomplexobj(vals[name]):
            if np.any(np.imag(vals[name]) != 0):
                raise ValueError(f"Params.{name}: must be real, got a complex value")
    vectors = tuple(n for n in _VECTOR_FIELDS if n in vals)
    for name in vectors:
        if vals[name].shape != batch + (3,):
            raise ValueError(
                f"Params.{name}: expected shape {batch + (3,)} (one entry per flavour e, mu, tau), "
                f"got {vals[name].shape}"
            )
    for name in present:
        a = vals[name]
        if not np.all(np.isfinite(a)):
            raise ValueError(f"Params.{name}: contains NaN or inf")
    for name in _MASS_FIELDS:
        if np.any(np.real(vals[name]) <= 0):
            raise ValueError(f"Params.{name}: masses must be positive, got min {np.min(np.real(vals[name]))!r}")
    for name in vectors:
        worst = float(np.max(np.abs(vals[name]))) if vals[name].size else 0.0
        if worst > PERTURBATIVITY_BOUND:
            raise ValueError(
                f"Params.{name}: |{name}| = {worst:.6g} exceeds the perturbativity bound sqrt(4 pi) = "
                f"{PERTURBATIVITY_BOUND:.6g}"
            )
    g = np.real(vals["g_D"])
    if np.any(g < 0):
        raise ValueError(f"Params.g_D: must be >= 0, got {float(np.min(g))!r}")
    if np.any(g > PERTURBATIVITY_BOUND):
        raise ValueError(
            f"Params.g_D: {float(np.max(g)):.6g} exceeds the perturbativity bound sqrt(4 pi) = "
            f"{PERTURBATIVITY_BOUND:.6g}"
        )
    eps = np.real(vals["epsilon"])
    if np.any(eps < 0) or np.any(eps >= 1):
        raise ValueError(f"Params.epsilon: kinetic mixing must satisfy 0 <= epsilon < 1, got {eps!r}")
    return p
