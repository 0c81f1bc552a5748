"""Generate docs/api.md from the docstrings of djax's public API (run: .venv/bin/python scripts/gen_api_docs.py)."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

MODULES = [
    "djax",
    "djax.loops",
    "djax.dipoles",
    "djax.model",
    "djax.observables",
    "djax.likelihood",
    "djax.inference",
    "djax.io",
    "djax.plotting",
]


_ADDRESS = re.compile(r" at 0x[0-9a-f]+>")


def _stable(text: str) -> str:
    """Drop what changes from run to run: object addresses in reprs."""
    return _ADDRESS.sub(">", text)


def _constant(obj) -> str:
    """repr with set members sorted (frozenset order depends on string hashing)."""
    if isinstance(obj, (set, frozenset)):
        return f"{type(obj).__name__}({{{', '.join(sorted(map(repr, obj)))}}})"
    return _stable(repr(obj))


def _sig(obj) -> str:
    try:
        return _stable(str(inspect.signature(obj)))
    except (TypeError, ValueError):
        return ""


def main() -> None:
    lines = ["# djax API reference", "", "Generated from the docstrings by `scripts/gen_api_docs.py`; do not edit.", ""]
    for name in MODULES:
        mod = importlib.import_module(name)
        lines += [f"## `{name}`", "", inspect.getdoc(mod) or "", ""]
        for attr in getattr(mod, "__all__", []):
            obj = getattr(mod, attr, None)
            if obj is None or inspect.ismodule(obj):
                continue
            if (
                name != "djax"
                and getattr(importlib.import_module("djax"), attr, None) is obj
                and attr in importlib.import_module("djax").__all__
            ):
                continue  # documented once, under djax
            kind = "class" if inspect.isclass(obj) else ("function" if callable(obj) else "constant")
            head = f"### `{name}.{attr}{_sig(obj) if kind != 'constant' else ''}`"
            doc = inspect.getdoc(obj) if kind != "constant" else f"`{attr} = {_constant(obj)}`"[:400]
            lines += [head, "", doc or "(no docstring)", ""]
    out = Path(__file__).resolve().parents[1] / "docs" / "api.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(lines)} lines)")


if __name__ == "__main__":
    main()
