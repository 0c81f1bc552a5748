"""Tests of djax.plotting: figures of synthetic run folders (sample, optimize, scan) and `djax plot`."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from djax.errors import DjaxError  # noqa: E402
from djax.io import (  # noqa: E402
    read_profile_csv,
    resolved_toml,
    validate_run,
    write_best_fit,
    write_datatree,
    write_limits,
    write_profile_csv,
)
from djax.plotting import (  # noqa: E402
    PlotInputError,
    corner_plot,
    epsilon_mass_plane,
    hierarchy_plot,
    observable_posteriors,
    plot_run,
    run_job,
    save_figure,
    trace_plot,
)

SQRT4PI = math.sqrt(4 * math.pi)


# ------------------------------------------------------------------------------------------------
# synthetic run folders (same layout as the sample / optimize / scan jobs write)


def _write_common(folder: Path, job: str, priors: dict | None = None, plot_format: str = "pdf") -> None:
    """The resolved run file, written by the same writer as a job's."""
    folder.mkdir(parents=True, exist_ok=True)
    cfg = validate_run(
        {
            "schema": 1,
            "run": {"name": f"synthetic_{job}", "job": job},
            "output": {"plot_format": plot_format},
            "priors": dict(priors or {}),
        }
    )
    (folder / "run.toml").write_text(resolved_toml(cfg), encoding="utf-8")


DEFAULT_PRIORS = {
    "M_F": {"type": "log_uniform", "low": 100.0, "high": 1e4},
    "m_S1": {"type": "log_uniform", "low": 10.0, "high": 1e4},
    "m_S2": {"type": "log_uniform", "low": 10.0, "high": 1e4},
    "theta": {"type": "uniform", "low": 0.0, "high": math.pi / 2},
    **{
        y: {"type": "signed_log_uniform", "low": -SQRT4PI, "high": SQRT4PI, "scale": 1e-6}
        for y in ("y_e", "y_mu", "y_tau", "yp_e", "yp_mu", "yp_tau")
    },
    "g_D": {"type": "uniform", "low": 0.0, "high": SQRT4PI},
    "m_Aprime": {"type": "log_uniform", "low": 1e-3, "high": 8.0},
    "epsilon": {"type": "log_uniform", "low": 1e-7, "high": 1e-2},
}


def synthetic_posterior(n_chains=2, n_draws=200, params=("M_F", "m_S1", "m_Aprime", "epsilon", "y_e"), seed=0, n_div=3):
    """Pseudo-posterior dict (chain, draw) with the parameter names, derived observables and lnL terms."""
    rng = np.random.default_rng(seed)
    shape = (n_chains, n_draws)
    z = rng.normal(size=(4,) + shape)
    draws = {
        "M_F": 10 ** (3.0 + 0.4 * z[0]),
        "m_S1": 10 ** (2.0 + 0.5 * z[1]),
        "m_S2": 10 ** (2.7 + 0.3 * rng.normal(size=shape)),
        "theta": np.clip(0.8 + 0.3 * rng.normal(size=shape), 0, math.pi / 2),
        "g_D": np.abs(1.0 + 0.5 * rng.normal(size=shape)),
        "m_Aprime": 10 ** (-1.0 + 0.6 * z[2]),
        "epsilon": 10 ** (-5.0 + 0.5 * z[3] + 0.3 * z[2]),
    }
    for y in ("y_e", "y_mu", "y_tau", "yp_e", "yp_mu", "yp_tau"):
        draws[y] = 1e-6 * np.sinh(rng.uniform(-14.0, 14.0, size=shape))
    post = {k: draws[k] for k in params}
    lm = np.log10(draws["M_F"])
    post.update(
        {
            "br_mu_e_gamma": 10 ** (-15.0 + 0.8 * rng.normal(size=shape) - 0.5 * (lm - 3)),
            "lambda_em_max_muB": 10 ** (-14.0 + 0.7 * rng.normal(size=shape)),
            "borexino_mu_equiv_muB": 10 ** (-14.5 + 0.7 * rng.normal(size=shape)),
            "xenonnt_mu_equiv_muB": 10 ** (-14.3 + 0.7 * rng.normal(size=shape)),
            "m_nu_sum_eV": 10 ** (-2.0 + 1.0 * rng.normal(size=shape)),
            "lnL_meg2_mueg": -rng.exponential(0.1, size=shape),
            "lnL_na64_2023": -rng.exponential(0.2, size=shape),
        }
    )
    stats = {
        "energy": rng.normal(10, 2, size=shape),
        "tree_depth": rng.integers(3, 8, size=shape),
        "diverging": np.zeros(shape, dtype=bool),
        "lp": rng.normal(-5, 1, size=shape),
    }
    stats["diverging"].flat[rng.choice(n_chains * n_draws, size=n_div, replace=False)] = True
    return post, stats


