"""How the certified upper bound of the paper-emu profile depends on the prior box edges (docs/results/).

The optimum sits at the lower mass edges (M_F = 100 GeV, m_S ~ 10-15 GeV) with the Yukawas and g_D at
sqrt(4 pi): this script recomputes the certificate (the upper bound of sup l^T Omega l, no inner solve) for other
M_F and m_S lower edges and other coupling edges, and writes docs/results/hierarchy-box-edges.csv with the ratio
to the default box.

    python scripts/hierarchy_box_edges.py
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    from djax.precision import enable_x64

    enable_x64()
    from djax.inference._certified import CertifiedProfiler, certificate
    from djax.jobs import load_config, prepare

    prep = prepare(load_config(ROOT / "djax" / "data" / "runs" / "hierarchy-paper-emu.toml"), "optimize")
    prof = CertifiedProfiler(prep.spec, prep.priors, n_random=0)
    om = prof.omega("borexino", 0.01)

    def bound(**edges):
        pri = []
        for p in prep.priors:
            if p.name in edges:
                lo, hi = edges[p.name]
                p = dataclasses.replace(p, low=lo if lo is not None else p.low, high=hi if hi is not None else p.high)
            pri.append(p)
        return math.sqrt(certificate(pri, prof.bounds).bound(om)[0])

    ref = bound()
    rows = [("default box", ref)]
    for lo in (200.0, 500.0, 1000.0):
        rows.append((f"M_F >= {lo:g} GeV", bound(M_F=(lo, None))))
    rows.append(("M_F <= 1000 GeV", bound(M_F=(None, 1000.0))))
    for lo in (30.0, 100.0, 300.0):
        rows.append((f"m_S1, m_S2 >= {lo:g} GeV", bound(m_S1=(lo, None), m_S2=(lo, None))))
    rows.append(("m_S1, m_S2 <= 1000 GeV", bound(m_S1=(None, 1000.0), m_S2=(None, 1000.0))))
    for y in (1.0, 0.3):
        rows.append((f"|y|, |y'| <= {y:g}", bound(**{n: (-y, y) for n in ("y_e", "y_mu", "yp_e", "yp_mu")})))
    out = ROOT / "docs" / "results" / "hierarchy-box-edges.csv"
    lines = [
        "# certified upper bound of the paper-emu Borexino-equivalent moment at m_A' = 10 MeV for other prior boxes,",
        "# relative to the default box (masses of the default box: M_F in [100, 1e4] GeV, m_S in [10, 1e4] GeV)",
        "box,upper_over_default",
    ]
    lines += [f"{name},{v / ref:.4g}" for name, v in rows]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
