"""Regenerate the committed certified profiles: docs/results/hierarchy-<preset>.csv and their figures.

Runs ``djax optimize`` on the run files that ship with djax (``djax/data/runs/hierarchy-<preset>.toml``), copies
each run folder's ``hierarchy.csv`` and ``hierarchy_certificate.json`` to ``docs/results/`` and draws
``docs/img/hierarchy-<preset>.{png,pdf}`` and the visible-vs-invisible comparison.

    python scripts/hierarchy_profiles.py                 # every preset
    python scripts/hierarchy_profiles.py paper-emu full  # some
    python scripts/hierarchy_profiles.py --figures-only  # redraw the figures from the committed tables

An interrupted preset resumes (``--resume``) from its run folder under ``runs/``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "djax" / "data" / "runs"
PRESETS = ("paper-emu", "paper", "full", "full-no-mnu", "full-no-mnu-invisible")
RESULTS = ROOT / "docs" / "results"
IMG = ROOT / "docs" / "img"


def run(preset: str) -> Path:
    folder = ROOT / "runs" / f"hierarchy-{preset}"
    args = [sys.executable, "-m", "djax.cli", "optimize", str(RUNS / f"hierarchy-{preset}.toml"), "--out", str(folder)]
    args.append("--resume" if (folder / ".djax_run").is_file() else "--overwrite")
    subprocess.run(args, check=True, cwd=ROOT)
    RESULTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / "hierarchy.csv", RESULTS / f"hierarchy-{preset}.csv")
    shutil.copyfile(folder / "hierarchy_certificate.json", RESULTS / f"hierarchy-{preset}-certificate.json")
    return folder


def figures(presets) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from djax.plotting import certified_hierarchy_plot, save_figure

    IMG.mkdir(parents=True, exist_ok=True)
    for p in presets:
        path = RESULTS / f"hierarchy-{p}.csv"
        if path.is_file():
            fig = certified_hierarchy_plot(path)
            save_figure(fig, IMG / f"hierarchy-{p}", ("png", "pdf"))
    if (IMG / "hierarchy-paper-emu.png").is_file():  # the README's figure: the study's reading
        shutil.copyfile(IMG / "hierarchy-paper-emu.png", IMG / "hierarchy.png")
    vis, inv = RESULTS / "hierarchy-full-no-mnu.csv", RESULTS / "hierarchy-full-no-mnu-invisible.csv"
    if vis.is_file() and inv.is_file():
        fig = certified_hierarchy_plot(vis, inv, labels=("visible A' decays", "invisible A' decays"))
        save_figure(fig, IMG / "hierarchy-visible-vs-invisible", ("png", "pdf"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("presets", nargs="*", default=list(PRESETS), help=f"any of {', '.join(PRESETS)}")
    ap.add_argument("--figures-only", action="store_true", help="redraw the figures from the committed tables")
    a = ap.parse_args(argv)
    bad = [p for p in a.presets if p not in PRESETS]
    if bad:
        ap.error(f"unknown presets {bad}; choose from {list(PRESETS)}")
    if not a.figures_only:
        for p in a.presets:
            run(p)
    figures(a.presets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
