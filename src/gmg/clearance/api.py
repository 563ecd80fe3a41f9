"""API: joint texts and their clearance under the silence procedure.

Every endpoint reads through ``gmg.clearance.selectors`` and writes through
``gmg.clearance.services``: what a caller may see and do is decided there. A text the caller
cannot see is a 404, like a missing one. Statuses and round outcomes are derived at the
instant of the request (a round's deadline closes it, whether or not ``gmg tick`` has
recorded the closing yet).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError

from gmg.accounts.models import ApiToken
from gmg.accounts.permissions import can_lead_text, can_manage_meeting
from gmg.api.auth import SIGNED_IN, actor_for, write_auth
from gmg.api.schemas import ErrorOut
from gmg.api.writes import WRITE_RESPONSES, WriteRejected, entities_named, reference, run, sent
from gmg.clearance import paragraphs, selectors, services
from gmg.clearance.models import (
    Answer,
    Comment,
    JointText,
    Round,
    TextKind,
    TextLead,
    Version,
)
from gmg.clearance.models import (
    Status as TextStatus,
)
from gmg.clearance.state import outcome_at
from gmg.core.viewer import Viewer
from gmg.core.visibility import Visibility, can_see, filter_visible
from gmg.governance import selectors as governance_selectors
from gmg.governance.models import Meeting
from gmg.registry.api import get_body
from gmg.registry.models import Body, Entity
from gmg.repository.models import Output
from gmg.workgroups.models import WorkingGroup

router = Router(tags=["clearance"])

WRITE = write_auth(ApiToken.Scope.WRITE_CLEARANCE)
MAX_PAGE_SIZE = 100
MAX_NUMBER = 2_147_483_647  # numbers and ids in paths: what every database column holds
MAX_TEXT_CHARS = 1_000_000  # a whole draft
MAX_NOTE_CHARS = 20_000  # a comment, a reason, a note
MAX_LEADS = 30
MAX_NAMED = 100  # audience entities, objections

Number = Annotated[int, Path(ge=1, le=MAX_NUMBER)]
Acronym = Annotated[str, Field(max_length=100)]
Email = Annotated[str, Field(max_length=254)]
Note = Annotated[str, Field(max_length=MAX_NOTE_CHARS)]
# The models' choices, as literals: their enums share class names (``Kind``, ``Outcome``) that
# would collide in the OpenAPI document's schemas. A test checks they agree.
CommentKind = Literal["editorial", "substantive"]
AnswerKind = Literal["clear", "clear_with_comments", "object"]
NextStep = Literal["new_version", "returned", "referred"]
DecisionOutcome = Literal["adopted", "noted", "returned"]


# -- shapes ------------------------------------------------------------------------------------


class LeadOut(Schema):
    entity: str
    role: str


class RoundSummary(Schema):
    number: int
    deadline: dt.datetime
    open: bool


class TextOut(Schema):
    key: str
    title: str
    kind: str
    body: str
    working_group: str | None
    status: str = Field(description="Derived at the instant of the request")
    status_label: str
    visibility: str
    language: str
    occasion: str | None
    leads: list[LeadOut]
    latest_version: int
    current_round: RoundSummary | None


class TextList(Schema):
    items: list[TextOut]
    count: int
    page: int
    pages: int
    page_size: int


class VersionOut(Schema):
    number: int
    title: str
    note: str | None
    created_at: dt.datetime
    created_by: str | None


class RoundOut(Schema):
    number: int
    version: int
    opened_at: dt.datetime
    deadline: dt.datetime
    open: bool
    outcome: str | None
    next_step: str | None


class DrafterOut(Schema):
    name: str | None
    entity: str | None
    email: str | None = Field(
        None, description="Shown to the secretariat and the text's leads, who name drafters"
    )


class TextDetail(TextOut):
    status_note: str | None
    audience_entities: list[str]
    versions: list[VersionOut]
    rounds: list[RoundOut]
    drafters: list[DrafterOut]
    adopted_version: int | None
    adopted_at: dt.datetime | None
    output: str | None = Field(None, description="The published output's key")
    event: str | None
    meeting: str | None
    created_at: dt.datetime


class ParagraphOut(Schema):
    number: int
    text: str


class CommentOut(Schema):
    id: int
    version: int
    paragraph: int | None = Field(description="On the version commented on; null: whole text")
    quote: str | None
    kind: str
    body: str
    author: str | None
    entity: str | None
    created_at: dt.datetime
    resolution: str
    reason: str | None
    resolved_by: str | None
    resolved_at: dt.datetime | None


class PlacedCommentOut(CommentOut):
    carried: bool = Field(description="Made on an earlier version")
    current_paragraph: int | None = Field(
        description="Where the paragraph is in the version shown; null when it was removed "
        "or the comment is on the whole text"
    )


class VersionDetail(VersionOut):
    text: str
    paragraphs: list[ParagraphOut]
    comments: list[PlacedCommentOut]


class CommentList(Schema):
    items: list[PlacedCommentOut]
    count: int
    placed_on: int = Field(description="The version whose paragraphs current_paragraph counts")


class DiffRowOut(Schema):
    change: Literal["same", "changed", "removed", "added"]
    old_number: int | None
    new_number: int | None
    old: str
    new: str


class Comparison(Schema):
    from_version: int = Field(alias="from")
    to_version: int = Field(alias="to")
    rows: list[DiffRowOut]


class AnswerOut(Schema):
    entity: str
    kind: str
    reason: str | None
    comments: str | None
    answered_by: str | None
    on_behalf: bool
    answered_at: dt.datetime


class GridRowOut(Schema):
    entity: str
    state: Literal["clear", "clear_with_comments", "object", "silent"]
    answer: AnswerOut | None
    history: list[AnswerOut]


class RoundCounts(Schema):
    asked: int
    clear: int
    clear_with_comments: int
    object: int
    silent: int


class RoundDetail(RoundOut):
    text: str
    silence_broken: bool = Field(description="An objection counts now")
    next_step_note: str | None
    referred_to: str | None = Field(None, description="The Principals' meeting, when named")
    counts: RoundCounts
    entities: list[GridRowOut]


class DecisionOut(Schema):
    meeting: str
    position: int
    text: str
    joint_text: str
    outcome: str
    objections: list[str]


class PublicationOut(Schema):
    text: str
    output: str | None = Field(None, description="The new output's key")
    document: str | None = Field(None, description="For minutes: the minutes document's uid")


class PolicyOut(Schema):
    body: str
    minimum_notice_hours: int


class AwaitingOut(Schema):
    text: str
    title: str
    round: int
    version: int
    deadline: dt.datetime


class AwaitingList(Schema):
    items: list[AwaitingOut]
    count: int


# -- reading -----------------------------------------------------------------------------------


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def _name(user: Any) -> str | None:
    """A person's name (never their address)."""
    person = _person_of(user) if user is not None else None
    return person.name if person else None


