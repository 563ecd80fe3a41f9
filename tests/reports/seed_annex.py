"""The annex of the GMG's 2018 final report (the seed), read section by section.

The seed is the report converted to Markdown-flavoured text. Its annex starts at the heading
"## Background and membership" and runs to the end of the file. The conversion left marks
that the parser undoes, each by a stated rule:

Sections
    A ``##`` heading starts a section. A heading that begins with a number ("## 2. Events",
    "### 1. Thematic briefing notes") or has level 3 or deeper is a sub-heading the conversion
    flattened: its items belong to the section above it (all such headings sit in the Global
    Compact for Migration section). Each item keeps the heading it sits under in ``heading``,
    since the record's citations name that heading.

Items
    Every list line ("- ", nested "  - ", numbered "1. ") is an item. Indentation gives
    ``depth`` (0 for a top-level line).

    A *lead-in* is a list line that introduces a list rather than stating something of its
    own: (a) the next list line is indented deeper ("Statements at GFMD Workshops ... including
    the following:", "Thematic sessions"), or (b) a heading-like line (no closing punctuation)
    whose descriptive paragraph is followed by a list or a sub-heading ("Convened seven
    multi-stakeholder meetings around the UN Summit ...", "Intergovernmental negotiations
    April–July 2018"). A lead-in is kept as an item with ``kind == "lead-in"``; what it
    introduces are the items after it.

Prose paragraphs (the Summit and Global Compact sections mix prose with lists)
    1. A paragraph right after a list line that does not end with a full stop describes that
       line and belongs to it (``more``): "This briefing note illustrates ..." after
       "Migrants in Vulnerable Situations (prepared by ...):". A paragraph that continues an
       unfinished description paragraph (a page break cut it) belongs to the same item.
    2. Otherwise a paragraph that ends with ":" only introduces the list that follows ("The
       GMG organized the following side events:"): it lists nothing and is no item.
    3. Any other paragraph reports something of its own and is an item with ``prose=True``:
       the report summarising the multi-stakeholder meetings, the joint statement at the
       Summit's opening, the series of six seminars in New York.

Text is normalised (``normalise``) so that it compares with the record's quotes, which were
transcribed from the seed without its mark-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from gmg.record.sources import normalise as strip_markup

ANNEX_HEADING = "Background and membership"

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_LIST = re.compile(r"^(\s*)(?:[-•]|\d+\.)\s+(.*)$")
_NUMBERED_HEADING = re.compile(r"^\d+\.\s")
_CLOSING = {".", "!", "?", ":", ";"}  # a line ending otherwise is unfinished or heading-like
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})


def normalise(text: str) -> str:
    """Text without mark-up, for comparing the seed with quotes of it.

    Markdown links keep their text, escaped brackets, ``<sup>`` tags and emphasis marks go,
    curly quotes become straight, white space folds, and a closing ";" or "." is dropped.
    """
    text = strip_markup(text).translate(_QUOTES)
    return " ".join(text.split()).rstrip(";.").rstrip()


@dataclass(frozen=True)
class SeedItem:
    text: str  # the line, normalised
    line: int  # 1-based line number in the seed file
    heading: str = ""  # the (sub-)heading it sits under, normalised
    kind: str = "item"  # "item", or "lead-in" for a line that introduces a list
    depth: int = 0  # indentation level of a list line; 0 for prose
    prose: bool = False  # a prose paragraph rather than a list line
    more: tuple[str, ...] = ()  # paragraphs describing the line (normalised)

    @property
    def texts(self) -> tuple[str, ...]:
        """Everything the seed says for this item: the line and its description."""
        return (self.text, *self.more)


@dataclass
class SeedSection:
    title: str
    items: list[SeedItem] = field(default_factory=list)
    sub_headings: list[str] = field(default_factory=list)  # folded in, normalised
    intros: list[int] = field(default_factory=list)  # lines of paragraphs that are no item

    @property
    def headings(self) -> list[str]:
        """The headings a citation of this section's text may name."""
        return [self.title, *self.sub_headings]


@dataclass
class _Element:
    kind: str  # "heading", "list" or "prose"
    line: int
    text: str  # raw text (without the list marker or heading hashes)
    indent: int = 0
    level: int = 0  # heading level


