"""Baseline-image tests of the figures: each figure type is drawn from a small synthetic input with a fixed seed,
saved as PNG at low resolution and compared with the committed image in ``tests/baseline_images/`` by
:func:`matplotlib.testing.compare.compare_images` (RMS tolerance :data:`TOL`).

The figures are drawn in the one figure style (:func:`djax.plotting._style.style_context`: matplotlib defaults
plus fixed DejaVu Sans / mathtext fonts and sizes) on the Agg backend, with no dates in the files, so the images
are reproducible. A failing comparison leaves the new image and a difference image next to each other in pytest's
temporary folder (the assertion message names them).

Regenerate the baselines after an intended change of a figure (then look at every changed image before
committing it)::

    DJAX_UPDATE_BASELINES=1 .venv/bin/python -m pytest -q tests/test_figure_baselines.py
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.testing.compare import compare_images  # noqa: E402

from djax.io import load_registry  # noqa: E402
from djax.plotting import (  # noqa: E402
    certified_hierarchy_plot,
    corner_plot,
    epsilon_mass_plane,
    hierarchy_plot,
    observable_posteriors,
    save_figure,
    scan_map_plots,
    term_posteriors,
    trace_plot,
)

BASELINE_DIR = Path(__file__).parent / "baseline_images"
#: RMS tolerance of the comparisons (0-255 grey levels): text anti-aliasing differences stay far below it, a moved
#: curve, contour or label does not.
TOL = 3.0
DPI = 60
UPDATE = os.environ.get("DJAX_UPDATE_BASELINES", "") not in ("", "0")


def check_figure(fig, name: str, tmp_path: Path) -> None:
    """Save ``fig`` as ``<name>.png`` (DPI) and compare it with the baseline (or write it when updating)."""
    (actual,) = save_figure(fig, tmp_path / name, ("png",), dpi=DPI)
    plt.close(fig)
    expected = BASELINE_DIR / f"{name}.png"
    if UPDATE:
        BASELINE_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(actual, expected)
        return
    assert expected.is_file(), f"no baseline {expected}; create it with DJAX_UPDATE_BASELINES=1 (see the docstring)"
    err = compare_images(str(expected), str(actual), tol=TOL)
    assert err is None, err


# ------------------------------------------------------------------------------------------------
# synthetic inputs (fixed seeds)

PARAMS = ("M_F", "m_Aprime", "epsilon", "y_e")


def posterior_tree(n_chains: int = 2, n_draws: int = 400, seed: int = 7, shift: float = 0.0):
    """A DataTree shaped like a sample run's: parameters, derived observables, ln L of the paper terms, a prior
    group and three divergent draws."""
    from arviz_base import from_dict

    rng = np.random.default_rng(seed)
    sh = (n_chains, n_draws)
    z = rng.normal(size=(4,) + sh)
    post = {
        "M_F": 10 ** (3.0 + shift + 0.3 * z[0]),
        "m_Aprime": 10 ** (-1.2 + 0.4 * z[1]),
        "epsilon": 10 ** (-4.8 + 0.3 * z[2] + 0.2 * z[1]),
        "y_e": 1e-6 * np.sinh(rng.uniform(-12.0, 12.0, size=sh)),
    }
    post.update(
        {
            "br_mu_e_gamma": 10 ** (-14.5 + 0.5 * rng.normal(size=sh) - 0.5 * z[0]),
            "borexino_mu_equiv_muB": 10 ** (-14.0 + 0.6 * rng.normal(size=sh)),
            "xenonnt_mu_equiv_muB": 10 ** (-13.8 + 0.6 * rng.normal(size=sh)),
            "m_nu_sum_eV": 10 ** (-2.0 + 0.5 * rng.normal(size=sh)),
            "lnL_meg2_mueg": -rng.exponential(0.1, size=sh),
        }
    )
    rp = np.random.default_rng(seed + 1)
    prior = {
        "M_F": 10 ** rp.uniform(2.0, 4.0, size=sh),
        "m_Aprime": 10 ** rp.uniform(-3.0, math.log10(8.0), size=sh),
        "epsilon": 10 ** rp.uniform(-7.0, -2.0, size=sh),
        "y_e": 1e-6 * np.sinh(rp.uniform(-15.0, 15.0, size=sh)),
    }
    div = np.zeros(sh, bool)
    div.flat[[5, 100, 333]] = True
    stats = {"diverging": div, "lp": rng.normal(-5, 1, size=sh)}
    return from_dict({"posterior": post, "prior": prior, "sample_stats": stats})


def scan_maps(seed: int = 3) -> dict:
    """One epsilon - m_A' projection shaped like ``read_scan_summary(...)["maps"]`` (allowed below a slope)."""
    rng = np.random.default_rng(seed)
    xe = np.logspace(-3, 1, 17)
    ye = np.logspace(-7, -2, 21)
    xc, yc = np.sqrt(xe[1:] * xe[:-1]), np.sqrt(ye[1:] * ye[:-1])
    lx, ly = np.meshgrid(np.log10(xc), np.log10(yc), indexing="ij")
    p = 1.0 / (1.0 + np.exp(4.0 * (ly - (-4.5 + 0.6 * lx))))
    total = rng.integers(20, 40, size=p.shape)
    total[0, -1] = 0  # an empty bin
    allowed = np.round(p * total).astype(int)
    return {
        "m_Aprime__epsilon": {
            "x": "m_Aprime",
            "y": "epsilon",
            "total": total.tolist(),
            "allowed": allowed.tolist(),
            "x_edges": xe.tolist(),
            "y_edges": ye.tolist(),
            "x_scale": "log_uniform",
            "y_scale": "log_uniform",
        }
    }


