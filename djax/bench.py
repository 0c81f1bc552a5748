"""Thin entry for ``djax bench``: runs the benchmark suites kept in the repository's ``benchmarks/`` folder.

The suites (``throughput``, ``peers``, ``sampling``, ``scaling``) and the plain-NumPy peer implementation live
outside the package (``benchmarks/``, next to ``djax/`` in a source checkout); results are written as
``<out_dir>/<suite>-<device>.json`` and ``.md``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

SUITES = ("throughput", "peers", "sampling", "scaling")


def _benchmarks_package():
    try:
        return importlib.import_module("benchmarks.run")
    except ModuleNotFoundError as exc:
        if exc.name not in ("benchmarks", "benchmarks.run"):
            raise
    root = Path(__file__).resolve().parent.parent
    if not (root / "benchmarks" / "run.py").is_file():
        raise RuntimeError(
            "djax bench needs the benchmarks/ folder of a djax source checkout "
            f"(looked in {root}); clone the repository and run it from there"
        )
    sys.path.insert(0, str(root))
    return importlib.import_module("benchmarks.run")


def run_bench(quick: bool = False, out_dir=None, suites: Sequence[str] | None = None) -> dict:
    """Run the benchmark ``suites`` (default: all four) and write their JSON/Markdown results.

    Args:
      quick: small settings (``djax bench --quick``: CI, a few minutes on 2 cores).
      out_dir: results folder (default ``benchmarks/results`` of the checkout).
      suites: names among ``throughput``, ``peers``, ``sampling``, ``scaling``.
    Returns:
      ``{suite: result dict}`` (figures, metadata, markdown, file paths).
    """
    from .precision import enable_x64

    enable_x64()
    return _benchmarks_package().run_bench(quick=quick, out_dir=out_dir, suites=suites)


__all__ = ["run_bench", "SUITES"]