def _names(user_ids: set[int | None]) -> dict[int, str]:
    """Names of several people, in one query."""
    ids = {pk for pk in user_ids if pk is not None}
    if not ids:
        return {}
    return dict(
        get_user_model()
        .objects.filter(pk__in=ids, person__isnull=False)
        .values_list("pk", "person__name")
    )


def _text(request: HttpRequest, key: str) -> tuple[Viewer, JointText]:
    viewer = Viewer.from_request(request)
    text = selectors.text_detail(viewer, key)
    if text is None:
        raise HttpError(404, f"No text {key!r}.")
    return viewer, text


def _version(text: JointText, number: int) -> Version:
    found = selectors.version_of(text, number)
    if found is None:
        raise HttpError(404, f"No version {number} of {text.key!r}.")
    return found


def _round(text: JointText, number: int) -> Round:
    found = selectors.round_of(text, number)
    if found is None:
        raise HttpError(404, f"No round {number} of {text.key!r}.")
    return found


def _summary(round_: Round | None, now: dt.datetime) -> RoundSummary | None:
    if round_ is None:
        return None
    return RoundSummary(
        number=round_.number, deadline=_utc(round_.deadline), open=now < round_.deadline
    )


def _text_fields(text: JointText, now: dt.datetime, latest_version: int) -> dict[str, Any]:
    status = selectors.status_of(text, now)
    return dict(
        key=text.key,
        title=text.title,
        kind=text.kind,
        body=text.body.key,
        working_group=text.working_group.key if text.working_group else None,
        status=status,
        status_label=TextStatus(status).label,
        visibility=text.visibility,
        language=text.language,
        occasion=text.occasion or None,
        leads=[
            LeadOut(entity=link.entity.acronym, role=link.role) for link in text.lead_links.all()
        ],
        latest_version=latest_version,
        current_round=_summary(selectors.latest_round(text), now),
    )


def _visible_key(viewer: Viewer, obj: Any, attribute: str = "key") -> str | None:
    """The key of a linked record, when the caller may see it."""
    if obj is None or not can_see(viewer, obj):
        return None
    return str(getattr(obj, attribute))


