"""Deadlines under the silence procedure, with the clock moved: the last second counts, the
deadline itself does not, time zones and daylight saving are only ways of writing an
instant, a round closes at its deadline whether or not anyone ticks, and reminders go out
48 and 24 hours before to the entities that have not answered."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from gmg.accounts.models import AuditEntry
from gmg.clearance import notifications, selectors, services
from gmg.clearance.models import Answer, Notification, Round, Status

from ._helpers import (  # noqa: F401 - fast_passwords is an autouse fixture
    HOUR,
    SECOND,
    answer,
    fast_passwords,
    object_,
    open_round,
    said,
)
from .conftest import START

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
TOKYO = dt.timezone(dt.timedelta(hours=9))
CLOSED = "has passed: this round is closed and takes no more answers."


def refused_answer(cast, round_, who: str, kind: str = "clear", **kw) -> str:
    with pytest.raises(ValidationError) as refused:
        answer(cast, round_, who, kind, **kw)
    return said(refused)


def fresh_status(text) -> str:
    """What a reader is shown now: the stored status, moved on if a deadline passed."""
    text.refresh_from_db()
    return selectors.status_of(text)


# -- the last second -----------------------------------------------------------------------------


def test_an_answer_one_second_before_the_deadline_counts(cast, clock, statement):
    round_ = open_round(cast, statement)
    clock(round_.deadline - SECOND)
    given = object_(cast, round_, "FAO")
    assert given.answered_at == round_.deadline - SECOND
    clock(round_.deadline + SECOND)
    services.settle_round(round_)
    round_.refresh_from_db()
    assert round_.outcome == Round.Outcome.SILENCE_BROKEN


def test_an_answer_at_or_after_the_deadline_is_refused_naming_it(cast, clock, statement):
    round_ = open_round(cast, statement)
    for moment in (round_.deadline, round_.deadline + SECOND, round_.deadline + 30 * HOUR):
        clock(moment)
        message = refused_answer(cast, round_, "FAO", "object", reason="Too late")
        assert message == f"The deadline (2018-02-01 09:00:00 UTC) {CLOSED}"
    # Not from the secretariat either, on anyone's behalf.
    assert "2018-02-01 09:00:00 UTC" in refused_answer(cast, round_, "secretariat", entity="WHO")
    assert not Answer.objects.filter(round=round_).exists()
    assert fresh_status(statement) == Status.ADOPTED


def test_at_the_deadline_the_round_reads_closed(cast, clock, statement):
    round_ = open_round(cast, statement)
    clock(round_.deadline - SECOND)
    assert selectors.grid(round_).is_open and fresh_status(statement) == Status.IN_CLEARANCE
    assert selectors.rounds_awaiting(cast.viewer("FAO")) == [round_]
    clock(round_.deadline)
    assert not selectors.grid(round_).is_open
    assert fresh_status(statement) == Status.ADOPTED
    assert selectors.rounds_awaiting(cast.viewer("FAO")) == []


# -- time zones ----------------------------------------------------------------------------------


def test_a_deadline_given_in_new_york_time_is_kept_in_utc(cast, clock, statement):
    deadline = dt.datetime(2018, 2, 1, 9, 0, tzinfo=NEW_YORK)  # EST, 14:00 UTC
    round_ = services.open_round(statement, **cast.as_("IOM"), deadline=deadline)
    stored = Round.objects.get(pk=round_.pk).deadline
    assert stored == dt.datetime(2018, 2, 1, 14, 0, tzinfo=dt.UTC)
    assert stored.utcoffset() == dt.timedelta(0) and round_.deadline.utcoffset() == dt.timedelta(0)
    clock(dt.datetime(2018, 2, 1, 13, 59, 59, tzinfo=dt.UTC))  # 08:59:59 in New York
    answer(cast, round_, "FAO")
    clock(dt.datetime(2018, 2, 1, 9, 0, tzinfo=NEW_YORK))
    assert refused_answer(cast, round_, "WHO") == f"The deadline (2018-02-01 14:00:00 UTC) {CLOSED}"


def test_a_deadline_with_a_plus_nine_offset(cast, clock, statement):
    deadline = dt.datetime(2018, 2, 2, 9, 0, tzinfo=TOKYO)  # midnight UTC
    round_ = services.open_round(statement, **cast.as_("IOM"), deadline=deadline)
    assert Round.objects.get(pk=round_.pk).deadline == dt.datetime(2018, 2, 2, tzinfo=dt.UTC)
    clock(dt.datetime(2018, 2, 2, 8, 59, 59, tzinfo=TOKYO))
    object_(cast, round_, "FAO")
    clock(dt.datetime(2018, 2, 2, 0, 0, 0, tzinfo=dt.UTC))
    assert "(2018-02-02 00:00:00 UTC)" in refused_answer(cast, round_, "FAO")
    assert fresh_status(statement) == Status.SILENCE_BROKEN


def test_the_notice_is_counted_in_hours_whatever_the_zone(cast, statement):
    # 17:59 in Tokyo and 03:59 in New York on 1 February are both 08:59 UTC: a minute
    # short of 72 hours from Monday 09:00 UTC, though the clock faces read otherwise.
    for short in (
        dt.datetime(2018, 2, 1, 17, 59, tzinfo=TOKYO),
        dt.datetime(2018, 2, 1, 3, 59, tzinfo=NEW_YORK),
    ):
        with pytest.raises(ValidationError) as refused:
            services.open_round(statement, **cast.as_("IOM"), deadline=short)
        assert said(refused) == (
            "The deadline must be at least 72 hours ahead: 2018-02-01 09:00 UTC or later."
        )
    round_ = services.open_round(
        statement, **cast.as_("IOM"), deadline=dt.datetime(2018, 2, 1, 4, 0, tzinfo=NEW_YORK)
    )
    assert round_.deadline == START + 72 * HOUR


def test_across_the_change_to_daylight_saving_time(cast, clock, statement):
    # New York moved its clocks forward on Sunday 11 March 2018, 02:00 local time.
    clock(dt.datetime(2018, 3, 8, 9, 0, tzinfo=NEW_YORK))  # a Thursday, EST: 14:00 UTC
    # Three days on at the same local time is 71 hours, not 72: refused.
    with pytest.raises(ValidationError) as refused:
        services.open_round(
            statement, **cast.as_("IOM"), deadline=dt.datetime(2018, 3, 11, 9, 0, tzinfo=NEW_YORK)
        )
    assert said(refused) == (
        "The deadline must be at least 72 hours ahead: 2018-03-11 14:00 UTC or later."
    )
    deadline = dt.datetime(2018, 3, 12, 9, 0, tzinfo=NEW_YORK)  # EDT: 13:00 UTC
    round_ = services.open_round(statement, **cast.as_("IOM"), deadline=deadline)
    assert Round.objects.get(pk=round_.pk).deadline == dt.datetime(2018, 3, 12, 13, tzinfo=dt.UTC)
    assert round_.deadline - round_.opened_at == 95 * HOUR
    # The reminders come 48 and 24 hours of real time before, not of the clock face:
    # 48 hours before 09:00 EDT on Monday is 08:00 EST on Saturday.
    clock(dt.datetime(2018, 3, 10, 7, 59, 59, tzinfo=NEW_YORK))
    notifications.tick()
    assert not Notification.objects.filter(round=round_, kind__startswith="reminder").exists()
    clock(dt.datetime(2018, 3, 10, 8, 0, tzinfo=NEW_YORK))
    notifications.tick()
    assert set(Notification.objects.values_list("kind", "created_at").distinct()) >= {
        ("reminder_48h", dt.datetime(2018, 3, 10, 13, 0, tzinfo=dt.UTC))
    }
    # 24 hours before is 10:00 EDT on Sunday, after the change.
    clock(dt.datetime(2018, 3, 11, 8, 59, 59, tzinfo=NEW_YORK))
    notifications.tick()
    assert not Notification.objects.filter(kind="reminder_24h").exists()
    clock(dt.datetime(2018, 3, 11, 9, 0, tzinfo=NEW_YORK))
    notifications.tick()
    assert Notification.objects.filter(kind="reminder_24h").exists()

    clock(dt.datetime(2018, 3, 12, 8, 59, 59, tzinfo=NEW_YORK))
    object_(cast, round_, "FAO")
    clock(dt.datetime(2018, 3, 12, 13, 0, tzinfo=dt.UTC))
    assert "(2018-03-12 13:00:00 UTC)" in refused_answer(cast, round_, "FAO")
    assert fresh_status(statement) == Status.SILENCE_BROKEN


# -- closing without anyone looking --------------------------------------------------------------


@pytest.mark.parametrize("objects", [False, True])
def test_a_deadline_passes_unseen_then_tick_records_the_close_once(cast, clock, statement, objects):
    round_ = open_round(cast, statement)
    answer(cast, round_, "WHO")
    if objects:
        object_(cast, round_, "FAO")
    expected = Status.SILENCE_BROKEN if objects else Status.ADOPTED
    # Days later: nobody read, wrote or ticked since the deadline.
    clock(round_.deadline + 50 * HOUR)
    round_.refresh_from_db()
    statement.refresh_from_db()
    assert round_.closed_at is None and statement.status == Status.IN_CLEARANCE  # as stored
    assert selectors.status_of(statement) == expected  # as shown
    assert selectors.grid(round_).outcome == expected
    assert not AuditEntry.objects.filter(action="clearance.round.close").exists()

    first = notifications.tick()
    assert first["rounds_closed"] == 1
    round_.refresh_from_db()
    statement.refresh_from_db()
    assert round_.closed_at == round_.deadline + 50 * HOUR
    assert round_.outcome == expected and statement.status == expected
    assert statement.adopted_at == (round_.deadline if not objects else None)
    closing = AuditEntry.objects.get(action="clearance.round.close")
    assert closing.after["outcome"] == expected and closing.actor is None

    clock(round_.deadline + 51 * HOUR)
    second = notifications.tick()
    assert second["rounds_closed"] == 0 and second["reminders_queued"] == 0
    again = Round.objects.get(pk=round_.pk)
    assert (again.closed_at, again.outcome) == (round_.closed_at, round_.outcome)
    assert AuditEntry.objects.filter(action="clearance.round.close").count() == 1
    # The mails of the close were queued by the first tick, at its instant.
    kind = "adopted" if not objects else "not_adopted"
    assert set(
        Notification.objects.filter(round=round_, kind=kind).values_list("created_at", flat=True)
    ) == {round_.closed_at}


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (["clear", "object"], Status.SILENCE_BROKEN),
        (["object", "clear"], Status.ADOPTED),
        (["object", "clear_with_comments", "object"], Status.SILENCE_BROKEN),
    ],
)
def test_the_last_answer_before_the_deadline_counts(cast, clock, statement, answers, expected):
    round_ = open_round(cast, statement)
    for hours, kind in enumerate(answers, start=1):
        clock(START + hours * 20 * HOUR)
        answer(cast, round_, "FAO", kind, reason="No", comments="Typo")
    # A last word after the deadline is refused and changes nothing.
    clock(round_.deadline)
    flip = "clear" if expected == Status.SILENCE_BROKEN else "object"
    assert CLOSED in refused_answer(cast, round_, "FAO", flip, reason="Changed my mind")
    assert Answer.objects.filter(round=round_).count() == len(answers)
    assert fresh_status(statement) == expected
    notifications.tick()
    round_.refresh_from_db()
    assert round_.outcome == expected
    (row,) = [r for r in selectors.grid(round_).rows if r.entity.acronym == "FAO"]
    assert row.answer.kind == answers[-1] and len(row.history) == len(answers)


# -- reminders -----------------------------------------------------------------------------------


def reminded(round_: Round, kind: str) -> set[str]:
    """The entities whose people a reminder of ``kind`` is queued for."""
    return set(
        Notification.objects.filter(round=round_, kind=kind).values_list(
            "recipient__person__entity__acronym", flat=True
        )
    )


def test_the_48_hour_reminder_goes_once_to_those_who_have_not_answered(cast, clock, statement):
    round_ = open_round(cast, statement)
    answer(cast, round_, "FAO")
    object_(cast, round_, "WHO")  # an objection is an answer too
    clock(round_.deadline - 48 * HOUR - SECOND)
    assert notifications.tick()["reminders_queued"] == 0
    assert not reminded(round_, "reminder_48h")

    clock(round_.deadline - 48 * HOUR)
    notifications.tick()
    assert reminded(round_, "reminder_48h") == set(cast.entities) - {"FAO", "WHO"}
    assert Notification.objects.filter(round=round_, kind="reminder_48h").count() == 20

    answer(cast, round_, "ILO")
    for later in (47, 30, 25):
        clock(round_.deadline - later * HOUR)
        notifications.tick()
    assert Notification.objects.filter(round=round_, kind="reminder_48h").count() == 20
    assert not reminded(round_, "reminder_24h")

    clock(round_.deadline - 24 * HOUR)
    notifications.tick()
    assert reminded(round_, "reminder_24h") == set(cast.entities) - {"FAO", "WHO", "ILO"}


def test_a_late_first_tick_sends_only_the_24_hour_reminder(cast, clock, statement):
    round_ = open_round(cast, statement)
    clock(round_.deadline - 23 * HOUR)
    notifications.tick()
    assert not reminded(round_, "reminder_48h")
    assert reminded(round_, "reminder_24h") == set(cast.entities)
    clock(round_.deadline - 22 * HOUR)
    notifications.tick()
    assert not reminded(round_, "reminder_48h")
    assert Notification.objects.filter(round=round_, kind="reminder_24h").count() == 22


def test_a_round_of_exactly_72_hours_gets_both_reminders_on_time(cast, clock, statement):
    round_ = open_round(cast, statement, hours=72)
    moments = {
        round_.deadline - 48 * HOUR - SECOND: set(),
        round_.deadline - 48 * HOUR: {"reminder_48h"},
        round_.deadline - 24 * HOUR - SECOND: {"reminder_48h"},
        round_.deadline - 24 * HOUR: {"reminder_48h", "reminder_24h"},
        round_.deadline - SECOND: {"reminder_48h", "reminder_24h"},
    }
    for moment, kinds in moments.items():
        clock(moment)
        notifications.tick()
        queued = set(
            Notification.objects.filter(round=round_, kind__startswith="reminder").values_list(
                "kind", flat=True
            )
        )
        assert queued == kinds, moment
    for kind in ("reminder_48h", "reminder_24h"):
        times = set(
            Notification.objects.filter(round=round_, kind=kind).values_list(
                "created_at", flat=True
            )
        )
        hours = 48 if kind == "reminder_48h" else 24
        assert times == {round_.deadline - hours * HOUR}


def test_a_round_with_less_notice_than_a_reminder_skips_it(cast, clock, statement):
    services.set_policy(cast.body, **cast.as_("secretariat"), minimum_notice_hours=30)
    round_ = open_round(cast, statement, hours=30)
    clock(round_.deadline - 24 * HOUR)
    notifications.tick()
    assert not reminded(round_, "reminder_48h")
    assert reminded(round_, "reminder_24h") == set(cast.entities)


def test_no_reminders_after_the_close(cast, clock, statement):
    round_ = open_round(cast, statement)
    answer(cast, round_, "FAO")
    clock(round_.deadline + SECOND)  # no tick ran during the round
    result = notifications.tick()
    assert result["rounds_closed"] == 1 and result["reminders_queued"] == 0
    clock(round_.deadline + 48 * HOUR)
    assert notifications.tick()["reminders_queued"] == 0
    assert not Notification.objects.filter(kind__startswith="reminder").exists()


def test_no_reminders_for_a_round_whose_close_was_recorded_early(cast, clock, statement):
    """Even with a clock that runs behind the one that recorded the closing."""
    round_ = open_round(cast, statement)
    clock(round_.deadline + SECOND)
    services.settle_round(round_)
    assert notifications.enqueue_reminders(round_.deadline - 24 * HOUR) == 0
    assert not Notification.objects.filter(kind__startswith="reminder").exists()
