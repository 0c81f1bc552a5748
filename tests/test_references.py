"""BibTeX of djax's inputs: `djax list terms --bibtex` parses (keys, fields, one entry per paper, every term of
the preset cited), djax and the study agree with CITATION.cff, and docs/references.bib is what
scripts/gen_references_bib.py writes from the registry now."""

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

import djax
from djax.cli import main
from djax.likelihood import preset_ids
from djax.report import DJAX_CITATION, STUDY_CITATION, references_bib

ROOT = Path(__file__).resolve().parents[1]
ENTRY = re.compile(r"^@(?P<type>[a-z]+)\{(?P<key>[^,\s]+),\n(?P<body>.*?)\n\}$", re.S | re.M)
FIELD = re.compile(r"^  (?P<name>[A-Za-z]+)\s*= \{(?P<value>.*)\},?$")


def parse_bib(text: str) -> list[dict]:
    """Entries of a BibTeX text as {type, key, fields}: one field per line, braces balanced in every value."""
    out = []
    for m in ENTRY.finditer(text):
        fields = {}
        for line in m.group("body").split("\n"):
            f = FIELD.match(line)
            assert f, f"entry {m.group('key')}: unparsable line {line!r}"
            v = f.group("value")
            depth = 0
            for ch in v.replace(r"\{", "").replace(r"\}", ""):
                depth += {"{": 1, "}": -1}.get(ch, 0)
                assert depth >= 0, (m.group("key"), v)
            assert depth == 0, (m.group("key"), v)
            assert f.group("name") not in fields, (m.group("key"), f.group("name"))
            fields[f.group("name")] = v
        out.append({"type": m.group("type"), "key": m.group("key"), "fields": fields})
    assert len(out) == len(re.findall(r"^@", text, re.M)), "an entry did not parse"
    return out


def cited_terms(entry) -> list[str]:
    note = entry["fields"].get("note", "").replace(r"\_", "_")
    m = re.search(r"djax likelihood term\(s\): (.*)", note)
    return re.findall(r"(?:^|; )([a-z0-9_]+) \(", m.group(1)) if m else []


def _load_script():
    spec = importlib.util.spec_from_file_location("gen_references_bib", ROOT / "scripts" / "gen_references_bib.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_references_bib_is_up_to_date():
    script = _load_script()
    committed = (ROOT / "docs" / "references.bib").read_text(encoding="utf-8")
    assert committed == script.render() == references_bib(), (
        "docs/references.bib is out of date: run .venv/bin/python scripts/gen_references_bib.py"
    )
    assert script.main(["--check"]) == 0
    entries = parse_bib(committed)
    keys = [e["key"] for e in entries]
    assert len(keys) == len(set(keys)) and keys[:2] == ["djax", "Zhang:2026"]
    reg = djax.io.load_registry()
    cited = [t for e in entries for t in cited_terms(e)]
    assert sorted(cited) == sorted(reg.ids)  # every registry term, each in exactly one entry


@pytest.mark.parametrize("preset", ["paper", "full"])
def test_list_terms_bibtex_parses_and_cites_every_term(capsys, preset):
    assert main(["list", "terms", "--bibtex", "--preset", preset]) == 0
    out = capsys.readouterr().out
    entries = parse_bib(out)
    assert [e["key"] for e in entries[:2]] == ["djax", "Zhang:2026"]
    inputs = entries[2:]
    cited = [t for e in inputs for t in cited_terms(e)]
    assert sorted(cited) == sorted(preset_ids(preset))
    eprints = [e["fields"]["eprint"] for e in inputs if "eprint" in e["fields"]]
    assert len(eprints) == len(set(eprints))  # one entry per paper
    for e in inputs:
        f = e["fields"]
        assert e["type"] in ("article", "misc") and ("eprint" in f or "journal" in f), e
        assert (e["type"] == "article") == ("journal" in f)
        if "eprint" in f:
            assert re.fullmatch(r"\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7}", f["eprint"]), f["eprint"]
            assert f["archivePrefix"] == "arXiv"
        if "year" in f:
            assert re.fullmatch(r"(19|20)\d\d", f["year"])
    if preset == "full":  # a visible search carries its DarkCast BibTeX (INSPIRE key, authors, DOI)
        babar = next(e for e in inputs if "babar2014_visible" in cited_terms(e))
        assert babar["key"] == "Lees:2014xha" and babar["fields"]["doi"] == "10.1103/PhysRevLett.113.201801"
        assert babar["fields"]["eprint"] == "1406.2980" and babar["fields"]["author"].startswith("Lees")


def test_djax_and_the_study_agree_with_citation_cff(capsys):
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    main(["list", "--bibtex"])
    d, study = parse_bib(capsys.readouterr().out)[:2]
    assert d["type"] == DJAX_CITATION["type"] and d["fields"]["title"] == "{" + cff["title"] + "}"
    assert d["fields"]["version"] == cff["version"] == djax.__version__
    assert d["fields"]["license"] == cff["license"]
    assert d["fields"]["author"] == "{" + cff["authors"][0]["name"] + "}"
    ref = cff["references"][0]
    assert study["key"] == STUDY_CITATION["key"]
    assert study["fields"]["eprint"] == ref["identifiers"][0]["value"].removeprefix("arXiv:")
    assert study["fields"]["author"].split(",")[0] == ref["authors"][0]["family-names"]
    assert study["fields"]["year"] == str(ref["year"])


def test_committed_presets_tables_are_up_to_date():
    spec = importlib.util.spec_from_file_location("gen_presets_table", ROOT / "scripts" / "gen_presets_table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    text = (ROOT / "docs" / "physics.md").read_text(encoding="utf-8")
    assert mod.render(text) == text, "docs/physics.md presets tables are out of date: run scripts/gen_presets_table.py"
    assert mod.main(["--check"]) == 0
    reg = djax.io.load_registry()
    body = text[text.index(mod.START) : text.index(mod.END)]
    rows = [line for line in body.splitlines() if line.startswith("| `") and line.count("|") == 11]
    assert sorted(r.split("`")[1] for r in rows) == sorted(reg.ids)  # every registry term, one row each
    full = djax.likelihood.preset_ids("full")
    for r in rows:
        tid = r.split("`")[1]
        assert (tid in full) == ("`full`" in r.rsplit("|", 2)[1]), tid
