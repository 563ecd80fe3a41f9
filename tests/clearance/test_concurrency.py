"""Clearance under concurrency, on PostgreSQL: real threads, each with its own connection,
started together by a barrier. Two answers from one entity at once, answers racing the
close at the deadline, and ticks running side by side must each leave one consistent
record, and send every mail once.

The threads read what the test committed, so the tests are transactional (``committed_db``
puts the GMG record back after their flush)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from gmg.accounts.models import AuditEntry, Person
from gmg.clearance import notifications, selectors, services
from gmg.clearance.models import Answer, DigestMail, Notification, Round, Status
from gmg.clearance.state import outcome_of

from . import _reload
from ._helpers import (  # noqa: F401 - fast_passwords is an autouse fixture
    HOUR,
    SECOND,
    fast_passwords,
    open_round,
)
from .conftest import START

# The fixtures giving committed data and putting the record back after the flush.
_record_reloaded = _reload._record_reloaded
committed_db = _reload.committed_db

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite serialises every write, so nothing races",
    ),
]


def run_together(*targets: Callable[[], Any], timeout: float = 60) -> list[Any]:
    """Run each target in its own thread, all released at once by a barrier; return their
    results in order (an exception raised is returned as the result)."""
    barrier = threading.Barrier(len(targets))
    results: list[Any] = [None] * len(targets)

    def run(k: int, target: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[k] = target()
        except BaseException as error:  # noqa: BLE001 - handed to the test to assert on
            results[k] = error
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(k, t)) for k, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    return results


def deadline_message(round_: Round) -> str:
    return (
        f"The deadline ({round_.deadline.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC) has passed: "
        "this round is closed and takes no more answers."
    )


# -- (a) one entity, two answers at the same moment --------------------------------------------


def test_two_answers_from_one_entity_at_once_are_both_kept_and_one_counts(
    committed_db, cast, clock, statement
):
    round_ = open_round(cast, statement)
    fao = cast.entity("FAO")
    as_fao, as_secretariat = cast.as_("FAO"), cast.as_("secretariat")

    def clear() -> Answer:
        return services.answer(round_, **as_fao, entity=fao, kind="clear")

    def object_() -> Answer:
        return services.answer(round_, **as_fao, entity=fao, kind="object", reason="No")

    def on_behalf() -> Answer:  # the secretariat records an email from FAO meanwhile
        return services.answer(
            round_, **as_secretariat, entity=fao, kind="clear_with_comments", comments="Typo"
        )

    given: list[Answer] = []
    for attempt in range(6):
        clock(START + attempt * HOUR)
        results = run_together(clear, object_, on_behalf)
        assert all(isinstance(r, Answer) for r in results), results
        given.extend(results)
        kept = list(Answer.objects.filter(round=round_, entity=fao).order_by("answered_at", "id"))
        assert [a.pk for a in kept] == sorted(a.pk for a in given)  # every answer kept
        assert {a.answered_at for a in kept[-3:]} == {START + attempt * HOUR}  # a tie
        counted = max(kept, key=lambda a: (a.answered_at, a.pk))
        (row,) = [r for r in selectors.grid(round_).rows if r.entity == fao]
        assert row.answer == counted and row.history == kept
        grid = selectors.grid(round_)
        assert grid.counts["object"] == (counted.kind == "object")
        assert grid.silence_broken == (counted.kind == "object")
        assert (
            grid.counts["asked"] == 22
            and sum(grid.counts[k] for k in ("clear", "clear_with_comments", "object", "silent"))
            == 22
        )

    clock(round_.deadline + SECOND)
    notifications.tick()
    round_.refresh_from_db()
    expected = "silence_broken" if counted.kind == "object" else "adopted"
    assert (
        round_.outcome
        == expected
        == outcome_of(Answer.objects.filter(round=round_), round_.deadline)
    )


# -- (b) answers racing the close --------------------------------------------------------------


def test_answers_racing_the_close_are_either_counted_or_refused(
    committed_db, cast, clock, statement
):
    services.set_policy(cast.body, **cast.as_("secretariat"), minimum_notice_hours=1)
    round_ = open_round(cast, statement, hours=1)
    deadline = round_.deadline
    answering = sorted(e for e in cast.entities if e not in ("IOM", "UNICEF"))[:12]
    who = {e: (cast.as_(e), cast.entity(e)) for e in answering}
    recorded: list[int] = []
    refused: list[str] = []
    closings: list[Any] = []

    def answerer(name: str, offset: int) -> Callable[[], int]:
        def run() -> int:
            kwargs, entity = who[name]
            k = offset
            while True:
                kind = "object" if k % 3 == 0 else "clear"
                try:
                    given = services.answer(
                        round_, **kwargs, entity=entity, kind=kind, reason="Not agreed"
                    )
                except ValidationError as error:
                    refused.append(" ".join(error.messages))
                    return k - offset
                recorded.append(given.pk)
                k += 1

        return run

    def closer(close: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            while timezone.now() < deadline:
                time.sleep(0.001)
            result = close()
            closings.append(result)
            return result

        return run

    # Time runs again, from just before the deadline, for every thread.
    with time_machine.travel(deadline - dt.timedelta(seconds=1), tick=True):
        results = run_together(
            *(answerer(name, k) for k, name in enumerate(answering)),
            closer(lambda: notifications.tick()["rounds_closed"]),
            closer(lambda: int(services.settle_round(Round.objects.get(pk=round_.pk)))),
            closer(lambda: services.settle_due()),
            closer(lambda: notifications.tick()["rounds_closed"]),
        )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    assert sum(results[: len(answering)]) == len(recorded) > 0  # answers were given in time

    # Each answer was either recorded before the deadline or refused naming it.
    assert len(refused) == len(answering)
    assert set(refused) == {deadline_message(round_)}
    stored = list(Answer.objects.filter(round=round_))
    assert sorted(a.pk for a in stored) == sorted(recorded)  # nothing lost, nothing extra
    assert all(a.answered_at < deadline for a in stored)

    # Closed once, with the outcome of the answers given in time.
    assert sorted(closings) == [0, 0, 0, 1]
    assert AuditEntry.objects.filter(action="clearance.round.close").count() == 1
    round_.refresh_from_db()
    statement.refresh_from_db()
    assert round_.closed_at is not None and round_.closed_at >= deadline
    assert round_.outcome == outcome_of(stored, deadline)
    assert statement.status == round_.outcome
    assert selectors.grid(round_, round_.closed_at).outcome == round_.outcome


# -- (c) ticks side by side --------------------------------------------------------------------


def kinds_sent() -> Counter:
    """How many mails of each kind went to each address: (address, kind) for single mails,
    (address, subject) for digests (which name their day)."""
    prefixes = {
        "For clearance by": "round_opened",
        "Reminder, 48 hours": "reminder_48h",
        "Reminder, 24 hours": "reminder_24h",
        "Silence broken": "silence_broken",
        "Not adopted": "not_adopted",
        "Adopted": "adopted",
    }
    found: Counter = Counter()
    for message in mail.outbox:
        subject = message.subject.removeprefix("[GMG Platform] ")
        kinds = [k for p, k in prefixes.items() if subject.startswith(p)]
        (to,) = message.to
        found[to, kinds[0] if kinds else subject] += 1
    return found


def test_ticks_running_at_once_send_each_mail_once(
    committed_db, cast, clock, statement, mailoutbox, settings
):
    settings.GMG_DIGEST_HOUR = 6
    iom = cast.user("IOM").email
    Person.objects.filter(user=cast.user("IOM")).update(email_digest=True)
    round_ = open_round(cast, statement)
    services.answer(
        round_, **cast.as_("FAO"), entity=cast.entity("FAO"), kind="object", reason="No"
    )
    moments = [
        START,  # the round opened, silence broken; IOM's digest of the day
        round_.deadline - 48 * HOUR,  # reminders; IOM's digest
        round_.deadline - 24 * HOUR,  # reminders; IOM's digest
        round_.deadline + SECOND,  # the close; IOM's digest
        round_.deadline + 2 * SECOND,  # nothing left to do
    ]
    for moment in moments:
        clock(moment)
        results = run_together(*[notifications.tick] * 4)
        assert not [r for r in results if isinstance(r, BaseException)], results
        last = moment == moments[-1]
        assert sum(r["rounds_closed"] for r in results) == (moment == round_.deadline + SECOND)
        assert sum(r["digests_sent"] for r in results) == (0 if last else 1)

    sent = kinds_sent()
    assert not {key: n for key, n in sent.items() if n > 1}  # no mail twice
    assert not Notification.objects.filter(sent_at=None).exists()
    singles = Notification.objects.filter(in_digest=False).select_related("recipient")
    assert {key for key in sent if key[0] != iom} == {(n.recipient.email, n.kind) for n in singles}
    assert sorted(subject for to, subject in sent if to == iom) == [
        "Clearance digest for 01 February 2018: 1 item",
        "Clearance digest for 29 January 2018: 2 items",
        "Clearance digest for 30 January 2018: 1 item",
        "Clearance digest for 31 January 2018: 1 item",
    ]
    assert DigestMail.objects.filter(recipient=cast.user("IOM")).count() == 4
    # Who got what: the opening to the 21 others, the objection and the close to the other
    # lead and the secretariat, the reminders to the 20 silent entities other than IOM.
    assert Counter(kind for (to, kind) in sent if to != iom) == {
        "round_opened": 21,
        "silence_broken": 2,
        "reminder_48h": 20,
        "reminder_24h": 20,
        "not_adopted": 2,
    }
    round_.refresh_from_db()
    assert round_.outcome == Status.SILENCE_BROKEN