def make_sample_run(folder: Path, **kw) -> Path:
    from arviz_base import from_dict

    _write_common(folder, "sample", DEFAULT_PRIORS)
    post, stats = synthetic_posterior(**kw)
    write_datatree(from_dict({"posterior": post, "sample_stats": stats}), folder / "posterior.nc")
    return folder


def synthetic_profile(n=12, seed=1):
    rng = np.random.default_rng(seed)
    m = np.logspace(-3, np.log10(8.0), n)
    bx = 10 ** (-14.0 + 0.8 * np.log10(m) + 0.1 * rng.normal(size=n))
    xe = bx * 10 ** (0.6 + 0.1 * rng.normal(size=n))
    feas_b = np.ones(n, bool)
    feas_b[-1] = False
    bx[-1] = np.nan
    return {
        "parameter": "m_Aprime",
        "values": m,
        "borexino": bx,
        "xenonnt": xe,
        "feasible_borexino": feas_b,
        "feasible_xenonnt": np.ones(n, bool),
    }


LIMITS = {"borexino_mu_limit_muB": 2.8e-11, "xenonnt_mu_limit_muB": 6.3e-12}


def make_optimize_run(folder: Path, best_fit=True, plot_format="pdf") -> Path:
    """An optimize run folder written by the optimize job's writers (djax.io)."""
    _write_common(folder, "optimize", DEFAULT_PRIORS, plot_format)
    prof = synthetic_profile()
    rows = [
        {
            "value": float(prof["values"][i]),
            "borexino": float(prof["borexino"][i]),
            "xenonnt": float(prof["xenonnt"][i]),
            "feasible_borexino": bool(prof["feasible_borexino"][i]),
            "feasible_xenonnt": bool(prof["feasible_xenonnt"][i]),
        }
        for i in range(prof["values"].size)
    ]
    write_profile_csv(folder / "profile.csv", "m_Aprime", rows, comments=("synthetic",))
    write_limits(folder / "limits.json", LIMITS)
    if best_fit:
        write_best_fit(
            folder / "best_fit.json",
            {"neg_log_likelihood": 1.2, "parameters": {"m_Aprime": 0.05, "epsilon": 3e-5, "M_F": 800.0}},
        )
    return folder


def make_scan_run(folder: Path) -> Path:
    """A scan run folder written by the scan store (a toy point function over m_A' and epsilon)."""
    import jax.numpy as jnp

    from djax.inference import run_scan
    from djax.io import ScanStore

    _write_common(folder, "scan")

    def toy(p):
        ll = -0.5 * ((jnp.log10(p["epsilon"]) + 4.0) / 0.5) ** 2
        return {"loglike": ll, "allowed": ll > -2.0}

    run_scan(
        toy,
        {"m_Aprime": ("log_uniform", 1e-3, 10.0), "epsilon": ("log_uniform", 1e-7, 1e-2)},
        n_points=400,
        method="sobol",
        chunk_size=200,
        store=ScanStore(folder),
        projections=[("m_Aprime", "epsilon")],
        bins=6,
        progress=False,
    )
    return folder


# ------------------------------------------------------------------------------------------------
# checks


def _check_files(paths, formats=("png", "pdf")):
    paths = [Path(p) for p in paths]
    assert paths, "nothing written"
    for p in paths:
        assert p.is_file() and p.stat().st_size > 1000, p
        assert p.suffix.lstrip(".") in formats
        if p.suffix == ".png":
            img = mpimg.imread(p)
            assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 200
            assert np.ptp(img[..., :3]) > 0.1  # not a blank canvas
        elif p.suffix == ".pdf":
            assert p.read_bytes()[:4] == b"%PDF"
    leftovers = [q for q in paths[0].parent.iterdir() if ".tmp" in q.name]
    assert not leftovers, leftovers


@pytest.fixture(autouse=True)
def _close_all():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    return make_sample_run(tmp_path_factory.mktemp("sample") / "run")


def test_plot_run_sample(sample_dir):
    written = plot_run(sample_dir)
    _check_files(written)
    stems = {p.stem for p in written}
    assert stems == {"corner", "trace", "epsilon_mass_plane", "observables", "terms"}
    assert {p.parent for p in written} == {sample_dir / "plots"}
    assert len(written) == 10  # 5 figures x (png, pdf)
    for p in written:  # journal widths (3.4 or 7 in at 300 dpi), rasterised points keep the files small
        assert p.stat().st_size < 1_200_000, p
        if p.suffix == ".png":
            w = mpimg.imread(p).shape[1]
            assert w in (round(3.4 * 300), 7 * 300), (p, w)


def test_plot_run_optimize(tmp_path):
    d = make_optimize_run(tmp_path / "opt")
    written = plot_run(d, formats=("png",))
    _check_files(written, ("png",))
    assert {p.name for p in written} == {"hierarchy.png", "epsilon_mass_plane.png"}


