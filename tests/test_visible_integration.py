"""Visible dark-photon searches wired into the registry, the TermSpec, the presets, the run file and the jobs."""

import math
import tomllib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import djax
from djax.io import (
    ENTRY_KEYS,
    FORMS,
    LimitFileError,
    ModelSection,
    RunFileError,
    compile_terms,
    data_dir,
    load_registry,
    load_run,
    parse_run,
    resolved_toml,
    term_provenance,
)
from djax.io import _darkcast as DC
from djax.jobs import prepare
from djax.jobs._prepare import check_text
from djax.likelihood import (
    DECAY_MODES,
    PRESET_DECAYS,
    PRESETS,
    VISIBLE,
    cl_thresholds,
    decay_mode_br_inv,
    inactive_terms,
    is_direct,
    preset_ids,
    terms_loglike,
)

LN01 = math.log(0.1)


@pytest.fixture(scope="module")
def reg():
    return load_registry()


def _src(text):
    return parse_run(text, source="run.toml")


# =================================================================================== registry
def test_one_registry_holds_every_term(reg):
    vis = reg.select(form="visible_curve")
    assert len(vis) == 33 and "visible_curve" in FORMS and "channel" in ENTRY_KEYS
    assert reg.select(tag="visible") == VISIBLE  # the preset list and the registry tags agree, in order
    assert set(reg.select(tag="option")) >= set(vis) - set(VISIBLE)
    assert {"meg2_mueg", "na64_2023", "babar2017", "proj_na64mu_1e14"} <= set(reg)
    assert not (data_dir() / "registry_visible.toml").exists()  # merged into registry.toml: one file, one loader
    raw = tomllib.loads((data_dir() / "registry.toml").read_text())["limit"]
    assert sum(t.get("form") == "visible_curve" for t in raw.values()) == 33
    # every shipped DarkCast limit is registered, and load_visible_registry is a view of the same registry
    shipped = {p.name for p in DC.darkcast_dir().glob("*.lmt")}
    assert {reg.visible_limit(i).name + ".lmt" for i in vis} == shipped
    view = DC.load_visible_registry()
    assert tuple(view) == vis and view["kloe2012_phieta"].ref_states == ("ee", "mumu")
    e = reg["e137_andreas2012"]
    assert (e.observable, e.form, e.power, e.two_sided, e.search, e.channel) == (
        "epsilon",
        "visible_curve",
        2.0,
        True,
        "displaced",
        ("e_e",),
    )
    assert e.origin.startswith(str(data_dir() / "registry.toml") + ":")


def test_compile_includes_visible_terms(reg):
    spec = compile_terms(reg, preset_ids("minimal"))
    assert spec.scalar_ids == ("meg2_mueg", "borexino_mueff") and spec.curve_ids == ()
    assert spec.visible_ids == VISIBLE and spec.ids == spec.scalar_ids + VISIBLE
    assert spec.visible.two_sided.shape == (22,) and int(np.sum(spec.visible.two_sided)) == 12
    thr = dict(zip(spec.ids, cl_thresholds(spec, 0.9)))
    assert all(thr[i] == pytest.approx(LN01, rel=1e-15) for i in VISIBLE)
    direct = dict(zip(spec.ids, is_direct(spec)))
    assert direct["borexino_mueff"] and not any(direct[i] for i in VISIBLE)
    full = compile_terms(reg, preset_ids("full"))
    assert full.curve_ids == ("na64_2023", "babar2017") and full.visible_ids == VISIBLE
    assert full.ids[-24:] == ("na64_2023", "babar2017") + VISIBLE
    assert len(cl_thresholds(full, 0.9)) == len(is_direct(full)) == len(full.ids)
    fut = compile_terms(reg, preset_ids("future"))
    assert fut.visible_ids == VISIBLE and "proj_na64mu_1e14" in fut.curve_ids
    paper = compile_terms(reg, preset_ids("paper"))
    assert paper.visible is None and paper.visible_ids == ()
    # the default tag set is unchanged (visible searches are tagged "visible", not "default")
    assert compile_terms(reg).visible_ids == ()


def test_presets():
    assert PRESETS[:3] == ("paper", "full", "future") and "minimal" in PRESETS
    assert preset_ids("paper") == ("meg2_mueg", "na64_2023", "babar2017", "borexino_mueff")
    assert preset_ids("minimal") == ("meg2_mueg", "borexino_mueff") + VISIBLE
    assert set(VISIBLE) < set(preset_ids("full")) and set(VISIBLE) < set(preset_ids("future"))
    assert preset_ids("minimal", exclude=("hps_2018",)) == ("meg2_mueg", "borexino_mueff") + tuple(
        i for i in VISIBLE if i != "hps_2018"
    )
    assert PRESET_DECAYS == {"paper": "invisible", "minimal": "visible", "full": None, "future": None}