def text_detail_out(viewer: Viewer, text: JointText) -> TextDetail:
    now = timezone.now()
    versions = list(text.versions.all())
    rounds = list(text.rounds.all())
    names = _names({v.created_by_id for v in versions})
    shows_addresses = can_lead_text(viewer, {link.entity_id for link in text.lead_links.all()})
    drafters = list(text.drafters.all())
    people = [_person_of(user) for user in drafters]
    acronyms = dict(
        Entity.objects.filter(pk__in={p.entity_id for p in people if p}).values_list(
            "pk", "acronym"
        )
    )
    return TextDetail(
        **_text_fields(text, now, versions[-1].number if versions else 0),
        status_note=text.status_note or None,
        audience_entities=sorted(e.acronym for e in text.audience_entities.all()),
        versions=[
            VersionOut(
                number=v.number,
                title=v.title,
                note=v.note or None,
                created_at=_utc(v.created_at),
                created_by=names.get(v.created_by_id) if v.created_by_id else None,
            )
            for v in versions
        ],
        rounds=[_round_out(r, now) for r in rounds],
        drafters=[
            DrafterOut(
                name=person.name if person else None,
                entity=acronyms.get(person.entity_id) if person and person.entity_id else None,
                email=user.get_username() if shows_addresses else None,
            )
            for user, person in zip(drafters, people, strict=True)
        ],
        adopted_version=text.adopted_version.number if text.adopted_version else None,
        adopted_at=_utc(text.adopted_at) if text.adopted_at else None,
        output=_visible_key(viewer, text.output),
        event=_visible_key(viewer, text.event),
        meeting=_visible_key(viewer, text.meeting),
        created_at=_utc(text.created_at),
    )


def _person_of(user: Any) -> Any:
    try:
        return user.person
    except ObjectDoesNotExist:
        return None


def _round_out(round_: Round, now: dt.datetime) -> RoundOut:
    return RoundOut(
        number=round_.number,
        version=round_.version.number,
        opened_at=_utc(round_.opened_at),
        deadline=_utc(round_.deadline),
        open=now < round_.deadline,
        outcome=outcome_at(round_, now) or None,
        next_step=round_.next_step or None,
    )


def _answer_out(a: Answer) -> AnswerOut:
    return AnswerOut(
        entity=a.entity.acronym,
        kind=a.kind,
        reason=a.reason or None,
        comments=a.comments or None,
        answered_by=_name(a.answered_by),
        on_behalf=a.on_behalf,
        answered_at=_utc(a.answered_at),
    )


def round_detail_out(viewer: Viewer, text: JointText, round_: Round) -> RoundDetail:
    state = selectors.grid(round_)
    counts = state.counts
    return RoundDetail(
        text=text.key,
        number=round_.number,
        version=round_.version.number,
        opened_at=_utc(round_.opened_at),
        deadline=_utc(round_.deadline),
        open=state.is_open,
        outcome=state.outcome or None,
        next_step=round_.next_step or None,
        silence_broken=state.silence_broken,
        next_step_note=round_.next_step_note or None,
        referred_to=_visible_key(viewer, round_.referred_to),
        counts=RoundCounts(**counts),
        entities=[
            GridRowOut(
                entity=row.entity.acronym,
                state=row.state,  # type: ignore[arg-type]
                answer=_answer_out(row.answer) if row.answer else None,
                history=[_answer_out(a) for a in row.history],
            )
            for row in state.rows
        ],
    )


def _comment_out(c: Comment) -> dict[str, Any]:
    return dict(
        id=c.pk,
        version=c.version.number,
        paragraph=c.paragraph,
        quote=c.quote or None,
        kind=c.kind,
        body=c.body,
        author=_name(c.author),
        entity=c.entity.acronym if c.entity else None,
        created_at=_utc(c.created_at),
        resolution=c.resolution,
        reason=c.reason or None,
        resolved_by=_name(c.resolved_by),
        resolved_at=_utc(c.resolved_at) if c.resolved_at else None,
    )


def _placed_out(placed: selectors.PlacedComment) -> PlacedCommentOut:
    return PlacedCommentOut(
        **_comment_out(placed.comment),
        carried=placed.carried,
        current_paragraph=placed.paragraph,
    )


def version_detail_out(text: JointText, version: Version) -> VersionDetail:
    names = _names({version.created_by_id})
    return VersionDetail(
        number=version.number,
        title=version.title,
        note=version.note or None,
        created_at=_utc(version.created_at),
        created_by=names.get(version.created_by_id) if version.created_by_id else None,
        text=paragraphs.join(version.paragraphs),
        paragraphs=[ParagraphOut(number=i, text=p) for i, p in enumerate(version.paragraphs, 1)],
        comments=[_placed_out(p) for p in selectors.comments_on(text, version)],
    )


