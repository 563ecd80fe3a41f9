"""API: bodies, entities and time-aware membership."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from gmg.api.schemas import (
    NOT_STATED,
    ClaimOut,
    ErrorOut,
    SourceOut,
    claims_of,
    date_label,
    sources_of,
)
from gmg.registry import selectors
from gmg.registry.models import Body, Entity, Fact

router = Router(tags=["registry"])


class OrganOut(Schema):
    key: str
    name: str
    also_called: str | None
    description: str
    sources: list[SourceOut]


class BodyOut(Schema):
    key: str
    name: str
    short_name: str
    description: str
    founded: str | None
    founded_label: str
    ended: str | None
    ended_label: str | None
    predecessor: str | None
    successor: str | None
    governance_model: str
    chair_rotation: str | None
    coordinator: str | None
    secretariat: str | None
    reports_to: str | None
    membership_note: str | None
    organs: list[OrganOut]
    conflicts: list[ClaimOut]
    sources: list[SourceOut]


class EntityOut(Schema):
    acronym: str
    name: str
    kind: str
    parent: str | None
    variant_names: list[str]


class EntityList(Schema):
    items: list[EntityOut]
    count: int


class BodyList(Schema):
    items: list[BodyOut]
    count: int


class MemberOut(Schema):
    entity: str
    name: str
    joined: str
    left: str | None
    certain: bool
    note: str | None
    sources: list[SourceOut]


class MemberList(Schema):
    body: str
    on: dt.date
    items: list[MemberOut]
    count: int
    certain_count: int
    note: str | None


def body_out(body: Body) -> BodyOut:
    successor = getattr(body, "successor", None)
    return BodyOut(
        key=body.key,
        name=body.name,
        short_name=body.short_name,
        description=body.description,
        founded=body.founded or None,
        founded_label=date_label(body.founded),
        ended=body.ended or None,
        ended_label=date_label(body.ended) if body.ended else None,
        predecessor=body.predecessor.key if body.predecessor else None,
        successor=successor.key if successor else None,
        governance_model=body.governance_model,
        chair_rotation=body.chair_rotation or None,
        coordinator=body.coordinator.acronym if body.coordinator else None,
        secretariat=body.secretariat.acronym if body.secretariat else None,
        reports_to=body.reports_to or None,
        membership_note=body.membership_note or None,
        organs=[
            OrganOut(
                key=o.key,
                name=o.name,
                also_called=o.also_called or None,
                description=o.description,
                sources=sources_of(o),
            )
            for o in body.organs.all()
        ],
        conflicts=claims_of(body),
        sources=sources_of(body),
    )


def entity_out(entity: Entity) -> EntityOut:
    return EntityOut(
        acronym=entity.acronym,
        name=entity.name,
        kind=entity.kind,
        parent=entity.parent.acronym if entity.parent else None,
        variant_names=[v.name for v in entity.variant_names.all()],
    )


def get_body(key: str, *, with_sources: bool = False) -> Body:
    body = selectors.bodies(with_sources=with_sources).filter(key=key).first()
    if body is None:
        known = ", ".join(Body.objects.values_list("key", flat=True))
        raise HttpError(404, f"unknown body {key!r}; known bodies: {known}")
    return body


@router.get("/bodies", response=BodyList, operation_id="list_bodies")
def list_bodies(request: HttpRequest) -> BodyList:
    """The bodies of the lineage, oldest first, with predecessor and successor links."""
    items = [body_out(b) for b in selectors.bodies(with_sources=True)]
    return BodyList(items=items, count=len(items))


@router.get("/bodies/{key}", response={200: BodyOut, 404: ErrorOut}, operation_id="get_body")
def body_detail(request: HttpRequest, key: str) -> BodyOut:
    return body_out(get_body(key, with_sources=True))


class EntityFilter(Schema):
    kind: Entity.Kind | None = None


@router.get("/entities", response={200: EntityList, 422: ErrorOut}, operation_id="list_entities")
def list_entities(request: HttpRequest, filters: Query[EntityFilter]) -> EntityList:
    """Every entity the record names, members or not, by acronym."""
    entities = selectors.entities()
    if filters.kind:
        entities = entities.filter(kind=filters.kind)
    items = [entity_out(e) for e in entities]
    return EntityList(items=items, count=len(items))


@router.get(
    "/entities/{acronym}", response={200: EntityOut, 404: ErrorOut}, operation_id="get_entity"
)
def entity_detail(request: HttpRequest, acronym: str) -> EntityOut:
    entity = selectors.entities().filter(acronym=acronym).first()
    if entity is None:
        raise HttpError(404, f"unknown entity {acronym!r}")
    return entity_out(entity)


class MembersQuery(Schema):
    body: str
    on: dt.date


@router.get(
    "/members",
    response={200: MemberList, 404: ErrorOut, 422: ErrorOut},
    operation_id="list_members_on",
)
def members(request: HttpRequest, query: Query[MembersQuery]) -> MemberList:
    """Who was a member of ``body`` on the day ``on``.

    Where a source gives only a year or month of joining, the entity is listed for every day
    of it with ``certain: false``; ``certain_count`` counts only the certain ones.
    """
    body = get_body(query.body)
    possibly, _ = selectors.body_existed_on(body, query.on)
    found = selectors.members_on(body, query.on, with_sources=True)
    note = None
    if not possibly:
        note = (
            f"{body.short_name or body.name} did not exist on {query.on.isoformat()} "
            f"(founded {date_label(body.founded)}, ended {date_label(body.ended)})"
        )
    elif not found and body.membership_note:
        note = body.membership_note
    items = [
        MemberOut(
            entity=m.membership.entity.acronym,
            name=m.membership.entity.name,
            joined=m.membership.joined,
            left=m.membership.left or None,
            certain=m.certain,
            note=m.membership.note or None,
            sources=sources_of(m.membership),
        )
        for m in found
    ]
    return MemberList(
        body=body.key,
        on=query.on,
        items=items,
        count=len(items),
        certain_count=sum(1 for m in found if m.certain),
        note=note,
    )


class FactOut(Schema):
    key: str
    body: str
    kind: str
    entity: str | None
    statement: str
    date: str | None
    date_label: str
    sources: list[SourceOut]


class FactList(Schema):
    items: list[FactOut]
    count: int


class FactsQuery(Schema):
    body: str | None = None
    kind: Fact.Kind | None = None


@router.get(
    "/facts", response={200: FactList, 404: ErrorOut, 422: ErrorOut}, operation_id="list_facts"
)
def facts(request: HttpRequest, query: Query[FactsQuery]) -> FactList:
    """Stated facts with no table of their own: the support team, staff time, donors, hosting."""
    found = Fact.objects.select_related("body", "entity").prefetch_related("citations__document")
    if query.body:
        found = found.filter(body=get_body(query.body))
    if query.kind:
        found = found.filter(kind=query.kind)
    items = [
        FactOut(
            key=f.key,
            body=f.body.key,
            kind=f.kind,
            entity=f.entity.acronym if f.entity else None,
            statement=f.statement,
            date=f.date or None,
            date_label=date_label(f.date),
            sources=sources_of(f),
        )
        for f in found
    ]
    return FactList(items=items, count=len(items))


__all__ = ["router", "NOT_STATED"]
