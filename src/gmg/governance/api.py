"""API: chair terms, including who chaired on a given day."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError

from gmg.accounts.permissions import can_manage_meeting
from gmg.api.auth import actor_for, write_auth
from gmg.api.schemas import (
    NOT_STATED,
    ClaimOut,
    ErrorOut,
    SourceOut,
    claims_of,
    date_label,
    sources_of,
)
from gmg.api.writes import (
    WRITE_RESPONSES,
    WriteRejected,
    apply,
    delete_keyed,
    entities_named,
    lookup,
    patch_schema,
    reference,
    require_record_keeper,
    run,
    sent,
)
from gmg.core.services import delete_record, save_record
from gmg.core.viewer import Viewer
from gmg.core.visibility import Visibility
from gmg.governance import selectors
from gmg.governance.models import (
    ChairTerm,
    ChairTermChair,
    Meeting,
)
from gmg.governance.services import Attendance, save_meeting
from gmg.registry.api import get_body
from gmg.registry.models import Body, Entity
from gmg.workgroups.models import WorkingGroup

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


# -- meeting pages ------------------------------------------------------------------------------


class ParticipantIO(Schema):
    entity: str
    represented_by: str = ""
    attended: bool = True


class DocumentRef(Schema):
    uid: str
    title: str
    kind: str
    download_url: str | None


class MeetingDetail(MeetingOut):
    working_group: str | None
    visibility: str
    summary: str | None
    agenda: list[str]
    participants: list[ParticipantIO]
    decisions: list[str]
    documents: list[DocumentRef]


def meeting_detail_out(m: Meeting) -> MeetingDetail:
    return MeetingDetail(
        key=m.key,
        body=m.body.key,
        kind=m.kind,
        title=m.title,
        date=m.date or None,
        date_label=date_label(m.date),
        location=m.location or None,
        sources=sources_of(m),
        working_group=m.working_group.key if m.working_group else None,
        visibility=m.visibility,
        summary=m.summary or None,
        agenda=[a.title for a in m.agenda_items.all()],
        participants=[
            ParticipantIO(
                entity=p.entity.acronym, represented_by=p.represented_by, attended=p.attended
            )
            for p in m.participants.all()
        ],
        decisions=[d.text for d in m.decisions.all()],
        documents=[
            DocumentRef(
                uid=str(d.uid),
                title=d.title,
                kind=d.kind,
                download_url=f"/members-area/documents/{d.uid}/download/" if d.file else None,
            )
            for d in m.visible_documents  # type: ignore[attr-defined]
        ],
    )


@router.get(
    "/meetings/{key}",
    response={200: MeetingDetail, 404: ErrorOut},
    operation_id="get_meeting",
)
def meeting_detail(request: HttpRequest, key: str) -> MeetingDetail:
    """A meeting page: agenda, participants (per entity), decisions, and its documents."""
    found = selectors.meeting_detail(Viewer.from_request(request), key)
    if found is None:
        raise HttpError(404, f"No meeting {key!r}.")
    return meeting_detail_out(found)


# -- writes ---------------------------------------------------------------------------------------


class ChairTermIn(Schema):
    key: str
    body: str
    start: str
    end: str
    interim: bool = False
    coordinator: str | None = None
    theme: str = ""
    chairs: list[str]


ChairTermPatch = patch_schema(ChairTermIn, "ChairTermPatch")


def _save_term(request: HttpRequest, term: ChairTerm, data, partial: bool) -> ChairTermOut:
    require_record_keeper(request)
    apply(term, data, fields=("key", "start", "end", "interim", "theme"), partial=partial)
    if not partial or sent(data, "body"):
        term.body = reference(Body, "body", "body", data.body, required=True, key=data.body)  # type: ignore[assignment]
    if not partial or sent(data, "coordinator"):
        term.coordinator = reference(
            Entity, "entity", "coordinator", data.coordinator, acronym=data.coordinator
        )
    chairs = None
    if not partial or sent(data, "chairs"):
        chairs = entities_named("chairs", data.chairs or [])
        if not chairs:
            raise WriteRejected(
                ValidationError({"chairs": "a chair term needs at least one chair"})
            )

    def children(saved: ChairTerm) -> None:
        if chairs is not None:
            saved.chair_links.all().delete()
            for position, entity in enumerate(chairs):
                ChairTermChair.objects.create(term=saved, entity=entity, position=position)

    run(lambda: save_record(term, by=actor_for(request), children=children))
    return term_out(selectors.chair_terms(term.body, with_sources=True).get(pk=term.pk))


@router.post(
    "/chair-terms",
    response={201: ChairTermOut, **WRITE_RESPONSES},
    auth=write_auth("write:governance"),
    operation_id="create_chair_term",
)
def create_chair_term(request: HttpRequest, data: ChairTermIn):
    """Add a chair term with its chair(s) (secretariat)."""
    return Status(201, _save_term(request, ChairTerm(), data, partial=False))


@router.patch(
    "/chair-terms/{key}",
    response={200: ChairTermOut, **WRITE_RESPONSES},
    auth=write_auth("write:governance"),
    operation_id="update_chair_term",
)
def update_chair_term(request: HttpRequest, key: str, data: ChairTermPatch):  # type: ignore[valid-type]
    require_record_keeper(request)
    return _save_term(request, lookup(ChairTerm, "chair term", key=key), data, partial=True)


@router.delete(
    "/chair-terms/{key}",
    response={204: None, **WRITE_RESPONSES},
    auth=write_auth("write:governance"),
    operation_id="delete_chair_term",
)
def delete_chair_term(request: HttpRequest, key: str):
    return delete_keyed(request, ChairTerm, "chair term", key=key)


class MeetingIn(Schema):
    key: str
    body: str
    kind: Meeting.Kind
    title: str
    date: str = ""
    location: str = ""
    working_group: str | None = None
    summary: str = ""
    visibility: Visibility = Visibility.BODY
    audience_entities: list[str] = []
    agenda: list[str] = []
    participants: list[ParticipantIO] = []
    decisions: list[str] = []


MeetingPatch = patch_schema(MeetingIn, "MeetingPatch")


def _save_meeting(request: HttpRequest, meeting: Meeting, data, partial: bool) -> MeetingDetail:
    viewer = Viewer.from_request(request)
    fields = ("key", "kind", "title", "date", "location", "summary", "visibility")
    apply(meeting, data, fields=fields, partial=partial)
    if not partial or sent(data, "body"):
        meeting.body = reference(Body, "body", "body", data.body, required=True, key=data.body)  # type: ignore[assignment]
    if not partial or sent(data, "working_group"):
        meeting.working_group = reference(
            WorkingGroup,
            "working group",
            "working_group",
            data.working_group,
            key=data.working_group,
        )
    given = lambda name: not partial or sent(data, name)  # noqa: E731
    named = (
        entities_named("audience_entities", data.audience_entities or [])
        if given("audience_entities")
        else None
    )
    attendance = None
    if given("participants"):
        rows = data.participants or []
        attendance = [
            Attendance(entity, row.represented_by, row.attended)
            for row, entity in zip(
                rows, entities_named("participants", [r.entity for r in rows]), strict=False
            )
        ]
    run(
        lambda: save_meeting(
            meeting,
            viewer=viewer,
            by=actor_for(request),
            audience_entities=named,
            agenda=(data.agenda or []) if given("agenda") else None,
            participants=attendance,
            decisions=(data.decisions or []) if given("decisions") else None,
        )
    )
    found = selectors.meeting_detail(viewer, meeting.key)
    if found is None:  # saved with a visibility that hides it from its author
        raise HttpError(404, f"No meeting {meeting.key!r} visible to you.")
    return meeting_detail_out(found)


@router.post(
    "/meetings",
    response={201: MeetingDetail, **WRITE_RESPONSES},
    auth=write_auth("write:governance"),
    operation_id="create_meeting",
)
def create_meeting(request: HttpRequest, data: MeetingIn):
    """Add a meeting page (secretariat, the chair in office, or the group's co-chairs)."""
    return Status(201, _save_meeting(request, Meeting(), data, partial=False))


@router.patch(
    "/meetings/{key}",
    response={200: MeetingDetail, **WRITE_RESPONSES},
    auth=write_auth("write:governance"),
    operation_id="update_meeting",
)
def update_meeting(request: HttpRequest, key: str, data: MeetingPatch):  # type: ignore[valid-type]
    found = selectors.meeting_detail(Viewer.from_request(request), key)
    if found is None:
        raise HttpError(404, f"No meeting {key!r}.")
    return _save_meeting(request, found, data, partial=True)


@router.delete(
    "/meetings/{key}",
    response={204: None, **WRITE_RESPONSES},
    auth=write_auth("write:governance"),
    operation_id="delete_meeting",
)
def delete_meeting(request: HttpRequest, key: str):
    viewer = Viewer.from_request(request)
    found = selectors.meeting_detail(viewer, key)
    if found is None:
        raise HttpError(404, f"No meeting {key!r}.")
    if not can_manage_meeting(viewer, found.body_id, found.working_group_id):
        raise HttpError(403, "Only the secretariat, the chair or the co-chairs delete meetings.")
    run(lambda: delete_record(found, by=actor_for(request)))
    return Status(204, None)