class TextQuery(Schema):
    status: TextStatus | None = Field(None, description="The derived status")
    body: str | None = Field(None, max_length=100)
    kind: TextKind | None = None
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)


def _with_status(found: QuerySet[JointText], status: str, now: dt.datetime) -> QuerySet:
    """``found`` narrowed to the texts whose derived status is ``status``. A text is stored
    as in clearance until its round's closing is recorded; past the deadline it is adopted
    or silence broken already (``state.current_status``), which is worked out here for the
    few such texts (nothing is written)."""
    latest = Round.objects.filter(text=OuterRef("pk")).order_by("-number")
    overdue = list(
        found.filter(status=TextStatus.IN_CLEARANCE)
        .annotate(
            latest_deadline=Subquery(latest.values("deadline")[:1]),
            latest_closed=Subquery(latest.values("closed_at")[:1]),
        )
        .filter(latest_deadline__lte=now, latest_closed__isnull=True)
        .prefetch_related(
            Prefetch(
                "rounds", queryset=Round.objects.order_by("number").prefetch_related("answers")
            )
        )
    )
    moved = {t.pk for t in overdue if selectors.status_of(t, now) == status}
    return found.filter((Q(status=status) & ~Q(pk__in=[t.pk for t in overdue])) | Q(pk__in=moved))


