"""Schemas shared by every router: sources, errors, list envelopes."""

from __future__ import annotations

from typing import Any

from ninja import Schema

from gmg.core import partial_dates
from gmg.core.claims import conflicts_of
from gmg.core.models import Citation

NOT_STATED = "not stated"


class SourceOut(Schema):
    document: str
    heading: str
    quote: str
    line: int | None
    field: str | None = None
    value: str | None = None


class ClaimOut(Schema):
    """One stated value of a field whose sources disagree."""

    field: str
    value: str
    source: SourceOut


class ErrorOut(Schema):
    detail: str
    errors: list[dict[str, Any]] | None = None


def sources_of(obj: Any) -> list[SourceOut]:
    return [source_of(c) for c in obj.citations.all()]


def source_of(citation: Citation) -> SourceOut:
    return SourceOut(
        document=citation.document.key,
        heading=citation.heading,
        quote=citation.quote,
        line=citation.line,
        field=citation.field or None,
        value=citation.value or None,
    )


def claims_of(obj: Any) -> list[ClaimOut]:
    """The conflicting values of ``obj``'s fields, where its sources disagree."""
    return [
        ClaimOut(field=name, value=c.value, source=source_of(c))
        for name, cites in conflicts_of(obj).items()
        for c in cites
    ]


def date_label(text: str | None) -> str:
    return partial_dates.humanise(text) if text else NOT_STATED
