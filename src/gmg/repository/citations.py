"""Citations of outputs, for reference managers (Zotero, EndNote, BibTeX...).

One mapping: ``csl_item`` turns an output into a CSL-JSON item (the Citation Style
Language's data format, which Zotero and citeproc read). BibTeX, RIS and the page's
Highwire Press and Dublin Core tags are all made from that item, never from the output,
so the formats cannot disagree.

Dates are as precise as the record: an output dated "2016" is issued ``[[2016]]``, never
1 January 2016; a range ("2016-02-25/2016-02-26") is a CSL range of two dates. The author
is the body, an institution (``{"literal": "Global Migration Group"}``), so that no format
splits its name into a first and a last name.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import rispy
from bibtexparser import Library, write_string
from bibtexparser.model import Entry, Field
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from gmg.core import partial_dates
from gmg.repository.models import Output, OutputType


@dataclass(frozen=True)
class Format:
    media_type: str
    extension: str  # of the file the output's page offers


FORMATS: dict[str, Format] = {
    "csl-json": Format("application/vnd.citationstyles.csl+json", "json"),
    "bibtex": Format("application/x-bibtex; charset=utf-8", "bib"),
    "ris": Format("application/x-research-info-systems; charset=utf-8", "ris"),
}

# -- the CSL item -----------------------------------------------------------------------------

# Publications that are books rather than reports, by subtype.
BOOK_SUBTYPES = frozenset({"handbook", "manual", "compendium", "catalogue"})
SPEECH = "speech"  # statements, messages, interventions: delivered texts
CSL_TYPES: dict[str, str] = {
    OutputType.PUBLICATION: "report",  # or "book", by subtype
    OutputType.JOINT_STATEMENT: SPEECH,
    OutputType.CHAIR_STATEMENT: SPEECH,
    OutputType.STATEMENT: SPEECH,
    OutputType.MESSAGE: SPEECH,
    OutputType.INTERVENTION: SPEECH,
    OutputType.JOINT_COMMUNIQUE: SPEECH,
    OutputType.PRESS_RELEASE: "article",
    OutputType.EVENT: "event",
    OutputType.ISSUE_BRIEF: "report",
    OutputType.BRIEFING_NOTE: "report",
    OutputType.CONCEPT_NOTE: "report",
    OutputType.POSITION_PAPER: "report",
    OutputType.CONTRIBUTION: "report",
}


def csl_type(output: Output) -> str:
    if output.type == OutputType.PUBLICATION and output.subtype in BOOK_SUBTYPES:
        return "book"
    return CSL_TYPES.get(output.type, "document")


def _date_parts(text: str) -> list[int]:
    """``2016`` -> [2016]; ``2016-05`` -> [2016, 5]; ``2016-05-13`` -> [2016, 5, 13]."""
    date = partial_dates.parse(text)
    return [date.start.year, date.start.month, date.start.day][
        : {"year": 1, "month": 2, "day": 3}[date.precision]
    ]


def issued(stated: Iterable[str]) -> dict[str, list[list[int]]] | None:
    """The CSL date of an output's stated dates or spans, with the stated precision only.

    Of several (a list of dates, or sources that disagree) the earliest, the one
    ``Output.date_start`` comes from; a range gives its two ends, each as precise as stated.
    """
    spans = [text.strip() for text in stated if text.strip()]
    if not spans:
        return None
    first = min(spans, key=lambda span: (partial_dates.parse(span).start, span))
    return {"date-parts": [_date_parts(part) for part in first.split("/")]}


def stated_dates(output: Output) -> list[str]:
    """Every date or span the sources state for ``output`` (its ``dates``, prefetched by the
    selectors); for an output not saved yet, those of its ``date`` text."""
    if output.pk is None:
        return output.date.split(",")
    return [date.text for date in output.dates.all()]


def genre(output: Output) -> str:
    """What kind of output, in words: the subtype when stated ("Side event"), else the type."""
    if output.subtype:
        return output.subtype.replace("_", " ").capitalize()
    return output.get_type_display()


def output_url(request: HttpRequest, key: str) -> str:
    """The output page's absolute address: what a citation points to."""
    return request.build_absolute_uri(reverse("site:output", args=[key]))


