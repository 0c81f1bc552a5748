"""Limit data files, curve cleaning, the limit registry and compile_terms (djax.io)."""

import hashlib
import math
import shutil
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from djax.io import (
    OBSERVABLES,
    LimitEntry,
    LimitFileError,
    RawCurve,
    Reference,
    clean_curve,
    compile_terms,
    data_dir,
    load_curve,
    load_registry,
    read_curve_csv,
    read_scalar_limits_csv,
)
from djax.likelihood import _curves as C

pytestmark = pytest.mark.strict_dtypes

INVALID = Path(__file__).parent / "data" / "invalid_limits"
CURVES = sorted(p.name for p in data_dir().glob("*eps*.csv"))
CLEAN_FILES = [
    "babar2017_invisible_eps_90cl.csv",
    "lep_fox2011_invisible_eps.csv",
    "na64_2016_invisible_eps_90cl.csv",
    "na64_2018_invisible_eps_90cl.csv",
    "na64_2019_invisible_eps_90cl.csv",
    "na64mu_2022_invisible_eps_90cl.csv",
    "proj_na64mu_1e14mot_eps_90cl.csv",
    "proj_na64mu_2e13mot_eps_90cl.csv",
    "proj_na64mu_3e11mot_eps_90cl.csv",
]


@pytest.fixture(scope="module")
def reg():
    return load_registry()


def _raw(rows):
    a = np.array(rows, dtype=float)
    return RawCurve("synthetic", {}, np.arange(1, len(rows) + 1), a[:, 0], a[:, 1])


# -------------------------------------------------------------------------------- parsing
def test_shared_and_packaged_data_identical():
    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "limits"  # ../shared beside the checkout
    if not shared.exists():
        pytest.skip("shared data folder not present")
    for p in shared.glob("*.csv"):
        assert (data_dir() / p.name).read_bytes() == p.read_bytes(), p.name


@pytest.mark.parametrize("name", CURVES)
def test_every_curve_parses_and_cleans(name):
    raw = read_curve_csv(data_dir() / name)
    assert "confidence_level" in raw.provenance and "source_repository" in raw.provenance
    c = load_curve(data_dir() / name, allow=("fold",))
    assert np.all(np.diff(c.m) > 0) and np.all(c.eps > 0)
    assert c.m.size + c.n_removed == raw.m.size
    # kept rows are raw rows, unchanged in value
    lookup = {int(ln): (m, e) for ln, m, e in zip(raw.lines, raw.m, raw.eps)}
    for ln, m, e in zip(c.lines, c.m, c.eps):
        assert lookup[int(ln)] == (m, e)


@pytest.mark.parametrize("name", CLEAN_FILES)
def test_clean_files_unchanged(name):
    raw = read_curve_csv(data_dir() / name)
    c = load_curve(data_dir() / name)
    assert c.n_removed == 0 and c.reordered == 0
    np.testing.assert_array_equal(c.m, raw.m)


def test_positron_closing_point():
    c = load_curve(data_dir() / "na64_positron_2023data_invisible_eps_90cl.csv", allow=("fold",))
    raw = read_curve_csv(data_dir() / "na64_positron_2023data_invisible_eps_90cl.csv")
    # README: stray closing point = the last row (jumps from 0.409 GeV back to 0.083 GeV)
    assert [r[0] for r in c.removed["closing"]] == [int(raw.lines[-1])]
    assert raw.m[-1] < raw.m[-2] / 4
    # the folds are all in the retraced high-mass end (> 0.3 GeV); the 1 MeV - 0.3 GeV part is untouched
    assert all(m > 0.3 for _, m, _ in c.removed["fold"])
    low = raw.m < 0.3
    assert np.sum(c.m < 0.3) == np.sum(low[:-1])
    assert c.m[-1] == raw.m.max()


