"""``djax list``, ``djax run`` and ``djax export`` through the command line (in process): what they print is the
registry, the catalogue and the physics of the point, and every user error is one line with exit status 2."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import djax
from djax.cli import main
from djax.likelihood import PRESETS, preset_ids
from djax.model import DEFAULT_PRIORS, PARAMETER_INFO
from djax.observables import OBSERVABLE_INFO


def _ok(capsys, args) -> str:
    rc = main(list(args))
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    return cap.out


def _error(capsys, args, where: str, key: str) -> str:
    rc = main(list(args))
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"djax: error: {where}"), line
    assert f": {key}: " in line, line
    return line


# ------------------------------------------------------------------------------------------------------------
# djax list
# ------------------------------------------------------------------------------------------------------------
def test_list_terms_table(capsys):
    out = _ok(capsys, ["list"])
    row = next(ln for ln in out.splitlines() if ln.startswith("meg2_mueg "))
    for bit in (
        "br_mu_e_gamma",
        "poisson_zero_count",
        "< 1.5e-13",
        "90%",
        "MEG II",
        "arXiv:2504.15711",
        "verified",
        "paper",
        "full",
    ):
        assert bit in row, bit
    assert "planck2018_mnu" in out and "< 0.12 eV" in out and "95%" in out
    assert "na64_2023_invisible_eps_90cl.csv" in out
    assert "dae_cs" in out and "full[alpha_e=Cs]" in out  # an option-only term names its option


def test_list_terms_json_of_a_preset(capsys):
    rows = json.loads(_ok(capsys, ["list", "terms", "--preset", "full", "--format", "json"]))
    assert [r["id"] for r in rows] == list(preset_ids("full"))
    from djax.io import load_registry

    reg = load_registry()
    for r in rows:
        e = reg[r["id"]]
        assert r["observable"] == e.observable and r["form"] == e.form and r["status"] == e.status
        assert r["value"] == e.value and r["cl"] == e.cl and r["arxiv"] == e.reference.arxiv
        assert "full" in r["presets"]
    meg = rows[0]
    assert meg["id"] == "meg2_mueg" and meg["observable_units"] == "1" and meg["experiment"].startswith("MEG II")
    assert meg["journal"].startswith("Eur. Phys. J. C") and meg["year"] == 2025
    assert {"paper", "full"} <= set(meg["presets"])


def test_list_presets(capsys):
    rows = json.loads(_ok(capsys, ["list", "presets", "--format", "json"]))
    assert [r["name"] for r in rows] == list(PRESETS)
    for r in rows:
        assert r["terms"] == list(preset_ids(r["name"])) and r["n_terms"] == len(r["terms"])
        assert r["description"]
    out = _ok(capsys, ["list", "presets"])
    paper = next(ln for ln in out.splitlines() if ln.startswith("paper "))
    assert "meg2_mueg, na64_2023, babar2017, borexino_mueff" in paper


def test_list_observables_with_units(capsys):
    rows = json.loads(_ok(capsys, ["list", "observables", "--format", "json"]))
    assert [r["name"] for r in rows] == list(OBSERVABLE_INFO)
    by = {r["name"]: r for r in rows}
    assert by["borexino_mu_equiv_muB"]["units"] == "mu_B" and "borexino_mueff" in by["borexino_mu_equiv_muB"]["terms"]
    assert by["d_e_ecm"]["units"] == "e cm" and by["m_nu_sum_eV"]["units"] == "eV"
    paper = json.loads(_ok(capsys, ["list", "observables", "--preset", "paper", "--format", "json"]))
    assert {r["name"] for r in paper} == {"br_mu_e_gamma", "epsilon", "borexino_mu_equiv_muB"}
    out = _ok(capsys, ["list", "observables"])
    assert re.search(r"^lambda_dark_muB\s+mu_B\s+Majorana dark transition", out, re.M)


def test_list_parameters_with_default_priors(capsys):
    rows = json.loads(_ok(capsys, ["list", "parameters", "--format", "json"]))
    assert [r["name"] for r in rows] == list(PARAMETER_INFO)
    for r in rows:
        assert r["default_prior"] == DEFAULT_PRIORS[r["name"]].describe()
        assert r["units"] == PARAMETER_INFO[r["name"]].units
    by = {r["name"]: r for r in rows}
    assert by["y_e"]["latent"] == "y_e__u" and by["theta"]["latent"] is None
    out = _ok(capsys, ["list", "parameters"])
    assert re.search(r"^M_F\s+GeV\s+.*log_uniform on \[100, 10000\] GeV\s+M_F__u$", out, re.M)


def test_bibtex_of_a_preset(capsys):
    out = _ok(capsys, ["list", "--bibtex"])
    entries = re.findall(r"^@(article|misc|software)\{([^,]+),", out, re.M)
    assert len(entries) == len(preset_ids("paper")) + 2  # djax, the study, four papers (one entry each)
    assert entries[:2] == [("software", "djax"), ("article", "Zhang:2026")]
    assert "@article{MEGII:2025," in out
    assert re.search(r"eprint\s+= \{2504\.15711\}", out) and re.search(r"archivePrefix = \{arXiv\}", out)
    na64 = out[out.index("@article{NA64:2023") :]
    na64 = na64[: na64.index("\n}")]
    for field in (
        r"journal\s+= \{Phys\. Rev\. Lett\.\}",
        r"volume\s+= \{131\}",
        r"pages\s+= \{161801\}",
        r"year\s+= \{2023\}",
        r"eprint\s+= \{2307\.02404\}",
    ):
        assert re.search(field, na64), field
    assert "na64\\_2023" in na64  # the note names the djax term (escaped)
    full = _ok(capsys, ["list", "--bibtex", "--preset", "full"])
    eprints = re.findall(r"eprint\s+= \{([^}]+)\}", full)
    assert len(eprints) == len(set(eprints))  # one entry per paper
    assert "1807.06209" in eprints and full.count("@") == len(re.findall(r"^@", full, re.M))
    for block in full.split("\n\n")[2:]:  # nothing invented: titles and authors only from DarkCast's BibTeX
        if re.search(r"^\s*(title|author)\s*=", block, re.M):
            assert "BibTeX from the DarkCast limit's metadata" in block


def test_list_errors(capsys):
    line = _error(capsys, ["list", "--preset", "nope"], "--preset", "preset")
    assert "paper" in line
    with pytest.raises(SystemExit) as exc:
        main(["list", "everything"])
    assert exc.value.code == 2
    capsys.readouterr()


# ------------------------------------------------------------------------------------------------------------
# djax run
# ------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def default_obs():
    djax.enable_x64()
    return djax.observables(djax.Params.default())


def test_run_default_point_table(capsys, default_obs):
    out = _ok(capsys, ["run"])
    assert "djax point: Params.default()" in out and "likelihood preset 'paper'" in out
    assert "BR(mu -> e gamma)" in out and "Borexino-equivalent moment" in out
    assert re.search(r"BR\(mu -> e gamma\)\s+1\.1268e-13\s+1\s+br_mu_e_gamma", out)
    assert re.search(r"sum of \|m_nu\| \(loop\)\s+1\.7038e\+03\s+eV", out)
    terms = out[out.index("likelihood terms of preset") :]
    first = terms.splitlines()[3]
    assert first.split()[0] == "meg2_mueg"  # the most constraining term of the default point
    assert "1.127e-13" in first and "< 1.5e-13" in first and "0.751" in first and "near limit" in first
    flags = out[out.index("flags:") :]
    assert "near limit: meg2_mueg: br_mu_e_gamma = 1.127e-13 vs < 1.5e-13" in flags
    assert "EXCLUDED: planck2018_mnu (not in this likelihood): m_nu_sum_eV = 1704 eV vs < 0.12 eV" in flags


def test_run_json_sorted_by_closeness(capsys, default_obs):
    rep = json.loads(_ok(capsys, ["run", "--format", "json"]))
    assert [t["id"] for t in rep["terms"]][0] == "meg2_mueg"
    assert sorted(t["id"] for t in rep["terms"]) == sorted(preset_ids("paper"))
    close = [t["closeness"] for t in rep["terms"]]
    assert close == sorted(close, reverse=True)
    meg = rep["terms"][0]
    br = float(default_obs["br_mu_e_gamma"])
    assert meg["predicted"] == pytest.approx(br, rel=1e-12, abs=0)
    assert meg["ratio"] == pytest.approx(br / 1.5e-13, rel=1e-12, abs=0)
    assert meg["lnL"] == pytest.approx(np.log(0.1) * br / 1.5e-13, rel=1e-9, abs=0)
    assert meg["threshold"] == pytest.approx(np.log(0.1), rel=1e-12, abs=0)
    assert meg["closeness"] == pytest.approx(br / 1.5e-13, rel=1e-9, abs=0) and meg["flag"] == "near limit"
    na64 = next(t for t in rep["terms"] if t["id"] == "na64_2023")
    assert na64["form"] == "curve" and 0 < na64["limit"] < 1e-3 and "at m_A' = 0.05 GeV" in na64["limit_text"]
    assert na64["ratio"] == pytest.approx(1e-5 / na64["limit"], rel=1e-9, abs=0)
    other = {t["id"]: t for t in rep["other_terms"]}
    assert other["planck2018_mnu"]["flag"] == "EXCLUDED" and not other["planck2018_mnu"]["in_likelihood"]
    obs = {o["name"]: o for o in rep["observables"]}
    assert obs["br_mu_e_gamma"]["value"] == pytest.approx(br, rel=1e-12, abs=0)
    assert obs["xenonnt_mu_equiv_muB"]["units"] == "mu_B"
    assert rep["point"]["M_F"] == 1000.0 and rep["point"]["yp_mu"] == -4e-4
    assert rep["total_lnL"] == pytest.approx(sum(t["lnL"] for t in rep["terms"]), rel=1e-12, abs=0)


def test_run_point_file_and_set(tmp_path, capsys):
    pt = tmp_path / "point.toml"
    pt.write_text("# a point\n[params]\nM_F = 2000.0\ny = [1e-3, 2e-3, 0.0]\nalpha_D = 0.01\nepsilon = 3e-4\n")
    rep = json.loads(
        _ok(
            capsys,
            [
                "run",
                "--point",
                str(pt),
                "--set",
                "params.m_Aprime=0.2",
                "--set",
                "params.y_e=5e-4",
                "--set",
                "likelihood.preset=full",
                "--format",
                "json",
            ],
        )
    )
    p = rep["point"]
    assert p["M_F"] == 2000.0 and p["y_mu"] == 2e-3 and p["y_e"] == 5e-4 and p["m_Aprime"] == 0.2
    assert p["g_D"] == pytest.approx(np.sqrt(4 * np.pi * 0.01), rel=1e-14, abs=0)
    assert p["m_S1"] == 400.0  # not given: the benchmark value
    assert rep["preset"] == "full" and sorted(t["id"] for t in rep["terms"]) == sorted(preset_ids("full"))
    assert str(pt) in rep["source"] and "m_Aprime=0.2" in rep["source"]
    q = djax.Params.default().replace(
        M_F=2000.0, y=np.array([5e-4, 2e-3, 0.0]), g_D=np.sqrt(0.04 * np.pi), m_Aprime=0.2, epsilon=3e-4
    )
    br = float(djax.observables(q)["br_mu_e_gamma"])
    meg = next(t for t in rep["terms"] if t["id"] == "meg2_mueg")
    assert meg["predicted"] == pytest.approx(br, rel=1e-12, abs=0)


def test_run_with_a_run_file(tmp_path, capsys):
    run = tmp_path / "run.toml"
    run.write_text(
        'schema = 1\n[likelihood]\npreset = "paper"\nexclude = ["borexino_mueff"]\n'
        '[model]\ndark_photon_decays = "invisible"\n'
    )
    rep = json.loads(_ok(capsys, ["run", str(run), "--format", "json", "--cl", "0.95"]))
    assert sorted(t["id"] for t in rep["terms"]) == ["babar2017", "meg2_mueg", "na64_2023"]
    assert rep["cl"] == 0.95 and rep["run_file"] == str(run)
    meg = rep["terms"][0]
    assert meg["threshold"] == pytest.approx(np.log(0.05), rel=1e-12, abs=0)


def test_run_errors(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("M_F = 1000.0\nM_G = 3.0\n")
    line = _error(capsys, ["run", "--point", str(bad)], f"{bad}:2", "M_G")
    assert "unknown parameter" in line and "M_F" in line
    bad.write_text("m_S1 = 'heavy'\n")
    assert "expected a real number" in _error(capsys, ["run", "--point", str(bad)], f"{bad}:1", "m_S1")
    bad.write_text("[params]\ntheta = 0.1\ny_e = 9.0\n")
    assert "physical range" in _error(capsys, ["run", "--point", str(bad)], f"{bad}:3", "params.y_e")
    bad.write_text("yp = [1e-3, 2e-3]\n")
    assert "3 real numbers" in _error(capsys, ["run", "--point", str(bad)], f"{bad}:1", "yp")
    bad.write_text("g_D = 0.3\nalpha_D = 0.01\n")
    _error(capsys, ["run", "--point", str(bad)], f"{bad}:2", "alpha_D")
    bad.write_text("M_F = [\n")
    _error(capsys, ["run", "--point", str(bad)], str(bad), "toml")
    _error(capsys, ["run", "--point", str(tmp_path / "missing.toml")], str(tmp_path / "missing.toml"), "point")
    _error(capsys, ["run", "--set", "params.epsilon=2.0"], "--set", "params.epsilon")
    _error(capsys, ["run", "--set", "params.m_S3=1"], "--set", "params.m_S3")
    _error(capsys, ["run", "--set", "likelihood.preset=nope"], "<embedded default run file>", "likelihood.preset")
    _error(capsys, ["run", "--cl", "1.5"], "--cl", "cl")


# ------------------------------------------------------------------------------------------------------------
# djax export wcxf
# ------------------------------------------------------------------------------------------------------------
def test_export_wcxf(tmp_path, capsys):
    from djax.export import wcxf

    out = tmp_path / "point.json"
    text = _ok(capsys, ["export", "wcxf", "--out", str(out)])
    assert f"wrote {out}" in text and "WET-4 at 1 GeV" in text
    d = json.loads(out.read_text())
    ref = wcxf(djax.Params.default(), metadata=False)
    assert d["eft"] == "WET-4" and d["basis"] == "flavio" and d["scale"] == 1.0
    assert d["values"] == ref["values"]
    assert d["metadata"]["parameters"]["M_F"] == 1000.0
    pt = tmp_path / "p.toml"
    pt.write_text("M_F = 3000.0\n")
    out2 = tmp_path / "p.json"
    _ok(capsys, ["export", "wcxf", "--point", str(pt), "--out", str(out2), "--scale", "1.8"])
    d2 = json.loads(out2.read_text())
    assert d2["scale"] == 1.8
    assert d2["values"] == wcxf(djax.Params.default().replace(M_F=3000.0), scale=1.8, metadata=False)["values"]
    wilson = pytest.importorskip("wilson")
    with open(out) as f:
        wilson.Wilson.load_wc(f)


def test_export_errors(tmp_path, capsys):
    _error(capsys, ["export", "wcxf", "--out", str(tmp_path / "w.json"), "--scale", "200"], "--scale", "scale")
    _error(
        capsys, ["export", "wcxf", "--out", str(tmp_path / "w.json"), "--scale", "5", "--eft", "WET-4"], "--eft", "eft"
    )
    _error(capsys, ["export", "wcxf", "--out", str(tmp_path / "no" / "w.json")], str(tmp_path / "no" / "w.json"), "out")
    _error(capsys, ["export", "wcxf", "--out", str(tmp_path / "w.txt")], str(tmp_path / "w.txt"), "out")
    _error(
        capsys, ["export", "wcxf", "--out", str(tmp_path / "w.json"), "--set", "params.M_F=0"], "--set", "params.M_F"
    )
    assert not (tmp_path / "w.json").exists()
    with pytest.raises(SystemExit) as exc:
        main(["export", "wcxf"])  # --out is required
    assert exc.value.code == 2
    capsys.readouterr()


def test_point_file_round_trip(tmp_path):
    from djax.report import read_point, write_point

    p = djax.Params.default().replace(M_F=1234.5, yp=np.array([1e-3, -2e-4, 3e-5]))
    path = write_point(tmp_path / "p.toml", p)
    q = read_point(path)
    for f in djax.model.FIELDS:
        np.testing.assert_array_equal(np.asarray(getattr(q, f)), np.asarray(getattr(p, f)), err_msg=f)
