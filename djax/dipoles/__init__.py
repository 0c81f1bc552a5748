r"""Generic one-loop fermion-scalar dipole engine (photon or dark photon), pure JAX.

Field content (any numbers and charges; no loop code needs touching):

    L ⊃ - Σ_k S_k^* Fbar (A_ik P_L + B_ik P_R) f_i + h.c.

``F``: Dirac fermion, mass ``M_F``, charge ``Q_F``; ``S_k``: scalars, masses ``m_S[k]``, charge ``Q_S`` of the
particle annihilated by ``S_k``; ``f_i``: external fermions (``Q_f = Q_F + Q_S``), masses ``m_ext[i]``. Gauge
vertices ``-i g Q γ^μ`` and ``-i g Q (k + k')^μ``. Output convention (flavio WET):
``L_eff = C^{ji} (fbar_j σ^{μν} P_R f_i) F_{μν} + h.c.``.

Leading order in ``m_ext/M``, ``m_ext/m_S`` (:func:`dirac_dipole`; ``r_k = M_F^2 / m_k^2``)::

    C^{ji} = -(g/32π^2) Σ_k { M A*_jk B_ik [Q_F I_F - Q_S I_S](r_k)
                              + (m_i A*_jk A_ik + m_j B*_jk B_ik) [Q_F L_F - Q_S L_S](r_k)/2 } / m_k^2

with ``I_F, I_S, L_F, L_S`` from :mod:`djax.loops`. For a charged lepton (``Q_F = -1``, neutral scalars) this is
docs/physics.md section 3. Observables: ``Δa_l = (4 m_l/e) Re C^{ll}``, ``d_l = -2 Im C^{ll}``,
``BR(l_i -> l_j γ) = m_i^3/(4πΓ_i)(|C^{ji}|^2 + |C^{ij}|^2)``.

Majorana external states (:func:`majorana_transition_moment`): ``λ_ab = 2 (C^{ba} - C^{ab})``
``= g M/(16π^2) Σ_k (A*_ak B_bk - A*_bk B_ak) [Q_F I_F - Q_S I_S](r_k)/m_k^2`` (``Q_F K`` for ``Q_S = -Q_F``);
fermion- and scalar-radiated parts are returned separately (both are non-zero in general).
Neutral Dirac fermions (:func:`dirac_moment`): ``μ + i d = -2 C``.

Full external-mass dependence for the diagonal entry (:func:`dipole_exact`, :func:`g2_exact`,
:func:`edm_exact`): the same diagrams with ``Δ(x) = x M^2 + (1-x) m_S^2 - x(1-x) m^2``, integrated with a
fixed-node tanh-sinh rule (relative accuracy ~1e-15).

Symbol map: ``M_F`` = M, ``m_S`` = (m_k), ``A``/``B`` = A_ik/B_ik (rows: external flavour i, columns: scalar k),
``Q_F``/``Q_S`` = charges in units of ``coupling`` (= e or g_D), ``m_ext`` = (m_i).

References: B. Leveille, Nucl. Phys. B137 (1978) 63; L. Lavoura, Eur. Phys. J. C29 (2003) 191
[hep-ph/0302221]; A. Crivellin, M. Hoferichter, P. Schmidt-Wellenburg, Phys. Rev. D 98 (2018) 113002;
J. Schechter, J.W.F. Valle, Phys. Rev. D 24 (1981) 1883; R.E. Shrock, Nucl. Phys. B206 (1982) 359.
"""

from ._engine import (
    DipoleParts,
    anomalous_moment,
    dirac_dipole,
    dirac_moment,
    electric_dipole_moment,
    majorana_transition_moment,
    radiative_branching_ratio,
)
from ._exact import dipole_exact, edm_exact, exact_integrals, g2_exact

__all__ = [
    "DipoleParts",
    "dirac_dipole",
    "majorana_transition_moment",
    "dirac_moment",
    "anomalous_moment",
    "electric_dipole_moment",
    "radiative_branching_ratio",
    "dipole_exact",
    "exact_integrals",
    "g2_exact",
    "edm_exact",
]