def test_plot_run_default_formats_follow_run_file(tmp_path):
    d = make_optimize_run(tmp_path / "opt", plot_format="svg")
    written = plot_run(d)
    assert sorted(p.name for p in written if p.stem == "hierarchy") == [
        "hierarchy.pdf",
        "hierarchy.png",
        "hierarchy.svg",
    ]
    assert [p.name for p in plot_run(d, fmt="png")] == ["hierarchy.png", "epsilon_mass_plane.png"]


def test_plot_run_scan(tmp_path):
    d = make_scan_run(tmp_path / "scan")
    written = plot_run(d)
    _check_files(written)
    assert {p.name for p in written} == {"scan_m_Aprime__epsilon.png", "scan_m_Aprime__epsilon.pdf"}
    assert run_job(d) == "scan"


def test_cli_plot(tmp_path, capsys):
    from djax.cli import main

    d = make_optimize_run(tmp_path / "opt", best_fit=False)
    assert main(["plot", str(d)]) == 0
    out = capsys.readouterr().out
    assert "hierarchy.png" in out and "hierarchy.pdf" in out
    _check_files(sorted((d / "plots").iterdir()))
    assert main(["plot", str(d), "--format", "svg"]) == 0
    assert (d / "plots" / "hierarchy.svg").read_bytes().lstrip().startswith(b"<?xml")


def test_cli_plot_missing_file(tmp_path, capsys):
    from djax.cli import main

    d = make_optimize_run(tmp_path / "opt")
    (d / "limits.json").unlink()
    assert main(["plot", str(d)]) == 2
    assert "limits.json" in capsys.readouterr().err


def test_missing_inputs_are_named(tmp_path):
    d = make_optimize_run(tmp_path / "opt")
    (d / "profile.csv").unlink()
    with pytest.raises(DjaxError, match="profile.csv"):
        plot_run(d)
    s = tmp_path / "s"
    _write_common(s, "sample")
    with pytest.raises(DjaxError, match="posterior.nc"):
        plot_run(s)
    e = tmp_path / "empty"
    e.mkdir()
    with pytest.raises(PlotInputError, match="run.toml"):
        plot_run(e)
    with pytest.raises(PlotInputError, match="not found"):
        plot_run(tmp_path / "nowhere")


def test_run_job_guess_without_run_toml(tmp_path):
    d = make_optimize_run(tmp_path / "opt")
    (d / "run.toml").unlink()
    assert run_job(d) == "optimize"


def test_profile_csv_errors(tmp_path):
    p = tmp_path / "profile.csv"
    p.write_text("m_Aprime_GeV,borexino_mu_equiv_max_muB\n0.1,1e-14\n")
    with pytest.raises(DjaxError, match="header"):
        read_profile_csv(p)
    p.write_text(
        "m_Aprime_GeV,borexino_mu_equiv_max_muB,xenonnt_mu_equiv_max_muB,feasible_borexino,"
        "feasible_xenonnt\n0.1,1e-14,2e-14,maybe,True\n"
    )
    with pytest.raises(DjaxError, match="profile.csv:2: feasible"):
        read_profile_csv(p)


def test_profile_column_names_the_profiled_parameter(tmp_path):
    rows = [{"value": 1e-5, "borexino": 1e-20, "xenonnt": 2e-20, "feasible_borexino": True, "feasible_xenonnt": True}]
    write_profile_csv(tmp_path / "p.csv", "epsilon", rows)
    got = read_profile_csv(tmp_path / "p.csv")
    assert got["column"] == "epsilon_1" and got["parameter"] == "epsilon" and got["values"][0] == 1e-5
    write_profile_csv(tmp_path / "q.csv", "M_F", rows)
    assert read_profile_csv(tmp_path / "q.csv")["column"] == "M_F_GeV"


def test_best_fit_of_an_optimize_run_is_drawn(tmp_path):
    from djax.plotting import best_fit_point

    d = make_optimize_run(tmp_path / "opt")
    assert best_fit_point(d) == {"m_Aprime": 0.05, "epsilon": 3e-5}
    fig = epsilon_mass_plane(None, best_fit=best_fit_point(d))
    assert "best fit" in fig.axes[0].get_legend_handles_labels()[1]
    assert best_fit_point(make_optimize_run(tmp_path / "nobest", best_fit=False)) is None


# ------------------------------------------------------------------------------------------------
# the figure functions