def test_babar_na64input_closing_point_and_agreement_with_darkcast():
    c = load_curve(data_dir() / "babar2017_invisible_eps_90cl_na64input.csv", allow=("fold",))
    # README: stray closing point at 7.98 GeV
    assert [round(m, 2) for _, m, _ in c.removed["wall"]] == [7.98]
    assert all(5.3 < m < 8.0 for rule in c.removed for _, m, _ in c.removed[rule])
    assert c.m[-1] < 7.96
    # independent tabulation of the same result (DarkCast): agree where both are clean
    d = load_curve(data_dir() / "babar2017_invisible_eps_90cl.csv")
    m = np.geomspace(max(c.m[0], d.m[0]), 5.0, 300)
    r = np.abs(np.interp(np.log(m), np.log(c.m), np.log(c.eps)) - np.interp(np.log(m), np.log(d.m), np.log(d.eps)))
    assert np.median(r) < 0.03 and r.max() < 0.15


def test_na64_2023_glitches():
    raw = read_curve_csv(data_dir() / "na64_2023_invisible_eps_90cl.csv")
    c = load_curve(data_dir() / "na64_2023_invisible_eps_90cl.csv", allow=("fold",))
    back = np.where(np.diff(raw.m) <= 0)[0]
    # two small non-monotonic glitches (README), near 0.25 and 0.29 GeV
    assert len(back) == 2 and np.all((raw.m[back] > 0.24) & (raw.m[back] < 0.30))
    assert c.n_removed <= 2 and c.reordered <= 4
    assert all(0.24 < m < 0.30 for rule in c.removed for _, m, _ in c.removed[rule])
    # after cleaning the curve is single valued and, like the raw one, rising through the glitch region
    sel = (c.m > 0.237) & (c.m < 0.30)
    assert np.all(np.diff(c.eps[sel]) > 0)


def test_rules_on_synthetic_curves():
    # duplicate masses: keep the stronger (smaller) limit
    c = clean_curve(_raw([(1e-3, 1e-4), (2e-3, 2e-4), (2e-3, 1.5e-4), (3e-3, 3e-4)]), allow=("fold",))
    np.testing.assert_array_equal(c.eps, [1e-4, 1.5e-4, 3e-4])
    # out-of-order click: sorted, nothing else lost
    c = clean_curve(_raw([(1e-3, 1e-4), (3e-3, 3e-4), (2e-3, 2e-4), (4e-3, 4e-4), (5e-3, 5e-4)]), allow=("fold",))
    assert np.all(np.diff(c.m) > 0) and c.m.size >= 4
    # closing point: the last row jumps back to the start
    c = clean_curve(_raw([(1e-3, 1e-4), (1e-2, 2e-4), (1e-1, 4e-4), (1.0, 1e-3), (1.1e-3, 1e-4)]), allow=("fold",))
    assert [r[0] for r in c.removed["closing"]] == [5]
    # fold: a back-stroke below the first pass wins, the first-pass point above it goes
    c = clean_curve(
        _raw([(1.0, 1e-3), (1.02, 3e-3), (1.04, 4e-3), (1.01, 1.2e-3), (1.05, 2e-3), (1.1, 5e-3)]), allow=("fold",)
    )
    assert [r[0] for r in c.removed["fold"]] == [2, 3]
    # wall: a vertical stroke at the end of the range
    c = clean_curve(_raw([(1.0, 1e-3), (2.0, 1.1e-3), (3.0, 1.2e-3), (3.001, 1e-2)]), allow=("fold",))
    assert [r[0] for r in c.removed["wall"]] == [4]


