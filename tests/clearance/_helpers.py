"""Small steps the clearance tests share: open a round, answer, let its deadline pass."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from gmg.accounts.models import Person
from gmg.clearance import services
from gmg.clearance.models import Answer, JointText, Round

from .conftest import DRAFT, Cast

SECOND = dt.timedelta(seconds=1)
HOUR = dt.timedelta(hours=1)


def open_round(
    cast: Cast, text: JointText, *, hours: float = 72, by: str = "IOM", **kwargs
) -> Round:
    """A round on the text's latest version, ``hours`` after now (the frozen clock)."""
    from django.utils import timezone

    return services.open_round(
        text, **cast.as_(by), deadline=timezone.now() + dt.timedelta(hours=hours), **kwargs
    )


def answer(
    cast: Cast, round_: Round, who: str, kind: str = "clear", *, entity: str | None = None, **kw
) -> Answer:
    """``who`` answers for its own entity (or for ``entity``, e.g. the secretariat)."""
    return services.answer(
        round_, **cast.as_(who), entity=cast.entity(entity or who), kind=kind, **kw
    )


def object_(
    cast: Cast, round_: Round, who: str, reason: str = "Paragraph 2 goes too far."
) -> Answer:
    return answer(cast, round_, who, "object", reason=reason)


def past_deadline(clock, round_: Round, after: dt.timedelta = SECOND):
    """Move the clock to just after the round's deadline."""
    return clock(round_.deadline + after)


def closed(clock, round_: Round) -> Round:
    """The round after its deadline, its closing recorded."""
    past_deadline(clock, round_)
    services.settle_round(round_)
    round_.refresh_from_db()
    return round_


def broken_round(cast: Cast, clock, text: JointText, objector: str = "FAO") -> Round:
    """A round on ``text`` closed with ``objector``'s objection (silence broken)."""
    round_ = open_round(cast, text)
    object_(cast, round_, objector)
    return closed(clock, round_)


def new_text(
    cast: Cast, title: str = "Another joint text", *, by: str = "IOM", draft: str = DRAFT, **fields
) -> JointText:
    """A text led by ``by``'s entity, at version 1 (body-visible joint statement unless told)."""
    fields.setdefault("kind", "joint_statement")
    fields.setdefault("visibility", "body")
    text = JointText(body=cast.body, title=title, **fields)
    return services.start_text(text, **cast.as_(by), leads=[cast.entity(by)], first_draft=draft)


def make_user(email: str, *, entity=None, name: str = "Someone", digest: bool = False):
    """A registered user with a profile but no role."""
    user = get_user_model().objects.create_user(username=email, email=email, password="x" * 16)
    Person.objects.create(user=user, name=name, entity=entity, email_digest=digest)
    return user


def said(excinfo) -> str:
    """The message a refusal shows (a ValidationError's messages, or PermissionDenied's)."""
    from django.core.exceptions import ValidationError

    exc = excinfo.value
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The cast's two dozen accounts are hashed with a fast hasher (import this fixture)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