def _elements(lines: list[str], first: int) -> list[_Element]:
    """Headings, list lines and prose paragraphs (consecutive lines joined), blank lines gone."""
    found: list[_Element] = []
    previous_blank = True
    for number, raw in enumerate(lines[first:], start=first + 1):
        if not raw.strip():
            previous_blank = True
            continue
        heading = _HEADING.match(raw)
        listed = _LIST.match(raw)
        if heading:
            found.append(_Element("heading", number, heading.group(2), level=len(heading[1])))
        elif listed:
            found.append(_Element("list", number, listed.group(2), indent=len(listed.group(1))))
        elif not previous_blank and found and found[-1].kind == "prose":
            found[-1].text += " " + raw.strip()
        else:
            found.append(_Element("prose", number, raw.strip()))
        previous_blank = False
    return found


def _is_sub_heading(element: _Element) -> bool:
    return element.level >= 3 or bool(_NUMBERED_HEADING.match(element.text))


def _plain_end(raw: str) -> str:
    """The closing character of a line once its mark-up is gone ('' if none)."""
    text = " ".join(strip_markup(raw).split())
    return text[-1:]


@dataclass
class _Draft:
    """An item while the section is read: whether it is a lead-in depends on what follows."""

    section: SeedSection
    element: int  # index of its element; of its last describing paragraph once described
    line: int
    text: str
    end: str  # closing character of the raw line
    indent: int
    heading: str
    prose: bool
    described: bool = False
    more: list[str] = field(default_factory=list)


def seed_annex(path: Path | str) -> list[SeedSection]:
    """The annex's sections in order, each with its items (see the module's rules)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    start = next(
        (
            index
            for index, raw in enumerate(lines)
            if (m := _HEADING.match(raw)) and m.group(2) == ANNEX_HEADING
        ),
        None,
    )
    if start is None:
        raise ValueError(f"{path}: no heading {ANNEX_HEADING!r}, so no annex")
    elements = _elements(lines, start)

    sections: list[SeedSection] = []
    drafts: list[_Draft] = []
    heading = ""
    described: _Draft | None = None  # the item the last prose paragraph described
    for index, element in enumerate(elements):
        if element.kind == "heading":
            heading = normalise(element.text)
            if _is_sub_heading(element) and sections:
                sections[-1].sub_headings.append(heading)
            else:
                sections.append(SeedSection(heading))
            described = None
            continue
        section = sections[-1]
        before = elements[index - 1]
        text = normalise(element.text)
        end = _plain_end(element.text)
        if element.kind == "list":
            drafts.append(
                _Draft(section, index, element.line, text, end, element.indent, heading, False)
            )
            described = None
        elif before.kind == "list" and _plain_end(before.text) != ".":
            # Rule 1: describes the list line above it.
            described = drafts[-1]
            described.more.append(text)
            described.described, described.element = True, index
        elif before.kind == "prose" and described and _plain_end(before.text) not in _CLOSING:
            # Rule 1: continues a description that a page break cut.
            described.more.append(text)
            described.element = index
        elif end == ":":
            # Rule 2: introduces the list that follows.
            section.intros.append(element.line)
            described = None
        else:
            # Rule 3: reports something of its own.
            drafts.append(_Draft(section, index, element.line, text, end, 0, heading, True))
            described = None

    for draft in drafts:
        indents = sorted({d.indent for d in drafts if d.section is draft.section and not d.prose})
        following = elements[draft.element + 1] if draft.element + 1 < len(elements) else None
        lead_in = False
        if not draft.prose and following is not None:
            if not draft.described:
                # (a) the next list line is indented deeper
                lead_in = following.kind == "list" and following.indent > draft.indent
            elif draft.end not in _CLOSING:
                # (b) a heading-like line, its description, then a list or a sub-heading
                lead_in = following.kind == "list" or (
                    following.kind == "heading" and _is_sub_heading(following)
                )
        draft.section.items.append(
            SeedItem(
                text=draft.text,
                line=draft.line,
                heading=draft.heading,
                kind="lead-in" if lead_in else "item",
                depth=0 if draft.prose else indents.index(draft.indent),
                prose=draft.prose,
                more=tuple(draft.more),
            )
        )
    return sections
