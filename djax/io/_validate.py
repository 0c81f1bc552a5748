"""Typed validators for run-file values: each raises ``ValueError(key, message)`` naming the dotted key.

The run-file reader turns these into :class:`djax.io.RunFileError` with the file and line.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from typing import Any


class InvalidValue(ValueError):
    """``key``: dotted key; ``message``: what is wrong."""

    def __init__(self, key: str, message: str):
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}")


def type_name(v: Any) -> str:
    if isinstance(v, bool):
        return f"boolean {str(v).lower()}"
    if isinstance(v, str):
        return f"string {v!r}"
    if isinstance(v, dict):
        return "a table"
    if isinstance(v, list):
        return f"array {v!r}"
    if isinstance(v, (int, float)):
        return repr(v)
    return f"{type(v).__name__} {v!r}"


def as_int(key, v, *, lo=None, hi=None, what=None, allow_integral_float=False):
    if allow_integral_float and isinstance(v, float) and math.isfinite(v) and v == int(v):
        v = int(v)
    ok = isinstance(v, int) and not isinstance(v, bool)
    if ok and lo is not None and v < lo:
        ok = False
    if ok and hi is not None and v > hi:
        ok = False
    if not ok:
        if what is None:
            what = {0: "a non-negative integer", 1: "a positive integer"}.get(lo, "an integer")
            if hi is not None:
                what = f"an integer in [{lo}, {hi}]"
        raise InvalidValue(key, f"expected {what}, got {type_name(v)}")
    return v


def as_float(key, v, *, lo=None, hi=None, lo_open=False, hi_open=False, what=None):
    ok = isinstance(v, (int, float)) and not isinstance(v, bool)
    if ok:
        v = float(v)
        ok = math.isfinite(v)
        if ok and lo is not None:
            ok = v > lo if lo_open else v >= lo
        if ok and hi is not None:
            ok = v < hi if hi_open else v <= hi
    if not ok:
        if what is None:
            if lo is None and hi is None:
                what = "a finite number"
            else:
                lb = ("(" if lo_open else "[") + ("-inf" if lo is None else f"{lo:g}")
                ub = ("inf" if hi is None else f"{hi:g}") + (")" if hi_open else "]")
                what = f"a number in {lb}, {ub}"
        raise InvalidValue(key, f"expected {what}, got {type_name(v)}")
    return v


def as_bool(key, v):
    if not isinstance(v, bool):
        raise InvalidValue(key, f"expected true or false, got {type_name(v)}")
    return v


def as_str(key, v, *, pattern=None, what="a string"):
    if not isinstance(v, str) or (pattern is not None and not re.fullmatch(pattern, v)):
        raise InvalidValue(key, f"expected {what}, got {type_name(v)}")
    return v


def as_choice(key, v, allowed):
    if not isinstance(v, str) or v not in allowed:
        hint = ""
        if isinstance(v, str):
            close = difflib.get_close_matches(v, list(allowed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InvalidValue(key, f"expected one of {', '.join(map(repr, allowed))}, got {type_name(v)}{hint}")
    return v


def as_str_list(key, v, *, allowed=None, allow_empty=True):
    if isinstance(v, str):
        v = [v]
    if isinstance(v, tuple):
        v = list(v)
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v) or (not allow_empty and not v):
        raise InvalidValue(
            key, f"expected {'a non-empty' if not allow_empty else 'an'} array of strings, got {type_name(v)}"
        )
    for i, s in enumerate(v):
        if allowed is not None:
            as_choice(f"{key}[{i}]", s, allowed)
        if v.index(s) != i:
            raise InvalidValue(f"{key}[{i}]", f"duplicate entry {s!r}")
    return tuple(v)


def as_table(key, v):
    if not isinstance(v, dict):
        raise InvalidValue(key, f"expected a table ([{key}]), got {type_name(v)}")
    return v


def reject_unknown(prefix: str, table: dict, allowed) -> None:
    for k in table:
        if k not in allowed:
            full = f"{prefix}.{k}" if prefix else k
            close = difflib.get_close_matches(k, list(allowed), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; allowed keys: {', '.join(allowed)}"
            kind = "section" if not prefix else "key"
            raise InvalidValue(full, f"unknown {kind} {full!r}{hint}")


def with_defaults(prefix: str, table: dict, cls) -> dict:
    """Unknown-key check against a dataclass's fields, then merge with its defaults."""
    names = [f.name for f in dataclasses.fields(cls)]
    reject_unknown(prefix, table, names)
    default = cls()
    return {n: table.get(n, getattr(default, n)) for n in names}


def scalar_or_list(key, v):
    if isinstance(v, (bool, int, float, str)):
        if isinstance(v, float) and not math.isfinite(v):
            raise InvalidValue(key, f"expected a finite number, got {v!r}")
        return v
    if isinstance(v, list) and all(isinstance(x, (bool, int, float, str)) for x in v):
        return tuple(v)
    raise InvalidValue(key, f"expected a number, string, boolean or array of those, got {type_name(v)}")


__all__ = [
    "InvalidValue",
    "type_name",
    "as_int",
    "as_float",
    "as_bool",
    "as_str",
    "as_choice",
    "as_str_list",
    "as_table",
    "reject_unknown",
    "with_defaults",
    "scalar_or_list",
]
