"""The observable/parameter catalogue covers exactly what djax computes and samples (so it cannot drift)."""

import importlib
import subprocess
import sys

import numpy as np
import pytest

import djax
from djax.observables import _catalogue as cat

_ALLOWED_UNITS = {"GeV", "GeV-1", "e cm", "mu_B", "eV", "rad", "1"}
_FIELDS = ("name", "units", "long_name", "latex", "description", "shape", "dtype", "kind")


@pytest.fixture(scope="module")
def obs():
    djax.enable_x64()
    return djax.observables(djax.Params.default())


def _model_attr(name):
    """A schema constant from djax.model (new layout) or djax.inference (old layout)."""
    for mod in ("djax.model", "djax.inference"):
        m = importlib.import_module(mod)
        if hasattr(m, name):
            return getattr(m, name)
    raise AttributeError(name)


def test_every_observable_key_has_an_entry(obs):
    missing = sorted(set(obs) - set(cat.OBSERVABLE_INFO))
    stale = sorted(set(cat.OBSERVABLE_INFO) - set(obs))
    assert not missing, f"djax.observables keys without a catalogue entry: {missing}"
    assert not stale, f"catalogue entries that djax.observables no longer returns: {stale}"


def test_shapes_and_dtypes_match(obs):
    for k, v in obs.items():
        e = cat.observable_info(k)
        assert tuple(np.shape(v)) == e["shape"], k
        assert np.asarray(v).dtype == np.dtype(e["dtype"]), k


def test_non_solar_keys_are_the_rest(obs):
    djax.enable_x64()
    keys = set(djax.observables(djax.Params.default(), solar=False))
    assert keys == set(obs) - set(cat.SOLAR_OBSERVABLES)


def test_every_parameter_and_latent_has_an_entry():
    names = set(_model_attr("PARAMETER_NAMES")) | {"alpha_D"}
    fields = set(djax.model.FIELDS)
    for n in names | fields:
        assert cat.parameter_info(n)["kind"] == "parameter", n
    priors = _model_attr("DEFAULT_PRIORS")
    latent = {f"{n}__u" for n, p in priors.items() if p.type in ("log_uniform", "signed_log_uniform")}
    assert latent, "the default priors have latent coordinates"
    for n in latent:
        e = cat.parameter_info(n)
        assert e["kind"] == "latent" and e["units"] == "1"
        assert "exp(u)" in e["description"] and "sinh(u)" in e["description"]
    # every parameter that may be sampled has a latent entry, whatever its prior type
    for n in names:
        assert f"{n}__u" in cat.PARAMETER_CATALOGUE


def test_numpyro_model_sites_are_catalogued():
    """Every free sample site and parameter deterministic site of the default model has an entry."""
    import numpyro

    model = djax.numpyro_model("paper")
    tr = numpyro.handlers.trace(numpyro.handlers.seed(model, 0)).get_trace()
    names = set(_model_attr("PARAMETER_NAMES"))
    for name, site in tr.items():
        if site["type"] == "sample" and not site["is_observed"]:
            assert name in cat.PARAMETER_CATALOGUE, name
        elif site["type"] == "deterministic" and name in names:
            assert name in cat.PARAMETER_CATALOGUE, name
        elif site["type"] == "deterministic" and not name.startswith("lnL_"):
            assert name in cat.OBSERVABLE_INFO, name


def test_agrees_with_the_parameter_schema():
    """Units and LaTeX labels agree with djax.model.PARAMETER_INFO where that schema exists."""
    schema = getattr(djax.model, "PARAMETER_INFO", None)
    if schema is None:
        pytest.skip("djax.model.PARAMETER_INFO not present in this layout")
    for n, s in schema.items():
        e = cat.parameter_info(n)
        assert e["units"] == s.units, n
        assert e["latex"] == s.latex, n


def test_entries_are_well_formed_and_read_only():
    for table in (cat.OBSERVABLE_INFO, cat.PARAMETER_CATALOGUE):
        for k, e in table.items():
            assert set(e) == set(_FIELDS), k
            assert e["name"] == k
            assert e["units"] in _ALLOWED_UNITS, (k, e["units"])
            assert e["long_name"] and e["latex"] and e["description"], k
            assert "$" not in e["latex"], k
            with pytest.raises(TypeError):
                e["units"] = "m"  # type: ignore[index]
        with pytest.raises(TypeError):
            table["new"] = {}  # type: ignore[index]
    d = cat.observable_info("br_mu_e_gamma")
    d["units"] = "changed"  # a copy
    assert cat.OBSERVABLE_INFO["br_mu_e_gamma"]["units"] == "1"
    assert cat.observable_info("dipole_C_GeV")["units"] == "GeV-1"
    assert cat.observable_info("d_e_ecm")["units"] == "e cm"
    assert cat.observable_info("lambda_dark_muB")["units"] == "mu_B"
    assert cat.observable_info("m_nu_eV")["units"] == "eV"
    assert cat.parameter_info("theta")["units"] == "rad"
    assert cat.latex("br_mu_e_gamma", dollars=True).startswith("$")
    assert cat.info("epsilon")["kind"] == "observable"
    assert cat.info("epsilon__u")["kind"] == "latent"


def test_unknown_names_suggest_close_matches():
    with pytest.raises(KeyError, match="br_mu_e_gamma"):
        cat.observable_info("br_mu_e_gama")
    with pytest.raises(KeyError, match="not in the djax catalogue"):
        cat.parameter_info("nope")


def test_import_needs_no_jax():
    code = (
        "import importlib.util, sys; "
        "spec = importlib.util.spec_from_file_location('c', sys.argv[1]); "
        "m = importlib.util.module_from_spec(spec); "
        "spec.loader.exec_module(m); assert 'jax' not in sys.modules and 'numpy' not in sys.modules; "
        "print(len(m.OBSERVABLE_INFO))"
    )
    out = subprocess.run([sys.executable, "-c", code, cat.__file__], capture_output=True, text=True, check=True)
    assert int(out.stdout) == len(cat.OBSERVABLE_INFO)