# -------------------------------------------------------------------------- invalid corpus
CURVE_CASES = {
    "curve_non_numeric.csv": ("epsilon_max", 5),
    "curve_negative_eps.csv": ("epsilon_max", 6),
    "curve_zero_eps.csv": ("epsilon_max", 5),
    "curve_zero_mass.csv": ("m_Aprime_GeV", 4),
    "curve_wrong_header.csv": ("header", 3),
    "curve_missing_header.csv": ("header", 3),
    "curve_three_columns.csv": ("row", 4),
    "curve_nan.csv": ("epsilon_max", 5),
    "curve_too_few_rows.csv": ("rows", None),
    "curve_collapses.csv": ("rows", None),
    "curve_empty.csv": ("header", None),
}
REG_CASES = {
    "reg_unknown_form.toml": ("form", 4),
    "reg_negative_value.toml": ("value", 6),
    "reg_unknown_observable.toml": ("observable", 3),
    "reg_unknown_key.toml": ("vaule", 3),
    "reg_missing_key.toml": ("form", 3),
    "reg_cl_percent.toml": ("cl", 4),
    "reg_cl_out_of_range.toml": ("cl", 3),
    "reg_bad_toml.toml": ("toml", 4),
    "reg_unknown_top.toml": ("limits", 2),
    "reg_counting_no_background.toml": ("background", 7),
    "reg_shape_on_scalar.toml": ("shape", 3),
    "reg_remove_unknown.toml": ("remove", 2),
    "reg_bad_status.toml": ("status", 3),
    "reg_power_too_small.toml": ("power", 3),
    "reg_curve_value.toml": ("value", 3),
}
COMPILE_CASES = {  # valid registry files whose curve data fail when compiled
    "reg_curve_broken_file.toml": ("curve_negative_eps.csv", "epsilon_max", 6),
    "reg_curve_missing_file.toml": ("no_such_curve.csv", "file", None),
    "reg_sha_mismatch.toml": ("reg_sha_mismatch.toml", "sha256", 2),  # the entry header of the override
}
SCALAR_CASES = {
    "scalar_bad_number.csv": ("value", 3),
    "scalar_bad_cl.csv": ("cl_percent", 3),
    "scalar_bad_header.csv": ("header", 2),
}


def _check(exc, fname, field, line):
    msg = str(exc.value)
    assert fname in msg and f": {field}: " in msg, msg
    assert exc.value.field == field
    if line is not None:
        assert f"{fname}:{line}:" in msg, msg
        assert exc.value.line == line


def test_corpus_is_complete():
    listed = set(CURVE_CASES) | set(REG_CASES) | set(COMPILE_CASES) | set(SCALAR_CASES)
    assert {p.name for p in INVALID.iterdir()} == listed


@pytest.mark.parametrize("fname", sorted(CURVE_CASES))
def test_invalid_curve_files(fname):
    field, line = CURVE_CASES[fname]
    with pytest.raises(LimitFileError) as exc:
        load_curve(INVALID / fname)
    _check(exc, fname, field, line)


@pytest.mark.parametrize("fname", sorted(REG_CASES))
def test_invalid_registry_files(fname):
    field, line = REG_CASES[fname]
    with pytest.raises(LimitFileError) as exc:
        load_registry(extra_toml=INVALID / fname)
    _check(exc, fname, field, line)


@pytest.mark.parametrize("fname", sorted(COMPILE_CASES))
def test_invalid_curve_data_at_compile(fname):
    named, field, line = COMPILE_CASES[fname]
    reg = load_registry(extra_toml=INVALID / fname)
    eid = "my_curve" if "my_curve" in reg else "na64_2023"
    with pytest.raises(LimitFileError) as exc:
        compile_terms(reg, [eid])
    _check(exc, named, field, line)


@pytest.mark.parametrize("fname", sorted(SCALAR_CASES))
def test_invalid_scalar_csv(fname):
    field, line = SCALAR_CASES[fname]
    with pytest.raises(LimitFileError) as exc:
        read_scalar_limits_csv(INVALID / fname)
    _check(exc, fname, field, line)


