"""The in-process scheduler: a thread that ticks every ``GMG_TICK_SECONDS`` on its own
database connection, so the rounds it closes must be committed (a transactional test)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError

from gmg.clearance import scheduler, services
from gmg.clearance.models import Notification, Round

from . import _reload
from ._helpers import (  # noqa: F401 - fast_passwords is an autouse fixture
    SECOND,
    fast_passwords,
    new_text,
    open_round,
)

# The fixtures giving committed data and putting the record back after the flush.
_record_reloaded = _reload._record_reloaded
committed_db = _reload.committed_db


def wait_for(check, *, timeout: float = 15.0, every: float = 0.05):
    """``check()``'s first true value, polled until ``timeout`` seconds of real time. On
    SQLite the test database is in memory, shared between connections table by table: a
    read may find a table locked by the scheduler's write, and is tried again."""
    give_up = time.monotonic() + timeout  # (time-machine leaves the monotonic clock alone)
    while time.monotonic() < give_up:
        try:
            value = check()
        except OperationalError as error:
            if "locked" not in str(error):
                raise
            value = None
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not true within {timeout} s: {check.__doc__ or check}")


@pytest.fixture
def ticking(settings):
    """Start the scheduler once (forgetting any earlier start in this process) and stop it
    at the end of the test."""
    settings.GMG_TICK_SECONDS = 1
    scheduler._started.clear()
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start() -> threading.Thread:
        thread = scheduler.start(stop)
        assert thread is not None
        threads.append(thread)
        return thread

    yield start, stop
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    scheduler._started.clear()


def test_the_scheduler_records_a_round_closed_at_its_deadline(
    committed_db, cast, clock, statement, ticking, mailoutbox
):
    start, stop = ticking
    round_ = open_round(cast, statement)
    clock(round_.deadline + SECOND)  # time-machine moves the clock of every thread
    thread = start()
    assert thread.daemon and thread.name == "gmg-tick"

    def closed_at():
        """the round's closing recorded"""
        return Round.objects.get(pk=round_.pk).closed_at

    assert wait_for(closed_at) == round_.deadline + SECOND

    def adopted_mails():
        """the adopted mails sent"""
        sent = [m for m in mailoutbox if m.subject.startswith("[GMG Platform] Adopted:")]
        return sent if len(sent) == len(cast.users) else None  # the 22 and the secretariat

    sent = wait_for(adopted_mails)
    assert {m.to[0] for m in sent} == {u.email for u in cast.users.values()}

    # Once stopped, it ticks no more.
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    round_.refresh_from_db()
    statement.refresh_from_db()
    assert round_.outcome == "adopted" and statement.status == "adopted"
    assert not Notification.objects.filter(sent_at=None).exists()
    later = open_round(cast, new_text(cast, "After the scheduler stopped"))
    clock(later.deadline + SECOND)
    time.sleep(2.5)
    assert Round.objects.get(pk=later.pk).closed_at is None


def test_the_scheduler_starts_once_per_process_and_not_when_turned_off(settings, ticking):
    start, stop = ticking
    settings.GMG_TICK_SECONDS = 0
    assert scheduler.start(stop) is None and not scheduler._started.is_set()
    settings.GMG_TICK_SECONDS = 1
    thread = start()
    assert scheduler.start(stop) is None  # a second start in the same process
    assert [t for t in threading.enumerate() if t.name == "gmg-tick"] == [thread]
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_the_record_is_back_for_the_tests_that_run_later(django_db_setup, django_db_blocker):
    """pytest-django runs the transactional tests after the others, and those without the
    database last: like this one, which opens the test database itself to see that the
    GMG record came back after the flushes above (``_reload``), and nothing else stayed."""
    from gmg.clearance.models import JointText
    from gmg.registry.models import Body
    from gmg.repository.models import Output

    from .conftest import START

    def look() -> None:
        from django.db import connection

        try:
            gmg = Body.objects.get(key="gmg")
            assert len(services.entities_to_ask(JointText(body=gmg), START.date())) == 22
            assert Output.objects.filter(body=gmg, type="event").count() == 40
            assert not JointText.objects.exists() and not Round.objects.exists()
        finally:
            connection.close()

    # In a thread of its own: the browser tests, which may run before this one in the same
    # session, leave Playwright's event loop on the main thread, where Django refuses
    # synchronous database calls.
    from concurrent.futures import ThreadPoolExecutor

    with django_db_blocker.unblock(), ThreadPoolExecutor(1) as pool:
        pool.submit(look).result()
