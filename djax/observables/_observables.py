"""``djax.observables``: every observable of one parameter point in one pure function."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .. import constants as C
from .. import loops
from ..model import Params
from ..precision import complex_dtype, require_x64
from . import _constraints as con
from . import _leptonic as lep

#: Observables that are scalars per point (the ones likelihood terms and scans use).
SCALAR_OBSERVABLES = (
    "br_mu_e_gamma",
    "br_tau_e_gamma",
    "br_tau_mu_gamma",
    "br_mu_3e",
    "cr_mu_e_Au",
    "cr_mu_e_Ti",
    "cr_mu_e_Al",
    "delta_a_e",
    "delta_a_mu",
    "delta_a_tau",
    "d_e_ecm",
    "d_mu_ecm",
    "d_tau_ecm",
    "lambda_dark_max_muB",
    "lambda_em_max_muB",
    "fermion_to_scalar_ratio",
    "m_nu_sum_eV",
    "m_nu_max_eV",
    "epsilon",
    "m_Aprime",
    "vll_mass_splitting_GeV",
    "m_E_GeV",
    "epsilon_loop",
    "kinetic_mixing_tuning",
    "kappa_portal",
    "theta_vev_max",
)


def _fermion_to_scalar_ratio(M, m1, m2):
    """[I_F(r1)/m1^2 - I_F(r2)/m2^2] / [I_S(r1)/m1^2 - I_S(r2)/m2^2]; at m1 = m2 the ratio of m-derivatives."""
    d_IF = loops.gim_difference(loops.I_F, M, m1, m2)
    d_IS = loops.gim_difference(loops.I_S, M, m1, m2)
    tangent = jnp.ones_like(m1)
    dF = jax.jvp(lambda m: loops.scaled(loops.I_F, M, m), (m1,), (tangent,))[1]
    dS = jax.jvp(lambda m: loops.scaled(loops.I_S, M, m), (m1,), (tangent,))[1]
    ok = d_IS != 0
    return jnp.where(ok, d_IF / jnp.where(ok, d_IS, 1.0), dF / dS)


def _complex(x):
    """The matrix outputs are complex (catalogue dtype complex128); for real Yukawas the core computes them in
    real arithmetic and only the returned matrix is cast (the scalar observables never see the cast)."""
    return x.astype(complex_dtype(x))


def _core(p: Params, solar: bool, cutoff) -> dict:
    dip = lep.dipole_coefficients(p)
    Cmat = dip["C"]
    out = {"dipole_C_GeV": _complex(Cmat)}
    brs = lep.radiative_branching_ratios(Cmat)
    out.update(brs)
    out["br_mu_3e"] = lep.br_mu_3e_dipole(brs["br_mu_e_gamma"])
    for nucleus in ("Au", "Ti", "Al"):
        out[f"cr_mu_e_{nucleus}"] = lep.cr_mu_e_dipole(brs["br_mu_e_gamma"], nucleus)
    out.update(lep.anomalous_moments(Cmat))

    tm = lep.dark_transition_moment(p)
    lam = tm["total"]
    out["lambda_dark_GeV"] = _complex(lam)
    out["lambda_dark_muB"] = _complex(lam / C.MU_BOHR)
    out["lambda_dark_fermion_muB"] = _complex(tm["fermion"] / C.MU_BOHR)
    out["lambda_dark_scalar_muB"] = _complex(tm["scalar"] / C.MU_BOHR)
    out["lambda_em_muB"] = _complex(p.epsilon * lam / C.MU_BOHR)
    out["lambda_dark_max_muB"] = jnp.max(jnp.abs(lam)) / C.MU_BOHR
    out["lambda_em_max_muB"] = p.epsilon * out["lambda_dark_max_muB"]
    # Ratio of the fermion- to the scalar-radiated part: the flavour structure factors out, so it is the
    # ratio of the GIM differences (independent of flavour indices; well defined also when lambda = 0).
    out["fermion_to_scalar_ratio"] = _fermion_to_scalar_ratio(p.M_F, p.m_S1, p.m_S2)

    mnu = lep.neutrino_mass_matrix(p) * C.GEV_TO_EV
    out["m_nu_eV"] = _complex(mnu)
    out["m_nu_sum_eV"] = lep.trace_norm_rank2(mnu)
    out["m_nu_max_eV"] = jnp.max(jnp.abs(mnu))
    out["epsilon"] = jnp.asarray(p.epsilon)
    out["m_Aprime"] = jnp.asarray(p.m_Aprime)
    # constraints the model implies on itself (docs/physics.md section 7)
    dM = con.vll_mass_splitting(p.M_F)
    out["vll_mass_splitting_GeV"] = dM
    out["m_E_GeV"] = jnp.asarray(p.M_F) + dM
    out["epsilon_loop"] = con.epsilon_loop(p.g_D, p.Q_F, p.M_F, cutoff)
    out["kinetic_mixing_tuning"] = con.kinetic_mixing_tuning(p.g_D, p.Q_F, p.M_F, p.epsilon, cutoff)
    out["kappa_portal"] = con.kappa_portal(p.theta, p.m_S1, p.m_S2)
    out["theta_vev_max"] = con.theta_vev_max(p.m_S1, p.m_S2)
    if solar:
        from . import _solar_link

        out.update(_solar_link.solar_observables(lam, p.epsilon, p.m_Aprime))
    return out


def observables(p: Params, *, solar: bool = True, kinetic_mixing_cutoff=con.KINETIC_MIXING_CUTOFF_GEV) -> dict:
    """All observables of the model at one parameter point (or a batch: leading axes are vmapped).

    Returns a dict of float64 arrays (complex128 for matrices):

    ============================  ==========================================================================
    key                           meaning
    ============================  ==========================================================================
    ``dipole_C_GeV``              C^{ji} (3x3 complex, GeV^-1), flavio WET convention (docs/physics.md section 3)
    ``br_mu_e_gamma`` ...         BR(mu->e gamma), BR(tau->e gamma), BR(tau->mu gamma)
    ``br_mu_3e``                  BR(mu->3e) in dipole dominance
    ``cr_mu_e_{Au,Ti,Al}``        mu->e conversion over capture, dipole dominance (Kitano et al. 2002)
    ``delta_a_{e,mu,tau}``        new-physics contributions to (g-2)/2
    ``d_{e,mu,tau}_ecm``          EDMs in e cm
    ``lambda_dark_GeV``           Majorana dark transition moment lambda^D_ab (3x3 antisymmetric, GeV^-1)
    ``lambda_dark_muB``           the same in Bohr magnetons; ``lambda_dark_{fermion,scalar}_muB`` its parts
    ``lambda_em_muB``             epsilon * lambda^D (EM-like moment for |q^2| >> m_A'^2)
    ``m_nu_eV``                   one-loop Majorana mass matrix (3x3, eV); ``m_nu_sum_eV`` its trace norm
    ``borexino_mu_equiv_muB``     massless-photon moment giving the same Borexino excess (docs/physics.md section 6)
    ``xenonnt_mu_equiv_muB``      same for XENONnT SR0
    ``vll_mass_splitting_GeV``    M_E - M_N from electroweak loops; ``m_E_GeV`` = M_F + that (M_F = M_N)
    ``epsilon_loop``              |epsilon| induced by the E loop up to ``kinetic_mixing_cutoff`` (GeV);
                                  ``kinetic_mixing_tuning`` = epsilon_loop / epsilon
    ``kappa_portal``              Higgs-portal coupling the scalar mixing needs; ``theta_vev_max`` the
                                  largest |theta| a portal coupling 1 induces
    ============================  ==========================================================================

    ``solar=False`` skips the solar-neutrino scattering observables (cheaper; no tables).
    ``kinetic_mixing_cutoff``: the scale Lambda where epsilon vanishes (run file ``model.kinetic_mixing_cutoff``).
    """
    require_x64("djax.observables")
    batch_ndim = jnp.ndim(p.M_F)
    fn = lambda q: _core(q, solar, kinetic_mixing_cutoff)  # noqa: E731
    for _ in range(batch_ndim):
        fn = jax.vmap(fn)
    return fn(p)
