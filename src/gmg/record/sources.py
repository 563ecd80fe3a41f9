"""Plain-text view of the seed documents, so bundle quotes can be checked verbatim.

The seed report is Markdown-flavoured text: link markup (``[text](#)``), emphasis
(``*x*``), escaped brackets and ``<sup>`` tags would make a verbatim quote fragile.
We normalise each line the same way for both the document and the quote, and a
quote must then appear as a substring of one line under the heading it names.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parent / "seeds"

DOCUMENT_FILES = {
    "final-report": "gmg-final-report-2006-2018.txt",
    "encyclopedia": "gmg-encyclopedia-article.txt",
}

_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_SUP = re.compile(r"</?sup>")
_EMPHASIS = re.compile(r"(?<![\w*])[*_]{1,2}(?=\S)|(?<=\S)[*_]{1,2}(?![\w*])")
_BULLET = re.compile(r"^\s*(?:[-•]\s+|\d+\.\s+)")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_WIKI_HEADING = re.compile(r"^(={2,})\s*(.*?)\s*\1\s*$")


def normalise(text: str) -> str:
    """Strip Markdown decoration and fold white space, as done for seed lines."""
    text = _LINK.sub(r"\1", text)
    text = text.replace("\\(", "(").replace("\\)", ")")
    text = _SUP.sub("", text)
    text = _EMPHASIS.sub("", text)
    text = _BULLET.sub("", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class SourceLine:
    number: int  # 1-based line number in the seed file
    heading: str  # nearest heading above the line, normalised
    text: str  # the line, normalised
    is_list_item: bool


@lru_cache(maxsize=8)
def document_lines(doc: str) -> tuple[SourceLine, ...]:
    path = SEEDS_DIR / DOCUMENT_FILES[doc]
    heading = ""
    lines: list[SourceLine] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        md = _MD_HEADING.match(raw) or _WIKI_HEADING.match(raw)
        if md:
            heading = normalise(md.group(2))
            continue
        text = normalise(raw)
        if text:
            lines.append(SourceLine(number, heading, text, bool(_BULLET.match(raw))))
    return tuple(lines)


def locate(doc: str, heading: str, quote: str) -> list[SourceLine]:
    """Lines of ``doc`` under ``heading`` that contain ``quote`` (both normalised)."""
    if doc not in DOCUMENT_FILES:
        return []
    want_heading = normalise(heading)
    want_quote = normalise(quote)
    return [
        line
        for line in document_lines(doc)
        if line.heading == want_heading and want_quote in line.text
    ]


def _main(argv: list[str]) -> int:
    """`python -m gmg.record.sources FILE.yaml ...`: check every source quote."""
    import yaml

    bad = 0

    def walk(node: object, where: str, file_name: str) -> None:
        nonlocal bad
        if isinstance(node, dict):
            if {"doc", "heading", "quote"} <= node.keys():
                if not locate(node["doc"], node["heading"], node["quote"]):
                    bad += 1
                    print(f"{file_name}: {where}: not found under {node['heading']!r}: ", end="")
                    print(repr(node["quote"]))
            for key, value in node.items():
                walk(value, f"{where}.{key}", file_name)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}[{index}]", file_name)

    for name in argv:
        walk(yaml.safe_load(Path(name).read_text(encoding="utf-8")), "", name)
    print(f"{bad} quote(s) not found")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
