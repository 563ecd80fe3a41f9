"""Reads of joint texts, for pages and the API. Each takes the viewer: what it may see is
decided by ``gmg.core.visibility`` and nowhere else."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Prefetch, QuerySet
from django.utils import timezone

from gmg.clearance import paragraphs
from gmg.clearance.models import Answer, AskedEntity, Comment, JointText, Round, TextLead, Version
from gmg.clearance.state import RoundState, current_status, round_state
from gmg.core.viewer import Viewer
from gmg.core.visibility import can_see, filter_visible


def texts_visible_to(viewer: Viewer) -> QuerySet[JointText]:
    return filter_visible(JointText.objects.all(), viewer).select_related("body", "working_group")


def text_detail(viewer: Viewer, key: str) -> JointText | None:
    """The text with its leads, versions and rounds, or None if unknown or hidden."""
    text = (
        JointText.objects.filter(key=key)
        .select_related("body", "working_group", "event", "meeting", "output", "adopted_version")
        .prefetch_related(
            Prefetch("lead_links", queryset=TextLead.objects.select_related("entity")),
            Prefetch("versions", queryset=Version.objects.order_by("number")),
            Prefetch("rounds", queryset=Round.objects.select_related("version").order_by("number")),
            "drafters__person",
        )
        .first()
    )
    if text is None or not can_see(viewer, text):
        return None
    return text


def latest_round(text: JointText) -> Round | None:
    rounds = list(text.rounds.all())
    return rounds[-1] if rounds else None


def status_of(text: JointText, now: dt.datetime | None = None) -> str:
    return current_status(text, latest_round(text), now or timezone.now())


def leads(text: JointText) -> list[TextLead]:
    return list(text.lead_links.all())


def grid(round_: Round, now: dt.datetime | None = None) -> RoundState:
    """A round's entity grid: every entity asked, its answer that counts, and its history.
    Three queries, whatever the number of entities."""
    asked = [
        link.entity for link in AskedEntity.objects.filter(round=round_).select_related("entity")
    ]
    answers = list(
        Answer.objects.filter(round=round_)
        .select_related("entity", "answered_by__person")
        .order_by("answered_at", "id")
    )
    return round_state(round_, now or timezone.now(), asked=asked, answers=answers)


def round_of(text: JointText, number: int) -> Round | None:
    return next((r for r in text.rounds.all() if r.number == number), None)


def version_of(text: JointText, number: int) -> Version | None:
    return next((v for v in text.versions.all() if v.number == number), None)


@dataclass
class PlacedComment:
    """A comment shown on a version: where its paragraph is now (None: removed or on the
    whole text), and on which version it was made."""

    comment: Comment
    paragraph: int | None
    carried: bool  # made on an earlier version

    @property
    def addressed(self) -> bool:
        return self.comment.resolution != Comment.Resolution.OPEN


def comments_on(text: JointText, version: Version) -> list[PlacedComment]:
    """The comments on ``version`` and on every earlier one, each placed at its paragraph's
    position in ``version`` (matched version by version)."""
    versions = [v for v in text.versions.all() if v.number <= version.number]
    comments = list(
        Comment.objects.filter(version__text=text, version__number__lte=version.number)
        .select_related("version", "author__person", "entity", "resolved_by__person")
        # Comments on the whole text first, on every database (NULLs sort first on SQLite
        # and last on PostgreSQL unless told).
        .order_by("version__number", F("paragraph").asc(nulls_first=True), "created_at", "id")
    )
    # maps[k]: paragraph numbers of version k → of ``version``
    maps: dict[int, dict[int, int | None]] = {version.number: {}}
    for older, newer in reversed(list(zip(versions, versions[1:], strict=False))):
        step = paragraphs.carry_over(older.paragraphs, newer.paragraphs)
        onward = maps[newer.number]
        maps[older.number] = {
            p: (q if newer.number == version.number else onward.get(q)) if q is not None else None
            for p, q in step.items()
        }
    placed = []
    for c in comments:
        if c.version.number == version.number:
            placed.append(PlacedComment(c, c.paragraph, False))
        else:
            where = maps.get(c.version.number, {}).get(c.paragraph) if c.paragraph else None
            placed.append(PlacedComment(c, where, True))
    return placed


def rounds_awaiting(viewer: Viewer, now: dt.datetime | None = None) -> list[Round]:
    """Open rounds in which an entity the viewer answers for has not answered yet."""
    from gmg.accounts.permissions import answers_for

    entities = answers_for(viewer)
    if not entities:
        return []
    now = now or timezone.now()
    open_rounds = (
        Round.objects.filter(deadline__gt=now, asked_links__entity_id__in=entities)
        .select_related("text", "version")
        .distinct()
        .order_by("deadline")
    )
    visible = set(texts_visible_to(viewer).values_list("pk", flat=True))
    answered = set(
        Answer.objects.filter(round__in=open_rounds, entity_id__in=entities).values_list(
            "round_id", flat=True
        )
    )
    return [r for r in open_rounds if r.text_id in visible and r.pk not in answered]


def deadlines_for(viewer: Viewer) -> QuerySet[Round]:
    """Rounds whose deadline concerns the viewer: asked of their entity, or led by it, on
    texts they see (the iCalendar feed)."""
    from gmg.accounts.permissions import answers_for

    entities = answers_for(viewer)
    visible = texts_visible_to(viewer).values("pk")
    found = Round.objects.filter(text_id__in=visible).select_related("text", "version")
    if not viewer.is_secretariat:
        led = TextLead.objects.filter(entity_id__in=entities).values("text_id")
        from django.db.models import Q

        found = found.filter(
            Q(asked_links__entity_id__in=entities)
            | Q(text_id__in=led)
            | Q(text__drafters=viewer.user_id)
        ).distinct()
    return found.order_by("-deadline")


@dataclass
class PublishedRecord:
    """What an output page shows of the clearance behind it."""

    text: JointText
    state: RoundState | None  # the adopting round, when adopted under silence
    decision: object | None  # the Principals' decision, when adopted by them
    members_may_see: bool  # whether the viewer may open the clearance record


def published_record(viewer: Viewer, output_id: int) -> PublishedRecord | None:
    """The clearance of the text published as ``output_id``, or None for other outputs.
    Who cleared is public with the output; the record itself is for those who see the text."""
    text = JointText.objects.filter(output_id=output_id).select_related("adopted_version").first()
    if text is None:
        return None
    adopting = (
        Round.objects.filter(text=text, outcome=Round.Outcome.ADOPTED)
        .select_related("version")
        .order_by("-number")
        .first()
    )
    decision = None
    if adopting is None:
        decision = (
            text.decisions.filter(outcome="adopted")
            .select_related("meeting")
            .order_by("-id")
            .first()
        )
    return PublishedRecord(
        text=text,
        state=grid(adopting) if adopting else None,
        decision=decision,
        members_may_see=can_see(viewer, text),
    )
