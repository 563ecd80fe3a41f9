"""Texts as paragraphs: splitting a draft, comparing two versions, carrying comments over.

Comparison is Python's ``difflib`` at two levels: paragraphs are matched first, then the
words of a changed paragraph, so a reader sees which paragraphs moved, went or came, and
what changed inside one.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

MAX_PARAGRAPHS = 500
MAX_PARAGRAPH_CHARS = 20_000


def split(text: str) -> list[str]:
    """Paragraphs of ``text``: separated by blank lines; lines inside one are joined."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        joined = " ".join(line.strip() for line in block.split("\n") if line.strip())
        if joined:
            paragraphs.append(joined)
    return paragraphs


def join(paragraphs: list[str]) -> str:
    return "\n\n".join(paragraphs)


def problems(paragraphs: list[str]) -> list[str]:
    """Why ``paragraphs`` cannot be a version, if they cannot."""
    found = []
    if not paragraphs:
        found.append("The text is empty.")
    if len(paragraphs) > MAX_PARAGRAPHS:
        found.append(f"A version holds at most {MAX_PARAGRAPHS} paragraphs.")
    long = [i + 1 for i, p in enumerate(paragraphs) if len(p) > MAX_PARAGRAPH_CHARS]
    if long:
        found.append(
            f"Paragraph {long[0]} is longer than {MAX_PARAGRAPH_CHARS:,} characters: "
            "separate paragraphs with a blank line."
        )
    return found


@dataclass
class DiffRow:
    """One row of a comparison: a paragraph kept, changed, removed or added."""

    change: str  # "same", "changed", "removed", "added"
    old_number: int | None
    new_number: int | None
    old: str = ""
    new: str = ""
    inline: SafeString = field(default_factory=lambda: mark_safe(""))  # noqa: S308


def _words_diff(old: str, new: str) -> SafeString:
    """``old`` → ``new`` word by word, as HTML with <del> and <ins> (all text escaped)."""
    a, b = old.split(" "), new.split(" ")
    parts: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(escape(" ".join(a[i1:i2])))
            continue
        if i2 > i1:
            parts.append(f"<del>{escape(' '.join(a[i1:i2]))}</del>")
        if j2 > j1:
            parts.append(f"<ins>{escape(' '.join(b[j1:j2]))}</ins>")
    return mark_safe(" ".join(parts))  # noqa: S308 - every piece is escaped above


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.split(), b.split(), autojunk=False).ratio()


def compare(old: list[str], new: list[str]) -> list[DiffRow]:
    """The paragraph-by-paragraph comparison of two versions."""
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows.extend(
                DiffRow("same", i + 1, j + 1, old[i], new[j], mark_safe(escape(new[j])))  # noqa: S308
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        for i, j in _match(old, new, i1, i2, j1, j2):
            if i is not None and j is not None:
                rows.append(
                    DiffRow("changed", i + 1, j + 1, old[i], new[j], _words_diff(old[i], new[j]))
                )
            elif i is not None:
                removed = mark_safe(f"<del>{escape(old[i])}</del>")  # noqa: S308
                rows.append(DiffRow("removed", i + 1, None, old[i], "", removed))
            elif j is not None:
                added = mark_safe(f"<ins>{escape(new[j])}</ins>")  # noqa: S308
                rows.append(DiffRow("added", None, j + 1, "", new[j], added))
    return rows


SIMILAR = 0.4  # how alike two paragraphs must be to count as one paragraph changed
LOOKAHEAD = 8  # how far on a replaced block is searched for a paragraph's counterpart


def _match(
    old: list[str], new: list[str], i1: int, i2: int, j1: int, j2: int
) -> list[tuple[int | None, int | None]]:
    """The paragraphs of a replaced block (``old[i1:i2]`` → ``new[j1:j2]``), in order: pairs
    of a paragraph and its reworded self, ``(i, None)`` removed, ``(None, j)`` added.

    Paragraphs are paired in order while they resemble each other. When they do not, the
    counterpart of either is looked for a few paragraphs on (paragraphs added before a
    reworded one, or removed before it), so that a paragraph reworded next to an insertion
    or a removal is still the same paragraph, changed.
    """
    found: list[tuple[int | None, int | None]] = []
    i, j = i1, j1
    while i < i2 and j < j2:
        if _similar(old[i], new[j]) >= SIMILAR:
            found.append((i, j))
            i, j = i + 1, j + 1
            continue
        later_new = next(
            (
                k
                for k in range(j + 1, min(j2, j + 1 + LOOKAHEAD))
                if _similar(old[i], new[k]) >= SIMILAR
            ),
            None,
        )
        later_old = next(
            (
                k
                for k in range(i + 1, min(i2, i + 1 + LOOKAHEAD))
                if _similar(old[k], new[j]) >= SIMILAR
            ),
            None,
        )
        if later_new is not None and (later_old is None or later_new - j <= later_old - i):
            found.extend((None, k) for k in range(j, later_new))  # added before old[i]'s match
            j = later_new
        elif later_old is not None:
            found.extend((k, None) for k in range(i, later_old))  # removed before new[j]'s match
            i = later_old
        else:
            found.extend([(i, None), (None, j)])
            i, j = i + 1, j + 1
    found.extend((k, None) for k in range(i, i2))
    found.extend((None, k) for k in range(j, j2))
    return found


def carry_over(old: list[str], new: list[str]) -> dict[int, int | None]:
    """Where each paragraph of ``old`` (1-based) is in ``new``: its number, or ``None`` when
    it was removed. Comments follow their paragraph from version to version this way."""
    mapping: dict[int, int | None] = {}
    for row in compare(old, new):
        if row.old_number is not None:
            mapping[row.old_number] = row.new_number
    return mapping