# --------------------------------------------------------------------------------- registry
def test_packaged_registry_contents(reg):
    e = reg["meg2_mueg"]
    assert (e.observable, e.form, e.value, e.cl, e.power, e.status) == (
        "br_mu_e_gamma",
        "poisson_zero_count",
        1.5e-13,
        0.9,
        1.0,
        "verified",
    )
    assert reg["meg_mueg"].value == 4.2e-13
    assert reg["xenonnt_mueff"].value == 6.3e-12 and reg["xenonnt_mueff"].status == "memory"
    assert reg["borexino_mueff"].value == 2.8e-11 and reg["borexino_mueff"].power == 2.0
    rg = reg["rgb_omegacen"]
    assert (rg.observable, rg.value, rg.cl, rg.reference.arxiv) == (
        "red_giant_mu_equiv_muB",
        1.2e-12,
        0.95,
        "2007.03694",
    )
    assert reg["damu_2025"].form == "gaussian" and abs(reg["damu_2025"].value - 38.5e-11) < 1e-15
    assert reg["dae_cs"].value < 0 < reg["dae_rb"].value
    assert reg["jila2023_de"].value == 4.1e-30 and reg["acme2018_de"].value == 1.1e-29
    assert reg["planck2018_mnu"].form == "half_gaussian" and reg["planck2018_mnu"].value == 0.12
    assert reg["proj_meg2_final"].kind == "projection" and reg["proj_mu3e_phase1"].form == "counting"
    for e in reg.values():
        assert e.observable in OBSERVABLES
    # every curve file is registered exactly once, with its checksum
    files = sorted(Path(reg[i].file).name for i in reg.select(form="curve"))
    assert files == CURVES
    for i in reg.select(form="curve"):
        assert reg[i].sha256 == hashlib.sha256(Path(reg[i].file).read_bytes()).hexdigest()
    assert {"na64_2023", "babar2017"} <= set(reg.default_ids())
    assert not set(reg.default_ids()) & set(reg.select(kind="projection"))


def test_csv_backed_entries_keep_status(reg):
    rows = read_scalar_limits_csv()
    import tomllib

    packaged = tomllib.loads((data_dir() / "registry.toml").read_text())["limit"]
    n = 0
    for eid, tbl in packaged.items():
        if "csv" in tbl:
            row = rows[tbl["csv"]]
            assert reg[eid].status == row.status and reg[eid].value == row.value
            if row.cl_percent is not None:
                assert reg[eid].cl == row.cl_percent / 100
            n += 1
    assert n >= 20


def test_user_toml_override_add_remove(tmp_path, reg):
    shutil.copy(data_dir() / "na64_2019_invisible_eps_90cl.csv", tmp_path / "my_curve.csv")
    (tmp_path / "mine.toml").write_text(
        'remove = ["meg_mueg"]\n\n[limit.meg2_mueg]\nvalue = 1.2e-13\nnotes = "hypothetical update"\n\n'
        '[limit.my_curve]\nobservable = "epsilon"\nform = "curve"\nshape = "half_gaussian"\ncl = 0.95\n'
        'file = "my_curve.csv"\nexperiment = "mine"\nstatus = "memory"\nkind = "projection"\ntags = ["default"]\n'
    )
    r2 = load_registry(extra_toml=tmp_path / "mine.toml")
    assert r2["meg2_mueg"].value == 1.2e-13 and r2["meg2_mueg"].status == "verified"
    assert reg["meg2_mueg"].value == 1.5e-13  # the packaged registry is untouched
    assert "meg_mueg" not in r2 and "my_curve" in r2
    assert Path(r2["my_curve"].file) == (tmp_path / "my_curve.csv").resolve()
    spec = compile_terms(r2, ["my_curve", "meg2_mueg"])
    assert spec.ids == ("meg2_mueg", "my_curve")
    ll = C.terms_loglike({"br_mu_e_gamma": 1.2e-13}, spec, eps=1e-3, m_aprime=0.1)
    np.testing.assert_allclose(ll[0], math.log(0.1), rtol=1e-12)
    assert ll[1] < -1.9  # eps = 1e-3 is far above NA64 2019 at 0.1 GeV