def test_corner_plot_transforms_and_divergences():
    from arviz_base import from_dict

    post, stats = synthetic_posterior(params=("M_F", "theta", "epsilon", "y_e"), n_div=5)
    post["g_D"] = np.full((2, 200), 0.5)  # constant: left out
    dt = from_dict({"posterior": post, "sample_stats": stats})
    fig = corner_plot(dt, signed_log_scales={"y_e": 1e-6})
    labels = " ".join(ax.get_xlabel() for ax in fig.axes)
    assert r"\log_{10} M_F" in labels and r"\log_{10} \epsilon" in labels
    assert r"\log_{10} |y_e|" in labels and r"\theta" in labels and "g_D" not in labels
    assert "sinh" not in labels
    legend = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert "5 divergent" in legend and "68% credible" in legend and "95% credible" in legend and "prior" in legend
    # the divergent draws are drawn in red on the off-diagonal panels
    n_red = [
        sum(
            c.get_offsets().shape[0]
            for c in ax.collections
            if len(c.get_facecolor()) and np.allclose(c.get_facecolor()[0][:3], (1, 0, 0))
        )
        for ax in fig.axes
        if ax.get_visible()
    ]
    assert n_red.count(5) == 6 and set(n_red) == {0, 5}  # 6 lower-triangle panels of a 4x4 corner
    # log10 coordinates: the M_F column shows values near 3, not 1000
    xs = np.concatenate(
        [
            np.asarray(c.get_offsets())[:, 0]
            for ax in fig.axes
            if "M_F" in ax.get_xlabel()
            for c in ax.collections
            if len(c.get_offsets())
        ]
    )
    assert xs.size >= 5 and 1.0 < np.median(xs) < 5.0  # the draws outside the 95 % contours, in log10 M_F


def test_corner_plot_param_errors():
    from arviz_base import from_dict

    post, _ = synthetic_posterior()
    dt = from_dict({"posterior": post})
    with pytest.raises(ValueError, match="m_S2"):
        corner_plot(dt, params=["M_F", "m_S2"])
    with pytest.raises(ValueError, match="posterior"):
        corner_plot(from_dict({"sample_stats": {"lp": np.zeros((1, 5))}}))


def test_trace_plot_panels():
    from arviz_base import from_dict

    post, stats = synthetic_posterior(params=("M_F", "m_Aprime", "theta"))
    fig = trace_plot(from_dict({"posterior": post, "sample_stats": stats}))
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 6  # dist + trace per parameter


def test_epsilon_mass_plane_curves_and_samples():
    from djax.io import load_registry

    reg = load_registry()
    fig = epsilon_mass_plane(
        {"m_Aprime": [0.01, 0.1, 1.0], "epsilon": [1e-5, 2e-5, 3e-4]}, best_fit={"m_Aprime": 0.1, "epsilon": 1e-5}
    )
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    labels = ax.get_legend_handles_labels()[1]
    assert any("NA64" in lab for lab in labels) and any("BaBar" in lab for lab in labels)
    assert any("posterior samples (3 of 3)" in lab for lab in labels) and "best fit" in labels
    # each drawn curve is the cleaned registry curve
    c = reg.curve("na64_2023")
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == c.m.size]
    assert any(np.allclose(ln.get_ydata(), c.eps) for ln in lines)
    # shading: one filled region per curve, reaching the top of the axes
    assert (
        len(
            [
                p
                for p in ax.collections
                if type(p).__name__ == "FillBetweenPolyCollection" or type(p).__name__ == "PolyCollection"
            ]
        )
        >= 2
    )
    fig2 = epsilon_mass_plane(None, curves=("na64_2023",))
    assert len(fig2.axes[0].get_legend_handles_labels()[1]) == 1


def test_hierarchy_plot_ratio_panel():
    prof = synthetic_profile()
    fig = hierarchy_plot(prof, LIMITS)
    ax, axr = fig.axes[:2]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    hlines = [
        ln for ln in ax.get_lines() if np.allclose(ln.get_ydata(), ln.get_ydata()[0]) and ln.get_linestyle() == "--"
    ]
    assert sorted(ln.get_ydata()[0] for ln in hlines) == sorted(LIMITS.values())
    ratio_b = [ln for ln in axr.get_lines() if ln.get_label() == "Borexino"][0]
    expect = np.log10(2.8e-11 / prof["borexino"])
    got = np.asarray(ratio_b.get_ydata(), float)
    assert np.isnan(got[-1])  # infeasible grid point left out
    np.testing.assert_allclose(got[:-1], expect[:-1], rtol=1e-12)
    assert any("no feasible point (Borexino)" in lab for lab in ax.get_legend_handles_labels()[1])