def _excluding_point(reg, eid="babar2014_visible", k=2000, factor=2.0):
    lim = reg.visible_limit(eid)
    assert not np.isin(lim.lines[k], lim.no_limit)
    return float(lim.m[k]), factor * float(lim.eps_lo[k])


@pytest.mark.strict_dtypes  # the real-valued likelihood core: no implicit dtype promotion
def test_prompt_search_excludes_at_mode_visible_only(reg):
    spec = compile_terms(reg, preset_ids("minimal"))
    m, eps = _excluding_point(reg)  # BaBar 2014 at m = 2.2 GeV, twice its 90 % CL limit
    obs = {n: 0.0 for n in spec.observables}
    j = spec.ids.index("babar2014_visible")
    by_mode = {}
    for mode in DECAY_MODES:
        cfg = _src(
            f'schema = 1\n[model]\ndark_photon_decays = "{mode}"\n'
            + ("br_invisible = 0.25\n" if mode == "mixed" else "")
        )
        ll = np.asarray(terms_loglike(obs, spec, eps=eps, m_aprime=m, br_inv=cfg.model.br_inv))
        by_mode[mode] = ll
    assert by_mode["visible"][j] == pytest.approx(4 * LN01, rel=1e-9) and by_mode["visible"].sum() < LN01
    assert np.all(by_mode["invisible"] == 0.0)
    assert by_mode["mixed"][j] == pytest.approx(0.75 * 4 * LN01, rel=1e-9)
    # the invisible curves of "full" act the other way round
    full = compile_terms(reg, preset_ids("full"))
    obs = {n: 0.0 for n in full.observables}
    ll = dict(zip(full.ids, np.asarray(terms_loglike(obs, full, eps=1e-3, m_aprime=0.02, br_inv=0.0))))
    assert ll["na64_2023"] == 0.0 and ll["babar2014_visible"] == 0.0  # BaBar 2014 starts at 20.04 MeV
    assert ll["e137_andreas2012"] == 0.0 or ll["e137_andreas2012"] > -1e-3  # eps = 1e-3 far above the dumps
    ll1 = dict(zip(full.ids, np.asarray(terms_loglike(obs, full, eps=1e-3, m_aprime=0.02, br_inv=1.0))))
    assert ll1["na64_2023"] < LN01 and all(ll1[i] == 0.0 for i in VISIBLE)


def test_physics_point_through_the_public_api(reg):
    """A full parameter point: ln L of the minimal preset below ln 0.1 with BR_inv = 0, the term 0 at BR_inv = 1."""
    m, eps = _excluding_point(reg)
    p = djax.Params.default().replace(m_Aprime=jnp.asarray(m), epsilon=jnp.asarray(eps))
    vis = djax.likelihood_terms(p, "minimal", br_inv=ModelSection(dark_photon_decays="visible").br_inv)
    inv = djax.likelihood_terms(p, "minimal", br_inv=ModelSection(dark_photon_decays="invisible").br_inv)
    assert float(vis["babar2014_visible"]) == pytest.approx(4 * LN01, rel=1e-9)
    assert float(sum(vis.values())) < LN01
    assert float(inv["babar2014_visible"]) == 0.0 and all(float(inv[i]) == 0.0 for i in VISIBLE)


@pytest.mark.strict_dtypes  # the real-valued likelihood core: no implicit dtype promotion
def test_two_sided_search_through_the_spec(reg):
    spec = compile_terms(reg, ["e137_andreas2012"])
    lim = reg.visible_limit("e137_andreas2012")
    k = 80
    m, lo, hi = float(lim.m[k]), float(lim.eps_lo[k]), float(lim.eps_hi[k])
    for eps in (lo, hi):
        assert float(terms_loglike({}, spec, eps=eps, m_aprime=m, br_inv=0.0)[0]) == pytest.approx(LN01, abs=1e-6)
    assert float(terms_loglike({}, spec, eps=math.sqrt(lo * hi), m_aprime=m, br_inv=0.0)[0]) < LN01
    assert float(terms_loglike({}, spec, eps=math.sqrt(lo * hi), m_aprime=m, br_inv=1.0)[0]) == 0.0


@pytest.mark.strict_dtypes  # the real-valued likelihood core: no implicit dtype promotion
def test_terms_loglike_jit_grad_with_visible_terms(reg):
    spec = compile_terms(reg, preset_ids("full"))
    obs = {n: 0.0 for n in spec.observables}

    def total(e, m, b):
        return jnp.sum(terms_loglike(obs, spec, eps=e, m_aprime=m, br_inv=b))

    f = jax.jit(jax.vmap(jax.value_and_grad(total, argnums=(0, 1)), in_axes=(None, 0, None)))
    ms = jnp.geomspace(1.06e-3, 7.99, 97)
    for b in (0.0, 0.3, 1.0):
        for e in (1e-7, 3e-5, 1e-3):
            v, g = f(e, ms, b)
            assert np.all(np.isfinite(np.asarray(v))) and all(np.all(np.isfinite(np.asarray(x))) for x in g)


