"""A person's rights, derived from their stored roles and from the record.

Stored (``RoleAssignment``): secretariat, Principal or focal point of the person's entity,
member of a working group. Derived, never typed twice:

- member of a body: the person's entity is a member of the body in force today, or, for a
  body that has ended, on its last day (its archive stays readable to its last members);
- chair: the person's entity chairs the body in the chair term in force today;
- working-group co-chair: the person's entity co-chairs the working group.

Only people who act for their entity (Principal, focal point, or working-group member) get
the entity's rights: a registered user with no role sees what the public sees.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from gmg.core.viewer import ANONYMOUS, Viewer


def viewer_for(user: Any, *, verified: bool, on: dt.date | None = None) -> Viewer:
    """The viewer ``user`` is on ``on`` (today). ``verified``: two-factor sign-in passed,
    which the secretariat's rights require."""
    from gmg.accounts.models import Person, RoleAssignment
    from gmg.governance.models import ChairTermChair
    from gmg.registry.models import Membership
    from gmg.registry.selectors import certainly_member_on, in_force_day
    from gmg.workgroups.models import CoChair

    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    on = on or timezone.localdate()
    person = Person.objects.filter(user=user).first()
    if person is None:
        return Viewer(user_id=user.pk)
    roles = list(RoleAssignment.objects.filter(person=person).values_list("role", "working_group"))
    kinds = {role for role, _ in roles}
    is_secretariat = RoleAssignment.Role.SECRETARIAT in kinds and verified
    assigned_groups = frozenset(
        group for role, group in roles if role == RoleAssignment.Role.WORKING_GROUP_MEMBER
    )
    acts_for_entity = person.entity_id is not None and bool(
        kinds
        & {
            RoleAssignment.Role.PRINCIPAL,
            RoleAssignment.Role.FOCAL_POINT,
            RoleAssignment.Role.WORKING_GROUP_MEMBER,
        }
    )
    entity_id = person.entity_id
    body_ids: set[int] = set()
    chairs: set[int] = set()
    co_chairs: set[int] = set()
    if acts_for_entity and entity_id is not None:
        for body_id, ended, joined_end, left_start in Membership.objects.filter(
            entity_id=entity_id, joined_end__lte=on
        ).values_list("body_id", "body__ended_end", "joined_end", "left_start"):
            if certainly_member_on(in_force_day(on, ended), joined_end, left_start):
                body_ids.add(body_id)
        if kinds & {RoleAssignment.Role.PRINCIPAL, RoleAssignment.Role.FOCAL_POINT}:
            chairs = set(
                ChairTermChair.objects.filter(
                    entity_id=entity_id, term__start_date__lte=on, term__end_date__gte=on
                ).values_list("term__body_id", flat=True)
            )
            co_chairs = set(
                CoChair.objects.filter(entity_id=entity_id).values_list("group_id", flat=True)
            )
    return Viewer(
        user_id=user.pk,
        is_secretariat=is_secretariat,
        entity_ids=frozenset([entity_id]) if acts_for_entity and entity_id else frozenset(),
        body_ids=frozenset(body_ids),
        working_group_ids=assigned_groups | frozenset(co_chairs),
        principal_of=frozenset(
            [entity_id] if entity_id and RoleAssignment.Role.PRINCIPAL in kinds else []
        ),
        focal_point_of=frozenset(
            [entity_id] if entity_id and RoleAssignment.Role.FOCAL_POINT in kinds else []
        ),
        chairs_body_ids=frozenset(chairs),
        co_chairs_group_ids=frozenset(co_chairs),
    )


def holds_secretariat_role(user: Any) -> bool:
    """Whether ``user`` holds the secretariat role (verified or not: sign-in asks for TOTP)."""
    from gmg.accounts.models import RoleAssignment

    if user is None or not user.is_authenticated:
        return False
    return RoleAssignment.objects.filter(
        person__user=user, role=RoleAssignment.Role.SECRETARIAT
    ).exists()


def people_answering_for(entity_ids: Iterable[int]) -> Any:
    """Active users who act for these entities (who answer for them in clearance): their
    Principals and focal points."""
    from django.contrib.auth import get_user_model

    from gmg.accounts.models import RoleAssignment

    return get_user_model().objects.filter(
        is_active=True,
        person__entity_id__in=list(entity_ids),
        person__roles__role__in=[RoleAssignment.Role.PRINCIPAL, RoleAssignment.Role.FOCAL_POINT],
    )