def test_python_overrides(reg):
    r2 = reg.with_overrides({"meg2_mueg": {"value": 1.0e-13}}, remove=["meg_mueg"])
    assert r2["meg2_mueg"].value == 1.0e-13 and r2["meg2_mueg"].reference == reg["meg2_mueg"].reference
    assert "meg_mueg" not in r2 and "meg_mueg" in reg
    new = LimitEntry(
        id="future_mueg",
        observable="br_mu_e_gamma",
        form="half_gaussian",
        value=6e-14,
        cl=0.9,
        reference=Reference("MEG II final"),
        status="projection",
        kind="projection",
    )
    r3 = reg.with_overrides(add=[new])
    assert r3["future_mueg"] is new
    r4 = reg.with_overrides({"dae_rb": {"form": "half_gaussian", "value": 5e-13, "cl": 0.9}})
    assert r4["dae_rb"].form == "half_gaussian" and r4["dae_rb"].uncertainty is None  # form change drops old fields
    with pytest.raises(LimitFileError, match="observable: unknown observable 'br_mu_e_gama'"):
        reg.with_overrides({"meg2_mueg": {"observable": "br_mu_e_gama"}})
    with pytest.raises(LimitFileError, match="form: missing required key"):
        reg.with_overrides(
            {
                "brand_new": {
                    "observable": "br_mu_3e",
                    "value": 1e-12,
                    "cl": 0.9,
                    "experiment": "x",
                    "status": "memory",
                    "kind": "data",
                }
            }
        )
    with pytest.raises(LimitFileError, match=": cl: .*percentage"):
        reg.with_overrides({"meg2_mueg": {"cl": 90}})
    with pytest.raises(KeyError, match="did you mean"):
        reg["meg2_meug"]


def test_compile_terms_default_jit_vmap_grad(reg):
    spec = compile_terms(reg)
    assert spec.curve_ids == ("na64_2023", "babar2017")
    assert len(spec.scalar_ids) == len(spec.observables) == spec.scalar.value.shape[0]
    obs = {name: 0.0 for name in spec.observables}
    f = jax.jit(lambda o, e, m: jnp.sum(C.terms_loglike(o, spec, eps=e, m_aprime=m)))
    assert f(obs, 0.0, 0.1) == pytest.approx(-0.5 * (38.5 / 63.7) ** 2, rel=1e-3, abs=0)  # only Delta a_mu pulls
    # NA64 2023 at its own limit, BaBar above its range: ln L = ln 0.1 from NA64 (BaBar weaker here)
    m = 0.02
    e90 = C.eps90(
        m,
        C.make_table(
            *(lambda c: (c.m, c.eps))(load_curve(data_dir() / "na64_2023_invisible_eps_90cl.csv", allow=("fold",)))
        ),
    )
    ll = C.terms_loglike(obs, spec, eps=e90, m_aprime=m)
    np.testing.assert_allclose(ll[-2], math.log(0.1), rtol=1e-10)
    assert -0.01 < ll[-1] <= 0.0
    # combined envelope over the compiled curves equals NA64 where NA64 is the stronger
    np.testing.assert_allclose(C.combined_envelope(m, spec.curves.tables), e90, rtol=1e-12)
    ms = jnp.geomspace(1e-3, 8.0, 64)
    vals = jax.vmap(f, in_axes=(None, None, 0))(obs, 1e-4, ms)
    grads = jax.vmap(jax.grad(f, argnums=(0, 1, 2)), in_axes=(None, None, 0))(obs, 1e-4, ms)
    assert np.all(np.isfinite(vals))
    assert all(np.all(np.isfinite(np.asarray(g))) for g in jax.tree_util.tree_leaves(grads))


@pytest.mark.parametrize(
    "name, line", [("na64_2023_invisible_eps_90cl.csv", 89), ("babar2017_invisible_eps_90cl_na64input.csv", 125)]
)
def test_dropping_data_rows_needs_consent(name, line):
    """Rows above another strand (out of mass order) may be data: refused unless the entry allows the rule."""
    with pytest.raises(LimitFileError) as info:
        load_curve(data_dir() / name)
    assert info.value.line == line and info.value.key == "m_Aprime_GeV" and "allow_cleaning" in info.value.what
    from djax.io import load_registry

    reg = load_registry()
    assert "fold" in reg["na64_2023"].allow_cleaning and reg.curve("na64_2023").removed["fold"]