def test_observable_posteriors_limits():
    from arviz_base import from_dict

    post, _ = synthetic_posterior()
    post["br_mu_e_gamma"] = np.full((2, 200), 1e-13)
    post["br_mu_e_gamma"][0, :50] = 1e-14  # 25 % below the MEG II limit 1.5e-13
    fig = observable_posteriors(from_dict({"posterior": post}))
    vis = [ax for ax in fig.axes if ax.get_visible()]
    assert len(vis) == 5
    meg = [ax for ax in vis if "mu\\to e" in ax.get_xlabel()][0]
    lims = [ln for ln in meg.get_lines() if ln.get_linestyle() == "--"]
    assert len(lims) == 1 and np.isclose(lims[0].get_xdata()[0], np.log10(1.5e-13))
    assert "P(> limit) = 0%" in lims[0].get_label()  # 1e-13 < 1.5e-13
    mnu = [ax for ax in vis if "m_\\nu" in ax.get_xlabel()][0]
    assert any(np.isclose(ln.get_xdata()[0], np.log10(0.12)) for ln in mnu.get_lines())
    lam = [ax for ax in vis if "lambda" in ax.get_xlabel()][0]
    assert not [ln for ln in lam.get_lines() if ln.get_linestyle() == "--"]  # no limit known


def test_save_figure_atomic(tmp_path):
    fig = hierarchy_plot(synthetic_profile(), LIMITS)
    paths = save_figure(fig, tmp_path / "sub" / "h", ("png", "pdf", "svg"))
    assert [p.name for p in paths] == ["h.png", "h.pdf", "h.svg"]
    _check_files(paths[:2])
    assert sorted(q.name for q in (tmp_path / "sub").iterdir()) == ["h.pdf", "h.png", "h.svg"]


def test_transforms_follow_the_run_file_priors():
    from djax.plotting import LOG_PARAMETERS
    from djax.plotting._style import _transforms_from_priors

    assert _transforms_from_priors(None) == (LOG_PARAMETERS, {})
    logs, scales = _transforms_from_priors(DEFAULT_PRIORS)
    assert logs == {"M_F", "m_S1", "m_S2", "m_Aprime", "epsilon", "alpha_D"}
    assert scales == {y: 1e-6 for y in ("y_e", "y_mu", "y_tau", "yp_e", "yp_mu", "yp_tau")}
    logs, _ = _transforms_from_priors(
        {
            "M_F": {"type": "uniform", "low": 100.0, "high": 1e4},
            "theta": {"type": "log_uniform", "low": 0.01, "high": 1.5},
        }
    )
    assert "M_F" not in logs and "theta" in logs and "m_S1" in logs


# ------------------------------------------------------------------------------------------------
# certified hierarchy table (hierarchy.csv) and its figure


def certified_table(n=8, seed=2, bad=(2,)):
    rng = np.random.default_rng(seed)
    m = np.logspace(-3, np.log10(8.0), n)
    lo = 10 ** (-16.0 + 0.7 * np.log10(m) + 0.05 * rng.normal(size=n))
    st = np.array(["converged"] * n, dtype=object)
    st[list(bad)] = "not converged"
    return {
        "m_Aprime_GeV": m,
        "borexino_lower_muB": lo,
        "borexino_upper_muB": 3.0 * lo,
        "xenonnt_lower_muB": 2.0 * lo,
        "xenonnt_upper_muB": 8.0 * lo,
        "status": st,
    }


def test_hierarchy_table_round_trip(tmp_path):
    from djax.io import HIERARCHY_COLUMNS, read_hierarchy_table, write_hierarchy_table

    tab = certified_table()
    rev = {k: v[::-1] for k, v in tab.items()}  # rows are written sorted by mass
    p = write_hierarchy_table(tmp_path / "hierarchy.csv", rev, metadata={"solver": "bnb", "tolerance": 0.01})
    lines = p.read_text().splitlines()
    assert lines[:2] == ["# solver: bnb", "# tolerance: 0.01"]
    assert lines[2] == ",".join(HIERARCHY_COLUMNS)
    assert lines[2] == "m_Aprime_GeV,borexino_lower_muB,borexino_upper_muB,xenonnt_lower_muB,xenonnt_upper_muB,status"
    got = read_hierarchy_table(p)
    for c in HIERARCHY_COLUMNS[:-1]:
        np.testing.assert_allclose(got[c], tab[c], rtol=1e-10)
    assert list(got["status"]) == list(tab["status"])
    assert got["converged"].tolist() == [s == "converged" for s in tab["status"]]
    assert got["metadata"] == {"solver": "bnb", "tolerance": "0.01"}
    assert not [q for q in tmp_path.iterdir() if ".tmp" in q.name]
    # an xarray Dataset (mass as the coordinate) and boolean statuses are accepted
    import xarray as xr

    ds = xr.Dataset(
        {c: ("m_Aprime_GeV", tab[c]) for c in HIERARCHY_COLUMNS[1:-1]}
        | {"status": ("m_Aprime_GeV", [s == "converged" for s in tab["status"]])},
        coords={"m_Aprime_GeV": tab["m_Aprime_GeV"]},
    )
    got2 = read_hierarchy_table(write_hierarchy_table(tmp_path / "h2.csv", ds))
    assert list(got2["status"]) == list(tab["status"]) and got2["metadata"] == {}


