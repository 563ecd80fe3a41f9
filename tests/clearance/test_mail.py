"""Clearance mail as it leaves: who gets which mail, what it says, the daily digest, people
who left, a mail server that fails, and one run through a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
from zoneinfo import ZoneInfo

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from gmg.accounts.models import Person
from gmg.accounts.services import RoleSpec, set_active
from gmg.clearance import notifications, services
from gmg.clearance.models import DigestMail, Notification
from gmg.governance.models import Meeting

from ._helpers import (  # noqa: F401 - fast_passwords is an autouse fixture
    HOUR,
    SECOND,
    answer,
    fast_passwords,
    new_text,
    object_,
    open_round,
)
from .conftest import START, SYSTEM, _person

pytestmark = pytest.mark.django_db

BASE = "https://gmg.example.org"
TITLE = "GMG joint statement to the GFMD"


@pytest.fixture(autouse=True)
def mail_settings(settings):
    settings.GMG_BASE_URL = BASE
    settings.OTP_TOTP_ISSUER = "GMG Platform"
    settings.GMG_DIGEST_HOUR = 6
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def email_of(cast, who: str) -> str:
    return cast.user(who).email


def by_subject(outbox, start: str) -> dict[str, object]:
    """The mails whose subject (after the site's name) starts with ``start``, by recipient;
    each recipient gets one."""
    found: dict[str, object] = {}
    for message in outbox:
        if message.subject.startswith(f"[GMG Platform] {start}"):
            (to,) = message.to
            assert to not in found, f"two mails {start!r} to {to}"
            found[to] = message
    return found


def answering_emails(cast, *, but: tuple[str, ...] = ()) -> set[str]:
    return {email_of(cast, e) for e in cast.entities if e not in but}


def participants(cast, *extra: str) -> set[str]:
    """The leads' focal points, the secretariat, and ``extra`` people."""
    return {email_of(cast, who) for who in ("IOM", "UNICEF", "secretariat", *extra)}


# -- who gets what ----------------------------------------------------------------------------


def test_the_round_opened_mail_goes_to_every_asked_entity(cast, statement, mailoutbox):
    round_ = open_round(cast, statement)
    sent = notifications.tick()
    assert sent["mails_sent"] == 22
    opened = by_subject(mailoutbox, "For clearance by ")
    assert set(opened) == answering_emails(cast) and len(mailoutbox) == 22
    assert email_of(cast, "secretariat") not in opened
    message = opened[email_of(cast, "FAO")]
    assert message.subject == f"[GMG Platform] For clearance by 01 Feb 2018 09:00 UTC: {TITLE}"
    body = message.body
    assert f"Joint statement “{TITLE}” (version 1) is circulated for clearance" in body
    assert "Deadline: Thursday 1 February 2018, 09:00 UTC." in body
    assert "Please answer for FAO: clear, clear with editorial comments, or object" in body
    assert "If FAO does not answer by the deadline, it is taken to have no objection." in body
    assert f"{BASE}/members-area/texts/{statement.key}/rounds/1/" in body
    assert "a Principal or focal point of FAO" in body
    assert "Please answer for UNHCR" in opened[email_of(cast, "UNHCR")].body
    assert Notification.objects.filter(round=round_, sent_at=START).count() == 22
    # Sent once: the next tick sends nothing again.
    assert notifications.tick()["mails_sent"] == 0 and len(mailoutbox) == 22


def test_the_subject_gives_the_deadline_in_utc_whatever_zone_it_was_set_in(
    cast, statement, mailoutbox
):
    new_york = ZoneInfo("America/New_York")
    services.open_round(
        statement, **cast.as_("IOM"), deadline=dt.datetime(2018, 2, 2, 9, 30, tzinfo=new_york)
    )
    notifications.tick()
    message = by_subject(mailoutbox, "For clearance by ")[email_of(cast, "WHO")]
    assert message.subject == f"[GMG Platform] For clearance by 02 Feb 2018 14:30 UTC: {TITLE}"
    assert "Deadline: Friday 2 February 2018, 14:30 UTC." in message.body


def test_principals_are_told_as_well_as_focal_points(cast, statement, mailoutbox):
    who = cast.entity("WHO")
    principal = _person("principal@who.example.org", "WHO Principal", who, [RoleSpec("principal")])
    open_round(cast, statement)
    notifications.tick()
    opened = by_subject(mailoutbox, "For clearance by ")
    assert set(opened) == answering_emails(cast) | {principal.email}
    assert "a Principal or focal point of WHO" in opened[principal.email].body


def test_the_reminders_go_to_those_who_have_not_answered(cast, clock, statement, mailoutbox):
    round_ = open_round(cast, statement)
    answer(cast, round_, "FAO")
    answer(cast, round_, "WHO", "clear_with_comments", comments="Typo")
    object_(cast, round_, "ILO")
    notifications.tick()
    mailoutbox.clear()

    clock(round_.deadline - 48 * HOUR)
    notifications.tick()
    reminders = by_subject(mailoutbox, "Reminder, 48 hours left to clear: ")
    assert set(reminders) == answering_emails(cast, but=("FAO", "WHO", "ILO"))
    message = reminders[email_of(cast, "UNDP")]
    assert message.subject == f"[GMG Platform] Reminder, 48 hours left to clear: {TITLE}"
    assert f"48 hours are left to answer on “{TITLE}” (version 1)." in message.body
    assert "UNDP has not answered yet. Silence counts as no objection." in message.body
    assert "So far: 2 of 22 entities have cleared, 1 object." in message.body
    assert "Deadline: Thursday 1 February 2018, 09:00 UTC." in message.body

    answer(cast, round_, "UNDP")
    mailoutbox.clear()
    clock(round_.deadline - 24 * HOUR)
    notifications.tick()
    reminders = by_subject(mailoutbox, "Reminder, 24 hours left to clear: ")
    assert set(reminders) == answering_emails(cast, but=("FAO", "WHO", "ILO", "UNDP"))
    body = reminders[email_of(cast, "UNHCR")].body
    assert "24 hours are left to answer" in body and "UNHCR has not answered yet." in body
    assert "So far: 3 of 22 entities have cleared, 1 object." in body
    assert len(mailoutbox) == len(reminders)


def test_silence_broken_goes_to_the_leads_drafters_and_secretariat(cast, statement, mailoutbox):
    services.update_text(statement, **cast.as_("IOM"), changes={}, drafters=[cast.user("ILO")])
    round_ = open_round(cast, statement)
    notifications.tick()
    mailoutbox.clear()
    object_(cast, round_, "FAO", "Paragraph 2 is not agreed language.")
    notifications.tick()
    broken = by_subject(mailoutbox, "Silence broken: ")
    assert set(broken) == participants(cast, "ILO") and len(mailoutbox) == 4
    body = broken[email_of(cast, "IOM")].body
    assert f"Silence is broken on “{TITLE}” (version 1, round 1)." in body
    assert "FAO objects: Paragraph 2 is not agreed language." in body
    assert "The round stays open until 1 February 2018, 09:00 UTC" in body
    assert "a participant in this text" in broken[email_of(cast, "secretariat")].body
    # A second objection queues no second mail to the same people.
    object_(cast, round_, "WHO", "Not now.")
    notifications.tick()
    assert len(mailoutbox) == 4


def test_an_objection_withdrawn_before_the_mail_goes_sends_no_silence_broken_mail(
    cast, statement, mailoutbox
):
    round_ = open_round(cast, statement)
    notifications.tick()
    mailoutbox.clear()
    object_(cast, round_, "FAO", "Paragraph 2 is not agreed language.")
    answer(cast, round_, "FAO", "clear")  # minutes later, before the next tick
    notifications.tick()
    assert not by_subject(mailoutbox, "Silence broken: ")
    # A later objection is told after all: the overtaken mail left no row behind.
    object_(cast, round_, "WHO", "Paragraph 3.")
    notifications.tick()
    told = by_subject(mailoutbox, "Silence broken: ")
    assert told and all("WHO objects: Paragraph 3." in m.body for m in told.values())


def test_the_adopted_mail_lists_the_silent_entities(cast, clock, statement, mailoutbox):
    round_ = open_round(cast, statement)
    answer(cast, round_, "FAO")
    answer(cast, round_, "WHO", "clear_with_comments", comments="Typo")
    clock(round_.deadline + SECOND)
    notifications.tick()
    adopted = by_subject(mailoutbox, "Adopted: ")
    assert set(adopted) == answering_emails(cast) | {email_of(cast, "secretariat")}
    body = adopted[email_of(cast, "UNHCR")].body
    assert (
        f"“{TITLE}” is adopted under the silence procedure (version 1, deadline 1 February " in body
    )
    silent = sorted(set(cast.entities) - {"FAO", "WHO"})
    assert f"Cleared by 2 of 22 entities; silent (no objection): {', '.join(silent)}." in body


def test_not_adopted_at_the_close_goes_to_those_who_choose_the_way_on(
    cast, clock, statement, mailoutbox
):
    round_ = open_round(cast, statement)
    object_(cast, round_, "FAO", "Paragraph 2 is not agreed language.")
    notifications.tick()
    mailoutbox.clear()
    clock(round_.deadline + SECOND)
    notifications.tick()
    closed = by_subject(mailoutbox, "Not adopted, the leads choose the way on: ")
    assert set(closed) == participants(cast) and len(mailoutbox) == 3
    body = closed[email_of(cast, "UNICEF")].body
    assert "FAO objects: Paragraph 2 is not agreed language." in body
    assert "The round closed at 1 February 2018, 09:00 UTC without adoption." in body
    assert "The leads now choose the way on" in body


def test_the_referral_is_announced_to_everyone_asked(cast, clock, statement, mailoutbox):
    meeting = Meeting.objects.create(
        key="gmg-2018-03-principals",
        body=cast.body,
        kind="principals",
        title="GMG Principals, March 2018",
        date="2018-03-15",
        visibility="body",
    )
    round_ = open_round(cast, statement)
    object_(cast, round_, "FAO")
    clock(round_.deadline + SECOND)
    notifications.tick()
    mailoutbox.clear()
    services.choose_next_step(
        round_,
        **cast.as_("IOM"),
        step="referred",
        note="FAO's concern is political.",
        meeting=meeting,
    )
    notifications.tick()
    referred = by_subject(mailoutbox, "Referred to the Principals: ")
    assert set(referred) == answering_emails(cast) | {email_of(cast, "secretariat")}
    body = referred[email_of(cast, "WFP")].body
    assert f"“{TITLE}” is referred to the Principals after silence was broken in round 1." in body
    assert "It is on the agenda of “GMG Principals, March 2018” (2018-03-15)." in body
    assert "Note from the leads: FAO's concern is political." in body


# -- the daily digest --------------------------------------------------------------------------


def test_a_digest_reader_gets_one_mail_a_day_after_the_digest_hour(
    cast, clock, statement, mailoutbox
):
    Person.objects.filter(user=cast.user("IOM")).update(email_digest=True)
    iom = email_of(cast, "IOM")
    round_ = open_round(cast, statement)
    object_(cast, round_, "FAO", "Not agreed language.")
    clock(dt.datetime(2018, 1, 30, 5, 59, tzinfo=dt.UTC))  # before the digest hour
    notifications.tick()
    assert iom not in {m.to[0] for m in mailoutbox}
    assert len(by_subject(mailoutbox, "For clearance by ")) == 21
    assert Notification.objects.filter(recipient=cast.user("IOM"), sent_at=None).count() == 2

    mailoutbox.clear()
    clock(dt.datetime(2018, 1, 30, 6, 0, tzinfo=dt.UTC))
    assert notifications.tick()["digests_sent"] == 1
    (digest,) = mailoutbox
    assert digest.to == [iom]
    assert digest.subject == "[GMG Platform] Clearance digest for 30 January 2018: 2 items"
    assert digest.body.startswith("Clearance digest for Tuesday 30 January 2018: 2 items.")
    assert f"== [GMG Platform] For clearance by 01 Feb 2018 09:00 UTC: {TITLE} ==" in digest.body
    assert f"== [GMG Platform] Silence broken: {TITLE} ==" in digest.body
    assert (
        "Please answer for IOM" in digest.body
        and "FAO objects: Not agreed language." in digest.body
    )
    assert not Notification.objects.filter(recipient=cast.user("IOM"), sent_at=None).exists()

    # More news the same day waits for tomorrow's digest, however often tick runs.
    mailoutbox.clear()
    clock(dt.datetime(2018, 1, 30, 6, 30, tzinfo=dt.UTC))
    answer(cast, round_, "IOM")  # (so that no reminder comes to IOM)
    other = new_text(cast, "A second text")
    answer(cast, open_round(cast, other), "IOM")
    for hour in (7, 12, 23):
        clock(dt.datetime(2018, 1, 30, hour, 0, tzinfo=dt.UTC))
        notifications.tick()
    assert iom not in {m.to[0] for m in mailoutbox}
    assert DigestMail.objects.get(recipient=cast.user("IOM")).count == 2

    mailoutbox.clear()
    clock(dt.datetime(2018, 1, 31, 5, 0, tzinfo=dt.UTC))
    notifications.tick()
    assert iom not in {m.to[0] for m in mailoutbox}
    clock(dt.datetime(2018, 1, 31, 6, 30, tzinfo=dt.UTC))
    notifications.tick()
    notifications.tick()
    (digest,) = [m for m in mailoutbox if m.to == [iom]]
    assert digest.subject == "[GMG Platform] Clearance digest for 31 January 2018: 1 item"
    assert "A second text" in digest.body
    assert DigestMail.objects.filter(recipient=cast.user("IOM")).count() == 2


# -- people who left ---------------------------------------------------------------------------


def test_inactive_people_get_nothing(cast, statement, mailoutbox):
    set_active(Person.objects.get(user=cast.user("WHO")), False, by=SYSTEM)
    open_round(cast, statement)
    notifications.tick()
    assert email_of(cast, "WHO") not in {m.to[0] for m in mailoutbox}
    assert len(mailoutbox) == 21


def test_people_who_leave_before_their_mail_is_sent_get_nothing(cast, clock, statement, mailoutbox):
    Person.objects.filter(user=cast.user("UNDP")).update(email_digest=True)
    open_round(cast, statement)  # queued for everyone, WHO and UNDP included
    set_active(Person.objects.get(user=cast.user("WHO")), False, by=SYSTEM)
    set_active(Person.objects.get(user=cast.user("UNDP")), False, by=SYSTEM)
    notifications.tick()
    clock(START + 12 * HOUR)  # after the digest hour too
    notifications.tick()
    recipients = {m.to[0] for m in mailoutbox}
    assert email_of(cast, "WHO") not in recipients and email_of(cast, "UNDP") not in recipients
    assert len(mailoutbox) == 20


# -- a mail server that fails ------------------------------------------------------------------


class BrokenBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("the mail server is down")


class PickyBackend(LocmemBackend):
    """A mail server that refuses one address."""

    def send_messages(self, messages):
        if any("fao@" in address for m in messages for address in m.to):
            raise OSError("550 mailbox unavailable")
        return super().send_messages(messages)


def test_a_failing_mail_server_leaves_the_mail_for_the_next_tick(
    cast, clock, statement, settings, mailoutbox, caplog
):
    Person.objects.filter(user=cast.user("IOM")).update(email_digest=True)
    round_ = open_round(cast, statement)
    settings.EMAIL_BACKEND = f"{__name__}.BrokenBackend"
    result = notifications.tick()
    assert result["mails_sent"] == 0 and result["digests_sent"] == 0
    assert not Notification.objects.exclude(sent_at=None).exists()
    assert not DigestMail.objects.exists()
    assert "could not send clearance mail" in caplog.text

    settings.EMAIL_BACKEND = f"{__name__}.PickyBackend"
    clock(START + HOUR)
    assert notifications.tick()["mails_sent"] == 20
    unsent = Notification.objects.filter(round=round_, sent_at=None)
    # FAO's mail is refused and waits; IOM's digest went through.
    assert list(unsent.values_list("recipient__email", flat=True)) == [email_of(cast, "FAO")]

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    clock(START + 2 * HOUR)
    notifications.tick()
    assert not Notification.objects.filter(sent_at=None).exists()
    opened = by_subject(mailoutbox, "For clearance by ")
    assert set(opened) == answering_emails(cast, but=("IOM",))  # once each
    assert [m.to for m in mailoutbox if "digest" in m.subject] == [[email_of(cast, "IOM")]]


# -- through a real SMTP server ----------------------------------------------------------------


class Collector:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    from aiosmtpd.controller import Controller

    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield collector
    finally:
        controller.stop()


def test_the_round_opened_mails_go_through_smtp(cast, statement, smtp_server):
    open_round(cast, statement)
    assert notifications.tick()["mails_sent"] == 22
    received = {}
    for envelope in smtp_server.envelopes:
        (rcpt,) = envelope.rcpt_tos
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert message["To"] == rcpt
        received[rcpt] = message
    assert set(received) == answering_emails(cast) and len(smtp_server.envelopes) == 22
    message = received[email_of(cast, "UNESCO")]
    assert message["Subject"] == f"[GMG Platform] For clearance by 01 Feb 2018 09:00 UTC: {TITLE}"
    body = message.get_content()
    assert f"Joint statement “{TITLE}” (version 1)" in body
    assert "Please answer for UNESCO" in body
    assert f"{BASE}/members-area/texts/{statement.key}/rounds/1/" in body
