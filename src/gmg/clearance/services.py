"""Every write on joint texts: one function per action, shared by pages, API, back office
and CLI. Each runs in one transaction, locks the text (or round) it changes, checks the
state machine and the viewer's rights, and writes an audit entry.

The state machine (``JointText.status``)::

    drafting ──open_round──▶ in_clearance ──deadline, no objection──▶ adopted ──publish──▶ (output)
        ▲                         │
        │                         └─deadline, an objection──▶ silence_broken
        │                                                        │ choose_next_step
        ├──────── revising ◀── new_version ─────────────────────┤
        ├──────── returned ◀── returned ────────────────────────┤
        │                      referred ◀───────────────────────┘
        │                         │ decide_on_text (at a Principals' meeting)
        └──── returned ◀──────────┼──▶ adopted (by consensus: no recorded objection)
                                  └──▶ noted
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from gmg.accounts.permissions import (
    PermissionDenied,
    can_answer_for,
    can_comment,
    can_draft_text,
    can_keep_record,
    can_lead_text,
    can_manage_meeting,
    can_start_text,
)
from gmg.accounts.services import Actor, audit
from gmg.clearance import notifications, paragraphs
from gmg.clearance.models import (
    DEFAULT_NOTICE_HOURS,
    OPEN_FOR_DRAFTING,
    Answer,
    AskedEntity,
    ClearancePolicy,
    Comment,
    JointText,
    Round,
    Status,
    TextKind,
    TextLead,
    Version,
)
from gmg.clearance.state import outcome_of
from gmg.core.viewer import Viewer
from gmg.core.visibility import Visibility, can_see
from gmg.registry.models import Body, Entity

CLOCK = Actor.system("clock")  # who records a round's closing at its deadline
LONGEST_ROUND = dt.timedelta(days=365)
RESERVED_KEYS = {"new", "calendar"}


# How a refusal names where a text stands: "The text is ...".
STANDING = {
    Status.DRAFTING: "being drafted",
    Status.IN_CLEARANCE: "in clearance",
    Status.SILENCE_BROKEN: "waiting for the leads to choose the way on after an objection",
    Status.REVISING: "being amended for a new round",
    Status.RETURNED: "returned to the drafters",
    Status.REFERRED: "referred to the Principals",
    Status.ADOPTED: "adopted",
    Status.NOTED: "noted by the Principals",
    Status.WITHDRAWN: "withdrawn",
}


def standing(status: str) -> str:
    return STANDING.get(Status(status), status)


def _now() -> dt.datetime:
    return timezone.now()


def _refuse(message: str, field: str | None = None) -> ValidationError:
    return ValidationError({field: message} if field else message)


def _person_id(by: Actor) -> int:
    """Comments and answers are a person's: the CLI and other system actors cannot give them."""
    if by.user_id is None:
        raise _refuse("Comments and answers are given by a signed-in person.")
    return by.user_id


def _lock(text: JointText) -> JointText:
    """The text's row, locked for this transaction (PostgreSQL; SQLite serialises writes)."""
    return JointText.objects.select_for_update().get(pk=text.pk)


def lead_ids(text: JointText) -> set[int]:
    return set(TextLead.objects.filter(text=text).values_list("entity_id", flat=True))


def drafter_ids(text: JointText) -> set[int]:
    return set(text.drafters.values_list("pk", flat=True))


def _require_sight(viewer: Viewer, text: JointText) -> None:
    if not can_see(viewer, text):
        raise PermissionDenied("You cannot see this text.")


def _require_own_sight(viewer: Viewer, text: JointText) -> None:
    """A text's visibility must include the person setting it: one who could not see it
    could do nothing more with it."""
    if not can_see(viewer, text):
        raise _refuse(
            "You would not see the text yourself: choose a visibility that includes you.",
            "visibility",
        )


def _require_visible_links(viewer: Viewer, text: JointText) -> None:
    """The event and meeting a text names must be ones the viewer may see: naming a hidden
    one would reveal that it exists."""
    if text.event_id is not None and (text.event is None or not can_see(viewer, text.event)):
        raise _refuse("No such event.", "event")
    if text.meeting_id is not None and (text.meeting is None or not can_see(viewer, text.meeting)):
        raise _refuse("No such meeting.", "meeting")