@router.get(
    "/texts",
    response={200: TextList, 404: ErrorOut, 422: ErrorOut},
    operation_id="list_texts",
)
def list_texts(request: HttpRequest, query: Query[TextQuery]) -> TextList:
    """The joint texts you may see, newest first (anonymous callers: public ones)."""
    now = timezone.now()
    found = selectors.texts_visible_to(Viewer.from_request(request))
    if query.body:
        found = found.filter(body=get_body(query.body))
    if query.kind:
        found = found.filter(kind=query.kind)
    if query.status:
        found = _with_status(found, query.status, now)
    count = found.count()
    pages = max(1, -(-count // query.page_size))
    if query.page > pages:
        raise HttpError(404, f"page {query.page} is past the last page ({pages})")
    start = (query.page - 1) * query.page_size
    # Past a deadline the status is derived from the answers: those of overdue rounds only.
    overdue_answers = Answer.objects.filter(round__closed_at=None, round__deadline__lte=now)
    page = (
        found.annotate(
            latest_version=Subquery(
                Version.objects.filter(text=OuterRef("pk")).order_by("-number").values("number")[:1]
            )
        )
        .prefetch_related(
            Prefetch("lead_links", queryset=TextLead.objects.select_related("entity")),
            Prefetch(
                "rounds",
                queryset=Round.objects.order_by("number").prefetch_related(
                    Prefetch("answers", queryset=overdue_answers)
                ),
            ),
        )
        .order_by("-created_at", "-id")[start : start + query.page_size]
    )
    return TextList(
        items=[TextOut(**_text_fields(t, now, t.latest_version or 0)) for t in page],
        count=count,
        page=query.page,
        pages=pages,
        page_size=query.page_size,
    )


@router.get(
    "/texts/{key}",
    response={200: TextDetail, 404: ErrorOut},
    operation_id="get_text",
)
def get_text(request: HttpRequest, key: str) -> TextDetail:
    """A text: its leads, versions, rounds, drafters and where it stands."""
    viewer, text = _text(request, key)
    return text_detail_out(viewer, text)


@router.get(
    "/texts/{key}/versions/{number}",
    response={200: VersionDetail, 404: ErrorOut},
    operation_id="get_text_version",
)
def get_version(request: HttpRequest, key: str, number: Number) -> VersionDetail:
    """One version's paragraphs, with the comments made on it and on earlier versions, each
    placed at its paragraph's position in this version."""
    _, text = _text(request, key)
    return version_detail_out(text, _version(text, number))


class CompareQuery(Schema):
    from_version: int = Field(..., alias="from", ge=1, le=MAX_NUMBER)
    to_version: int = Field(..., alias="to", ge=1, le=MAX_NUMBER)


@router.get(
    "/texts/{key}/compare",
    response={200: Comparison, 404: ErrorOut, 422: ErrorOut},
    operation_id="compare_text_versions",
    by_alias=True,
)
def compare_versions(request: HttpRequest, key: str, query: Query[CompareQuery]) -> Comparison:
    """Two versions paragraph by paragraph: each kept, changed, removed or added."""
    _, text = _text(request, key)
    old = _version(text, query.from_version)
    new = _version(text, query.to_version)
    rows = [
        DiffRowOut(
            change=row.change,  # type: ignore[arg-type]
            old_number=row.old_number,
            new_number=row.new_number,
            old=row.old,
            new=row.new,
        )
        for row in paragraphs.compare(old.paragraphs, new.paragraphs)
    ]
    return Comparison.model_validate({"from": old.number, "to": new.number, "rows": rows})


@router.get(
    "/texts/{key}/comments",
    response={200: CommentList, 404: ErrorOut},
    operation_id="list_text_comments",
)
def list_comments(request: HttpRequest, key: str) -> CommentList:
    """Every comment on the text, on whichever version, placed on the latest version."""
    _, text = _text(request, key)
    latest = list(text.versions.all())[-1]
    items = [_placed_out(p) for p in selectors.comments_on(text, latest)]
    return CommentList(items=items, count=len(items), placed_on=latest.number)


@router.get(
    "/texts/{key}/rounds/{number}",
    response={200: RoundDetail, 404: ErrorOut},
    operation_id="get_text_round",
)
def get_round(request: HttpRequest, key: str, number: Number) -> RoundDetail:
    """A round's entity grid: every entity asked, the answer that counts, every answer."""
    viewer, text = _text(request, key)
    return round_detail_out(viewer, text, _round(text, number))


@router.get(
    "/bodies/{key}/clearance-policy",
    response={200: PolicyOut, 404: ErrorOut},
    operation_id="get_clearance_policy",
)
def get_policy(request: HttpRequest, key: str) -> PolicyOut:
    """The shortest notice a round of the body's texts may give (72 hours unless set)."""
    body = get_body(key)
    return PolicyOut(body=body.key, minimum_notice_hours=services.notice_hours(body))


@router.get(
    "/me/clearance",
    response={200: AwaitingList, 401: ErrorOut},
    auth=SIGNED_IN,
    operation_id="list_my_clearance",
)
def my_clearance(request: HttpRequest) -> AwaitingList:
    """Open rounds in which an entity you answer for has not answered yet, nearest first."""
    items = [
        AwaitingOut(
            text=r.text.key,
            title=r.text.title,
            round=r.number,
            version=r.version.number,
            deadline=_utc(r.deadline),
        )
        for r in selectors.rounds_awaiting(Viewer.from_request(request))
    ]
    return AwaitingList(items=items, count=len(items))


# -- writing -----------------------------------------------------------------------------------


def _visible(model: Any, viewer: Viewer, what: str, field: str, key: str | None) -> Any:
    """A record named by key in the request body that the caller may see (else a 422)."""
    visible = filter_visible(model._default_manager.all(), viewer).values("pk")
    return reference(model, what, field, key, key=key, pk__in=visible)


def _users_named(field: str, emails: list[str]) -> list[Any]:
    """Active users named by their address (their username), in order; unknown: a 422."""
    if not emails:
        return []
    wanted = Q()
    for email in emails:
        wanted |= Q(username__iexact=email)
    found = {
        u.get_username().lower(): u for u in get_user_model().objects.filter(wanted, is_active=True)
    }
    unknown = [e for e in emails if e.lower() not in found]
    if unknown:
        raise WriteRejected(ValidationError({field: f"unknown people: {', '.join(unknown)}"}))
    return list({e.lower(): found[e.lower()] for e in emails}.values())


def _reread(viewer: Viewer, key: str) -> TextDetail:
    text = selectors.text_detail(viewer, key)
    if text is None:  # pragma: no cover - the services keep a text visible to who changes it
        raise HttpError(404, f"No text {key!r}.")
    return text_detail_out(viewer, text)


class TextIn(Schema):
    body: str = Field(..., max_length=100)
    working_group: str | None = Field(None, max_length=100)
    kind: TextKind
    title: str = Field(..., max_length=300)
    occasion: str = Field("", max_length=400)
    event: str | None = Field(None, max_length=120, description="An output of type event")
    meeting: str | None = Field(None, max_length=100, description="For minutes")
    language: str = Field("en", max_length=35)
    visibility: Visibility = Visibility.BODY
    audience_entities: list[Acronym] = Field([], max_length=MAX_NAMED)
    leads: list[Acronym] = Field(..., max_length=MAX_LEADS)
    co_leads: list[Acronym] = Field([], max_length=MAX_LEADS)
    drafters: list[Email] = Field([], max_length=MAX_LEADS, description="Their addresses")
    text: str = Field(
        ..., max_length=MAX_TEXT_CHARS, description="The first draft; paragraphs apart"
    )
    note: Note = ""


@router.post(
    "/texts",
    response={201: TextDetail, **WRITE_RESPONSES},
    auth=WRITE,
    operation_id="start_text",
)
def start_text(request: HttpRequest, data: TextIn):
    """Start a text with its first draft (the secretariat, or a Principal or focal point of
    a member whose entity leads or co-leads it)."""
    viewer = Viewer.from_request(request)
    text = JointText(
        body=reference(Body, "body", "body", data.body, required=True, key=data.body),
        working_group=reference(
            WorkingGroup,
            "working group",
            "working_group",
            data.working_group,
            key=data.working_group,
        ),
        kind=data.kind,
        title=data.title.strip(),
        occasion=data.occasion.strip(),
        event=_visible(Output, viewer, "event", "event", data.event),
        meeting=_visible(Meeting, viewer, "meeting", "meeting", data.meeting),
        language=data.language.strip(),
        visibility=data.visibility,
    )
    leads = entities_named("leads", data.leads)
    co_leads = entities_named("co_leads", data.co_leads)
    audience = entities_named("audience_entities", data.audience_entities)
    drafters = _users_named("drafters", data.drafters)
    run(
        lambda: services.start_text(
            text,
            viewer=viewer,
            by=actor_for(request),
            leads=leads,
            co_leads=co_leads,
            drafters=drafters,
            audience_entities=audience,
            first_draft=data.text,
            note=data.note,
        )
    )
    return Status(201, _reread(viewer, text.key))


class TextPatch(Schema):
    occasion: str | None = Field(None, max_length=400)
    event: str | None = Field(None, max_length=120)
    language: str | None = Field(None, max_length=35)
    visibility: Visibility | None = None
    kind: TextKind | None = None
    leads: list[Acronym] | None = Field(None, max_length=MAX_LEADS)
    co_leads: list[Acronym] | None = Field(None, max_length=MAX_LEADS)
    drafters: list[Email] | None = Field(None, max_length=MAX_LEADS)
    audience_entities: list[Acronym] | None = Field(None, max_length=MAX_NAMED)


@router.patch(
    "/texts/{key}",
    response={200: TextDetail, **WRITE_RESPONSES},
    auth=WRITE,
    operation_id="update_text",
)
def update_text(request: HttpRequest, key: str, data: TextPatch):
    """Change a text's details (its wording changes by a new version). The leads."""
    viewer, text = _text(request, key)
    changes: dict[str, Any] = {}
    for name in ("occasion", "language"):
        if sent(data, name):
            changes[name] = (getattr(data, name) or "").strip()
    for name in ("visibility", "kind"):
        if sent(data, name):
            if getattr(data, name) is None:
                raise WriteRejected(ValidationError({name: "This field cannot be null."}))
            changes[name] = getattr(data, name)
    if sent(data, "event"):
        changes["event"] = _visible(Output, viewer, "event", "event", data.event)

    def named(field: str) -> list | None:
        return entities_named(field, getattr(data, field) or []) if sent(data, field) else None

    leads, co_leads, audience = named("leads"), named("co_leads"), named("audience_entities")
    drafters = _users_named("drafters", data.drafters or []) if sent(data, "drafters") else None
    run(
        lambda: services.update_text(
            text,
            viewer=viewer,
            by=actor_for(request),
            changes=changes,
            leads=leads,
            co_leads=co_leads,
            drafters=drafters,
            audience_entities=audience,
        )
    )
    return _reread(viewer, key)


class WithdrawalIn(Schema):
    reason: Note


@router.post(
    "/texts/{key}/withdrawal",
    response={200: TextDetail, **WRITE_RESPONSES},
    auth=WRITE,
    operation_id="withdraw_text",
)
def withdraw_text(request: HttpRequest, key: str, data: WithdrawalIn):
    """Withdraw a text, saying why (the leads; not while a round is open)."""
    viewer, text = _text(request, key)
    run(lambda: services.withdraw(text, viewer=viewer, by=actor_for(request), reason=data.reason))
    return _reread(viewer, key)


class VersionIn(Schema):
    text: str = Field(..., max_length=MAX_TEXT_CHARS, description="Paragraphs apart")
    title: str = Field("", max_length=300)
    note: Note = ""


@router.post(
    "/texts/{key}/versions",
    response={201: VersionDetail, **WRITE_RESPONSES},
    auth=WRITE,
    operation_id="add_text_version",
)
def add_version(request: HttpRequest, key: str, data: VersionIn):
    """A new version of the wording (drafters, leads, secretariat; not during a round)."""
    viewer, text = _text(request, key)
    version = run(
        lambda: services.add_version(
            text,
            viewer=viewer,
            by=actor_for(request),
            content=data.text,
            title=data.title,
            note=data.note,
        )
    )
    _, text = _text(request, key)
    return Status(201, version_detail_out(text, _version(text, version.number)))


class CommentIn(Schema):
    kind: CommentKind
    body: Note
    paragraph: int | None = Field(None, ge=1, le=paragraphs.MAX_PARAGRAPHS)


@router.post(
    "/texts/{key}/versions/{number}/comments",
    response={201: CommentOut, **WRITE_RESPONSES},
    auth=WRITE,
    operation_id="comment_on_text",
)
def add_comment(request: HttpRequest, key: str, number: Number, data: CommentIn):
    """Comment on a paragraph of a version, or on the whole text (no ``paragraph``)."""
    viewer, text = _text(request, key)
    version = _version(text, number)
    comment = run(
        lambda: services.add_comment(
            version,
            viewer=viewer,
            by=actor_for(request),
            kind=data.kind,
            body=data.body,
            paragraph=data.paragraph,
        )
    )
    return Status(201, CommentOut(**_comment_out(_comment_of(text, comment.pk))))


def _comment_of(text: JointText, comment_id: int) -> Comment:
    found = (
        Comment.objects.filter(pk=comment_id, version__text=text)
        .select_related("version__text", "author__person", "entity", "resolved_by__person")
        .first()
    )
    if found is None:
        raise HttpError(404, f"No comment {comment_id} on {text.key!r}.")
    return found


class ResolutionIn(Schema):
    resolution: Literal["accepted", "declined"]
    reason: Note = ""


@router.post(
    "/texts/{key}/comments/{comment_id}/resolution",
    response={200: CommentOut, **WRITE_RESPONSES},
    auth=WRITE,
    operation_id="resolve_text_comment",
)
def resolve_comment(
    request: HttpRequest,
    key: str,
    comment_id: Annotated[int, Path(ge=1, le=MAX_NUMBER)],
    data: ResolutionIn,
):
    """Accept a comment, or decline it with a reason (drafters, leads, secretariat)."""
    viewer, text = _text(request, key)
    comment = _comment_of(text, comment_id)
    run(
        lambda: services.resolve_comment(
            comment,
            viewer=viewer,
            by=actor_for(request),
            resolution=data.resolution,
            reason=data.reason,
        )
    )
    return CommentOut(**_comment_out(_comment_of(text, comment_id)))


class RoundIn(Schema):
    deadline: dt.datetime = Field(description="With its offset, e.g. 2018-02-02T18:00:00+01:00")
    version: int | None = Field(None, ge=1, le=MAX_NUMBER, description="The latest by default")


@router.post(
    "/texts/{key}/rounds",
    response={201: RoundDetail, **WRITE_RESPONSES},
    auth=WRITE,
    operation_id="open_clearance_round",
)
def open_round(request: HttpRequest, key: str, data: RoundIn):
    """Circulate the latest version under the silence procedure until ``deadline`` (the
    leads). Every member in force is asked."""
    viewer, text = _text(request, key)
    version = None
    if data.version is not None:
        version = selectors.version_of(text, data.version)
        if version is None:
            raise WriteRejected(ValidationError({"version": f"unknown version {data.version}"}))
    round_ = run(
        lambda: services.open_round(
            text, viewer=viewer, by=actor_for(request), deadline=data.deadline, version=version
        )
    )
    _, text = _text(request, key)
    return Status(201, round_detail_out(viewer, text, _round(text, round_.number)))


class AnswerIn(Schema):
    entity: Acronym
    kind: AnswerKind
    reason: Note = ""
    comments: Note = ""


@router.post(
    "/texts/{key}/rounds/{number}/answers",
    response={201: AnswerOut, **WRITE_RESPONSES},
    auth=WRITE,
    operation_id="answer_clearance_round",
)
def answer_round(request: HttpRequest, key: str, number: Number, data: AnswerIn):
    """An entity's answer before the deadline (its Principal or focal point; the secretariat
    records answers given otherwise). The last answer before the deadline counts."""
    viewer, text = _text(request, key)
    round_ = _round(text, number)
    entity = reference(Entity, "entity", "entity", data.entity, required=True, acronym=data.entity)
    given = run(
        lambda: services.answer(
            round_,
            viewer=viewer,
            by=actor_for(request),
            entity=entity,  # type: ignore[arg-type]
            kind=data.kind,
            reason=data.reason,
            comments=data.comments,
        )
    )
    found = Answer.objects.select_related("entity", "answered_by__person").get(pk=given.pk)
    return Status(201, _answer_out(found))


class NextStepIn(Schema):
    step: NextStep
    note: Note = ""
    meeting: str | None = Field(None, max_length=100, description="When referring")


@router.post(
    "/texts/{key}/rounds/{number}/next-step",
    response={200: RoundDetail, **WRITE_RESPONSES},
    auth=WRITE,
    operation_id="choose_next_step",
)
def next_step(request: HttpRequest, key: str, number: Number, data: NextStepIn):
    """After an objection broke silence, the leads choose: a new version, return to the
    drafters, or refer to the Principals (optionally to a Principals' meeting)."""
    viewer, text = _text(request, key)
    round_ = _round(text, number)
    meeting = _visible(Meeting, viewer, "meeting", "meeting", data.meeting)
    run(
        lambda: services.choose_next_step(
            round_,
            viewer=viewer,
            by=actor_for(request),
            step=data.step,
            note=data.note,
            meeting=meeting,
        )
    )
    _, text = _text(request, key)
    return round_detail_out(viewer, text, _round(text, number))


class TextDecisionIn(Schema):
    text: str = Field(..., max_length=120, description="The referred text's key")
    outcome: DecisionOutcome
    objections: list[Acronym] = Field([], max_length=MAX_NAMED)
    note: Note = ""


@router.post(
    "/meetings/{key}/text-decisions",
    response={201: DecisionOut, **WRITE_RESPONSES},
    auth=WRITE,
    operation_id="decide_on_text",
)
def decide_on_text(request: HttpRequest, key: str, data: TextDecisionIn):
    """The Principals' decision on a referred text, by consensus (the secretariat or the
    chair in office): adopted (only without a recorded objection), noted, or returned."""
    viewer = Viewer.from_request(request)
    meeting = governance_selectors.meeting_detail(viewer, key)
    if meeting is None:
        raise HttpError(404, f"No meeting {key!r}.")
    if not can_manage_meeting(viewer, meeting.body_id, meeting.working_group_id):
        raise HttpError(403, "Decisions are recorded by the secretariat or the chair in office.")
    text = selectors.text_detail(viewer, data.text)
    if text is None:
        raise WriteRejected(ValidationError({"text": f"unknown text {data.text!r}"}))
    objections = entities_named("objections", data.objections)
    decision = run(
        lambda: services.decide_on_text(
            meeting,
            text,
            viewer=viewer,
            by=actor_for(request),
            outcome=data.outcome,
            objections=objections,
            note=data.note,
        )
    )
    return Status(
        201,
        DecisionOut(
            meeting=meeting.key,
            position=decision.position,
            text=decision.text,
            joint_text=text.key,
            outcome=decision.outcome,
            objections=[e.acronym for e in objections],
        ),
    )


class PublicationIn(Schema):
    visibility: Literal["public", "body"] = "public"


@router.post(
    "/texts/{key}/publication",
    response={201: PublicationOut, **WRITE_RESPONSES},
    auth=WRITE,
    operation_id="publish_text",
)
def publish_text(request: HttpRequest, key: str, data: PublicationIn):
    """Publish an adopted text as an output of the repository, or, for minutes, as the
    meeting's minutes document (the secretariat)."""
    viewer, text = _text(request, key)
    made = run(
        lambda: services.publish(
            text, viewer=viewer, by=actor_for(request), visibility=data.visibility
        )
    )
    if isinstance(made, Output):
        return Status(201, PublicationOut(text=text.key, output=made.key, document=None))
    return Status(201, PublicationOut(text=text.key, output=None, document=str(made.uid)))


class PolicyIn(Schema):
    minimum_notice_hours: int = Field(..., ge=1, le=24 * 60, description="At most 60 days")


@router.put(
    "/bodies/{key}/clearance-policy",
    response={200: PolicyOut, **WRITE_RESPONSES},
    auth=WRITE,
    operation_id="set_clearance_policy",
)
def set_policy(request: HttpRequest, key: str, data: PolicyIn):
    """Set the shortest notice of the body's rounds, in hours (the secretariat)."""
    body = get_body(key)
    viewer = Viewer.from_request(request)
    policy = run(
        lambda: services.set_policy(
            body,
            viewer=viewer,
            by=actor_for(request),
            minimum_notice_hours=data.minimum_notice_hours,
        )
    )
    return PolicyOut(body=body.key, minimum_notice_hours=policy.minimum_notice_hours)