def test_hierarchy_table_errors(tmp_path):
    from djax.io import read_hierarchy_table, write_hierarchy_table

    tab = certified_table()
    with pytest.raises(DjaxError, match="status"):
        write_hierarchy_table(tmp_path / "a.csv", {**tab, "status": ["done"] * 8})
    with pytest.raises(DjaxError, match="borexino_upper_muB"):
        write_hierarchy_table(tmp_path / "b.csv", {**tab, "borexino_upper_muB": tab["borexino_lower_muB"] / 2})
    with pytest.raises(DjaxError, match="xenonnt_upper_muB"):
        write_hierarchy_table(tmp_path / "c.csv", {k: v for k, v in tab.items() if k != "xenonnt_upper_muB"})
    assert not (tmp_path / "a.csv").exists()
    p = tmp_path / "h.csv"
    p.write_text("# x: y\nm_Aprime_GeV,borexino_lower_muB\n0.1,1e-16\n")
    with pytest.raises(DjaxError, match="h.csv:2: header"):
        read_hierarchy_table(p)
    head = "m_Aprime_GeV,borexino_lower_muB,borexino_upper_muB,xenonnt_lower_muB,xenonnt_upper_muB,status\n"
    p.write_text(head + "0.1,1e-16,2e-16,1e-16,3e-16,maybe\n")
    with pytest.raises(DjaxError, match="h.csv:2: status"):
        read_hierarchy_table(p)
    p.write_text(head + "0.1,1e-16,x,1e-16,3e-16,converged\n")
    with pytest.raises(DjaxError, match="row"):
        read_hierarchy_table(p)
    with pytest.raises(DjaxError, match="not found"):
        read_hierarchy_table(tmp_path / "nowhere.csv")
    p.write_text(head + "0.1,nan,inf,1e-16,3e-16,not converged\n")  # no feasible value, no bound: readable
    got = read_hierarchy_table(p)
    assert np.isnan(got["borexino_lower_muB"][0]) and not got["converged"][0]


def test_certified_hierarchy_plot():
    from djax.io import load_registry
    from djax.plotting import certified_hierarchy_plot

    reg = load_registry()
    tab = certified_table(bad=(2, 5))
    fig = certified_hierarchy_plot(tab)
    (ax,) = fig.axes
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    # the direct limits are the registry's values, one dashed line each
    hl = sorted(ln.get_ydata()[0] for ln in ax.get_lines() if ln.get_linestyle() == "--")
    assert hl == sorted([reg["borexino_mueff"].value, reg["xenonnt_mueff"].value])
    # one band per experiment between lower and upper
    bands = [c for c in ax.collections if type(c).__name__ in ("FillBetweenPolyCollection", "PolyCollection")]
    assert len(bands) == 2
    ys = np.concatenate([p.vertices[:, 1] for p in bands[0].get_paths()])
    assert np.isclose(ys.min(), tab["borexino_lower_muB"].min()) and np.isclose(
        ys.max(), tab["borexino_upper_muB"].max()
    )
    # not-converged points: open markers at the upper bound, and a legend entry
    opens = [ln for ln in ax.get_lines() if ln.get_marker() == "o" and ln.get_linestyle() == "None"]
    assert len(opens) == 2 and all(len(ln.get_xdata()) == 2 for ln in opens)
    np.testing.assert_allclose(opens[0].get_ydata(), tab["borexino_upper_muB"][[2, 5]])
    assert all(ln.get_markerfacecolor() == "white" for ln in opens)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "not converged" in labels and "Borexino direct limit" in labels
    # limits given explicitly win over the registry; a second table gives a second panel with shared y
    fig2 = certified_hierarchy_plot(
        tab, certified_table(seed=4), labels=("invisible", "visible"), limits={"xenonnt": 1e-12}
    )
    a1, a2 = fig2.axes
    assert a2.get_title() == "visible" and a1.get_shared_y_axes().joined(a1, a2)
    assert 1e-12 in [ln.get_ydata()[0] for ln in a2.get_lines() if ln.get_linestyle() == "--"]
    # no not-converged point: no such legend entry
    fig3 = certified_hierarchy_plot(certified_table(bad=()))
    assert "not converged" not in [t.get_text() for t in fig3.legends[0].get_texts()]


def test_plot_run_dispatches_to_the_hierarchy_table(tmp_path):
    from djax.io import write_hierarchy_table

    d = make_optimize_run(tmp_path / "opt")
    write_hierarchy_table(d / "hierarchy.csv", certified_table(), metadata={"source": "synthetic"})
    written = plot_run(d, formats=("png",))
    assert {p.name for p in written} == {"hierarchy.png", "hierarchy_profile.png", "epsilon_mass_plane.png"}
    _check_files(written, ("png",))
    (d / "profile.csv").unlink()  # a certified table alone is enough
    (d / "run.toml").unlink()
    assert run_job(d) == "optimize"
    assert {p.name for p in plot_run(d, fmt="png")} == {"hierarchy.png", "epsilon_mass_plane.png"}