def _require_lead(viewer: Viewer, text: JointText) -> None:
    _require_sight(viewer, text)
    if not can_lead_text(viewer, lead_ids(text)):
        raise PermissionDenied("Only the lead and co-lead entities (or the secretariat) do this.")


def _require_drafter(viewer: Viewer, text: JointText) -> None:
    _require_sight(viewer, text)
    if not can_draft_text(viewer, lead_ids(text), drafter_ids(text)):
        raise PermissionDenied("Only the drafters, the leads and the secretariat do this.")


def _latest_version(text: JointText) -> Version | None:
    return text.versions.order_by("-number").first()


def notice_hours(body: Body) -> int:
    policy = ClearancePolicy.objects.filter(body=body).first()
    return policy.minimum_notice_hours if policy else DEFAULT_NOTICE_HOURS


def _new_key(title: str) -> str:
    base = slugify(title)[:100].strip("-") or "text"
    if base in RESERVED_KEYS:  # page addresses under /members-area/texts/
        base = f"{base}-text"
    key, n = base, 2
    while JointText.objects.filter(key=key).exists():
        key, n = f"{base}-{n}", n + 1
    return key


def _summary(text: JointText, **extra: Any) -> dict[str, Any]:
    return {"key": text.key, "status": text.status, **extra}


# -- texts and versions ------------------------------------------------------------------------


def start_text(
    text: JointText,
    *,
    viewer: Viewer,
    by: Actor,
    leads: list[Entity],
    co_leads: Iterable[Entity] = (),
    drafters: Iterable[Any] = (),
    audience_entities: Iterable[Entity] = (),
    first_draft: str,
    note: str = "",
) -> JointText:
    """Create ``text`` (unsaved, its fields set) with its first version."""
    if text.pk is not None:
        raise ValueError("start_text creates; use update_text")
    if text.body_id is None:
        raise _refuse("Choose the body the text speaks for.", "body")
    if not can_start_text(viewer, text.body_id, text.working_group_id):
        raise PermissionDenied(
            "Texts are started by the secretariat or by a Principal or focal point of a member."
        )
    co_leads = [e for e in co_leads if e not in leads]
    _require_visible_links(viewer, text)
    if not leads:
        raise _refuse("Name at least one lead entity.", "leads")
    if not viewer.is_secretariat and not (
        {e.pk for e in [*leads, *co_leads]} & (viewer.principal_of | viewer.focal_point_of)
    ):
        raise PermissionDenied(
            "Your entity must be among the leads or co-leads of a text it starts."
        )
    content = paragraphs.split(first_draft)
    problems = paragraphs.problems(content)
    if problems:
        raise _refuse(" ".join(problems), "text")
    text.key = text.key or _new_key(text.title)
    text.status = Status.DRAFTING
    text.created_by_id = by.user_id
    with transaction.atomic():
        text.full_clean(exclude=["adopted_version", "output"])
        named = list(audience_entities)
        if text.visibility == Visibility.ENTITIES and not named:
            raise _refuse("Visible to named entities: name at least one entity.", "visibility")
        text.save()
        text.audience_entities.set(named)
        _require_own_sight(viewer, text)
        TextLead.objects.bulk_create(
            [
                TextLead(text=text, entity=e, role=TextLead.Role.LEAD, position=i)
                for i, e in enumerate(leads)
            ]
            + [
                TextLead(text=text, entity=e, role=TextLead.Role.CO_LEAD, position=len(leads) + i)
                for i, e in enumerate(co_leads)
            ]
        )
        text.drafters.set(list(drafters))
        version = Version.objects.create(
            text=text,
            number=1,
            title=text.title,
            paragraphs=content,
            note=note,
            created_by_id=by.user_id,
            created_at=_now(),
        )
        audit(
            by=by,
            action="clearance.text.create",
            object_type="clearance.jointtext",
            object_key=text.key,
            after=_summary(
                text,
                title=text.title,
                kind=text.kind,
                body=text.body.key,
                leads=[e.acronym for e in leads],
                co_leads=[e.acronym for e in co_leads],
                version=version.number,
                paragraphs=len(content),
            ),
        )
    return text


EDITABLE = ("occasion", "event", "language", "visibility", "kind")


