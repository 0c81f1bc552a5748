"""Map from Lagrangian parameters to broken-phase couplings (docs/physics.md section 1).

L ⊃ - Σ_{k=1,2} S_k^* [ Nbar (A_ak P_L + B_ak P_R) nu_a + Ebar (A_ak P_L + B_ak P_R) l_a ] + h.c.
A_ak = y_a O_1k,  B_ak = y'_a O_2k,  O = [[c, s], [-s, c]],  c = cos(theta), s = sin(theta).
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


def couplings(p: Params) -> Couplings:
    """A_ak = y_a O_1k, B_ak = y'_a O_2k for one (unbatched) parameter point."""
    O = mixing_matrix(p.theta)
    y = jnp.asarray(p.y)
    yp = jnp.asarray(p.yp)
    A = y[:, None] * O[0][None, :]
    B = yp[:, None] * O[1][None, :]
    return Couplings(
        A=A.astype(complex_dtype(A)),
        B=B.astype(complex_dtype(B)),
        m_S=jnp.stack([jnp.asarray(p.m_S1), jnp.asarray(p.m_S2)]),
        M_F=jnp.asarray(p.M_F),
        Q_F=jnp.asarray(p.Q_F),
    )