# ------------------------------------------------------------------------------------------------
# corner contours, prior overlay, scan maps, term panels


def test_hpd_levels_enclose_the_stated_fraction():
    from djax.plotting import hpd_levels

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 200_000))
    h, xe, ye = np.histogram2d(x[0], x[1], bins=80, range=[[-5, 5], [-5, 5]])
    t68, t95 = hpd_levels(h, (0.68, 0.95))
    assert t68 > t95
    assert np.isclose(h[h >= t68].sum() / h.sum(), 0.68, atol=0.01)
    assert np.isclose(h[h >= t95].sum() / h.sum(), 0.95, atol=0.01)
    # for a 2-D standard normal the 68 % HPD region is the circle r^2 < -2 ln(0.32)
    xc = 0.5 * (xe[1:] + xe[:-1])
    r2 = xc[:, None] ** 2 + xc[None, :] ** 2
    inside = h >= t68
    assert abs(np.median(r2[inside & (r2 > 1.5)]) - 1.5) < 1.0
    assert np.max(r2[inside]) < 2 * -2 * math.log(0.32)


def test_corner_plot_contours_and_prior_overlay():
    from arviz_base import from_dict

    post, stats = synthetic_posterior(params=("M_F", "m_Aprime", "y_e"), n_draws=400)
    dt = from_dict({"posterior": post, "sample_stats": stats})
    fig = corner_plot(dt, priors=DEFAULT_PRIORS)
    vis = [ax for ax in fig.axes if ax.get_visible()]
    assert len(vis) == 6 and fig.get_figwidth() == pytest.approx(3.4)
    contour_sets = [c for ax in vis for c in ax.collections if type(c).__name__ in ("QuadContourSet", "ContourSet")]
    assert len(contour_sets) == 6  # filled + lines in each of the 3 lower panels
    # scatter rasterised
    assert all(c.get_rasterized() for ax in vis for c in ax.collections if type(c).__name__ == "PathCollection")
    # the prior of M_F is log-uniform on [100, 1e4]: flat at 1/2 per decade on the log10 axis
    diag = [ax for ax in vis if ax.get_yticks().size == 0]
    prior_lines = [ln for ax in diag for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(prior_lines) == 3
    mf = prior_lines[0]
    x, y = np.asarray(mf.get_xdata()), np.asarray(mf.get_ydata())
    core = (x > 2.3) & (x < 3.7)
    assert np.allclose(y[core], 0.5, rtol=0.15)
    # the Yukawa axis is log10|y|
    assert any(r"\log_{10} |y_e|" in ax.get_xlabel() for ax in vis)
    # prior draws of a DataTree win over the Prior objects
    dt2 = from_dict({"posterior": post, "prior": {"M_F": 10 ** np.random.default_rng(1).uniform(2.5, 3.5, (2, 400))}})
    fig2 = corner_plot(dt2, params=("M_F", "m_Aprime"))
    (p2,) = [ln for ln in fig2.axes[0].get_lines() if ln.get_linestyle() == "--"]
    y2 = np.asarray(p2.get_ydata())[(np.asarray(p2.get_xdata()) > 2.7) & (np.asarray(p2.get_xdata()) < 3.3)]
    assert np.allclose(y2, 1.0, rtol=0.25)  # uniform over one decade


def test_scan_map_plot_axes_and_curves(tmp_path):
    from djax.io import read_scan_summary
    from djax.plotting import scan_map_plots

    d = make_scan_run(tmp_path / "scan")
    maps = read_scan_summary(d)["maps"]
    (fig,) = scan_map_plots(maps).values()
    ax = fig.axes[0]
    assert ax.get_xlabel() == "$m_{A'}$ [GeV]" and ax.get_ylabel() == r"$\epsilon$"
    assert "m_Aprime" not in ax.get_xlabel() + ax.get_ylabel() + ax.get_title()
    assert ax.get_xscale() == ax.get_yscale() == "log"
    (mesh,) = [c for c in ax.collections if type(c).__name__ == "QuadMesh"]
    assert mesh.get_rasterized() and not mesh.get_antialiased()
    assert np.all(mesh.get_edgecolor() == mesh.get_facecolor()) or mesh._edgecolors == "face"
    labels = ax.get_legend_handles_labels()[1]
    assert any("NA64" in s for s in labels) and any("BaBar" in s for s in labels)
    (fig0,) = scan_map_plots(maps, curves=None).values()
    assert not fig0.axes[0].get_legend_handles_labels()[1]


def test_plot_run_uses_the_presets_curves(tmp_path):
    d = make_scan_run(tmp_path / "scan")
    _write_common(d, "scan")
    txt = (d / "run.toml").read_text()
    assert "preset" in txt
    from djax.plotting._run import _resolved_likelihood

    reg, ids, _ = _resolved_likelihood(d)
    assert [i for i in ids if reg[i].form == "curve"] == ["na64_2023", "babar2017"]


def test_term_posteriors_one_panel_per_term():
    from arviz_base import from_dict

    from djax.io import resolve_likelihood
    from djax.plotting import term_posteriors

    post, _ = synthetic_posterior(params=PARAMETER_NAMES_13, n_draws=30)
    post["delta_a_mu"] = np.full((2, 30), 2e-10)
    dt = from_dict({"posterior": post})
    reg, ids, _ = resolve_likelihood(preset="full")
    fig = term_posteriors(dt, ids, registry=reg, max_recompute=20)
    vis = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in vis] == list(ids)
    by = {ax.get_title(): ax for ax in vis}
    # delta a_mu: the measured band (mean +- sigma) from the registry
    e = reg["damu_2025"]
    (band,) = [
        p for p in by["damu_2025"].patches if type(p).__name__ in ("Rectangle", "Polygon") and p.get_alpha() == 0.25
    ]
    x0, x1 = band.get_x(), band.get_x() + band.get_width()
    assert np.isclose(x0, e.value - e.uncertainty) and np.isclose(x1, e.value + e.uncertainty)
    # d_e and CR(mu -> e) are not stored: recomputed from the parameters (real couplings: d_e = 0)
    assert any("0 for every draw" in t.get_text() for t in by["jila2023_de"].texts)
    assert by["sindrum2_au"].patches, "CR(mu->e, Au) recomputed and drawn"
    lim = [ln for ln in by["sindrum2_au"].get_lines() if ln.get_linestyle() == "--"]
    assert np.isclose(lim[0].get_xdata()[0], math.log10(reg["sindrum2_au"].value))
    # tau decays: log10 BR against the limit
    for tid in ("babar_taueg", "belle_taumug"):
        (ln,) = [x for x in by[tid].get_lines() if x.get_linestyle() == "--"]
        assert np.isclose(ln.get_xdata()[0], math.log10(reg[tid].value))
        assert "tau" in by[tid].get_xlabel()
    # a curve term: epsilon over its 90 % CL curve, limit at 0
    (c0,) = [x for x in by["na64_2023"].get_lines() if x.get_linestyle() == "--"]
    assert c0.get_xdata()[0] == 0.0 and "epsilon_{90}" in by["na64_2023"].get_xlabel()