def test_provenance_and_overrides(reg, tmp_path):
    prov = term_provenance(reg, ["babar2014_visible", "kloe2012_phieta"])
    b = prov["babar2014_visible"]
    assert b["file_name"] == "BaBar_Lees2014xha.lmt" and len(b["file_sha256"]) == 64
    assert b["metadata_name"] == "BaBar_Lees2014xha.py" and len(b["metadata_sha256"]) == 64
    assert b["channel"] == ["e_e", "mu_mu"] and b["two_sided"] is False and "file" not in b
    assert prov["kloe2012_phieta"]["ref_states"] == ["e_e", "mu_mu"]
    # Python overrides keep the visible fields
    r2 = reg.with_overrides({"babar2014_visible": {"cl": 0.95}})
    assert r2["babar2014_visible"].cl == 0.95 and r2["babar2014_visible"].channel == ("e_e", "mu_mu")
    assert compile_terms(r2, ["babar2014_visible"]).visible.cl[0] == 0.95
    # an extra TOML is checked by the DarkCast validation, errors name that file, the line and the key
    f = tmp_path / "mine.toml"
    f.write_text('schema = 1\n\n[limit.lhcb2019_prompt]\nchannel = "e_e"\n')
    with pytest.raises(LimitFileError) as info:
        load_registry(f)
    assert info.value.key == "channel" and info.value.line == 4 and str(f) in str(info.value)
    f.write_text("[limit.meg2_mueg]\ntwo_sided = true\n")
    with pytest.raises(LimitFileError, match="applies to visible_curve entries only") as info:
        load_registry(f)
    assert info.value.key == "two_sided"
    f.write_text("[limit.e141_1987]\npower = 1.0\n")
    with pytest.raises(LimitFileError, match="power must be 2"):
        load_registry(f)
    f.write_text(
        '[limit.mine]\nobservable = "epsilon"\nform = "visible_curve"\ncl = 0.9\n'
        f'file = "{DC.darkcast_dir() / "HPS_Adrian2018scb.lmt"}"\nchannel = "e_e"\ntwo_sided = false\n'
        'search = "prompt"\nexperiment = "HPS copy"\nstatus = "verified"\nkind = "data"\n'
    )
    r3 = load_registry(f)
    assert r3["mine"].search == "prompt" and compile_terms(r3, ["mine", "meg2_mueg"]).ids == ("meg2_mueg", "mine")
    f.write_text(f.read_text().replace("two_sided = false", 'two_sided = "no"'))
    with pytest.raises(LimitFileError) as info:
        load_registry(f)
    assert info.value.key == "two_sided" and info.value.line == 7


# =================================================================================== run file
def test_mode_to_br_inv_mapping():
    assert [decay_mode_br_inv(m, 0.3) for m in DECAY_MODES] == [0.0, 1.0, 0.3]
    assert decay_mode_br_inv("visible") == 0.0 and decay_mode_br_inv("invisible", 0.7) == 1.0
    with pytest.raises(ValueError, match="needs br_invisible"):
        decay_mode_br_inv("mixed")
    with pytest.raises(ValueError, match="unknown A' decay mode"):
        decay_mode_br_inv("dark")
    assert ModelSection().dark_photon_decays == "visible" and ModelSection().br_inv == 0.0
    assert ModelSection(dark_photon_decays="invisible").br_inv == 1.0
    assert ModelSection(dark_photon_decays="mixed", br_invisible=0.4).br_inv == 0.4
    assert ModelSection(dark_photon_decays="visible", br_invisible=0.4).br_inv == 0.0  # only "mixed" reads it


