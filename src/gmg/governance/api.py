"""API: chair terms, including who chaired on a given day."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Query, Router, Schema

from gmg.api.schemas import (
    NOT_STATED,
    ClaimOut,
    ErrorOut,
    SourceOut,
    claims_of,
    date_label,
    sources_of,
)
from gmg.core.viewer import Viewer
from gmg.governance import selectors
from gmg.governance.models import ChairTerm, Meeting
from gmg.registry.api import get_body

router = Router(tags=["governance"])


class ChairTermOut(Schema):
    key: str
    body: str
    start: str
    end: str
    start_date: dt.date
    end_date: dt.date
    label: str
    chairs: list[str]
    co_chaired: bool
    interim: bool
    coordinator: str | None
    theme: str | None
    theme_label: str
    conflicts: list[ClaimOut]
    sources: list[SourceOut]


class ChairTermList(Schema):
    body: str
    on: dt.date | None
    items: list[ChairTermOut]
    count: int
    note: str | None


def term_out(term: ChairTerm) -> ChairTermOut:
    chairs = [link.entity.acronym for link in term.chair_links.all()]
    return ChairTermOut(
        key=term.key,
        body=term.body.key,
        start=term.start,
        end=term.end,
        start_date=term.start_date,
        end_date=term.end_date,
        label=f"{date_label(term.start)} – {date_label(term.end)}",
        chairs=chairs,
        co_chaired=len(chairs) > 1,
        interim=term.interim,
        coordinator=term.coordinator.acronym if term.coordinator else None,
        theme=term.theme or None,
        theme_label=term.theme or NOT_STATED,
        conflicts=claims_of(term),
        sources=sources_of(term),
    )


class ChairsQuery(Schema):
    body: str
    on: dt.date | None = None


@router.get(
    "/chairs",
    response={200: ChairTermList, 404: ErrorOut, 422: ErrorOut},
    operation_id="list_chair_terms",
)
def chairs(request: HttpRequest, query: Query[ChairsQuery]) -> ChairTermList:
    """All chair terms of ``body``, or with ``on`` the term covering that day."""
    body = get_body(query.body)
    terms = [term_out(t) for t in selectors.chair_terms(body, query.on, with_sources=True)]
    note = None
    if query.on is not None and not terms:
        note = f"no chair term of {body.short_name or body.name} covers {query.on.isoformat()}"
    return ChairTermList(body=body.key, on=query.on, items=terms, count=len(terms), note=note)


class MeetingOut(Schema):
    key: str
    body: str
    kind: str
    title: str
    date: str | None
    date_label: str
    location: str | None
    sources: list[SourceOut]


class MeetingList(Schema):
    items: list[MeetingOut]
    count: int


class MeetingsQuery(Schema):
    body: str | None = None
    kind: Meeting.Kind | None = None


@router.get(
    "/meetings",
    response={200: MeetingList, 404: ErrorOut, 422: ErrorOut},
    operation_id="list_meetings",
)
def meetings(request: HttpRequest, query: Query[MeetingsQuery]) -> MeetingList:
    """Meetings of the bodies (Principals, working level, extended membership), oldest first."""
    found = selectors.meetings(
        Viewer.from_request(request), get_body(query.body) if query.body else None, kind=query.kind
    )
    items = [
        MeetingOut(
            key=m.key,
            body=m.body.key,
            kind=m.kind,
            title=m.title,
            date=m.date or None,
            date_label=date_label(m.date),
            location=m.location or None,
            sources=sources_of(m),
        )
        for m in found
    ]
    return MeetingList(items=items, count=len(items))