PARAMETER_NAMES_13 = (
    "M_F", "m_S1", "m_S2", "theta", "y_e", "y_mu", "y_tau", "yp_e", "yp_mu", "yp_tau", "g_D", "m_Aprime", "epsilon",
)  # fmt: skip


def test_figures_are_journal_sized_and_small(tmp_path):
    """PNG at 300 dpi and PDF by default; rasterised points keep both small."""

    from djax.plotting import DEFAULT_FORMATS, PNG_DPI

    assert set(DEFAULT_FORMATS) == {"png", "pdf"} and PNG_DPI == 300
    post, stats = synthetic_posterior(n_draws=2000, params=("M_F", "m_Aprime", "epsilon"))
    fig = epsilon_mass_plane({"m_Aprime": post["m_Aprime"], "epsilon": post["epsilon"]}, max_points=4000)
    assert fig.get_figwidth() == pytest.approx(3.4)
    paths = save_figure(fig, tmp_path / "plane")
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    png = mpimg.imread(paths[0])
    assert png.shape[1] == round(3.4 * 300)
    assert all(p.stat().st_size < 1_000_000 for p in paths)
    assert b"CreationDate" not in paths[1].read_bytes()


def test_excluded_masses_in_the_hierarchy_table(tmp_path):
    from djax.io import read_hierarchy_table, write_hierarchy_table
    from djax.plotting import certified_hierarchy_plot

    tab = certified_table(bad=(1,))
    tab["status"][-1] = "excluded"  # no allowed point: no values
    for c in ("borexino_lower_muB", "borexino_upper_muB", "xenonnt_lower_muB", "xenonnt_upper_muB"):
        tab[c][-1] = np.nan
    got = read_hierarchy_table(write_hierarchy_table(tmp_path / "hierarchy.csv", tab))
    assert got["excluded"].tolist() == [False] * 7 + [True] and got["converged"].sum() == 6
    fig = certified_hierarchy_plot(got)
    ax = fig.axes[0]
    (cross,) = [ln for ln in ax.get_lines() if ln.get_marker() == "x"]
    assert np.allclose(cross.get_xdata(), tab["m_Aprime_GeV"][-1:])
    opens = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    assert all(np.allclose(ln.get_xdata(), tab["m_Aprime_GeV"][[1]]) for ln in opens) and len(opens) == 2
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "excluded (no allowed point)" in labels and "not converged" in labels