def csl_item(output: Output, url: str, *, accessed: dt.date | None = None) -> dict[str, Any]:
    """The CSL-JSON item for ``output`` (its body loaded), found at ``url``."""
    accessed = accessed or timezone.localdate()
    item: dict[str, Any] = {
        "id": output.key,
        "type": csl_type(output),
        "title": output.title,
        "author": [{"literal": output.body.name}],
        "publisher": output.body.name,
    }
    date = issued(stated_dates(output))
    if date:
        item["issued"] = date
    item["genre"] = genre(output)
    if output.occasion:
        item["event-title"] = output.occasion
    if output.location:
        item["event-place"] = output.location
    if output.description.strip():
        item["abstract"] = output.description.strip()
    item["URL"] = url
    item["accessed"] = {"date-parts": [[accessed.year, accessed.month, accessed.day]]}
    return item


def csl_json(item: dict[str, Any]) -> str:
    """A CSL-JSON document: a list of items (here, one)."""
    return json.dumps([item], ensure_ascii=False, indent=2) + "\n"


# -- BibTeX -----------------------------------------------------------------------------------

BIBTEX_TYPES = {"book": "book", "report": "report"}  # anything else is @misc
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
# A brace that has a partner, and one that has none.
_BRACES = {"{": ("\\{", r"\textbraceleft{}"), "}": ("\\}", r"\textbraceright{}")}
_WORD = re.compile(r"([^\W_]+)")


def _escape(text: str) -> str:
    """``text`` for a BibTeX value: on one line, LaTeX's special characters escaped, other
    characters kept (the file is UTF-8)."""
    return _escape_parts([" ".join(text.split())])[0]


def _escape_parts(parts: list[str]) -> list[str]:
    """Each of ``parts`` (pieces of one text) escaped. Braces that pair up across the text
    are ``\\{``/``\\}``; a lone one is ``\\textbraceleft{}``/``\\textbraceright{}``, since
    BibTeX counts braces, escaped or not."""
    lone = _lone_braces("".join(parts))
    out, offset = [], 0
    for part in parts:
        escaped = []
        for index, char in enumerate(part, start=offset):
            if char in _BRACES:
                escaped.append(_BRACES[char][index in lone])
            else:
                escaped.append(_LATEX_SPECIALS.get(char, char))
        offset += len(part)
        text = "".join(escaped)
        while "--" in text:  # keep a typed "--" from becoming a dash
            text = text.replace("--", "-{}-")
        out.append(text)
    return out


def _lone_braces(text: str) -> set[int]:
    """Where in ``text`` the braces are that have no partner."""
    opened: list[int] = []
    lone: set[int] = set()
    for index, char in enumerate(text):
        if char == "{":
            opened.append(index)
        elif char == "}":
            if opened:
                opened.pop()
            else:
                lone.add(index)
    return lone | set(opened)


def _escape_title(text: str) -> str:
    """Like ``_escape``, with acronyms and words with inner capitals braced (``{GMG}``,
    ``{SDGs}``), so that styles that lowercase titles leave them as they are."""
    parts = _WORD.split(" ".join(text.split()))
    return "".join(
        "{" + escaped + "}" if index % 2 and _has_inner_capital(part) else escaped
        for index, (part, escaped) in enumerate(zip(parts, _escape_parts(parts), strict=True))
    )


def _has_inner_capital(word: str) -> bool:
    return any(char.isupper() for char in word[1:])


def _joined(parts: list[int], separator: str = "-") -> str:
    """[2016, 5] -> ``2016-05`` (ISO 8601, as precise as the parts), or ``2016/05``."""
    return separator.join(f"{n:02d}" if i else f"{n:04d}" for i, n in enumerate(parts))


