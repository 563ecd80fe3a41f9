"""Clearance mail: queued as ``Notification`` rows by the services, sent by ``tick``.

Rows are unique per person, round and kind, and each is claimed by one atomic update before
it is sent, so any number of servers may tick at once and every mail still goes out once.
People who chose the daily digest get one mail a day (after ``GMG_DIGEST_HOUR`` UTC) with
everything queued for them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection, send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from gmg.accounts.roles import people_answering_for
from gmg.clearance.models import DigestMail, Notification, Round, TextLead

Kind = Notification.Kind
log = logging.getLogger(__name__)

REMINDERS = ((Kind.REMINDER_24H, 24), (Kind.REMINDER_48H, 48))  # nearest deadline first


def _secretariat() -> Any:
    from gmg.accounts.models import RoleAssignment

    return get_user_model().objects.filter(
        is_active=True, person__roles__role=RoleAssignment.Role.SECRETARIAT
    )


def recipients(round_: Round, kind: str) -> list[int]:
    """Who is told what, as user ids."""
    asked = round_.asked_links.values_list("entity_id", flat=True)
    if kind in (Kind.ROUND_OPENED,):
        users = people_answering_for(asked)
    elif kind in (Kind.REMINDER_24H, Kind.REMINDER_48H):
        from gmg.clearance.state import effective_answers

        answered = set(effective_answers(round_.answers.all(), round_.deadline))
        users = people_answering_for(set(asked) - answered)
    else:
        leads = TextLead.objects.filter(text=round_.text_id).values_list("entity_id", flat=True)
        audience = asked if kind in (Kind.ADOPTED, Kind.REFERRED) else leads
        users = get_user_model().objects.filter(
            Q(pk__in=people_answering_for(audience).values("pk"))
            | Q(pk__in=people_answering_for(leads).values("pk"))
            | Q(pk__in=_secretariat().values("pk"))
            | Q(drafted_texts=round_.text_id, is_active=True)
        )
    return sorted(set(users.values_list("pk", flat=True)))


def _enqueue(round_: Round, kind: str, user_ids: Iterable[int], now: dt.datetime) -> int:
    """Queue one mail per person; returns how many were new (not queued before)."""
    from gmg.accounts.models import Person

    user_ids = list(user_ids)
    digest = set(
        Person.objects.filter(user_id__in=user_ids, email_digest=True).values_list(
            "user_id", flat=True
        )
    )
    rows = [
        Notification(
            recipient_id=uid, kind=kind, round=round_, created_at=now, in_digest=uid in digest
        )
        for uid in user_ids
    ]
    # The unique constraint makes a second enqueue (another server, a retried tick) a no-op.
    queued = Notification.objects.filter(round=round_, kind=kind)
    before = queued.count()
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return queued.count() - before


def enqueue_for_round(round_: Round, kind: str, now: dt.datetime) -> int:
    return _enqueue(round_, kind, recipients(round_, kind), now)


def enqueue_round_opened(round_: Round, asked: Iterable[Any], now: dt.datetime) -> int:
    return _enqueue(
        round_,
        Kind.ROUND_OPENED,
        people_answering_for(e.pk for e in asked).values_list("pk", flat=True),
        now,
    )


def enqueue_reminders(now: dt.datetime) -> int:
    """The 48-hour and 24-hour reminders due, to entities that have not answered. A round
    opened after a reminder's moment gets no such reminder (its opening mail says it)."""
    queued = 0
    for round_ in Round.objects.filter(closed_at=None, deadline__gt=now).select_related("text"):
        for kind, hours in REMINDERS:
            moment = round_.deadline - dt.timedelta(hours=hours)
            if now >= moment:
                if round_.opened_at < moment:
                    queued += enqueue_for_round(round_, kind, now)
                break
    return queued


# -- sending -----------------------------------------------------------------------------------


def _link(round_: Round) -> str:
    return f"{settings.GMG_BASE_URL}/members-area/texts/{round_.text.key}/rounds/{round_.number}/"


def _context(notification: Notification) -> dict[str, Any]:
    from gmg.clearance.state import round_state

    round_ = notification.round
    state = round_state(round_, max(timezone.now(), notification.created_at))
    person = getattr(notification.recipient, "person", None)
    entity = person.entity if person else None
    own_row = next((r for r in state.rows if entity and r.entity.pk == entity.pk), None)
    return {
        "n": notification,
        "kind": notification.kind,
        "round": round_,
        "text": round_.text,
        "state": state,
        "objections": [r for r in state.rows if r.state == "object"],
        "own_row": own_row,
        "entity": entity,
        "link": _link(round_),
        "deadline": round_.deadline.astimezone(dt.UTC),
        "site_name": settings.OTP_TOTP_ISSUER,
    }