def update_text(
    text: JointText,
    *,
    viewer: Viewer,
    by: Actor,
    changes: dict[str, Any],
    leads: list[Entity] | None = None,
    co_leads: list[Entity] | None = None,
    drafters: list[Any] | None = None,
    audience_entities: list[Entity] | None = None,
) -> JointText:
    """Change a text's details (not its wording: that is a new version). Leads only."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        text = _lock(text)
        _require_lead(viewer, text)
        if text.status in (Status.WITHDRAWN,) or text.output_id:
            raise _refuse("A published or withdrawn text is not changed.")
        before = _summary(text, **{k: str(getattr(text, k)) for k in EDITABLE})
        for name, value in changes.items():
            setattr(text, name, value)
        _require_visible_links(viewer, text)
        text.full_clean(exclude=["adopted_version", "output"])
        text.save()
        if audience_entities is not None:
            text.audience_entities.set(audience_entities)
        if text.visibility == Visibility.ENTITIES and not text.audience_entities.exists():
            raise _refuse("Visible to named entities: name at least one entity.", "visibility")
        _require_own_sight(viewer, text)
        if leads is not None or co_leads is not None:
            current = list(TextLead.objects.filter(text=text).select_related("entity"))
            new_leads = (
                leads
                if leads is not None
                else [link.entity for link in current if link.role == TextLead.Role.LEAD]
            )
            new_co = (
                co_leads
                if co_leads is not None
                else [link.entity for link in current if link.role == TextLead.Role.CO_LEAD]
            )
            if not new_leads:
                raise _refuse("Name at least one lead entity.", "leads")
            text.lead_links.all().delete()
            TextLead.objects.bulk_create(
                [
                    TextLead(text=text, entity=e, role="lead", position=i)
                    for i, e in enumerate(new_leads)
                ]
                + [
                    TextLead(text=text, entity=e, role="co_lead", position=len(new_leads) + i)
                    for i, e in enumerate(x for x in new_co if x not in new_leads)
                ]
            )
        if drafters is not None:
            text.drafters.set(drafters)
        audit(
            by=by,
            action="clearance.text.update",
            object_type="clearance.jointtext",
            object_key=text.key,
            before=before,
            after=_summary(text, **{k: str(getattr(text, k)) for k in EDITABLE}),
        )
    return text


def add_version(
    text: JointText, *, viewer: Viewer, by: Actor, content: str, title: str = "", note: str = ""
) -> Version:
    """A new version of the wording. Refused while a round is open or once decided."""
    with transaction.atomic():
        settle_text(text)
        text = _lock(text)
        _require_drafter(viewer, text)
        if text.status not in OPEN_FOR_DRAFTING:
            raise _refuse(f"The text is {standing(text.status)}: no new version now.")
        latest = _latest_version(text)
        new_paragraphs = paragraphs.split(content)
        problems = paragraphs.problems(new_paragraphs)
        if problems:
            raise _refuse(" ".join(problems), "text")
        new_title = (title or (latest.title if latest else text.title)).strip()[:300]
        if latest and latest.paragraphs == new_paragraphs and latest.title == new_title:
            raise _refuse(f"This is the same as version {latest.number}: nothing changed.", "text")
        number = (text.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = Version.objects.create(
            text=text,
            number=number,
            title=new_title,
            paragraphs=new_paragraphs,
            note=note.strip(),
            created_by_id=by.user_id,
            created_at=_now(),
        )
        if new_title != text.title:
            text.title = new_title
            text.save(update_fields=["title", "updated_at"])
        if text.status == Status.REVISING:
            text.status = Status.DRAFTING
            text.save(update_fields=["status", "updated_at"])
        audit(
            by=by,
            action="clearance.version.create",
            object_type="clearance.jointtext",
            object_key=text.key,
            after=_summary(text, version=number, paragraphs=len(new_paragraphs), note=note),
        )
    return version


# -- comments ----------------------------------------------------------------------------------


CLOSED_FOR_COMMENT = (Status.ADOPTED, Status.NOTED, Status.WITHDRAWN)


def add_comment(
    version: Version,
    *,
    viewer: Viewer,
    by: Actor,
    kind: str,
    body: str,
    paragraph: int | None = None,
) -> Comment:
    text = version.text
    settle_text(text)
    text.refresh_from_db()
    _require_sight(viewer, text)
    if not can_comment(viewer):
        raise PermissionDenied("Comments are made for a member entity (or by the secretariat).")
    if text.status in CLOSED_FOR_COMMENT:
        raise _refuse(f"The text is {standing(text.status)}: comments are closed.")
    if kind not in Comment.Kind.values:
        raise _refuse("A comment is editorial or substantive.", "kind")
    if not body.strip():
        raise _refuse("Write the comment.", "body")
    quote = ""
    if paragraph is not None:
        if not 1 <= paragraph <= len(version.paragraphs):
            raise _refuse(
                f"Version {version.number} has paragraphs 1 to {len(version.paragraphs)}.",
                "paragraph",
            )
        quote = version.paragraphs[paragraph - 1]
    with transaction.atomic():
        comment = Comment.objects.create(
            version=version,
            paragraph=paragraph,
            quote=quote,
            kind=kind,
            body=body.strip(),
            author_id=_person_id(by),
            entity_id=next(iter(sorted(viewer.entity_ids)), None),
            created_at=_now(),
        )
        audit(
            by=by,
            action="clearance.comment.create",
            object_type="clearance.jointtext",
            object_key=text.key,
            after={
                "comment": comment.pk,
                "version": version.number,
                "paragraph": paragraph,
                "kind": kind,
                "body": comment.body,
            },
        )
    return comment


def resolve_comment(
    comment: Comment, *, viewer: Viewer, by: Actor, resolution: str, reason: str = ""
) -> Comment:
    """Accept a comment, or decline it with a reason (drafters, leads, secretariat)."""
    text = comment.version.text
    _require_drafter(viewer, text)
    if resolution not in (Comment.Resolution.ACCEPTED, Comment.Resolution.DECLINED):
        raise _refuse("Resolve a comment as accepted or declined.", "resolution")
    if resolution == Comment.Resolution.DECLINED and not reason.strip():
        raise _refuse("Say why the comment is declined.", "reason")
    with transaction.atomic():
        before = {"resolution": comment.resolution, "reason": comment.reason}
        comment.resolution = resolution
        comment.reason = reason.strip()
        comment.resolved_by_id = by.user_id
        comment.resolved_at = _now()
        comment.save()
        audit(
            by=by,
            action="clearance.comment.resolve",
            object_type="clearance.jointtext",
            object_key=text.key,
            before={"comment": comment.pk, **before},
            after={"comment": comment.pk, "resolution": resolution, "reason": comment.reason},
        )
    return comment


# -- rounds ------------------------------------------------------------------------------------


def entities_to_ask(text: JointText, on: dt.date) -> list[Entity]:
    """Every member entity of the body in force on ``on`` (for a body that has ended, on
    its last day, as for reading its archive), or of the working group: its co-chairs and
    the entities of its members."""
    from gmg.accounts.models import RoleAssignment
    from gmg.registry.models import Membership
    from gmg.registry.selectors import certainly_member_on, in_force_day

    if text.working_group is not None:
        ids = set(text.working_group.co_chair_links.values_list("entity_id", flat=True))
        ids |= set(
            RoleAssignment.objects.filter(
                role=RoleAssignment.Role.WORKING_GROUP_MEMBER,
                working_group_id=text.working_group_id,
                person__entity__isnull=False,
                person__user__is_active=True,
            ).values_list("person__entity_id", flat=True)
        )
        return list(Entity.objects.filter(pk__in=ids).order_by("acronym"))
    day = in_force_day(on, text.body.ended_end)
    ids = {
        entity_id
        for entity_id, joined_end, left_start in Membership.objects.filter(
            body_id=text.body_id, joined_end__lte=day
        ).values_list("entity_id", "joined_end", "left_start")
        if certainly_member_on(day, joined_end, left_start)
    }
    return list(Entity.objects.filter(pk__in=ids).order_by("acronym"))


def open_round(
    text: JointText,
    *,
    viewer: Viewer,
    by: Actor,
    deadline: dt.datetime,
    version: Version | None = None,
) -> Round:
    """Circulate a version under the silence procedure until ``deadline`` (an aware
    instant). Every entity to ask is asked; the mails go out on the next tick."""
    if timezone.is_naive(deadline):
        raise _refuse("Give the deadline with its time zone (it is kept in UTC).", "deadline")
    with transaction.atomic():
        settle_text(text)
        text = _lock(text)
        _require_lead(viewer, text)
        if text.status not in OPEN_FOR_DRAFTING:
            raise _refuse(f"The text is {standing(text.status)}: a round cannot open now.")
        latest = _latest_version(text)
        version = version or latest
        if version is None or version.text_id != text.pk:
            raise _refuse("Choose a version of this text.", "version")
        if latest is not None and version.pk != latest.pk:
            raise _refuse(
                f"Circulate the latest version ({latest.number}), not version {version.number}.",
                "version",
            )
        now = _now()
        hours = notice_hours(text.body)
        earliest = now + dt.timedelta(hours=hours)
        if deadline < earliest:
            raise _refuse(
                f"The deadline must be at least {hours} hours ahead: "
                f"{earliest.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC or later.",
                "deadline",
            )
        if deadline > now + LONGEST_ROUND:
            raise _refuse("The deadline is more than a year ahead.", "deadline")
        asked = entities_to_ask(text, now.date())
        if not asked:
            raise _refuse(
                "No member entity to ask: the body (or working group) has no members in force."
            )
        number = (text.rounds.aggregate(n=Max("number"))["n"] or 0) + 1
        round_ = Round.objects.create(
            text=text,
            number=number,
            version=version,
            opened_by_id=by.user_id,
            opened_at=now,
            deadline=deadline.astimezone(dt.UTC),
        )
        AskedEntity.objects.bulk_create(AskedEntity(round=round_, entity=e) for e in asked)
        text.status = Status.IN_CLEARANCE
        text.save(update_fields=["status", "updated_at"])
        notifications.enqueue_round_opened(round_, asked, now)
        audit(
            by=by,
            action="clearance.round.open",
            object_type="clearance.jointtext",
            object_key=text.key,
            after=_summary(
                text,
                round=number,
                version=version.number,
                deadline=round_.deadline.isoformat(),
                asked=[e.acronym for e in asked],
            ),
        )
    return round_


def answer(
    round_: Round,
    *,
    viewer: Viewer,
    by: Actor,
    entity: Entity,
    kind: str,
    reason: str = "",
    comments: str = "",
) -> Answer:
    """Record ``entity``'s answer. Refused at or after the deadline. An entity may answer
    again before the deadline: every answer is kept, the last one counts."""
    if kind not in Answer.Kind.values:
        raise _refuse("Answer clear, clear with comments, or object.", "kind")
    if kind == Answer.Kind.OBJECT and not reason.strip():
        raise _refuse("An objection states its substantive reason.", "reason")
    if kind == Answer.Kind.CLEAR_WITH_COMMENTS and not comments.strip():
        raise _refuse("Give the editorial comments (or simply clear).", "comments")
    with transaction.atomic():
        # The round's row is the lock the closing takes too: an answer and the closing
        # are ordered, and the instant is read once the lock is held.
        round_ = Round.objects.select_for_update().select_related("text").get(pk=round_.pk)
        now = _now()
        if now >= round_.deadline:
            raise _refuse(
                f"The deadline ({round_.deadline.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC) "
                "has passed: this round is closed and takes no more answers."
            )
        _require_sight(viewer, round_.text)
        if not round_.asked_links.filter(entity=entity).exists():
            raise _refuse(f"{entity.acronym} is not asked in this round.", "entity")
        if not can_answer_for(viewer, entity.pk):
            raise PermissionDenied(
                f"Only {entity.acronym}'s Principal or focal point answers for it."
            )
        given = Answer.objects.create(
            round=round_,
            entity=entity,
            kind=kind,
            reason=reason.strip(),
            comments=comments.strip(),
            answered_by_id=_person_id(by),
            on_behalf=entity.pk not in (viewer.principal_of | viewer.focal_point_of),
            answered_at=now,
        )
        if kind == Answer.Kind.OBJECT:
            notifications.enqueue_for_round(round_, notifications.Kind.SILENCE_BROKEN, now)
        audit(
            by=by,
            action="clearance.answer",
            object_type="clearance.jointtext",
            object_key=round_.text.key,
            after={
                "round": round_.number,
                "entity": entity.acronym,
                "kind": kind,
                "reason": given.reason,
                "comments": given.comments,
                "on_behalf": given.on_behalf,
                "at": now.isoformat(),
            },
        )
    return given


def settle_round(round_: Round, now: dt.datetime | None = None) -> bool:
    """Record the closing of ``round_`` if its deadline has passed and no one has yet.
    Returns whether this call recorded it. Safe to run from several servers at once."""
    now = now or _now()
    if round_.closed_at is not None or round_.deadline > now:
        return False
    with transaction.atomic():
        locked = Round.objects.select_for_update().select_related("text").get(pk=round_.pk)
        if locked.closed_at is not None:
            return False
        outcome = outcome_of(locked.answers.all(), locked.deadline)
        locked.closed_at = now
        locked.outcome = outcome
        locked.save(update_fields=["closed_at", "outcome"])
        text = _lock(locked.text)
        if text.status == Status.IN_CLEARANCE:
            text.status = outcome  # the outcome's values are statuses
            if outcome == Round.Outcome.ADOPTED:
                text.adopted_at = locked.deadline
                text.adopted_version = locked.version
            text.save(update_fields=["status", "adopted_at", "adopted_version", "updated_at"])
        kind = (
            notifications.Kind.ADOPTED
            if outcome == Round.Outcome.ADOPTED
            else notifications.Kind.NOT_ADOPTED
        )
        notifications.enqueue_for_round(locked, kind, now)
        audit(
            by=CLOCK,
            action="clearance.round.close",
            object_type="clearance.jointtext",
            object_key=text.key,
            after={
                "round": locked.number,
                "outcome": outcome,
                "deadline": locked.deadline.isoformat(),
            },
        )
    round_.closed_at, round_.outcome = now, outcome
    return True


def settle_text(text: JointText) -> None:
    """Record the closing of the text's latest round, if due (before any change to it)."""
    latest = text.rounds.order_by("-number").first()
    if latest is not None:
        settle_round(latest)