def bibtex(item: dict[str, Any]) -> str:
    """The item as one BibTeX entry (BibLaTeX fields where BibTeX has none: ``date``,
    ``urldate``, ``eventtitle``, ``venue``)."""
    entry_type = BIBTEX_TYPES.get(item["type"], "misc")
    names = " and ".join("{" + _escape(a["literal"]) + "}" for a in item["author"])
    fields = [Field("author", names), Field("title", _escape_title(item["title"]))]
    if "issued" in item:
        parts = item["issued"]["date-parts"]
        fields.append(Field("year", str(parts[0][0])))
        if len(parts[0]) > 1:
            fields.append(Field("month", MONTHS[parts[0][1] - 1], enclosing="no-enclosing"))
        fields.append(Field("date", "/".join(_joined(p) for p in parts)))
    publisher = "{" + _escape(item["publisher"]) + "}"  # a corporate name, never a list
    fields.append(Field("institution" if entry_type == "report" else "publisher", publisher))
    if entry_type != "book":
        fields.append(Field("type", _escape(item["genre"])))
    if entry_type == "misc":
        if "event-title" in item:
            fields.append(Field("eventtitle", _escape(item["event-title"])))
        if "event-place" in item:
            fields.append(Field("venue", _escape(item["event-place"])))
    fields.append(Field("url", item["URL"]))
    fields.append(Field("urldate", _joined(item["accessed"]["date-parts"][0])))
    if "abstract" in item:
        fields.append(Field("abstract", _escape(item["abstract"])))
    library = Library([Entry(entry_type, item["id"], fields)])
    return write_string(library)


# -- RIS --------------------------------------------------------------------------------------

# presentation is SLIDE in Zotero's RIS translator, and speech is a presentation there.
RIS_TYPES = {"book": "BOOK", "report": "RPRT", SPEECH: "SLIDE"}  # anything else is GEN


def _ris_date(parts: list[int]) -> str:
    """RIS's YYYY/MM/DD/ with the unstated parts left empty: ``2016/05//``."""
    return _joined(parts, "/") + "/" * (4 - len(parts))


class _RisWriter(rispy.RisWriter):
    def set_header(self, count: int) -> str:
        return ""  # no "1." line before TY


def ris(item: dict[str, Any]) -> str:
    """The item as one RIS record."""
    ris_type = RIS_TYPES.get(item["type"], "GEN")
    one_line = lambda text: " ".join(text.split())  # noqa: E731
    record: dict[str, Any] = {
        "type_of_reference": ris_type,
        "id": item["id"],
        "title": one_line(item["title"]),
        # Without a comma, Zotero and EndNote take the name as one corporate name.
        "authors": [one_line(a["literal"]) for a in item["author"]],
    }
    if "issued" in item:
        start = item["issued"]["date-parts"][0]
        record["year"] = f"{start[0]:04d}"
        if len(start) > 1:
            record["date"] = _ris_date(start)
    record["publisher"] = one_line(item["publisher"])
    record["type_of_work"] = item["genre"]
    if ris_type not in ("BOOK", "RPRT"):
        if "event-title" in item:
            record["secondary_title"] = one_line(item["event-title"])
        if "event-place" in item:
            record["place_published"] = one_line(item["event-place"])
    record["urls"] = [item["URL"]]
    record["access_date"] = _joined(item["accessed"]["date-parts"][0], "/")
    if "abstract" in item:
        record["abstract"] = one_line(item["abstract"])
    return rispy.dumps([record], implementation=_RisWriter)


def render(item: dict[str, Any], format: str) -> str:
    """The item in one of ``FORMATS``."""
    if format == "csl-json":
        return csl_json(item)
    if format == "bibtex":
        return bibtex(item)
    if format == "ris":
        return ris(item)
    raise ValueError(f"unknown citation format {format!r}; known: {', '.join(FORMATS)}")


# -- the page's metadata ----------------------------------------------------------------------


def page_meta(item: dict[str, Any]) -> list[tuple[str, str]]:
    """Highwire Press and Dublin Core ``<meta>`` tags for the output page, as (name, content):
    what Zotero's connector and Google Scholar read from a page."""
    meta = [("citation_title", item["title"])]
    meta += [("citation_author", a["literal"]) for a in item["author"]]
    if "issued" in item:
        start = item["issued"]["date-parts"][0]
        meta.append(("citation_publication_date", _joined(start, "/")))
    meta.append(("citation_publisher", item["publisher"]))
    if item["type"] == "report":
        meta.append(("citation_technical_report_institution", item["publisher"]))
    meta.append(("citation_public_url", item["URL"]))
    meta.append(("DC.title", item["title"]))
    meta += [("DC.creator", a["literal"]) for a in item["author"]]
    if "issued" in item:
        meta.append(("DC.date", "/".join(_joined(p) for p in item["issued"]["date-parts"])))
    meta.append(("DC.publisher", item["publisher"]))
    meta.append(("DC.type", item["genre"]))
    meta.append(("DC.identifier", item["URL"]))
    if "abstract" in item:
        meta.append(("DC.description", item["abstract"]))
    return meta
