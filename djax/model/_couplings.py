"""Map from Lagrangian parameters to broken-phase couplings (docs/physics.md section 1).

L ⊃ - Σ_{k=1,2} S_k^* [ Nbar (A_ak P_L + B^N_ak P_R) nu_a + Ebar (A_ak P_L + B^E_ak P_R) l_a ] + h.c.
A_ak = y_a O_1k,  B^N_ak = y'_a O_2k,  B^E_ak = y'_{E,a} O_2k,  O = [[c, s], [-s, c]],  c = cos(theta),
s = sin(theta); y'_E = y' (``Params.yp_E = None``) is the shared default.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from ..precision import complex_dtype
from ._params import Params


class Couplings(NamedTuple):
    """Broken-phase couplings of one parameter point.

    A, B: complex (3, 2) arrays, rows = flavour (e, mu, tau), columns = scalar mass eigenstate k.
    m_S: (2,) scalar masses. M_F: fermion mass. Q_F: dark charge of F (scalars: Q_S = -Q_F).
    """

    A: jnp.ndarray
    B: jnp.ndarray
    m_S: jnp.ndarray
    M_F: jnp.ndarray
    Q_F: jnp.ndarray


def mixing_matrix(theta):
    """O(theta) = [[c, s], [-s, c]] with (phi_1, phi_2)^T = O (S_1, S_2)^T."""
    c, s = jnp.cos(theta), jnp.sin(theta)
    return jnp.array([[c, s], [-s, c]])


#: The members of the VLL doublet F = (N, E) whose couplings :func:`couplings` returns.
MEMBERS = ("N", "E")


def couplings(p: Params, member: str = "E") -> Couplings:
    """A_ak = y_a O_1k, B_ak = y'_a O_2k for one (unbatched) parameter point and one member of F.

    ``member = "E"``: the charged member (external charged leptons), B from ``p.yp_E`` (``p.yp`` when None);
    ``"N"``: the neutral member (external neutrinos), B from ``p.yp``.
    """
    if member not in MEMBERS:
        raise ValueError(f"couplings: member must be one of {MEMBERS}, got {member!r}")
    O = mixing_matrix(p.theta)
    y = jnp.asarray(p.y)
    yp = jnp.asarray(p.yp_charged if member == "E" else p.yp)
    A = y[:, None] * O[0][None, :]
    B = yp[:, None] * O[1][None, :]
    return Couplings(
        A=A.astype(complex_dtype(A)),
        B=B.astype(complex_dtype(B)),
        m_S=jnp.stack([jnp.asarray(p.m_S1), jnp.asarray(p.m_S2)]),
        M_F=jnp.asarray(p.M_F),
        Q_F=jnp.asarray(p.Q_F),
    )
