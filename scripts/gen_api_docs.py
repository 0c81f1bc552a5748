"""Generate docs/api.md from the docstrings of djax's public API (run: .venv/bin/python scripts/gen_api_docs.py)."""

from __future__ import annotations

import importlib
import inspect
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


def _sig(obj) -> str:
    try:
        return str(inspect.signature(obj))
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
            doc = inspect.getdoc(obj) if kind != "constant" else f"`{attr} = {obj!r}`"[:400]
            lines += [head, "", doc or "(no docstring)", ""]
    out = Path(__file__).resolve().parents[1] / "docs" / "api.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(lines)} lines)")


if __name__ == "__main__":
    main()