def test_run_file_modes_and_round_trip():
    cases = {
        "": ("visible", 0.0),
        '[model]\ndark_photon_decays = "visible"\n': ("visible", 0.0),
        '[model]\ndark_photon_decays = "invisible"\n': ("invisible", 1.0),
        '[model]\ndark_photon_decays = "invisible"\nbr_invisible = 1.0\n': ("invisible", 1.0),
        '[model]\ndark_photon_decays = "visible"\nbr_invisible = 0.0\n': ("visible", 0.0),
        '[model]\ndark_photon_decays = "mixed"\nbr_invisible = 0.3\n': ("mixed", 0.3),
        "[model]\nbr_invisible = 0\n": ("visible", 0.0),
    }
    for body, (mode, b) in cases.items():
        cfg = _src("schema = 1\n" + body)
        assert (cfg.model.dark_photon_decays, cfg.model.br_inv, cfg.model.br_invisible) == (mode, b, b), body
        text = resolved_toml(cfg)
        assert f'dark_photon_decays = "{mode}"' in text
        assert parse_run(text, source="run.toml") == cfg
    # the embedded default run file is the reference study's reading: an invisibly decaying A'
    d = load_run()
    assert (d.model.dark_photon_decays, d.model.br_inv) == ("invisible", 1.0)
    assert d.likelihood.preset == "paper" and PRESET_DECAYS["paper"] == "invisible"
    assert load_run(overrides={"model.dark_photon_decays": "visible"}).model.br_inv == 0.0
    mixed = load_run(overrides={"model.dark_photon_decays": "mixed", "model.br_invisible": 0.2})
    assert mixed.model.br_inv == 0.2


@pytest.mark.parametrize(
    "body, key, match",
    [
        ('dark_photon_decays = "dark"', "model.dark_photon_decays", "expected one of 'visible', 'invisible', 'mixed'"),
        ("dark_photon_decays = 1", "model.dark_photon_decays", "expected one of"),
        ('dark_photon_decays = "visible"\nbr_invisible = 0.5', "model.br_invisible", "read only with"),
        ('dark_photon_decays = "invisible"\nbr_invisible = 0.0', "model.br_invisible", "read only with"),
        ("br_invisible = 1.0", "model.br_invisible", "br_invisible = 1 meant dark_photon_decays = 'invisible'"),
        ("br_invisible = 0.5", "model.br_invisible", "read only with"),
        ('dark_photon_decays = "mixed"', "model.br_invisible", "needs br_invisible"),
        ('dark_photon_decays = "mixed"\nbr_invisible = 1.5', "model.br_invisible", "1.5"),
    ],
)
def test_run_file_errors_name_the_key(body, key, match):
    text = "schema = 1\n[model]\n" + body + "\n"
    with pytest.raises(RunFileError, match=match) as info:
        _src(text)
    err = info.value
    assert err.key == key and err.file == "run.toml" and key in str(err)
    if key.split(".")[1] in body:  # the line of the key at fault, when the file has it
        assert err.line == 3 + [ln.split("=")[0].strip() for ln in body.splitlines()].index(key.split(".")[1])


# =================================================================================== jobs
def _notes(mode_lines, preset):
    cfg = _src(f'schema = 1\n[model]\n{mode_lines}\n[likelihood]\npreset = "{preset}"\n')
    return prepare(cfg, "scan")


def _term_notes(prep, what):
    return [n.split(":")[0][5:] for n in prep.notes if n.startswith("term ") and what in n]


def test_prepare_warns_about_terms_that_cannot_act():
    p = _notes('dark_photon_decays = "visible"', "paper")
    assert _term_notes(p, "cannot act with model.dark_photon_decays") == ["na64_2023", "babar2017"]
    assert any(n.startswith("likelihood.preset 'paper' is meant for") for n in p.notes)
    assert "model.dark_photon_decays = 'visible'" in check_text(p) and "babar2014" not in check_text(p)
    p = _notes('dark_photon_decays = "invisible"', "minimal")
    assert _term_notes(p, "cannot act with model.dark_photon_decays") == list(VISIBLE)
    p = _notes('dark_photon_decays = "invisible"', "full")
    assert _term_notes(p, "cannot act with model.dark_photon_decays") == list(VISIBLE)
    # and, with the default priors (tau Yukawas fixed), the tau decays
    assert _term_notes(p, "needs a tau Yukawa") == ["babar_taueg", "belle_taumug"]
    assert not any(n.startswith("likelihood.preset") for n in p.notes)
    p = _notes('dark_photon_decays = "visible"', "minimal")
    assert _term_notes(p, "cannot act with model.dark_photon_decays") == [] and not any(
        n.startswith("likelihood.preset") for n in p.notes
    )
    text = check_text(p)
    assert "babar2014_visible" in text and "visible_curve" in text
    p = _notes('dark_photon_decays = "mixed"\nbr_invisible = 0.5', "full")
    assert _term_notes(p, "cannot act with model.dark_photon_decays") == []
    assert p.fingerprint["model"]["dark_photon_decays"] == "mixed" and p.fingerprint["model"]["br_invisible"] == 0.5
    terms = p.fingerprint["likelihood"]["terms"]
    assert len(terms["e137_andreas2012"]["file_sha256"]) == 64
    # the pure helper behind the notes
    spec = compile_terms(load_registry(), preset_ids("full"))
    assert set(inactive_terms(spec, 0.0)) == {"na64_2023", "babar2017"}
    assert set(inactive_terms(spec, 1.0)) == set(VISIBLE) and inactive_terms(spec, 0.5) == {}
