"""People of the members' area, each with real roles, and clients signed in as them.

- ``secretariat``: the secretariat role, signed in with a TOTP device (verified session);
- ``unicef``: UNICEF focal point; UNICEF is a GMG member and co-chairs
  wg-human-rights-gender, so both follow from the record;
- ``fao_data``: FAO focal point and member of wg-data-research;
- ``wfp_mainstreaming``: WFP focal point and member of wg-mainstreaming (another group);
- ``registered``: an account with no entity and no role (sees what the public sees).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from gmg.accounts.models import Person
from gmg.accounts.roles import viewer_for
from gmg.accounts.services import Actor, RoleSpec, create_token, set_roles
from gmg.registry.models import Entity

PASSWORD = "correct horse battery staple 42"
SYSTEM = Actor.system("test")

PEOPLE: dict[str, tuple[str | None, list[RoleSpec]]] = {
    "secretariat": (None, [RoleSpec("secretariat")]),
    "unicef": ("UNICEF", [RoleSpec("focal_point")]),
    "fao_data": (
        "FAO",
        [RoleSpec("focal_point"), RoleSpec("working_group_member", "wg-data-research")],
    ),
    "wfp_mainstreaming": (
        "WFP",
        [RoleSpec("focal_point"), RoleSpec("working_group_member", "wg-mainstreaming")],
    ),
    "registered": (None, []),
}
ROLES = tuple(PEOPLE)


@dataclass
class Member:
    name: str
    user: object
    person: Person
    device: TOTPDevice | None = None

    @property
    def email(self) -> str:
        return self.user.get_username()

    def viewer(self):
        return viewer_for(self.user, verified=self.device is not None)


def make_person(name: str, entity: str | None, roles: list[RoleSpec], *, totp: bool) -> Member:
    User = get_user_model()
    email = f"{name}@example.org"
    user = User.objects.create_user(username=email, email=email, password=PASSWORD)
    person = Person.objects.create(
        user=user,
        name=name.replace("_", " ").title(),
        entity=Entity.objects.get(acronym=entity) if entity else None,
    )
    set_roles(person, roles, by=SYSTEM)
    user.refresh_from_db()
    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True) if totp else None
    return Member(name, user, person, device)


@pytest.fixture
def people(db) -> dict[str, Member]:
    return {
        name: make_person(name, entity, roles, totp=(name == "secretariat"))
        for name, (entity, roles) in PEOPLE.items()
    }


def signed_in_client(member: Member) -> Client:
    """A browser session of ``member``; the secretariat's has passed TOTP."""
    client = Client()
    client.force_login(member.user)
    if member.device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = member.device.persistent_id
        session.save()
    return client


@pytest.fixture
def clients(people) -> dict[str, Client]:
    """A client per role, plus ``anonymous``."""
    found = {name: signed_in_client(member) for name, member in people.items()}
    found["anonymous"] = Client()
    return found


@pytest.fixture
def tokens(people) -> dict[str, str]:
    """A token per person with every scope (what they may do still follows their roles)."""
    from gmg.accounts.models import ApiToken

    return {
        name: create_token(
            member.user,
            name="test",
            scopes=list(ApiToken.Scope.values),
            by=SYSTEM,
            two_factor=member.device is not None,
        )[1]
        for name, member in people.items()
    }