def settle_due(now: dt.datetime | None = None) -> int:
    """Record every round whose deadline passed: ``gmg tick`` and the scheduler call this."""
    now = now or _now()
    due = Round.objects.filter(closed_at=None, deadline__lte=now)
    return sum(settle_round(r, now) for r in due)


def choose_next_step(
    round_: Round,
    *,
    viewer: Viewer,
    by: Actor,
    step: str,
    note: str = "",
    meeting: Any = None,
) -> Round:
    """After silence was broken, the leads choose: amend and circulate again, return to
    the drafters, or refer to the Principals (optionally to a given meeting)."""
    from gmg.governance.models import AgendaItem, Meeting

    if step not in Round.NextStep.values:
        raise _refuse("Choose a new version, return to the drafters, or refer.", "step")
    settle_round(round_)
    with transaction.atomic():
        text = _lock(round_.text)
        _require_lead(viewer, text)
        round_ = Round.objects.select_for_update().get(pk=round_.pk)
        latest = text.rounds.order_by("-number").first()
        if round_.outcome != Round.Outcome.SILENCE_BROKEN:
            raise _refuse("The way on is chosen after a round closes with an objection.")
        # Checked before the text's status, which the first choice moved on.
        if latest is None or latest.pk != round_.pk or round_.next_step:
            raise _refuse("The way on from this round was chosen already.")
        if text.status != Status.SILENCE_BROKEN:
            raise _refuse(f"The text is {standing(text.status)}: no way on to choose now.")
        if meeting is not None:
            if step != Round.NextStep.REFERRED:
                raise _refuse("A meeting is named only when referring.", "meeting")
            if meeting.body_id != text.body_id or meeting.kind != Meeting.Kind.PRINCIPALS:
                raise _refuse("Refer to a Principals' meeting of the same body.", "meeting")
        now = _now()
        round_.next_step = step
        round_.next_step_note = note.strip()
        round_.next_step_by_id = by.user_id
        round_.next_step_at = now
        round_.referred_to = meeting
        round_.save()
        text.status = {
            Round.NextStep.NEW_VERSION: Status.REVISING,
            Round.NextStep.RETURNED: Status.RETURNED,
            Round.NextStep.REFERRED: Status.REFERRED,
        }[Round.NextStep(step)]
        text.status_note = note.strip()
        text.save(update_fields=["status", "status_note", "updated_at"])
        if meeting is not None:
            position = (meeting.agenda_items.aggregate(p=Max("position"))["p"] or 0) + 1
            AgendaItem.objects.create(
                meeting=meeting,
                position=position,
                title=f"Referred for decision: {text.title}"[:300],
                joint_text=text,
            )
        if step == Round.NextStep.REFERRED:
            notifications.enqueue_for_round(round_, notifications.Kind.REFERRED, now)
        audit(
            by=by,
            action="clearance.round.next_step",
            object_type="clearance.jointtext",
            object_key=text.key,
            after=_summary(
                text,
                round=round_.number,
                step=step,
                note=note,
                meeting=meeting.key if meeting else None,
            ),
        )
    return round_


