"""Dark-photon decays (djax.observables._dark_photon), DarkCast limit files (djax.io._darkcast) and the
visible-search kinetic-mixing terms (djax.likelihood._visible)."""

import hashlib
import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from djax import constants as C
from djax.io import _darkcast as DC
from djax.io._limits import LimitFileError, data_dir
from djax.likelihood import _visible as V
from djax.likelihood._forms import HALF_GAUSSIAN, POISSON_ZERO_COUNT
from djax.observables import _dark_photon as D

LN01 = math.log(0.1)
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "limits" / "darkcast"
PKG = data_dir() / "darkcast"
REGISTRY = DC.load_visible_registry()
SHIPPED_LMT = sorted(p.name for p in PKG.glob("*.lmt"))


# =================================================================================== decays: hand computations
def _gamma_ll(m, eps, ml):
    if m <= 2 * ml:
        return 0.0
    r = ml * ml / (m * m)
    return eps * eps * C.ALPHA_EM * m / 3.0 * (1 + 2 * r) * math.sqrt(1 - 4 * r)


def _r_hand(E):
    """R(s = E^2) coded independently from the docstring (complex arithmetic, plain Python)."""
    s = E * E
    mpi = D.M_PI
    a2 = C.ALPHA_EM**2

    def gs(M, G):
        def k(x):
            return 0.5 * math.sqrt(x - 4 * mpi * mpi)

        def h(x):
            return 2 / math.pi * k(x) / math.sqrt(x) * math.log((math.sqrt(x) + 2 * k(x)) / (2 * mpi))

        kM = k(M * M)
        dh = (h(M * M + 1e-6) - h(M * M - 1e-6)) / 2e-6  # numerical h'(M^2)
        d = (
            3 / math.pi * mpi**2 / kM**2 * math.log((M + 2 * kM) / (2 * mpi))
            + M / (2 * math.pi * kM)
            - mpi**2 * M / (math.pi * kM**3)
        )
        f = G * M * M / kM**3 * (k(s) ** 2 * (h(s) - h(M * M)) + (M * M - s) * kM**2 * dh)
        Gs = G * M / math.sqrt(s) * (k(s) / kM) ** 3
        return M * M * (1 + d * G / M) / (M * M - s + f - 1j * M * Gs)

    R = 0.0
    if s > 4 * mpi * mpi:
        F = (gs(D.M_RHO, D.G_RHO) + D.BETA_RHO1 * gs(D.M_RHO1, D.G_RHO1)) / (1 + D.BETA_RHO1)
        R += 0.25 * (1 - 4 * mpi * mpi / s) ** 1.5 * abs(F) ** 2
    for _, M, G, Gee, chans in D.RESONANCES:
        acc = 0.0
        for B, mth in chans:
            mth = max(mth, 2 * mpi)
            if s > mth * mth:
                acc += B * ((1 - mth**2 / s) / (1 - mth**2 / M**2)) ** 1.5
        R += 9 * s * Gee * G * acc / (a2 * ((s - M * M) ** 2 + (M * G) ** 2))

    def step(x, a, b):
        t = min(max((x - a) / (b - a), 0.0), 1.0)
        return 6 * t**5 - 15 * t**4 + 10 * t**3

    q = max(E, 1.0)
    als = 1 / (1 / D.ALPHA_S_MTAU + 9 / (4 * math.pi) * math.log(q * q / C.M_TAU**2))
    R += (1 + als / math.pi) * (
        2 * step(E, 1.05, 1.5) + 4 / 3 * step(E, 2 * D.M_D0, 4.2) + 1 / 3 * step(E, 2 * D.M_B, 11.0)
    )
    return R


def test_hand_computation_100_MeV():
    br = D.dark_photon_branching_ratios(0.1)
    assert float(br["ee"]) == 1.0 and float(br["mumu"]) == 0.0 and float(br["hadrons"]) == 0.0
    w = D.dark_photon_widths(0.1, 1e-3)
    hand = _gamma_ll(0.1, 1e-3, C.M_E)
    assert float(w["ee"]) == pytest.approx(hand, rel=1e-13)
    assert float(w["ctau_cm"]) == pytest.approx(C.HBARC_GEV_CM / hand, rel=1e-13)
    assert float(w["tau_s"]) == pytest.approx(C.HBAR_GEV_S / hand, rel=1e-13)


