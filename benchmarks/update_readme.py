"""Copy the committed benchmark results (benchmarks/results/*-<device>.md) into README.md between the markers
<!-- bench:start --> and <!-- bench:end -->, so that the README's numbers are the measured ones."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITES = ("throughput", "peers", "sampling", "scaling", "profile", "startup")


def section(md: str) -> str:
    lines = md.strip().splitlines()
    # drop the level-1 title; demote to level 4 so the README's structure is kept
    title = lines[0].lstrip("# ").strip()
    return "\n".join([f"#### {title}", *lines[1:]])


def main() -> None:
    parts = []
    for dev in ("gpu", "cpu"):
        for s in SUITES:
            f = ROOT / "benchmarks" / "results" / f"{s}-{dev}.md"
            if f.is_file():
                parts.append(section(f.read_text(encoding="utf-8")))
    if not any((ROOT / "benchmarks" / "results").glob("*-gpu.md")):
        parts.insert(0, "GPU figures: pending (no GPU was available when these benchmarks were run).")
    block = "<!-- bench:start -->\n" + "\n\n".join(parts) + "\n<!-- bench:end -->"
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    new, n = re.subn(r"<!-- bench:start -->.*?<!-- bench:end -->", lambda _: block, text, flags=re.S)
    if n != 1:
        raise SystemExit("README.md has no <!-- bench:start --> ... <!-- bench:end --> block")
    readme.write_text(new, encoding="utf-8")
    print(f"README.md: benchmark block updated from {len(parts)} result files")


if __name__ == "__main__":
    main()
