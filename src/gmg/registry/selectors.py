"""Time-aware reads of bodies and memberships."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from gmg.core import partial_dates
from gmg.registry.models import Body, Entity, Membership


def bodies(*, with_sources: bool = False) -> QuerySet[Body]:
    found = Body.objects.select_related("predecessor", "successor", "coordinator", "secretariat")
    if with_sources:
        return found.prefetch_related("organs__citations__document", "citations__document")
    return found


def entities() -> QuerySet[Entity]:
    return Entity.objects.select_related("parent").prefetch_related("variant_names")


@dataclass(frozen=True)
class MemberOnDay:
    membership: Membership
    certain: bool  # False when a partial date leaves it open whether the day is covered


def certainly_member_on(on: dt.date, joined_end: dt.date, left_start: dt.date | None) -> bool:
    """A membership certainly covers ``on``: it had surely begun (the last day its stated
    joining can mean) and had surely not yet ended."""
    return joined_end <= on and (left_start is None or on < left_start)


def in_force_day(on: dt.date, ended: dt.date | None) -> dt.date:
    """The day whose members are a body's members "in force" on ``on``: ``on`` itself, or
    the last day of a body that has ended (its archive stays with its last members)."""
    return min(on, ended) if ended else on


def body_existed_on(body: Body, on: dt.date) -> tuple[bool, bool]:
    """(possibly, certainly): whether the body existed on ``on``, given its partial dates."""
    founded = partial_dates.parse_optional(body.founded)
    ended = partial_dates.parse_optional(body.ended)
    possibly = (founded is None or founded.start <= on) and (ended is None or on <= ended.end)
    certainly = (founded is not None and founded.end <= on) and (ended is None or on < ended.start)
    return possibly, certainly


def members_on(body: Body, on: dt.date, *, with_sources: bool = False) -> list[MemberOnDay]:
    """The entities that were members of ``body`` on ``on``.

    Partial dates are honoured: an entity that "joined in 2010" is listed for any day of
    2010, with ``certain=False`` until the year is over.
    """
    possibly, body_certain = body_existed_on(body, on)
    if not possibly:
        return []
    memberships = (
        Membership.objects.filter(body=body, joined_start__lte=on)
        .filter(Q(left_end__isnull=True) | Q(left_end__gte=on))
        .select_related("entity")
        .order_by("joined_start", "entity__acronym")
    )
    if with_sources:
        memberships = memberships.prefetch_related("citations__document")
    return [
        MemberOnDay(
            membership=m,
            certain=body_certain and certainly_member_on(on, m.joined_end, m.left_start),
        )
        for m in memberships
    ]


def lineage_admissions(body: Body) -> list[Membership]:
    """Each entity's first membership in ``body`` or its predecessors, oldest first.

    This is how the GMG grew from the Geneva Migration Group's six to its twenty-two: the
    six founders count from 2003, not from the renaming of 2006.
    """
    chain = []
    current: Body | None = body
    while current is not None and current not in chain:
        chain.append(current)
        current = current.predecessor
    first: dict[int, Membership] = {}
    for membership in (
        Membership.objects.filter(body__in=chain).select_related("entity").order_by("joined_start")
    ):
        first.setdefault(membership.entity_id, membership)
    return sorted(first.values(), key=lambda m: (m.joined_start, m.entity.acronym))