def test_hand_computation_250_MeV():
    """Between the dimuon (211 MeV) and two-pion (279 MeV) thresholds: only e+e- and mu+mu-."""
    m = 0.25
    ee, mm = _gamma_ll(m, 1.0, C.M_E), _gamma_ll(m, 1.0, C.M_MU)
    br = D.dark_photon_branching_ratios(m)
    assert float(br["ee"]) == pytest.approx(ee / (ee + mm), rel=1e-12)
    assert float(br["mumu"]) == pytest.approx(mm / (ee + mm), rel=1e-12)
    assert float(br["hadrons"]) == 0.0
    assert float(br["ee"]) == pytest.approx(0.5796, abs=1e-4)


def test_hand_computation_1500_MeV():
    m = 1.5
    ee, mm = _gamma_ll(m, 1.0, C.M_E), _gamma_ll(m, 1.0, C.M_MU)
    R = _r_hand(m)
    assert float(D.r_ratio(m * m)) == pytest.approx(R, rel=1e-8)
    had = mm * R
    tot = ee + mm + had
    br = D.dark_photon_branching_ratios(m)
    for key, val in (("ee", ee), ("mumu", mm), ("hadrons", had)):
        assert float(br[key]) == pytest.approx(val / tot, rel=1e-8)
    assert 1.8 < R < 2.8  # e+e- data: R(1.5 GeV) ~ 2.2


@pytest.mark.parametrize("E", [0.3, 0.5, 0.77526, 0.78266, 0.9, 1.019461, 1.2, 2.0, 3.0969, 3.686097, 5.0, 9.4604])
def test_r_ratio_matches_hand_code(E):
    assert float(D.r_ratio(E * E)) == pytest.approx(_r_hand(E), rel=1e-7)


@pytest.mark.parametrize(
    "E, lo, hi",
    [
        (0.7753, 10.0, 15.0),  # rho peak with omega interference region, R ~ 12 (sigma_pipi ~ 1300 nb)
        (0.78266, 17.0, 25.0),  # omega peak: 3pi + pi0 gamma ~ 12.4 on top of pi pi ~ 9
        (1.019461, 45.0, 56.0),  # phi peak: KK + 3pi, sigma ~ 4.1 ub -> R ~ 49
        (2.5, 2.05, 2.35),  # BES / KEDR: R ~ 2.2
        (3.3, 2.05, 2.35),
        (5.0, 3.4, 3.8),  # R ~ 3.6
        (7.0, 3.35, 3.75),
    ],
)
def test_r_ratio_against_data_scale(E, lo, hi):
    assert lo < float(D.r_ratio(E * E)) < hi


def test_pion_form_factor_peak_and_sum_rules():
    re, im = D.pion_form_factor(D.M_RHO**2)
    assert 40.0 < float(re * re + im * im) < 50.0  # |F_pi|^2 ~ 45 at the rho peak (e+e- data)
    # the GS closed form of h'(M^2) equals the derivative
    m = D.M_PI

    def h(s):
        w = jnp.sqrt(s)
        k = 0.5 * jnp.sqrt(s - 4 * m * m)
        return 2 / math.pi * k / w * jnp.log((w + 2 * k) / (2 * m))

    for M in (D.M_RHO, D.M_RHO1):
        assert D._gs_constants(M, 0.1)[2] == pytest.approx(float(jax.grad(h)(M * M)), rel=1e-12)
    # narrow-resonance sum rule: int R_V ds = 9 pi M Gamma_ee B_h / alpha^2 (J/psi, constant width)
    name, M, G, Gee, ch = D.RESONANCES[2]
    s = np.linspace((M - 400 * G) ** 2, (M + 400 * G) ** 2, 400001)
    Rv = np.asarray(D._r_resonance(jnp.asarray(s), M, G, Gee, ch))
    integral = np.trapezoid(Rv, s)
    assert integral == pytest.approx(9 * math.pi * M * Gee * ch[0][0] / C.ALPHA_EM**2, rel=3e-3)


