"""Package structure: the dependency order of docs/DESIGN.md holds (no import cycle between packages, function-
local imports included) and nothing imports another package's private modules (notebooks and benchmarks too)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The layers of docs/DESIGN.md, bottom first: a module may import its own layer's modules and layers below.
LAYERS = [
    {"errors", "precision", "constants"},
    {"loops"},
    {"dipoles"},
    {"model"},
    {"observables"},
    {"likelihood"},
    {"inference"},
    {"io"},
    {"export"},
    {"plotting"},
    {"jobs"},
    {"_api", "report", "bench"},
    {"cli", "__init__", "__main__"},
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _sources():
    """The package's Python sources (data files under djax/data are not code)."""
    return [p for p in sorted((ROOT / "djax").rglob("*.py")) if "data" not in p.relative_to(ROOT / "djax").parts]


def _unit(path: Path) -> str:
    rel = path.relative_to(ROOT / "djax").parts
    return rel[0].removesuffix(".py") if len(rel) >= 1 else "__init__"


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = path.relative_to(ROOT).with_suffix("").parts
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(pkg[: len(pkg) - node.level])
                mod = ".".join(base + ([node.module] if node.module else []))
                names = [a.name for a in node.names]
            else:
                mod, names = node.module or "", [a.name for a in node.names]
            yield node.lineno, mod, names
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name, []


def test_layers_are_respected():
    bad = []
    for path in _sources():
        src = _unit(path)
        for line, mod, names in _imports(path):
            parts = mod.split(".")
            if parts[0] != "djax":
                continue
            targets = [parts[1]] if len(parts) > 1 else [n for n in names if n in RANK]
            for t in targets:
                if t in RANK and src in RANK and RANK[t] > RANK[src]:
                    bad.append(f"{path.relative_to(ROOT)}:{line}: {src} imports {t}")
    assert not bad, "\n".join(bad)


def test_no_private_imports_across_packages():
    pat = re.compile(r"(from|import)\s+djax\.[a-z_.]*\._[a-z]")
    bad = []
    for folder in ("djax", "notebooks", "benchmarks"):
        for path in _sources() if folder == "djax" else sorted((ROOT / folder).rglob("*.py")):
            own = path.relative_to(ROOT).parts[:2] if folder == "djax" else ()
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                m = pat.search(line)
                if m and not (own and line.strip().startswith(f"from djax.{own[1]}._")):
                    bad.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    for path in _sources():
        pkg = path.relative_to(ROOT / "djax").parts
        for line, mod, _ in _imports(path):
            parts = mod.split(".")
            if (
                len(parts) >= 3
                and parts[0] == "djax"
                and parts[2].startswith("_")
                and (len(pkg) < 2 or parts[1] != pkg[0])
            ):
                bad.append(f"{path.relative_to(ROOT)}:{line}: imports {mod}")
    assert not bad, "\n".join(bad)
