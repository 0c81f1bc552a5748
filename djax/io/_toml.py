"""Small TOML helpers shared by the run-file and registry readers: values back to TOML text, dotted keys,
``--set`` parsing and the line of a dotted key in a TOML text (for error messages)."""

from __future__ import annotations

import json
import math
import re
import tomllib
from typing import Any


def toml_value(v: Any) -> str:
    """``v`` (bool, int, float, str, list/tuple of those, dict as inline table) as TOML text."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_\-]+", k) else json.dumps(k)


def toml_section(lines: list[str], header: str, items) -> None:
    lines.append(f"\n[{header}]")
    for k, v in items.items():
        lines.append(f"{toml_key(k)} = {toml_value(v)}")


def set_dotted(data: dict, key: str, value: Any) -> None:
    """Set ``data[a][b][c] = value`` for ``key = "a.b.c"`` (creating tables), as ``--set`` does.

    Raises ``KeyError(key, message)`` for an empty key or a path through a non-table."""
    parts = key.split(".")
    if not key or any(not s for s in parts):
        raise KeyError(key or "<empty>", "expected a dotted key like sample.num_chains")
    cur = data
    for i, s in enumerate(parts[:-1]):
        nxt = cur.setdefault(s, {})
        if not isinstance(nxt, dict):
            raise KeyError(".".join(parts[: i + 1]), f"is not a table; cannot set {key}")
        cur = nxt
    cur[parts[-1]] = value


def parse_set_value(item: str) -> tuple[str, Any]:
    """``"sample.num_chains=2"`` -> ``("sample.num_chains", 2)``: the value is read as a TOML value, falling
    back to a plain string (so ``run.name=test`` works without quotes). ``KeyError`` without ``=``."""
    if "=" not in item:
        raise KeyError(item, "expected KEY=VALUE (e.g. sample.num_chains=2)")
    key, raw = item.split("=", 1)
    key, raw = key.strip(), raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+)\s*=")


def _norm(name: str) -> str:
    return ".".join(p.strip().strip("\"'") for p in name.split("."))


def key_line(text: str | None, dotted: str) -> int | None:
    """1-based line of ``dotted`` (``priors.y_e.high``) in a TOML text, else of its closest table header."""
    if not text or not dotted:
        return None
    want = _norm(dotted.split("[")[0])
    table = ""
    best = None
    for i, line in enumerate(text.splitlines(), start=1):
        m = _HEADER.match(line)
        if m:
            table = _norm(m.group(1))
            if want == table or want.startswith(table + "."):
                if best is None or len(table) >= len(best[1]):
                    best = (i, table)
            continue
        m = _ASSIGN.match(line)
        if m:
            full = _norm(f"{table}.{m.group(1)}" if table else m.group(1))
            if full == want:
                return i
    return best[0] if best else None


def decode_error_line(exc: tomllib.TOMLDecodeError) -> int | None:
    m = re.search(r"line (\d+)", str(exc))
    return int(m.group(1)) if m else None


__all__ = ["toml_value", "toml_key", "toml_section", "set_dotted", "parse_set_value", "key_line", "decode_error_line"]