def test_pdg_2024_masses_and_widths():
    pytest.importorskip("particle")
    from importlib.resources import files

    import particle.data

    table = {}
    for ln in files(particle.data).joinpath("mass_width_2024.mcd").read_text().splitlines():
        if ln.startswith("*") or not ln.strip():
            continue
        toks = ln.split()
        ids = []
        while toks and toks[0].isdigit():
            ids.append(int(toks.pop(0)))
        try:
            mass = float(toks[0])
        except (IndexError, ValueError):
            continue
        try:
            width = float(toks[3])
        except (IndexError, ValueError):
            width = None
        for pid in ids:
            table[pid] = (mass, width)
    checks = {
        211: (D.M_PI, None),
        111: (D.M_PI0, None),
        321: (D.M_K, None),
        311: (D.M_K0, None),
        221: (D.M_ETA, None),
        421: (D.M_D0, None),
        521: (D.M_B, None),
        113: (D.M_RHO, D.G_RHO),
        100113: (D.M_RHO1, D.G_RHO1),
    }
    for name, M, G, _, _ in D.RESONANCES:
        pid = {"omega": 223, "phi": 333, "J/psi": 443, "psi(2S)": 100443, "Upsilon(1S)": 553, "Upsilon(2S)": 100553}[
            name
        ]
        checks[pid] = (M, G)
    for pid, (M, G) in checks.items():
        assert table[pid][0] == pytest.approx(M, rel=1e-9), pid
        if G is not None:
            assert table[pid][1] == pytest.approx(G, rel=1e-9), pid


# =================================================================================== decays: general properties
MASSES = np.concatenate([np.geomspace(1e-3, 8.0, 997), [D.M_RHO, 0.78266, 1.019461, 3.0969, 3.686097]])


@pytest.mark.parametrize(
    "mode,binv", [("visible", None), ("invisible", None), ("mixed", 0.0), ("mixed", 0.37), ("mixed", 1.0)]
)
def test_branching_ratios_sum_to_one(mode, binv):
    br = jax.jit(jax.vmap(lambda m: D.dark_photon_branching_ratios(m, mode, binv)))(jnp.asarray(MASSES))
    total = sum(br[c] for c in D.CHANNELS)
    np.testing.assert_allclose(np.asarray(total), 1.0, atol=1e-13)
    np.testing.assert_allclose(np.asarray(br["visible"] + br["invisible"]), 1.0, atol=1e-13)
    for c in D.CHANNELS:
        assert np.all(np.asarray(br[c]) >= 0.0)
    if mode == "invisible":
        assert np.all(np.asarray(br["invisible"]) == 1.0)


def test_mixed_mode_shares_visible_ratios():
    m = jnp.asarray(MASSES)
    vis = D.dark_photon_branching_ratios(m, "visible")
    mix = D.dark_photon_branching_ratios(m, "mixed", br_invisible=0.25)
    for c in D.VISIBLE_CHANNELS:
        np.testing.assert_allclose(np.asarray(mix[c]), 0.75 * np.asarray(vis[c]), rtol=1e-14, atol=1e-300)
    with pytest.raises(ValueError, match="br_invisible"):
        D.dark_photon_branching_ratios(0.1, "mixed")
    with pytest.raises(ValueError, match="mode"):
        D.dark_photon_branching_ratios(0.1, "dark")


def test_widths_scale_and_invisible_width():
    w1 = D.dark_photon_widths(0.6, 1e-3)
    w2 = D.dark_photon_widths(0.6, 2e-3, gamma_invisible=1e-9)
    for c in D.VISIBLE_CHANNELS:
        assert float(w2[c]) == pytest.approx(4 * float(w1[c]), rel=1e-14)
    assert float(w2["total"]) == pytest.approx(float(w2["visible"]) + 1e-9, rel=1e-14)
    br = D.branching_ratios_from_widths(w2)
    assert float(br["invisible"]) == pytest.approx(1e-9 / float(w2["total"]), rel=1e-13)
    assert float(D.dark_photon_ctau_cm(0.6, 2e-3, br_invisible=0.5)) == pytest.approx(
        0.5 * float(D.dark_photon_ctau_cm(0.6, 2e-3)), rel=1e-13
    )
    # below 2 m_e nothing is open: continuation BR_ee = 1, infinite lifetime, no NaN
    w0 = D.dark_photon_widths(1.0e-3, 1e-3)
    assert float(w0["total"]) == 0.0 and math.isinf(float(w0["ctau_cm"]))
    assert float(D.dark_photon_branching_ratios(1.0e-3)["ee"]) == 1.0


THRESHOLDS = [
    2 * C.M_E,
    2 * C.M_MU,
    2 * D.M_PI,
    2 * D.M_PI + D.M_PI0,
    2 * D.M_K,
    2 * D.M_K0,
    1.05,
    1.5,
    2 * C.M_TAU,
    2 * D.M_D0,
    4.2,
]