def decide_on_text(
    meeting: Any,
    text: JointText,
    *,
    viewer: Viewer,
    by: Actor,
    outcome: str,
    objections: Iterable[Entity] = (),
    note: str = "",
) -> Any:
    """The Principals' decision on a referred text, by consensus: a recorded objection
    blocks adoption, but the text may still be noted (or returned to the drafters)."""
    from gmg.governance.models import Decision, Meeting

    if outcome not in Decision.Outcome.values:
        raise _refuse("Decide to adopt, note or return the text.", "outcome")
    objecting = list(objections)
    with transaction.atomic():
        text = _lock(text)
        if not can_manage_meeting(viewer, meeting.body_id, meeting.working_group_id):
            raise PermissionDenied(
                "Decisions are recorded by the secretariat or the chair in office."
            )
        if meeting.body_id != text.body_id:
            raise _refuse("The text belongs to another body.", "text")
        if meeting.kind != Meeting.Kind.PRINCIPALS or meeting.working_group_id is not None:
            raise _refuse("Referred texts are decided at a Principals' meeting of the body.")
        if text.status != Status.REFERRED:
            raise _refuse(
                f"The text is {standing(text.status)}: only referred texts are "
                "decided at a meeting."
            )
        if outcome == Decision.Outcome.ADOPTED and objecting:
            raise _refuse(
                "Consensus is blocked: "
                + ", ".join(e.acronym for e in objecting)
                + " recorded an objection. The Principals may note the text instead.",
                "outcome",
            )
        now = _now()
        position = (meeting.decisions.aggregate(p=Max("position"))["p"] or 0) + 1
        labels = {"adopted": "adopted", "noted": "noted", "returned": "returned to the drafters"}
        decision = Decision.objects.create(
            meeting=meeting,
            agenda_item=meeting.agenda_items.filter(joint_text=text).first(),
            position=position,
            text=(note.strip() or f"The Principals {labels[outcome]} “{text.title}”."),
            joint_text=text,
            outcome=outcome,
        )
        decision.objections.set(objecting)
        latest = text.rounds.order_by("-number").first()
        if outcome == Decision.Outcome.ADOPTED:
            text.status = Status.ADOPTED
            text.adopted_at = now
            text.adopted_version = latest.version if latest else _latest_version(text)
        elif outcome == Decision.Outcome.NOTED:
            text.status = Status.NOTED
        else:
            text.status = Status.RETURNED
        text.status_note = note.strip()
        text.save()
        if outcome == Decision.Outcome.ADOPTED and latest is not None:
            notifications.enqueue_for_round(latest, notifications.Kind.ADOPTED, now)
        audit(
            by=by,
            action="clearance.decision",
            object_type="clearance.jointtext",
            object_key=text.key,
            after=_summary(
                text,
                meeting=meeting.key,
                outcome=outcome,
                objections=[e.acronym for e in objecting],
            ),
        )
    return decision


