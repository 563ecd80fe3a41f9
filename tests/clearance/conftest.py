"""A joint statement's world: the GMG's 22 members on 29 January 2018, each with a focal
point, and a secretariat signed in with two factors. Time is moved with time-machine."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from gmg.accounts.models import Person
from gmg.accounts.roles import viewer_for
from gmg.accounts.services import Actor, RoleSpec, set_roles
from gmg.clearance import services
from gmg.clearance.models import JointText
from gmg.registry.models import Body, Entity

SYSTEM = Actor.system("test")
# A Monday in the GMG's last year; its 22 members were all in force.
START = dt.datetime(2018, 1, 29, 9, 0, tzinfo=dt.UTC)
DRAFT = (
    "The Global Migration Group welcomes the Global Compact process.\n\n"
    "Migrants' human rights must be protected regardless of status.\n\n"
    "The GMG stands ready to support Member States."
)


@dataclass
class Cast:
    """People by entity acronym (focal points), plus ``secretariat``."""

    users: dict[str, object] = field(default_factory=dict)
    entities: dict[str, Entity] = field(default_factory=dict)
    body: Body | None = None

    def user(self, name: str):
        return self.users[name]

    def viewer(self, name: str):
        return viewer_for(self.users[name], verified=True)

    def actor(self, name: str) -> Actor:
        return Actor.for_user(self.users[name])

    def entity(self, acronym: str) -> Entity:
        return self.entities[acronym]

    def as_(self, name: str) -> dict:
        """Keyword arguments for a service call made by ``name``."""
        return {"viewer": self.viewer(name), "by": self.actor(name)}


def _person(email: str, name: str, entity: Entity | None, roles: list[RoleSpec]):
    User = get_user_model()
    user = User.objects.create_user(username=email, email=email, password="x" * 16)
    Person.objects.create(user=user, name=name, entity=entity)
    set_roles(Person.objects.get(user=user), roles, by=SYSTEM)
    user.refresh_from_db()
    return user


@pytest.fixture
def clock():
    """``clock(instant)`` freezes time there (``tick=False``) until the test ends or the
    next call; returns the traveller, whose ``shift`` moves time on."""
    travellers: list = []

    def travel(when: dt.datetime):
        while travellers:
            travellers.pop().stop()
        traveller = time_machine.travel(when, tick=False)
        travellers.append(traveller)
        return traveller.start()

    yield travel
    while travellers:
        travellers.pop().stop()


@pytest.fixture
def cast(db, clock) -> Cast:
    """Focal points of the GMG's 22 members (at START) and a verified secretariat."""
    clock(START)
    body = Body.objects.get(key="gmg")
    found = Cast(body=body)
    for entity in services.entities_to_ask(JointText(body=body), START.date()):
        email = f"{entity.slug}@example.org"
        found.users[entity.acronym] = _person(
            email, f"{entity.acronym} focal point", entity, [RoleSpec("focal_point")]
        )
        found.entities[entity.acronym] = entity
    sec = _person("secretariat@example.org", "Secretariat", None, [RoleSpec("secretariat")])
    TOTPDevice.objects.create(user=sec, name="test", confirmed=True)
    found.users["secretariat"] = sec
    return found


@pytest.fixture
def statement(cast) -> JointText:
    """A joint statement led by IOM with UNICEF, body-visible, at version 1."""
    text = JointText(
        body=cast.body,
        kind="joint_statement",
        title="GMG joint statement to the GFMD",
        occasion="GFMD Friends of the Forum, 5 February 2018",
        visibility="body",
    )
    return services.start_text(
        text,
        **cast.as_("IOM"),
        leads=[cast.entity("IOM")],
        co_leads=[cast.entity("UNICEF")],
        first_draft=DRAFT,
    )