@pytest.mark.parametrize("mth", THRESHOLDS)
def test_branching_ratios_continuous_across_thresholds(mth):
    lo = D.dark_photon_branching_ratios(mth * (1 - 1e-10))
    hi = D.dark_photon_branching_ratios(mth * (1 + 1e-10))
    for c in D.VISIBLE_CHANNELS:
        assert abs(float(hi[c]) - float(lo[c])) < 1e-4, c
    R_lo, R_hi = float(D.r_ratio((mth * (1 - 1e-10)) ** 2)), float(D.r_ratio((mth * (1 + 1e-10)) ** 2))
    assert abs(R_hi - R_lo) < 1e-4 * max(1.0, R_lo)


def test_branching_ratios_smooth_away_from_narrow_resonances():
    m = np.geomspace(2.2 * C.M_MU, 2.9, 20001)
    br = jax.vmap(D.dark_photon_branching_ratios)(jnp.asarray(m))
    for c in D.VISIBLE_CHANNELS:
        step = np.abs(np.diff(np.asarray(br[c])))
        # the narrowest feature on this range is the phi (Gamma/M = 4e-3); 20001 log steps of 1.3e-4
        assert step.max() < 0.03, c
    assert np.all(np.asarray(D.r_ratio(jnp.asarray(np.linspace(0.0, 4 * D.M_PI**2, 101)))) == 0.0)


@pytest.mark.parametrize("m", [0.05, 0.15, 0.25, 0.5, 0.7, 0.85, 1.3, 2.5, 3.4, 4.0, 6.0])
def test_check_grads_widths(m):
    def f(x):  # x = (m, eps / 1e-3, Gamma_inv / 1e-9): O(1) variables for the finite differences
        w = D.dark_photon_widths(x[0], 1e-3 * x[1], 1e-9 * x[2])
        return jnp.stack([w["ee"], w["mumu"], w["tautau"], w["hadrons"], w["total"]]) * 1e6

    check_grads(f, (jnp.array([m, 1.0, 1.0]),), order=2, modes=("fwd", "rev"), atol=1e-5, rtol=1e-5)

    def g(mm):
        br = D.dark_photon_branching_ratios(mm, "mixed", 0.3)
        return jnp.stack([br[c] for c in D.CHANNELS])

    check_grads(g, (jnp.asarray(m),), order=1, modes=("fwd", "rev"), atol=1e-5, rtol=1e-5)


def test_width_gradients_finite_everywhere():
    m = jnp.asarray(np.concatenate([MASSES, THRESHOLDS, [0.0, -1.0]]))
    gm = jax.vmap(jax.grad(lambda x: D.dark_photon_widths(x, 1e-3)["total"]))(m)
    assert np.all(np.isfinite(np.asarray(gm)))
    gb = jax.vmap(
        jax.grad(lambda x: sum(D.dark_photon_branching_ratios(x, "mixed", 0.2)[c] for c in ("ee", "hadrons")))
    )(m)
    assert np.all(np.isfinite(np.asarray(gb)))


# =================================================================================== DarkCast files
def test_metadata_parsed_as_text():
    e137 = DC.parse_darkcast_meta(PKG / "E137_Andreas2012mt.py")
    assert e137.search == "displaced" and e137.lratio == pytest.approx(204.0 / 179.0)
    assert e137.decay == ("e_e",) and e137.production == "e_brem" and e137.bounds_class == "Datasets"
    assert e137.arxiv == "1209.6083" and "Andreas" in e137.bibtex and "displaced" in e137.notes
    assert e137.bibtex_fields["key"] == "Andreas:2012mt" and "GPL" in " ".join(e137.header)
    babar = DC.parse_darkcast_meta(PKG / "BaBar_Lees2014xha.py")
    assert babar.search == "prompt" and babar.t0 == 0.0 and math.isinf(babar.t1)
    assert babar.decay == ("e_e", "mu_mu")
    kloe = DC.parse_darkcast_meta(PKG / "KLOE_Babusci2012cr.py")
    assert kloe.states == ("e_e", "mu_mu") and kloe.t0 == 0.0 and kloe.t1 is None
    assert "lambda m" in kloe.efficiency["t1"]
    cms = DC.parse_darkcast_meta(PKG / "CMS_CMS2019kiy.py")
    assert cms.efficiency["t1"] == "function t1" and cms.production == "dataset:CMS_CMS2019kiy.prd"
    lhcb = DC.parse_darkcast_meta(PKG / "LHCb_Aaij2019bvg_displaced.py")
    assert lhcb.rvals and lhcb.search == "displaced"


