"""The notebooks (notebooks/*.py, jupytext percent format, paired with *.ipynb) run with small settings.

Each notebook's ``.py`` source is executed in a subprocess of this interpreter with ``DJAX_NOTEBOOK_SMALL=1``
in a temporary working directory; the test checks the exit status and that the key results are printed. A
second test checks that every ``.ipynb`` holds the same cells as its ``.py`` source (jupytext round trip), and
a third executes one ``.ipynb`` through a Jupyter kernel (nbclient) with a temporary kernelspec pointing at
this interpreter (nothing is installed globally).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"

#: notebook -> strings its small run must print
EXPECTED = {
    "01_quickstart": ["br_mu_e_gamma", "all gradients finite: True", "points/s", "ValueError: Params.m_S1"],
    "02_reference_study": [
        "HIERARCHY TABLE",
        "log10(lim/max)",
        "TAU / NEUTRINO-MASS TABLE",
        "SUM m_nu AT THE PROFILE MAXIMA",
    ],
    "03_posterior_sampling": ["DIAGNOSTICS TABLE", "r_hat", "divergent transitions:", "corner.png"],
    "04_scans": ["ALLOWED FRACTION:", "map m_Aprime__epsilon", "RESUMED:", "identical: True"],
    "05_custom_limits": ["LOG-LIKELIHOOD TABLE", "my_mueg_5e14", "PROFILE POINT TABLE", "future"],
}
NOTEBOOKS = sorted(EXPECTED)


def _env() -> dict:
    env = dict(os.environ)
    env["DJAX_NOTEBOOK_SMALL"] = "1"
    env["MPLBACKEND"] = "Agg"
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def test_every_notebook_is_listed():
    assert sorted(p.stem for p in NB_DIR.glob("[0-9][0-9]_*.py")) == NOTEBOOKS


@pytest.mark.notebooks
@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_source_runs(name, tmp_path, record_property):
    src = NB_DIR / f"{name}.py"
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(src)], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=900
    )
    dt = time.perf_counter() - t0
    record_property("runtime_s", round(dt, 1))
    print(f"{name}: {dt:.1f} s")
    assert proc.returncode == 0, f"{name} failed ({dt:.0f} s):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    for s in EXPECTED[name]:
        assert s in proc.stdout, f"{name}: expected {s!r} in its output:\n{proc.stdout[-4000:]}"
    assert list(tmp_path.iterdir()) == [], f"{name} wrote into its working directory: {list(tmp_path.iterdir())}"


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_ipynb_in_sync_with_py(name):
    jupytext = pytest.importorskip("jupytext")
    nbformat = pytest.importorskip("nbformat")
    from_py = jupytext.read(NB_DIR / f"{name}.py")
    ipynb = nbformat.read(NB_DIR / f"{name}.ipynb", as_version=4)
    assert _cells(from_py) == _cells(ipynb), f"{name}.ipynb is out of date: run `jupytext --to ipynb {name}.py`"
    for c in ipynb.cells:  # committed without outputs
        if c.cell_type == "code":
            assert c.outputs == [] and c.execution_count is None, f"{name}.ipynb holds outputs"


@pytest.mark.notebooks
@pytest.mark.slow
def test_ipynb_executes_with_nbclient(tmp_path, monkeypatch):
    """Run 01_quickstart.ipynb through a kernel whose kernelspec (in a temp JUPYTER_PATH) uses this Python."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    kdir = tmp_path / "jupyter" / "kernels" / "djax-test"
    kdir.mkdir(parents=True)
    (kdir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "djax test",
                "language": "python",
                "env": {"DJAX_NOTEBOOK_SMALL": "1", "MPLBACKEND": "Agg"},
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("DJAX_NOTEBOOK_SMALL", "1")
    work = tmp_path / "work"
    work.mkdir()
    nb = nbformat.read(NB_DIR / "01_quickstart.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name="djax-test", timeout=600, resources={"metadata": {"path": str(work)}}
    )
    client.execute()
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "all gradients finite: True" in text
