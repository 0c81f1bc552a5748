"""Text reports (edge layer): the benchmark-point observables table printed by ``djax run``."""
from __future__ import annotations

import numpy as np

_ROWS = [
    ("br_mu_e_gamma", "BR(mu -> e gamma)", ""),
    ("br_tau_e_gamma", "BR(tau -> e gamma)", ""),
    ("br_tau_mu_gamma", "BR(tau -> mu gamma)", ""),
    ("br_mu_3e", "BR(mu -> 3e) [dipole dominance]", ""),
    ("cr_mu_e_Au", "CR(mu Au -> e Au) [dipole dominance]", ""),
    ("delta_a_e", "Delta a_e", ""),
    ("delta_a_mu", "Delta a_mu", ""),
    ("d_e_ecm", "d_e", "e cm"),
    ("lambda_dark_max_muB", "max |lambda^D_ab|", "mu_B"),
    ("lambda_em_max_muB", "max |epsilon lambda^D_ab|", "mu_B"),
    ("fermion_to_scalar_ratio", "lambda fermion/scalar-radiated ratio", ""),
    ("borexino_mu_equiv_muB", "Borexino-equivalent moment", "mu_B"),
    ("xenonnt_mu_equiv_muB", "XENONnT-equivalent moment", "mu_B"),
    ("m_nu_sum_eV", "sum of |m_nu| (loop)", "eV"),
]


def _fmt(x) -> str:
    x = float(np.real(x))
    return f"{x: .4e}"


def benchmark_table(params=None) -> str:
    """Observables of ``params`` (default: ``Params.default()``) as an aligned text table."""
    from . import precision as _x64
    from .model import Params, check_params
    from .observables import observables

    _x64.enable_x64()
    p = Params.default() if params is None else params
    check_params(p)
    obs = observables(p)
    lines = ["djax benchmark point (Params.default())", ""]
    for f in ("M_F", "m_S1", "m_S2", "theta", "y", "yp", "g_D", "m_Aprime", "epsilon", "Q_F"):
        lines.append(f"  {f:>9} = {np.asarray(getattr(p, f))}")
    lines += ["", f"  {'observable':<40} {'value':>12}  unit", "  " + "-" * 62]
    for key, label, unit in _ROWS:
        if key in obs:
            lines.append(f"  {label:<40} {_fmt(obs[key]):>12}  {unit}")
    lam = np.asarray(obs["lambda_dark_muB"])
    lines += ["", "  lambda^D_ab / mu_B (flavour basis e, mu, tau):"]
    for row in lam:
        lines.append("    " + "  ".join(f"{v.real:+.3e}{v.imag:+.3e}j" for v in row))
    return "\n".join(lines)
