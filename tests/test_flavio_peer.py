"""Peer check against flavio: BR(l_i -> l_j gamma) from the dipole coefficients.

Convention map (checked in the WCxf basis file wet-4.flavio.basis.json): flavio's ``Cgamma_mue`` is the
coefficient of ``(ebar_L σ^{μν} μ_R) F_{μν}`` = our ``C^{eμ}`` (``fbar_j σ P_R f_i`` with j = e, i = μ), and
``Cgamma_emu`` = ``C^{μe}``; flavio's BR_llgamma uses tensor couplings ``gTR = 2 Cgamma_{ji}``,
``gTL = 2 Cgamma_{ij}^*`` in ``GammaFvf``, i.e. ``Γ = m_i^3 (1 - m_j^2/m_i^2)^3 (|C^{ji}|^2 + |C^{ij}|^2)/(4π)``.

The coefficients are handed to flavio at flavio's own renormalisation scale for the decay
(``flavio.config['renormalization scale']['mudecays' / 'taudecays']``), so no running is applied and the two
sides agree to rounding; we use flavio's default masses and lifetimes (``tau_l`` in GeV^-1). A looser 1e-3
would be needed if the coefficients were given at another scale (QED running of the dipole operator
between the scales, ~α/π log).
"""

import math

import jax.numpy as jnp
import pytest

flavio = pytest.importorskip("flavio")
wilson = pytest.importorskip("wilson")

from djax import dipoles as D  # noqa: E402

pytestmark = pytest.mark.peers

_SECTOR = {("mu", "e"): "mue", ("tau", "mu"): "mutau", ("tau", "e"): "taue"}


def _flavio_br(l_i, l_j, C_ji, C_ij):
    scale = flavio.config["renormalization scale"][l_i + "decays"]
    wc = wilson.Wilson(
        {f"Cgamma_{l_i}{l_j}": C_ji, f"Cgamma_{l_j}{l_i}": C_ij}, scale=scale, eft="WET-4", basis="flavio"
    )
    return flavio.np_prediction(f"BR({l_i}->{l_j}gamma)", wc)


@pytest.mark.parametrize(
    "l_i,l_j,C_ji,C_ij",
    [
        ("mu", "e", 1e-13 + 2e-14j, 0.0),
        ("mu", "e", 3e-14, -1e-14 + 5e-15j),
        ("tau", "mu", 2e-10 - 1e-10j, 4e-11j),
        ("tau", "e", 5e-11, 1e-10),
    ],
)
def test_br_formula_matches_flavio(l_i, l_j, C_ji, C_ij):
    par = flavio.default_parameters.get_central_all()
    m_i, m_j = par["m_" + l_i], par["m_" + l_j]
    gamma_i = 1.0 / par["tau_" + l_i]  # flavio lifetimes are in GeV^-1
    ours = float(D.radiative_branching_ratio(C_ji, C_ij, m_i, gamma_i, m_j=m_j))
    ref = _flavio_br(l_i, l_j, C_ji, C_ij)
    assert ours == pytest.approx(ref, rel=1e-10, abs=0)
    # the massless-final-state form (no phase-space factor) differs by (1 - m_j^2/m_i^2)^3
    ours0 = float(D.radiative_branching_ratio(C_ji, C_ij, m_i, gamma_i))
    assert ours0 * (1 - (m_j / m_i) ** 2) ** 3 == pytest.approx(ref, rel=1e-10, abs=0)


def test_engine_to_flavio_mu_e_gamma():
    """End to end: couplings -> C matrix (engine) -> BR, ours vs flavio, and the B = 0 closed form."""
    par = flavio.default_parameters.get_central_all()
    m_mu, m_e = par["m_mu"], par["m_e"]
    e = math.sqrt(4 * math.pi / 137.035999084)
    A = jnp.array([[0.02 + 0.01j, -0.03], [0.05, 0.04 - 0.02j]])
    B = jnp.array([[0.01, 0.02j], [-0.03, 0.01]])
    C = D.dirac_dipole(800.0, jnp.array([400.0, 1500.0]), A, B, -1.0, 0.0, jnp.array([m_e, m_mu]), e).total
    C_emu, C_mue = complex(C[0, 1]), complex(C[1, 0])
    ours = float(D.radiative_branching_ratio(C_emu, C_mue, m_mu, 1.0 / par["tau_mu"], m_j=m_e))
    ref = _flavio_br("mu", "e", C_emu, C_mue)
    assert ours == pytest.approx(ref, rel=1e-10, abs=0)
    assert 1e-12 < ref < 1e-3
