"""Generate docs/references.bib: djax, the reference study and the papers behind every limit-registry term.

Run ``.venv/bin/python scripts/gen_references_bib.py`` after changing the registry (``--check``: exit 1 if the
committed file differs from what the registry gives now). The text is :func:`djax.report.references_bib`.
"""

from __future__ import annotations

import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "docs" / "references.bib"


def render() -> str:
    from djax.report import references_bib

    return references_bib()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    text = render()
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.is_file() else ""
        if current != text:
            print(f"{TARGET} is out of date; run scripts/gen_references_bib.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET} ({text.count(chr(10) + '@') + text.startswith('@')} entries)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
