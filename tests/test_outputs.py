"""The files a sample and a scan run leave behind describe themselves: opened with xarray / ArviZ 1.x (nothing
djax-specific), every variable has units, a long name and a LaTeX label; posterior.nc has prior,
log_likelihood and sample_stats groups and the run file, priors, likelihood terms (values, sources, status) and
settings as plain data in its root attributes. The runs are real (tiny) jobs, nothing is mocked."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import djax
from djax.io import parse_run
from djax.jobs import sample, scan
from djax.likelihood import preset_ids

FREE = ("y_e", "yp_mu", "m_Aprime", "epsilon")
REDUCED = """
schema = 1
[run]
name = "outputs"
seed = 5
[model]
dark_photon_decays = "invisible"
[priors.M_F]
value = 1000.0
[priors.m_S1]
value = 300.0
[priors.m_S2]
value = 900.0
[priors.theta]
value = 0.6
[priors.y_mu]
value = 0.0
[priors.y_tau]
value = 0.0
[priors.yp_e]
value = 0.0
[priors.yp_tau]
value = 0.0
[priors.g_D]
value = 1.0
[priors.m_Aprime]
type = "log_uniform"
low = 0.01
high = 0.04
[priors.y_e]
type = "log_uniform"
low = 1e-6
high = 3.0
[priors.yp_mu]
type = "signed_log_uniform"
low = -3.0
high = 3.0
scale = 1e-6
[priors.epsilon]
type = "log_uniform"
low = 1e-7
high = 1e-2
[sample]
num_warmup = 30
num_samples = 30
num_chains = 2
checkpoint_every = 0
[scan]
n_points = 1200
chunk_size = 400
method = "sobol"
projections = [["y_e", "epsilon"]]
[output]
plots = false
"""
ADDRESS = re.compile(r"<function|<bound method| at 0x[0-9a-fA-F]+>|functools\.partial")


@pytest.fixture(scope="module")
def runfile(tmp_path_factory):
    p = tmp_path_factory.mktemp("outputs") / "reduced.toml"
    p.write_text(REDUCED)
    return p


@pytest.fixture(scope="module")
def sample_run(runfile, tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "run"
    res = sample(runfile, out=out, progress=False, quiet=True)
    return res.folder


@pytest.fixture(scope="module")
def dt(sample_run):
    import xarray as xr

    with xr.open_datatree(str(sample_run / "posterior.nc"), engine="h5netcdf") as tree:
        yield tree.load()


def _variables(dt):
    for group in dt.groups[1:]:
        for name, da in dt[group].data_vars.items():
            yield group, str(name), da


def test_groups_and_shapes(dt):
    assert {"/posterior", "/prior", "/log_likelihood", "/sample_stats"} <= set(dt.groups)
    post, prior = dt["posterior"], dt["prior"]
    assert dict(post.sizes) == {"chain": 2, "draw": 30}
    assert dict(prior.sizes) == dict(post.sizes)  # prior draws shaped like the posterior
    # same NumPyro model, same site names (latents, physical parameters, observables, ln L per term)
    assert set(prior.data_vars) == set(post.data_vars)
    for name in FREE:
        assert name in post.data_vars and name in prior.data_vars
    for latent in ("y_e__u", "m_Aprime__u", "epsilon__u", "yp_mu__u"):
        assert latent in post.data_vars
    # prior draws lie in the prior box; the fixed parameters are not sites
    assert float(prior["epsilon"].min()) >= 1e-7 and float(prior["epsilon"].max()) <= 1e-2
    assert float(prior["m_Aprime"].min()) >= 0.01 and float(prior["m_Aprime"].max()) <= 0.04
    assert "M_F" not in post.data_vars and "loglike" not in prior.data_vars
    assert {"lp", "energy", "tree_depth", "n_steps", "diverging", "acceptance_rate", "step_size"} <= set(
        dt["sample_stats"].data_vars
    )


def test_every_variable_describes_itself(dt):
    for group, name, da in _variables(dt):
        for key in ("units", "long_name", "latex"):
            assert isinstance(da.attrs.get(key), str), (group, name, key)
        assert da.attrs["long_name"] and da.attrs["latex"], (group, name)
    post = dt["posterior"]
    assert post["m_Aprime"].attrs["units"] == "GeV" and post["m_Aprime"].attrs["latex"] == "m_{A'}"
    assert post["borexino_mu_equiv_muB"].attrs["units"] == "mu_B"
    assert post["m_nu_sum_eV"].attrs["units"] == "eV"
    assert post["epsilon"].attrs["long_name"] == "kinetic mixing"
    assert post["epsilon"].attrs["prior"] == "log_uniform on [1e-07, 0.01]"
    # a latent names its transform and its latent range
    lat = post["m_Aprime__u"].attrs["long_name"]
    assert "latent" in lat and "ln(m_Aprime / GeV)" in lat and "exp(u)" in lat and "Uniform(" in lat
    assert post["m_Aprime__u"].attrs["units"] == "1"
    slat = post["yp_mu__u"].attrs["long_name"]
    assert "asinh(yp_mu / s)" in slat and "s = 1e-06" in slat and "s sinh(u)" in slat
    assert "MEG II" in post["lnL_meg2_mueg"].attrs["long_name"]
    assert dt["sample_stats"]["diverging"].attrs["long_name"].startswith("divergent")


def test_log_likelihood_group_is_ln_l_per_term(dt):
    ids = dt.attrs["terms"].split(",")
    assert ids == list(preset_ids("paper"))
    ll = dt["log_likelihood"]
    assert sorted(ll.data_vars) == sorted(ids)  # variable name = term id
    for t in ids:
        assert ll[t].dims == ("chain", "draw")
        np.testing.assert_array_equal(ll[t].values, dt["posterior"][f"lnL_{t}"].values)
        assert np.all(ll[t].values <= 0.0)
        assert ll[t].attrs["units"] == "1" and ll[t].attrs["term"] == t
    assert "MEG II" in ll["meg2_mueg"].attrs["long_name"] and "2504.15711" in ll["meg2_mueg"].attrs["description"]
    assert "leave-one-term-out" in dt["log_likelihood"].attrs["description"]


def test_root_attributes_are_plain_data(dt, runfile):
    a = dt.attrs
    # the resolved run file re-parses to the same job
    cfg = parse_run(a["run_file"], source="<posterior.nc>")
    assert cfg.run.seed == 5 and set(cfg.free_parameters) == set(FREE)
    assert a["run_file_source"] == str(runfile) and a["djax_version"] == djax.__version__
    priors = json.loads(a["priors"])
    assert len(priors) == 13
    assert priors["M_F"] == {
        "type": "fixed",
        "value": 1000.0,
        "description": "fixed at 1000 GeV",
        "units": "GeV",
        "long_name": priors["M_F"]["long_name"],
        "latent": None,
    }
    assert priors["yp_mu"]["type"] == "signed_log_uniform" and priors["yp_mu"]["scale"] == 1e-6
    assert priors["epsilon"]["description"] == "log_uniform on [1e-07, 0.01]"
    assert priors["epsilon"]["latent"] == "epsilon__u"
    terms = json.loads(a["likelihood_terms"])
    assert list(terms) == list(preset_ids("paper"))
    meg = terms["meg2_mueg"]
    assert meg["value"] == 1.5e-13 and meg["cl"] == 0.9 and meg["arxiv"] == "2504.15711"
    assert meg["experiment"].startswith("MEG II") and meg["status"] in ("verified", "memory", "derived")
    assert "Eur. Phys. J. C" in meg["journal"] and "arXiv:2504.15711" in meg["reference"]
    assert terms["na64_2023"]["form"] == "curve" and len(terms["na64_2023"]["file_sha256"]) == 64
    settings = json.loads(a["settings_json"])
    assert settings["init_strategy"] == "init_to_uniform(radius=0.5)"
    assert a["setting_init_strategy"] == "init_to_uniform(radius=0.5)"
    assert settings["num_chains"] == 2 and settings["num_samples"] == 30
    assert json.loads(a["model"])["dark_photon_decays"] == "invisible"
    for k, v in a.items():
        assert isinstance(v, (str, int, float, np.integer, np.floating)), k
        assert not ADDRESS.search(str(v)), (k, str(v)[:200])


def test_arviz_summary_and_plot_dist_on_the_file(dt):
    import arviz as az
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = az.summary(dt)
    for name in FREE:
        assert name in table.index
    assert {"mean", "sd", "ess_bulk", "r_hat"} <= set(table.columns)
    assert "epsilon" in az.summary(dt, group="prior").index
    assert "meg2_mueg" in az.summary(dt, group="log_likelihood").index
    az.plot_dist(dt)
    az.plot_dist(dt, group="prior", var_names=["epsilon", "m_Aprime"])
    plt.close("all")


def test_loo_per_term(dt):
    import arviz as az

    from djax.inference import loo_by_term, stack_log_likelihood

    ids = list(preset_ids("paper"))
    one = az.loo(dt, var_name="meg2_mueg")  # the leave-MEG-II-out elpd, straight from the file
    assert np.isfinite(one.elpd) and one.elpd <= 0.0
    res = loo_by_term(dt)
    assert list(res.elpd_i.coords["term"].values) == ids
    assert res.pareto_k.dims == ("term",) and res.n_data_points == len(ids)
    assert res.elpd == pytest.approx(float(res.elpd_i.sum()), rel=1e-12, abs=0)
    assert res.elpd_i.sel(term="meg2_mueg").item() == pytest.approx(one.elpd, rel=1e-9, abs=0)
    st = stack_log_likelihood(dt)
    assert st["log_likelihood"]["terms"].dims == ("chain", "draw", "term")


def test_summary_files_and_reader(sample_run, dt):
    from djax.io import read_datatree

    assert (sample_run / "summary.txt").is_file() and (sample_run / "summary.csv").is_file()
    back = read_datatree(sample_run / "posterior.nc")
    assert set(back.groups) == set(dt.groups)


# ------------------------------------------------------------------------------------------------------------
# scan store
# ------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scan_run(runfile, tmp_path_factory):
    out = tmp_path_factory.mktemp("scan") / "run"
    scan(runfile, out=out, progress=False, quiet=True)
    return out


def test_scan_store_opens_as_datatree(scan_run):
    import xarray as xr
    import zarr

    store = scan_run / "scan.zarr"
    zarr.open_consolidated(str(store), zarr_format=3)  # consolidated metadata were written
    with xr.open_datatree(str(store), engine="zarr", consolidated=True) as tree:
        assert {"/params", "/outputs"} <= set(tree.groups)
        params, outputs = tree["params"], tree["outputs"]
        np.testing.assert_array_equal(outputs["point"].values, np.arange(1200))
        assert "point" in outputs.coords and "point" in params.coords
        assert set(FREE) <= set(params.data_vars)
        for name in FREE:
            da = params[name]
            assert da.dims == ("point",)
            assert da.attrs["units"] in ("GeV", "1") and da.attrs["long_name"]
            assert da.attrs["prior"]
        assert params["m_Aprime"].attrs["units"] == "GeV"
        for name, da in outputs.data_vars.items():
            assert da.dims[0] == "point", name
            assert "units" in da.attrs and da.attrs["long_name"], name
        assert outputs["loglike"].attrs["long_name"] == "joint log-likelihood"
        assert outputs["br_mu_e_gamma"].attrs["long_name"] == "branching ratio of mu -> e gamma"
        maps = [g for g in tree.groups if g.startswith("/maps/")]
        assert maps and tree[maps[0]]["total"].dims == ("x_bin", "y_bin")
        assert int(tree[maps[0]]["total"].sum()) == 1200