def withdraw(text: JointText, *, viewer: Viewer, by: Actor, reason: str) -> JointText:
    if not reason.strip():
        raise _refuse("Say why the text is withdrawn.", "reason")
    with transaction.atomic():
        settle_text(text)
        text = _lock(text)
        _require_lead(viewer, text)
        if text.status in (Status.ADOPTED, Status.NOTED, Status.WITHDRAWN, Status.IN_CLEARANCE):
            raise _refuse(f"The text is {standing(text.status)}: it cannot be withdrawn.")
        before = _summary(text)
        text.status = Status.WITHDRAWN
        text.status_note = reason.strip()
        text.save(update_fields=["status", "status_note", "updated_at"])
        audit(
            by=by,
            action="clearance.text.withdraw",
            object_type="clearance.jointtext",
            object_key=text.key,
            before=before,
            after=_summary(text, reason=reason),
        )
    return text


# -- publication -------------------------------------------------------------------------------

# Minutes become a document, not an output: this note on the text records that they were.
PUBLISHED_AS_MINUTES = "Published as the minutes document "

OUTPUT_TYPE = {
    TextKind.JOINT_STATEMENT: "joint_statement",
    TextKind.MESSAGE: "message",
    TextKind.JOINT_COMMUNIQUE: "joint_communique",
    TextKind.ISSUE_BRIEF: "issue_brief",
    TextKind.BRIEFING_NOTE: "briefing_note",
    TextKind.CONCEPT_NOTE: "concept_note",
    TextKind.POSITION_PAPER: "position_paper",
}