def hierarchy_table(seed: int = 11, shift: float = 0.0) -> dict:
    rng = np.random.default_rng(seed)
    n = 12
    m = np.logspace(-3, math.log10(8.0), n)
    bl = 10 ** (-16.0 + shift + 0.8 * np.log10(m) + 0.08 * rng.normal(size=n))
    bu = bl * 10 ** (0.3 + 0.3 * rng.uniform(size=n))
    status = np.array(["converged"] * n, dtype=object)
    status[[2, 8]] = "not converged"
    return {
        "m_Aprime_GeV": m,
        "borexino_lower_muB": bl,
        "borexino_upper_muB": bu,
        "xenonnt_lower_muB": bl * 3.0,
        "xenonnt_upper_muB": bu * 4.0,
        "status": status,
        "converged": status == "converged",
    }


def profile_table(seed: int = 5) -> dict:
    rng = np.random.default_rng(seed)
    n = 10
    m = np.logspace(-3, math.log10(8.0), n)
    bx = 10 ** (-14.0 + 0.8 * np.log10(m) + 0.1 * rng.normal(size=n))
    feas = np.ones(n, bool)
    feas[-1] = False
    bx[-1] = np.nan
    return {
        "parameter": "m_Aprime",
        "values": m,
        "borexino": bx,
        "xenonnt": bx * 4.0,
        "feasible_borexino": feas,
        "feasible_xenonnt": np.ones(n, bool),
    }


LIMITS = {"borexino_mu_limit_muB": 2.8e-11, "xenonnt_mu_limit_muB": 6.3e-12}


@pytest.fixture(autouse=True)
def _close_all():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def dt():
    return posterior_tree()


# ------------------------------------------------------------------------------------------------
# one baseline per figure type


def test_corner_baseline(dt, tmp_path):
    check_figure(corner_plot(dt, params=PARAMS), "corner", tmp_path)


def test_trace_baseline(dt, tmp_path):
    check_figure(trace_plot(dt, params=("M_F", "y_e")), "trace", tmp_path)


def test_scan_map_baseline(tmp_path):
    (fig,) = scan_map_plots(scan_maps(), curves=("na64_2023", "babar2017"), registry=load_registry()).values()
    check_figure(fig, "scan_map", tmp_path)


def test_epsilon_mass_plane_baseline(dt, tmp_path):
    check_figure(epsilon_mass_plane(dt, best_fit={"m_Aprime": 0.05, "epsilon": 2e-5}), "epsilon_mass_plane", tmp_path)


def test_term_panels_baseline(dt, tmp_path):
    ids = ("meg2_mueg", "na64_2023", "babar2017", "borexino_mueff", "xenonnt_mueff", "planck2018_mnu")
    check_figure(term_posteriors(dt, ids, registry=load_registry()), "terms", tmp_path)


def test_observables_baseline(dt, tmp_path):
    check_figure(observable_posteriors(dt), "observables", tmp_path)


def test_hierarchy_baseline(tmp_path):
    check_figure(certified_hierarchy_plot(hierarchy_table()), "hierarchy", tmp_path)


def test_hierarchy_two_panels_baseline(tmp_path):
    fig = certified_hierarchy_plot(
        hierarchy_table(), hierarchy_table(seed=12, shift=1.0), labels=("invisible $A'$ decays", "visible decays")
    )
    check_figure(fig, "hierarchy_two_panels", tmp_path)


def test_hierarchy_profile_baseline(tmp_path):
    check_figure(hierarchy_plot(profile_table(), LIMITS), "hierarchy_profile", tmp_path)


# ------------------------------------------------------------------------------------------------
# the comparison can fail


@pytest.mark.skipif(UPDATE, reason="baselines are being rewritten")
def test_a_changed_figure_fails_the_comparison(tmp_path):
    """A materially different figure (posterior shifted by 0.4 decades in M_F; a hierarchy band moved by a
    decade) exceeds the tolerance, while the unchanged input reproduces its baseline exactly enough."""
    (same,) = save_figure(corner_plot(posterior_tree(), params=PARAMS), tmp_path / "same", ("png",), dpi=DPI)
    assert compare_images(str(BASELINE_DIR / "corner.png"), str(same), tol=TOL) is None
    (again,) = save_figure(corner_plot(posterior_tree(), params=PARAMS), tmp_path / "again", ("png",), dpi=DPI)
    assert compare_images(str(same), str(again), tol=1e-6) is None  # drawing is deterministic
    (moved,) = save_figure(corner_plot(posterior_tree(shift=0.4), params=PARAMS), tmp_path / "moved", ("png",), dpi=DPI)
    err = compare_images(str(BASELINE_DIR / "corner.png"), str(moved), tol=TOL)
    assert err is not None and "RMS" in err
    (band,) = save_figure(certified_hierarchy_plot(hierarchy_table(shift=1.0)), tmp_path / "band", ("png",), dpi=DPI)
    assert compare_images(str(BASELINE_DIR / "hierarchy.png"), str(band), tol=TOL) is not None