@pytest.mark.parametrize("name", [p.name for p in sorted(PKG.glob("*.py"))])
def test_every_shipped_metadata_parses(name):
    meta = DC.parse_darkcast_meta(PKG / name)
    assert meta.model == "dark_photon" and meta.search in ("prompt", "displaced") and meta.bibtex_fields.get("key")


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_lmt_errors_carry_path_line_key(tmp_path):
    cases = [
        ("#  mass lower\n 1e-2 1e-3\n 2e-2 1e-3 5e-3\n", 3, "row"),
        ("#  mass lower\n 1e-2 abc\n 2e-2 1e-3\n", 2, "lower"),
        (" 1e-2 1e-3\n 2e-2 1e-3\n", 1, "header"),
        ("#  mass lower upper\n 1e-2 1e-3 -1\n 2e-2 1e-3 1e-2\n", 2, "upper"),
        ("#  mass lower\n 1e-2 1e-3\n", None, "rows"),
    ]
    for k, (text, line, key) in enumerate(cases):
        p = _write(tmp_path, f"bad{k}.lmt", text)
        with pytest.raises(DC.DarkCastFileError) as ei:
            DC.read_lmt(p)
        e = ei.value
        assert isinstance(e, ValueError) and isinstance(e, LimitFileError)
        assert (e.path, e.line, e.key) == (str(p), line, key), (k, str(e))
        assert e.message and str(p) in str(e)


def test_meta_errors_carry_path_line_key(tmp_path):
    good = (PKG / "E141_Riordan1987aw.py").read_text()
    p = _write(tmp_path, "nodecay.py", good.replace('decay = "e_e"', ""))
    with pytest.raises(DC.DarkCastFileError) as ei:
        DC.parse_darkcast_meta(p)
    assert ei.value.key == "decay" and ei.value.path == str(p)
    p = _write(
        tmp_path,
        "unbalanced.py",
        good.replace('production = darkcast.Production("e_brem")', 'production = darkcast.Production("e_brem"'),
    )
    with pytest.raises(DC.DarkCastFileError) as ei:
        DC.parse_darkcast_meta(p)
    assert (
        ei.value.key == "syntax"
        and ei.value.line == good.splitlines().index('production = darkcast.Production("e_brem")') + 1
    )
    p = _write(tmp_path, "badeff.py", good.replace("lratio = 35.0/0.12", "lratio = L/0.12"))
    with pytest.raises(DC.DarkCastFileError) as ei:
        DC.parse_darkcast_meta(p)
    assert ei.value.key == "lratio" and ei.value.line is not None
    # never imported: a metadata file whose code would raise on import parses fine
    p = _write(tmp_path, "E141_copy.py", good.replace("import darkcast", "import darkcast_that_does_not_exist"))
    assert DC.parse_darkcast_meta(p).lratio == pytest.approx(35.0 / 0.12)


def test_cleaning_rules(tmp_path):
    p = _write(tmp_path, "x.lmt", "#  mass lower\n 0 1e-3\n 2e-2 1e5\n 1e-2 2e-3\n 3e-2 1e-3\n 3e-2 4e-3\n 4e-2 1e-3\n")
    lim = DC.load_darkcast_limit(p)
    assert [r[0] for r in lim.removed["nonpositive_mass"]] == [2]
    assert [r[0] for r in lim.removed["duplicate"]] == [5]  # last row of a mass wins (DarkCast Dataset)
    np.testing.assert_array_equal(lim.m, [1e-2, 2e-2, 3e-2, 4e-2])
    np.testing.assert_array_equal(lim.eps_lo, [2e-3, DC.GMAX, 4e-3, 1e-3])
    assert lim.no_limit == (3,) and lim.reordered == 2
    p = _write(tmp_path, "y.lmt", "#  mass lower upper\n 1e-2 1e-7 1e-4\n 2e-2 2e-7 1e-7\n 3e-2 1e-7 1e-5\n")
    lim = DC.load_darkcast_limit(p)
    assert [r[0] for r in lim.removed["empty_island"]] == [3] and lim.two_sided


@pytest.mark.skipif(not SHARED.exists(), reason="shared DarkCast folder not present")
@pytest.mark.parametrize(
    "name", [n for n in SHIPPED_LMT if "island" not in n] + [p.name for p in sorted(PKG.glob("*.py"))]
)
def test_shipped_files_identical_to_shared(name):
    assert (PKG / name).read_bytes() == (SHARED / name).read_bytes()


