"""What a round and a text are at a given instant, derived from the stored rows.

Nothing here writes. A round is open until its deadline; its outcome is fixed by the answers
recorded before the deadline (later ones are refused), so every reader computes the same
outcome whether or not ``gmg tick`` has recorded the closing yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from gmg.clearance.models import Answer, JointText, Round, Status
from gmg.registry.models import Entity


def effective_answers(answers: Iterable[Answer], deadline: dt.datetime) -> dict[int, Answer]:
    """Each entity's answer that counts: its last one before the deadline."""
    counted: dict[int, Answer] = {}
    for answer in sorted(answers, key=lambda a: (a.answered_at, a.pk or 0)):
        if answer.answered_at < deadline:
            counted[answer.entity_id] = answer
    return counted


def outcome_of(answers: Iterable[Answer], deadline: dt.datetime) -> str:
    """The outcome once the deadline has passed: adopted unless an objection counts."""
    counted = effective_answers(answers, deadline)
    if any(a.kind == Answer.Kind.OBJECT for a in counted.values()):
        return Round.Outcome.SILENCE_BROKEN
    return Round.Outcome.ADOPTED


def outcome_at(round_: Round, now: dt.datetime, answers: Iterable[Answer] | None = None) -> str:
    """A round's outcome at ``now``: '' while open; then the recorded one, or, before the
    closing is recorded, the one its answers give (``answers``: those already loaded)."""
    if now < round_.deadline:
        return ""
    if round_.outcome:
        return round_.outcome
    return outcome_of(round_.answers.all() if answers is None else answers, round_.deadline)


@dataclass
class GridRow:
    """One entity of a round: its answer that counts (None: silent so far) and all its
    answers, oldest first."""

    entity: Entity
    answer: Answer | None
    history: list[Answer] = field(default_factory=list)

    @property
    def state(self) -> str:
        return self.answer.kind if self.answer else "silent"

    @property
    def label(self) -> str:
        return self.answer.get_kind_display() if self.answer else "No answer (silence)"


@dataclass
class RoundState:
    round: Round
    now: dt.datetime
    rows: list[GridRow]

    @property
    def is_open(self) -> bool:
        return self.now < self.round.deadline

    @property
    def outcome(self) -> str:
        """'' while open; then adopted or silence_broken."""
        return outcome_at(self.round, self.now, [r.answer for r in self.rows if r.answer])

    @property
    def silence_broken(self) -> bool:
        """An objection counts now (it may still be withdrawn before the deadline)."""
        return any(r.state == Answer.Kind.OBJECT for r in self.rows)

    def count(self, state: str) -> int:
        return sum(1 for r in self.rows if r.state == state)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "asked": len(self.rows),
            "clear": self.count(Answer.Kind.CLEAR),
            "clear_with_comments": self.count(Answer.Kind.CLEAR_WITH_COMMENTS),
            "object": self.count(Answer.Kind.OBJECT),
            "silent": self.count("silent"),
        }

    def cleared_by(self) -> list[Entity]:
        return [r.entity for r in self.rows if r.state in CLEARING]

    def silent(self) -> list[Entity]:
        return [r.entity for r in self.rows if r.answer is None]


CLEARING = (Answer.Kind.CLEAR, Answer.Kind.CLEAR_WITH_COMMENTS)


def round_state(
    round_: Round,
    now: dt.datetime,
    *,
    asked: Iterable[Entity] | None = None,
    answers: Iterable[Answer] | None = None,
) -> RoundState:
    """The grid of ``round_`` at ``now``. Pass ``asked`` and ``answers`` when already
    loaded; otherwise they are read (two queries)."""
    if asked is None:
        asked = [link.entity for link in round_.asked_links.select_related("entity")]
    if answers is None:
        answers = list(
            round_.answers.select_related("entity", "answered_by__person").order_by(
                "answered_at", "id"
            )
        )
    answers = list(answers)
    # Answers given so far: a reader before the deadline sees those up to now.
    counted = effective_answers((a for a in answers if a.answered_at <= now), round_.deadline)
    history: dict[int, list[Answer]] = {}
    for a in answers:
        history.setdefault(a.entity_id, []).append(a)
    rows = [GridRow(e, counted.get(e.pk), history.get(e.pk, [])) for e in asked]
    rows.sort(key=lambda r: r.entity.acronym)
    return RoundState(round_, now, rows)


def current_status(text: JointText, latest_round: Round | None, now: dt.datetime) -> str:
    """The text's status at ``now``: the stored one, moved on if a round's deadline passed
    and no one has recorded the closing yet."""
    if text.status == Status.IN_CLEARANCE and latest_round is not None:
        return outcome_at(latest_round, now) or text.status
    return text.status