def publish(
    text: JointText, *, viewer: Viewer, by: Actor, visibility: str = Visibility.PUBLIC
) -> Any:
    """Make an adopted text an output of the repository (public, or members-only): its
    adopted wording, occasion, date, leads, and the event it was delivered at. Minutes
    become the meeting's minutes document instead. The secretariat publishes."""
    from gmg.core.services import save_record
    from gmg.repository.models import Document, Output
    from gmg.repository.services import save_output

    if not can_keep_record(viewer):
        raise PermissionDenied("The secretariat publishes adopted texts.")
    if visibility not in (Visibility.PUBLIC, Visibility.BODY):
        raise _refuse("Publish to the public or to the body's members.", "visibility")
    with transaction.atomic():
        settle_text(text)
        text = _lock(text)
        if text.status != Status.ADOPTED:
            raise _refuse(f"The text is {standing(text.status)}: only adopted texts are published.")
        if text.output_id is not None or text.status_note.startswith(PUBLISHED_AS_MINUTES):
            raise _refuse("The text is published already.")
        version = text.adopted_version or _latest_version(text)
        assert version is not None  # noqa: S101 - a text always has a first version
        adopted_on = (text.adopted_at or _now()).astimezone(dt.UTC).date()
        if text.kind == TextKind.MINUTES:
            minutes = Document(
                body=text.body,
                working_group=text.working_group,
                meeting=text.meeting,
                kind=Document.Kind.MINUTES,
                title=version.title,
                text=paragraphs.join(version.paragraphs),
                visibility=text.meeting.visibility if text.meeting else Visibility.BODY,
                uploaded_by_id=by.user_id,
            )
            save_record(minutes, by=by, action="clearance.text.publish")
            if text.meeting is not None:
                minutes.audience_entities.set(text.meeting.audience_entities.all())
            text.status_note = f"{PUBLISHED_AS_MINUTES}{minutes.uid}."
            text.save(update_fields=["status_note", "updated_at"])
            return minutes
        key = text.key
        n = 2
        while Output.objects.filter(key=key).exists():
            key, n = f"{text.key}-{n}", n + 1
        output = Output(
            key=key,
            body=text.body,
            working_group=text.working_group,
            type=OUTPUT_TYPE[TextKind(text.kind)],
            title=version.title,
            description=paragraphs.join(version.paragraphs),
            date=adopted_on.isoformat(),
            occasion=text.occasion,
            location=text.event.location if text.event else "",
            visibility=visibility,
        )
        leads = [(link.entity, link.role) for link in text.lead_links.select_related("entity")]
        event = text.event
        save_output(
            output,
            by=by,
            entity_links=leads,
            write_related=(lambda saved: saved.related.add(event)) if event else None,
        )
        text.output = output
        text.save(update_fields=["output", "updated_at"])
    return output


def set_policy(
    body: Body, *, viewer: Viewer, by: Actor, minimum_notice_hours: int
) -> ClearancePolicy:
    if not can_keep_record(viewer):
        raise PermissionDenied("The secretariat sets how a body clears texts.")
    if not 1 <= minimum_notice_hours <= 24 * 60:
        raise _refuse("Between 1 hour and 60 days.", "minimum_notice_hours")
    with transaction.atomic():
        policy, _ = ClearancePolicy.objects.get_or_create(body=body)
        before = {"minimum_notice_hours": policy.minimum_notice_hours}
        policy.minimum_notice_hours = minimum_notice_hours
        policy.save()
        audit(
            by=by,
            action="clearance.policy",
            object_type="registry.body",
            object_key=body.key,
            before=before,
            after={"minimum_notice_hours": minimum_notice_hours},
        )
    return policy