SUBJECTS = {
    Kind.ROUND_OPENED: "For clearance by {deadline:%d %b %Y %H:%M} UTC: {title}",
    Kind.REMINDER_48H: "Reminder, 48 hours left to clear: {title}",
    Kind.REMINDER_24H: "Reminder, 24 hours left to clear: {title}",
    Kind.SILENCE_BROKEN: "Silence broken: {title}",
    Kind.NOT_ADOPTED: "Not adopted, the leads choose the way on: {title}",
    Kind.ADOPTED: "Adopted: {title}",
    Kind.REFERRED: "Referred to the Principals: {title}",
}


def _overtaken(notification: Notification, context: dict[str, Any]) -> bool:
    """Whether what the mail would say stopped being true before it went: the objection
    was withdrawn while the round is still open, or the entity reminded has answered."""
    state = context["state"]
    if notification.kind == Kind.SILENCE_BROKEN:
        return state.is_open and not state.silence_broken
    if notification.kind in (Kind.REMINDER_24H, Kind.REMINDER_48H):
        own = context["own_row"]
        return not state.is_open or (own is not None and own.answer is not None)
    return False


def render(notification: Notification) -> tuple[str, str] | None:
    """(subject, body) of one notification; None when events overtook it (see
    ``_overtaken``): its row is then deleted, so a later objection is told again."""
    context = _context(notification)
    if _overtaken(notification, context):
        notification.delete()
        return None
    subject = SUBJECTS[Kind(notification.kind)].format(
        deadline=context["deadline"], title=notification.round.text.title
    )
    return f"[{settings.OTP_TOTP_ISSUER}] {subject}"[:250], render_to_string(
        "clearance/mail/notification.txt", context
    )


def _claim(ids: list[int], now: dt.datetime) -> list[int]:
    """Mark ``ids`` sent, one by one, keeping those this process got first."""
    return [
        pk for pk in ids if Notification.objects.filter(pk=pk, sent_at=None).update(sent_at=now)
    ]


def deliver(now: dt.datetime) -> int:
    """Send single mails that are due. A mail that fails is put back for the next tick."""
    # People who left (deactivated) get nothing, though their mail was queued before.
    pending = list(
        Notification.objects.filter(
            sent_at=None, in_digest=False, recipient__is_active=True
        ).values_list("pk", flat=True)[:500]
    )
    sent = 0
    if not pending:
        return 0
    connection = get_connection()
    for pk in _claim(pending, now):
        notification = Notification.objects.select_related(
            "round__text", "recipient__person__entity"
        ).get(pk=pk)
        rendered = render(notification)
        if rendered is None:
            continue
        subject, body = rendered
        try:
            send_mail(subject, body, None, [notification.recipient.email], connection=connection)
        except Exception:  # a mail server down must not lose the mail: retry next tick
            log.exception("could not send clearance mail %s", pk)
            Notification.objects.filter(pk=pk).update(sent_at=None)
            continue
        sent += 1
    return sent


def send_digests(now: dt.datetime) -> int:
    """One digest per person per day, after GMG_DIGEST_HOUR (UTC)."""
    if now.astimezone(dt.UTC).hour < settings.GMG_DIGEST_HOUR:
        return 0
    day = now.astimezone(dt.UTC).date()
    sent = 0
    waiting = (
        Notification.objects.filter(sent_at=None, in_digest=True, recipient__is_active=True)
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    for user_id in list(waiting):
        try:
            with transaction.atomic():
                DigestMail.objects.create(recipient_id=user_id, day=day, sent_at=now)
        except IntegrityError:
            continue  # sent today already (maybe by another server)
        ids = _claim(
            list(
                Notification.objects.filter(
                    recipient_id=user_id, sent_at=None, in_digest=True
                ).values_list("pk", flat=True)
            ),
            now,
        )
        items = []
        for n in Notification.objects.filter(pk__in=ids).select_related(
            "round__text", "recipient__person__entity"
        ):
            rendered = render(n)
            if rendered is not None:
                items.append((n, *rendered))
        if not items:
            continue
        user = items[0][0].recipient
        body = render_to_string(
            "clearance/mail/digest.txt",
            {"items": items, "day": day, "site_name": settings.OTP_TOTP_ISSUER},
        )
        try:
            send_mail(
                f"[{settings.OTP_TOTP_ISSUER}] Clearance digest for {day:%d %B %Y}: "
                f"{len(items)} item{'' if len(items) == 1 else 's'}",
                body,
                None,
                [user.email],
            )
        except Exception:
            log.exception("could not send the digest to user %s", user_id)
            Notification.objects.filter(pk__in=ids).update(sent_at=None)
            DigestMail.objects.filter(recipient_id=user_id, day=day).delete()
            continue
        DigestMail.objects.filter(recipient_id=user_id, day=day).update(count=len(items))
        sent += 1
    return sent


def tick(now: dt.datetime | None = None) -> dict[str, int]:
    """Everything time makes due: record closed rounds, queue reminders, send mail."""
    from gmg.clearance.services import settle_due

    now = now or timezone.now()
    return {
        "rounds_closed": settle_due(now),
        "reminders_queued": enqueue_reminders(now),
        "mails_sent": deliver(now),
        "digests_sent": send_digests(now),
    }