@pytest.mark.skipif(not SHARED.exists(), reason="shared DarkCast folder not present")
def test_lhcb_islands_rederived():
    src = SHARED / "LHCb_Aaij2019bvg_displaced.lmt"
    islands = DC.rvalue_islands(DC.read_lmt(src))
    assert len(islands) == 2
    for k, (m, lo, hi) in enumerate(islands, start=1):
        lim = DC.load_darkcast_limit(PKG / f"LHCb_Aaij2019bvg_displaced_island{k}.lmt")
        assert lim.provenance["source_sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
        np.testing.assert_allclose(lim.m, m, rtol=1e-6)
        np.testing.assert_allclose(lim.eps_lo, lo, rtol=1e-6)
        np.testing.assert_allclose(lim.eps_hi, hi, rtol=1e-6)
        assert lim.meta.name == "LHCb_Aaij2019bvg_displaced" and lim.search == "displaced"


def test_licence_and_readme_shipped():
    assert "GNU GENERAL PUBLIC LICENSE" in (data_dir() / "LICENSE-GPL-2.0-darkcast.txt").read_text()
    readme = (PKG / "README.md").read_text()
    for name in SHIPPED_LMT:
        assert name in readme, name


# =================================================================================== registry entries
def test_registry_covers_every_shipped_file():
    files = {Path(e.limit.path).name for e in REGISTRY.values()}
    assert files == set(SHIPPED_LMT)
    visible = [i for i, e in REGISTRY.items() if "visible" in e.tags]
    assert len(visible) == 22
    for e in REGISTRY.values():
        assert e.status in ("verified", "derived") and e.cl == 0.9 and e.experiment and e.year
        assert e.two_sided == (e.search == "displaced")
        assert set(e.tags) <= {"visible", "option"} and len(e.tags) == 1
    assert REGISTRY["kloe2012_phieta"].ref_states == ("ee", "mumu")


def test_registry_errors(tmp_path):
    text = (data_dir() / "registry.toml").read_text().replace('file = "darkcast/', f'file = "{PKG}/')
    p = _write(tmp_path, "reg.toml", text.replace('channel = "mu_mu"', 'channel = "e_e"', 1))
    with pytest.raises(DC.DarkCastFileError) as ei:
        DC.load_visible_registry(p)
    assert ei.value.key == "channel" and ei.value.line is not None
    p = _write(tmp_path, "reg2.toml", text.replace('sha256 = "5b', 'sha256 = "00', 1))
    with pytest.raises(DC.DarkCastFileError, match="checksum"):
        DC.load_visible_registry(p)
    p = _write(tmp_path, "reg3.toml", text.replace("two_sided = false", "two_sided = true", 1))
    with pytest.raises(DC.DarkCastFileError) as ei:
        DC.load_visible_registry(p)
    assert ei.value.key == "two_sided"


# =================================================================================== visible terms
def _interior_knots(lim, n=8):
    ok = np.ones(lim.m.size, dtype=bool)
    ok[[0, -1]] = False
    nl = np.isin(lim.lines, lim.no_limit)
    ok &= ~nl
    idx = np.where(ok)[0]
    return idx[np.linspace(0, idx.size - 1, min(n, idx.size)).astype(int)]


def _midpoints(lim, n=6):
    """Log-midpoints of segments whose two knots are real limits."""
    nl = np.isin(lim.lines, lim.no_limit)
    seg = np.where(~nl[:-1] & ~nl[1:])[0]
    seg = seg[np.linspace(0, seg.size - 1, min(n, seg.size)).astype(int)]
    lm = 0.5 * (np.log(lim.m[seg]) + np.log(lim.m[seg + 1]))
    return (
        np.exp(lm),
        np.exp(np.interp(lm, np.log(lim.m), np.log(lim.eps_lo))),
        (None if lim.eps_hi is None else np.exp(np.interp(lm, np.log(lim.m), np.log(lim.eps_hi)))),
    )


@pytest.mark.parametrize("eid", list(REGISTRY))
def test_each_limit_reproduces_its_boundary(eid):
    e = REGISTRY[eid]
    lim, table = e.limit, e.limit.table()
    f = jax.jit(lambda eps, m: V.visible_loglike(eps, m, table, two_sided=e.two_sided))
    idx = _interior_knots(lim)
    assert idx.size >= 3
    mids = _midpoints(lim)
    for m, lo, hi in [(lim.m[i], lim.eps_lo[i], None if lim.eps_hi is None else lim.eps_hi[i]) for i in idx] + list(
        zip(mids[0], mids[1], [None] * len(mids[0]) if mids[2] is None else mids[2])
    ):
        assert float(f(lo, m)) == pytest.approx(LN01, abs=1e-6), (m, lo)
        if e.two_sided:
            assert float(f(hi, m)) == pytest.approx(LN01, abs=1e-6), (m, hi)
            g = math.sqrt(lo * hi)
            assert float(f(g, m)) < LN01  # excluded between the edges
            assert LN01 < float(f(lo * 0.9, m)) < 0 and LN01 < float(f(hi * 1.1, m)) < 0
            assert float(f(lo * 1e-3, m)) > -1e-9 and float(f(hi * 30, m)) > -1e-9
        else:
            assert float(f(1.1 * lo, m)) < LN01 < float(f(0.9 * lo, m)) < 0
    # outside the mass range: no contribution
    assert float(f(1e-2, lim.m[0] * 0.99)) == 0.0 and float(f(1e-2, lim.m[-1] * 1.01)) == 0.0


@pytest.mark.parametrize("eid", [i for i, e in REGISTRY.items() if e.ref_states is None])
def test_stacked_terms_visible_mode_reproduce_boundaries(eid):
    """Through the stacked VisibleTerms and channel_ratios (mode "visible", r = rho = 1)."""
    terms, ids = DC.compile_visible_terms(REGISTRY, ids=[eid, "e137_andreas2012", "babar2014_visible"])
    lim = REGISTRY[eid].limit
    for i in _interior_knots(lim, 4):
        ll = V.visible_terms_loglike(lim.eps_lo[i], lim.m[i], terms, 0.0)
        assert float(ll[0]) == pytest.approx(LN01, abs=1e-6)
        if lim.two_sided:
            ll = V.visible_terms_loglike(lim.eps_hi[i], lim.m[i], terms, 0.0)
            assert float(ll[0]) == pytest.approx(LN01, abs=1e-6)


def test_restricted_reference_model_rescaling():
    e = REGISTRY["kloe2012_phieta"]
    terms, _ = DC.compile_visible_terms(REGISTRY, ids=["kloe2012_phieta"])
    lim = e.limit
    for m, lo in zip(lim.m[::60], lim.eps_lo[::60]):
        w = D.dark_photon_widths(m, 1.0)
        r = (float(w["ee"]) + float(w["mumu"])) / float(w["visible"])
        ll = float(V.visible_terms_loglike(lo, m, terms, 0.0)[0])
        assert ll == pytest.approx(LN01 * r, rel=1e-10)
        assert (r == 1.0) == (m < 2 * D.M_PI)


def test_modes_and_mixed_rescaling():
    terms, ids = DC.compile_visible_terms(REGISTRY, ids=["babar2014_visible", "e137_andreas2012"])
    babar, e137 = REGISTRY["babar2014_visible"].limit, REGISTRY["e137_andreas2012"].limit
    m, eps = babar.m[2000], babar.eps_lo[2000]
    assert float(V.visible_terms_loglike(eps, m, terms, 0.4)[0]) == pytest.approx(0.6 * LN01, rel=1e-12)
    k = 80
    m, lo, hi = e137.m[k], e137.eps_lo[k], e137.eps_hi[k]
    # invisible mode: every visible term vanishes
    for x in (lo, hi, math.sqrt(lo * hi)):
        assert np.all(np.asarray(V.visible_terms_loglike(x, m, terms, 1.0)) == 0.0)
    # mixed: the lower (long-lived) edge is nearly kept, the upper edge moves down
    ll = lambda x, b: float(V.visible_terms_loglike(x, m, terms, b)[1])  # noqa: E731
    b = 0.5
    kappa = 2 * math.log((hi / lo) ** 2) / ((hi / lo) ** 2 - 1)
    assert ll(lo, b) == pytest.approx(LN01 * math.exp(-kappa * (2.0 - 1.0)), rel=1e-10)
    assert ll(hi, b) > 0.5 * LN01  # no longer excluded at the old upper edge
    from scipy.optimize import brentq

    new_hi = brentq(lambda x: ll(x, b) - LN01, math.sqrt(lo * hi), hi)
    assert new_hi < hi


def test_two_sided_construction_identities():
    table = V.make_visible_table([1e-2, 2e-2], [1e-7, 2e-7], [1e-4, 5e-5])
    for m in (1e-2, 1.3e-2, 2e-2):
        llo, lhi, inside = V.visible_boundaries(m, table)
        assert bool(inside)
        x_lo = V.displaced_yield(jnp.exp(llo), m, table)
        x_hi = V.displaced_yield(jnp.exp(lhi), m, table)
        assert float(x_lo) == pytest.approx(1.0, abs=1e-12) and float(x_hi) == pytest.approx(1.0, abs=1e-12)
        eps = jnp.exp(jnp.linspace(llo - 3, lhi + 1, 4001))
        x = np.asarray(jax.vmap(lambda e: V.displaced_yield(e, m, table))(eps))
        assert np.all(np.diff(np.sign(np.diff(x))) <= 0)  # unimodal
    # eps^4 below the lower edge
    x1 = float(V.displaced_yield(1e-9, 1e-2, table))
    x2 = float(V.displaced_yield(2e-9, 1e-2, table))
    assert x2 / x1 == pytest.approx(16.0, rel=1e-4)
    # half-Gaussian shape hits its own CL value on both edges
    ll = V.visible_loglike(1e-4, 1e-2, table, two_sided=True, shape=HALF_GAUSSIAN)
    assert float(ll) == pytest.approx(-0.5 * 1.6448536269514722**2, rel=1e-9)
    assert POISSON_ZERO_COUNT == 0


def test_no_limit_windows_give_no_limit():
    e = REGISTRY["babar2014_visible"]
    terms, _ = DC.compile_visible_terms(REGISTRY, ids=["babar2014_visible"])
    for m in (3.10, 3.72, 9.55, 1.02):  # vetoed J/psi, psi(2S), Upsilon(1S) and phi windows
        assert abs(float(V.visible_terms_loglike(1e-2, m, terms, 0.0)[0])) < 1e-6, m
    # at a real knot next to a "no limit" knot the limit holds and then fades continuously (DarkCast's
    # linear interpolation towards 1e5: a cliff within a relative mass ~ eps_90 / 1e5 of the knot)
    i = int(np.where(np.isin(e.limit.lines, e.limit.no_limit))[0][3]) - 1  # real knot before a window
    m0, m1, e0 = e.limit.m[i], e.limit.m[i + 1], e.limit.eps_lo[i]
    vals = [
        float(V.visible_terms_loglike(e0, m0 + d * (m1 - m0), terms, 0.0)[0])
        for d in (0.0, 1e-11, 1e-10, 1e-8, 1e-6, 0.5)
    ]
    assert vals[0] == pytest.approx(LN01, abs=1e-9)
    assert all(a < b for a, b in zip(vals, vals[1:])) and vals[1] == pytest.approx(LN01, rel=0.02)
    assert abs(vals[-1]) < 1e-12
    tm = 1e-8
    x = 1.0 / (1.0 + tm * (DC.GMAX - e0) / e0) ** 2  # (eps_90(m0) / eps_90(m))^2, linear in m and eps
    assert vals[3] == pytest.approx(LN01 * x, rel=2e-3)  # m0 + 1e-8 (m1 - m0) rounds at ~1e-3


def test_visible_gradients_finite():
    terms, ids = DC.compile_visible_terms(REGISTRY)
    assert len(ids) == len(REGISTRY)

    def total(eps, m, b):
        return jnp.sum(V.visible_terms_loglike(eps, m, terms, b))

    grad = jax.jit(jax.vmap(jax.grad(total, argnums=(0, 1, 2)), in_axes=(0, 0, 0)))
    mm, ee = np.meshgrid(np.geomspace(1e-3, 8.0, 157), np.geomspace(1e-9, 1e-1, 41))
    extra_m = np.concatenate([e.limit.m[[0, 1, -1]] for e in REGISTRY.values()])
    for b in (0.0, 0.3, 1.0):
        m = np.concatenate([mm.ravel(), extra_m])
        eps = np.concatenate([ee.ravel(), np.full(extra_m.size, 3e-6)])
        g = grad(jnp.asarray(eps), jnp.asarray(m), jnp.full(m.size, b))
        for gi in g:
            assert np.all(np.isfinite(np.asarray(gi))), b
    # values finite too, and eps = 0 / m <= 0 are safe
    vals = jax.vmap(lambda e, m: V.visible_terms_loglike(e, m, terms, 0.0))(
        jnp.asarray([0.0, 1e-5, 1e-5]), jnp.asarray([0.1, 0.0, -1.0])
    )
    assert np.all(np.asarray(vals) == 0.0) or np.all(np.isfinite(np.asarray(vals)))
    g0 = jax.grad(total, argnums=(0, 1))(0.0, 0.1, 0.0)
    assert all(np.isfinite(float(x)) for x in g0)
