"""Run files: invalid corpus, defaults, resolved round trip, --set parsing, run folders and metadata."""

from __future__ import annotations

import json
import math
import os
import tomllib
from pathlib import Path

import numpy as np
import pytest

from djax.io import (
    RunFileError,
    atomic_write_json,
    atomic_write_text,
    default_run_text,
    load_run,
    parse_run,
    parse_set_option,
    resolved_toml,
    validate_run,
)
from djax.model import DEFAULT_PRIORS, PRIOR_BOX

INVALID = sorted((Path(__file__).parent / "data" / "invalid_runs").glob("*.toml"))


def _expected_key(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# key: "), f"{path.name}: first line must be '# key: <dotted key>'"
    return first[len("# key: ") :].strip()


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_run_files_name_the_key(path):
    key = _expected_key(path)
    with pytest.raises(RunFileError) as info:
        load_run(path)
    err = info.value
    assert err.key == key, str(err)
    assert str(path) in str(err)  # the message says which file
    assert key in str(err)


def test_error_messages_are_helpful():
    with pytest.raises(RunFileError, match=r"^<run file>: sample\.num_chains: expected a positive integer, got -2$"):
        validate_run({"schema": 1, "sample": {"num_chains": -2}})
    with pytest.raises(RunFileError, match=r"unknown key 'sample\.num_chain'; did you mean 'num_chains'\?"):
        validate_run({"schema": 1, "sample": {"num_chain": 2}})
    with pytest.raises(RunFileError, match=r"'paper', 'full', 'future'"):
        validate_run({"schema": 1, "likelihood": {"preset": "nope"}})
    with pytest.raises(RunFileError, match=r"did you mean 'm_Aprime'"):
        validate_run({"schema": 1, "priors": {"m_Aprim": {"low": 1e-3, "high": 1.0}}})
    with pytest.raises(RunFileError, match="unsupported run-file schema version 7"):
        validate_run({"schema": 7})


def test_sample_method_keys():
    cfg = load_run()
    assert cfg.sample.method == "chees" and cfg.sample.num_chains >= 2 and cfg.sample.prior_moves >= 0
    nuts = validate_run({"schema": 1, "sample": {"method": "nuts", "num_chains": 1}})
    assert nuts.sample.method == "nuts" and nuts.sample.num_chains == 1
    with pytest.raises(RunFileError, match=r"sample\.method: .*'chees', 'nuts'"):
        validate_run({"schema": 1, "sample": {"method": "hmc"}})
    with pytest.raises(RunFileError, match=r"sample\.num_chains: method 'chees' needs at least 2 chains, got 1"):
        validate_run({"schema": 1, "sample": {"num_chains": 1}})
    with pytest.raises(RunFileError, match=r"sample\.prior_moves"):
        validate_run({"schema": 1, "sample": {"prior_moves": -1}})
    with pytest.raises(RunFileError, match=r"sample\.max_leapfrog"):
        validate_run({"schema": 1, "sample": {"max_leapfrog": 0}})


def test_default_file_equals_schema_defaults():
    text = default_run_text()
    assert text.lstrip().startswith("#")  # commented
    cfg = load_run()
    # the embedded file is the schema default: y_tau = yp_tau = 0 fixed (the reference study's e-mu family),
    # which a run file that does not mention them gets too; a table with a type frees them over the box
    assert cfg == validate_run({"schema": 1, "model": {"dark_photon_decays": "invisible"}})
    assert cfg.run.job == "sample" and cfg.likelihood.preset == "paper"
    emu = ("M_F", "m_S1", "m_S2", "theta", "y_e", "y_mu", "yp_e", "yp_mu", "g_D", "m_Aprime", "epsilon")
    assert cfg.free_parameters == emu
    assert validate_run({"schema": 1}).free_parameters == emu
    tau_free = {"y_tau": {"type": "signed_log_uniform"}, "yp_tau": {"type": "signed_log_uniform"}}
    assert validate_run({"schema": 1, "priors": tau_free}).free_parameters == (
        "M_F",
        "m_S1",
        "m_S2",
        "theta",
        "y_e",
        "y_mu",
        "y_tau",
        "yp_e",
        "yp_mu",
        "yp_tau",
        "g_D",
        "m_Aprime",
        "epsilon",
    )
    assert validate_run({"schema": 1, "priors": tau_free}).prior("y_tau") == PRIOR_BOX["y_tau"]
    # the default box of the parameter schema
    assert cfg.prior("M_F").low == 100.0 and cfg.prior("M_F").high == 1e4
    assert cfg.prior("M_F").type == "log_uniform" and cfg.prior("theta").type == "uniform"
    assert cfg.prior("y_e").high == pytest.approx(math.sqrt(4 * math.pi), rel=1e-15, abs=0)
    assert cfg.prior("theta").high == pytest.approx(math.pi / 2, rel=1e-15, abs=0)
    # m_A': the common range of the NA64 2023 and BaBar 2017 curves (no likelihood cliff inside the box)
    assert cfg.prior("epsilon").low == 1e-7 and cfg.prior("m_Aprime").low == 1.06e-3
    assert cfg.prior("m_Aprime").high == 7.99


def test_resolved_round_trip_default_and_custom():
    for cfg in (
        load_run(),
        validate_run(
            {
                "schema": 1,
                "run": {"name": "t-1", "seed": 12345, "job": "scan"},
                "model": {"dark_coupling": "alpha_D", "Q_F": -2.0, "dark_photon_decays": "mixed", "br_invisible": 0.5},
                "priors": {
                    "M_F": {"value": 750.0},
                    "alpha_D": {"type": "uniform", "low": 0.0, "high": 0.5},
                    "theta": {"type": "fixed", "value": 0.3},
                },
                "likelihood": {
                    "preset": "full",
                    "include": ["m_nu_sum"],
                    "exclude": ["borexino"],
                    "registry": "my limits.toml",
                    "overrides": {"meg2.mu_e_gamma": {"limit": 1.5e-13, "form": "poisson", "v": [1, 2.5]}},
                },
                "sample": {"num_chains": 2, "dense_mass": True},
                "optimize": {"profile": {"parameter": "epsilon", "low": 1e-6, "high": 1e-3, "n_points": 7}},
                "scan": {"n_points": 1e8, "method": "grid", "projections": [["m_S1", "m_S2"]], "store": ["loglike"]},
                "output": {"formats": ["zarr", "netcdf"], "plot_format": "png"},
            }
        ),
    ):
        text = resolved_toml(cfg)
        again = parse_run(text)
        assert again == cfg
        assert resolved_toml(again) == text
        assert "\n" in text and tomllib.loads(text)["schema"] == 1


def test_custom_values_and_fixed_defaults():
    cfg = validate_run(
        {"schema": 1, "priors": {"M_F": {"value": 500.0}, "m_Aprime": {"value": 0.01}}, "scan": {"n_points": 1e6}}
    )
    assert cfg.prior("M_F").is_fixed and cfg.prior("M_F").value == 500.0
    assert (
        "M_F" not in cfg.free_parameters and len(cfg.free_parameters) == 9
    )  # 13 - 2 fixed here - 2 tau fixed by default
    # default projections that touch a fixed parameter are dropped, not errors; profile switched off
    assert cfg.scan.projections == ()
    assert cfg.optimize.profile.enabled is False
    assert cfg.scan.n_points == 1_000_000 and isinstance(cfg.scan.n_points, int)
    with pytest.raises(RunFileError) as info:
        validate_run(
            {"schema": 1, "priors": {"m_Aprime": {"value": 0.01}}, "optimize": {"profile": {"parameter": "m_Aprime"}}}
        )
    assert info.value.key == "optimize.profile.parameter"


def test_config_is_frozen():
    cfg = load_run()
    with pytest.raises(Exception):
        cfg.sample.num_chains = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        cfg.likelihood.overrides["x"] = {}  # type: ignore[index]


def test_set_options():
    assert parse_set_option("sample.num_chains=2") == ("sample.num_chains", 2)
    assert parse_set_option("run.name=my-run") == ("run.name", "my-run")
    assert parse_set_option('run.name="quoted"') == ("run.name", "quoted")
    assert parse_set_option("scan.projections=[['M_F','m_S1']]") == ("scan.projections", [["M_F", "m_S1"]])
    assert parse_set_option("sample.dense_mass=true") == ("sample.dense_mass", True)
    cfg = load_run(overrides={"sample.num_chains": 2, "priors.M_F.low": 500.0, "run.seed": 9})
    assert cfg.sample.num_chains == 2 and cfg.prior("M_F").low == 500.0 and cfg.run.seed == 9
    with pytest.raises(RunFileError) as info:
        load_run(overrides={"sample.num_chains": 0})
    assert info.value.key == "sample.num_chains"
    with pytest.raises(RunFileError):
        parse_set_option("no_equals_sign")


def test_output_path_template(tmp_path):
    cfg = validate_run(
        {
            "schema": 1,
            "run": {"name": "abc", "seed": 3, "job": "scan", "output_dir": str(tmp_path / "{job}-{name}-{seed}")},
        }
    )
    assert cfg.output_path == tmp_path / "scan-abc-3"
    with pytest.raises(RunFileError) as info:
        validate_run({"schema": 1, "run": {"output_dir": "runs/{nme}"}})
    assert info.value.key == "run.output_dir"


def test_every_default_prior_parses_explicitly():
    for name, prior in DEFAULT_PRIORS.items():
        dc = "alpha_D" if name == "alpha_D" else "g_D"
        ys = "separate" if name.startswith("ypE_") else "shared"
        model = {"dark_coupling": dc, "yukawa_structure": ys}
        cfg = validate_run({"schema": 1, "model": model, "priors": {name: prior.as_dict()}})
        assert cfg.prior(name) == prior


# ---------------------------------------------------------------------------------------------
# atomic writes


def test_atomic_write_leaves_no_temporaries(tmp_path):
    p = atomic_write_text(tmp_path / "a" / "f.txt", "one")
    atomic_write_text(p, "two")
    assert p.read_text() == "two"
    atomic_write_json(tmp_path / "a" / "g.json", {"x": 0.1 + 0.2})
    assert json.loads((tmp_path / "a" / "g.json").read_text())["x"] == 0.1 + 0.2
    assert sorted(os.listdir(tmp_path / "a")) == ["f.txt", "g.json"]


def test_atomic_write_failure_keeps_old_file(tmp_path):
    p = atomic_write_text(tmp_path / "f.json", "old")

    class Boom:
        pass

    with pytest.raises(TypeError):
        atomic_write_json(p, {"x": Boom()})
    assert p.read_text() == "old" and os.listdir(tmp_path) == ["f.json"]


def test_error_carries_file_and_line(tmp_path):
    p = tmp_path / "r.toml"
    p.write_text("schema = 1\n[sample]\nnum_warmup = 10\nnum_chains = -2\n")
    with pytest.raises(RunFileError) as info:
        load_run(p)
    assert info.value.file == str(p) and info.value.line == 4 and info.value.key == "sample.num_chains"
    assert str(info.value) == f"{p}:4: sample.num_chains: expected a positive integer, got -2"


def test_prior_box_beyond_physical_bounds_is_refused():
    for key, value in (
        ("priors.y_e.high", 100.0),
        ("priors.g_D.high", 100.0),
        ("priors.epsilon.high", 10.0),
        ("priors.theta.high", 4.0),
        ("priors.M_F.low", -1.0),
        ("priors.yp_mu.low", -5.0),
    ):
        with pytest.raises(RunFileError) as info:
            load_run(overrides={key: value})
        assert info.value.key == key and "physical range" in info.value.what


def test_relative_paths_resolve_against_the_run_file(tmp_path):
    (tmp_path / "sub").mkdir()
    p = tmp_path / "sub" / "r.toml"
    p.write_text('schema = 1\n[likelihood]\nregistry = "mine.toml"\n[run]\noutput_dir = "out/{name}"\n')
    cfg = load_run(p)
    assert cfg.likelihood.registry == str(tmp_path / "sub" / "mine.toml")
    assert cfg.output_path == tmp_path / "sub" / "out" / "reference"
    assert load_run().output_path == Path.cwd() / "runs" / "reference-sample"


# ---------------------------------------------------------------------------------------------
# property tests: every valid run file and prior box round-trips; every invalid box is refused by key

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from djax.model import PARAMETER_INFO, SchemaError, make_prior  # noqa: E402

_FREE = [n for n in DEFAULT_PRIORS if n != "alpha_D" and not n.startswith("ypE_")]  # the shared-Yukawa model


@st.composite
def _prior_table(draw, name):
    info = PARAMETER_INFO[name]
    lo_b = info.lo if info.lo is not None else 1e-3
    hi_b = info.hi if info.hi is not None else 1e5
    if info.lo_open or name in ("M_F", "m_S1", "m_S2", "m_Aprime", "epsilon"):
        lo_b = max(lo_b, 1e-9)
        a = draw(st.floats(math.log(lo_b), math.log(hi_b) - 1e-3, allow_nan=False))
        b = draw(
            st.floats(
                a + 1e-6,
                math.log(hi_b) if info.hi is None or not info.hi_open else math.log(hi_b) - 1e-9,
                allow_nan=False,
            )
        )
        return {"type": "log_uniform", "low": math.exp(a), "high": min(math.exp(b), hi_b * (1 - 1e-12))}
    a = draw(st.floats(lo_b, hi_b, allow_nan=False))
    b = draw(st.floats(lo_b, hi_b, allow_nan=False))
    if a == b:
        return {"value": a}
    lo, hi = min(a, b), max(a, b)
    if name.startswith("y"):
        return {
            "type": "signed_log_uniform",
            "low": lo,
            "high": hi,
            "scale": draw(st.floats(1e-16, 1e-2, allow_nan=False)),
        }
    return {"type": "uniform", "low": lo, "high": hi}


@st.composite
def _run_data(draw):
    names = draw(st.lists(st.sampled_from(_FREE), unique=True, max_size=5))
    priors = {n: draw(_prior_table(n)) for n in names}
    data = {
        "schema": 1,
        "priors": priors,
        "run": {
            "seed": draw(st.integers(0, 2**63 - 1)),
            "name": draw(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)),
        },
        "sample": {"num_chains": draw(st.integers(2, 64)), "target_accept": draw(st.floats(0.01, 0.999))},
        "scan": {"n_points": draw(st.integers(1, 10**9)), "method": draw(st.sampled_from(["random", "sobol"]))},
        "likelihood": {"preset": draw(st.sampled_from(["paper", "full", "future"]))},
    }
    if all(p.get("value") is not None for p in priors.values()) and len(priors) == len(_FREE):
        priors.pop(next(iter(priors)))
    return data


@given(_run_data())
def test_valid_run_files_round_trip(data):
    cfg = validate_run(data)
    again = parse_run(resolved_toml(cfg))
    assert again == cfg and resolved_toml(again) == resolved_toml(cfg)


@given(
    st.sampled_from(_FREE),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
)
def test_prior_boxes_inside_the_physical_range_or_refused(name, a, b):
    info = PARAMETER_INFO[name]
    lo, hi = min(a, b), max(a, b)
    kind = "uniform"
    try:
        p = make_prior(name, kind, lo, hi)
    except SchemaError as exc:
        assert exc.key.startswith(f"priors.{name}")
        assert lo == hi or not (info.contains(lo) and info.contains(hi))
        return
    assert info.contains(p.low) and info.contains(p.high) and p.low < p.high
    u = np.linspace(0.0, 1.0, 5)
    x = p.from_unit(u)
    assert np.all((x >= p.low - 1e-12 * abs(p.low)) & (x <= p.high + 1e-12 * abs(p.high)))
    np.testing.assert_allclose(p.to_latent(p.to_physical(p.latent_bounds()[0] + 0.5)), p.latent_bounds()[0] + 0.5)
