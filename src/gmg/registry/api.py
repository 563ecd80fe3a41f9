"""API: bodies, entities and time-aware membership."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError

from gmg.api.auth import actor_for, write_auth
from gmg.api.schemas import (
    NOT_STATED,
    ClaimOut,
    ErrorOut,
    SourceOut,
    claims_of,
    date_label,
    sources_of,
)
from gmg.api.writes import (
    WRITE_RESPONSES,
    apply,
    delete_keyed,
    lookup,
    patch_schema,
    reference,
    require_record_keeper,
    run,
    sent,
)
from gmg.core.services import save_record
from gmg.registry import selectors
from gmg.registry.models import Body, Entity, EntityName, Fact, Membership

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


# -- writes (the secretariat; the same services as the back office) ---------------------------


class BodyIn(Schema):
    key: str
    name: str
    short_name: str = ""
    description: str = ""
    founded: str = ""
    ended: str = ""
    predecessor: str | None = None
    governance_model: Body.Governance = Body.Governance.NOT_STATED
    chair_rotation: str = ""
    coordinator: str | None = None
    secretariat: str | None = None
    reports_to: str = ""
    membership_note: str = ""


BodyPatch = patch_schema(BodyIn, "BodyPatch")
BODY_FIELDS = (
    "key",
    "name",
    "short_name",
    "description",
    "founded",
    "ended",
    "governance_model",
    "chair_rotation",
    "reports_to",
    "membership_note",
)


def _save_body(request: HttpRequest, body: Body, data, partial: bool) -> BodyOut:
    require_record_keeper(request)
    apply(body, data, fields=BODY_FIELDS, partial=partial)
    for name in ("coordinator", "secretariat"):
        if not partial or sent(data, name):
            value = getattr(data, name)
            setattr(body, name, reference(Entity, "entity", name, value, acronym=value))
    if not partial or sent(data, "predecessor"):
        body.predecessor = reference(
            Body, "body", "predecessor", data.predecessor, key=data.predecessor
        )
    run(lambda: save_record(body, by=actor_for(request)))
    return body_out(get_body(body.key, with_sources=True))


@router.post(
    "/bodies",
    response={201: BodyOut, **WRITE_RESPONSES},
    auth=write_auth("write:registry"),
    operation_id="create_body",
)
def create_body(request: HttpRequest, data: BodyIn):
    """Add a body (secretariat)."""
    return Status(201, _save_body(request, Body(), data, partial=False))


@router.patch(
    "/bodies/{key}",
    response={200: BodyOut, **WRITE_RESPONSES},
    auth=write_auth("write:registry"),
    operation_id="update_body",
)
def update_body(request: HttpRequest, key: str, data: BodyPatch):  # type: ignore[valid-type]
    """Change the fields sent (secretariat)."""
    require_record_keeper(request)
    return _save_body(request, lookup(Body, "body", key=key), data, partial=True)


@router.delete(
    "/bodies/{key}",
    response={204: None, **WRITE_RESPONSES},
    auth=write_auth("write:registry"),
    operation_id="delete_body",
)
def delete_body(request: HttpRequest, key: str):
    """Delete a body that nothing refers to any more (secretariat)."""
    return delete_keyed(request, Body, "body", key=key)


class EntityIn(Schema):
    acronym: str
    name: str
    kind: Entity.Kind
    slug: str = ""
    parent: str | None = None
    variant_names: list[str] = []


EntityPatch = patch_schema(EntityIn, "EntityPatch")


def _save_entity(request: HttpRequest, entity: Entity, data, partial: bool) -> EntityOut:
    require_record_keeper(request)
    apply(entity, data, fields=("acronym", "name", "kind", "slug"), partial=partial)
    if not entity.slug:
        from django.utils.text import slugify

        entity.slug = slugify(entity.acronym)
    if not partial or sent(data, "parent"):
        entity.parent = reference(Entity, "entity", "parent", data.parent, acronym=data.parent)

    def children(saved: Entity) -> None:
        if not partial or sent(data, "variant_names"):
            saved.variant_names.all().delete()
            for name in dict.fromkeys(data.variant_names or []):
                EntityName.objects.create(entity=saved, name=name)

    run(lambda: save_record(entity, by=actor_for(request), children=children))
    return entity_out(selectors.entities().get(pk=entity.pk))


@router.post(
    "/entities",
    response={201: EntityOut, **WRITE_RESPONSES},
    auth=write_auth("write:registry"),
    operation_id="create_entity",
)
def create_entity(request: HttpRequest, data: EntityIn):
    """Add an entity (secretariat)."""
    return Status(201, _save_entity(request, Entity(), data, partial=False))


@router.patch(
    "/entities/{acronym}",
    response={200: EntityOut, **WRITE_RESPONSES},
    auth=write_auth("write:registry"),
    operation_id="update_entity",
)
def update_entity(request: HttpRequest, acronym: str, data: EntityPatch):  # type: ignore[valid-type]
    require_record_keeper(request)
    return _save_entity(request, lookup(Entity, "entity", acronym=acronym), data, partial=True)


@router.delete(
    "/entities/{acronym}",
    response={204: None, **WRITE_RESPONSES},
    auth=write_auth("write:registry"),
    operation_id="delete_entity",
)
def delete_entity(request: HttpRequest, acronym: str):
    return delete_keyed(request, Entity, "entity", acronym=acronym)


class MembershipIn(Schema):
    body: str
    entity: str
    joined: str
    left: str = ""
    note: str = ""


MembershipPatch = patch_schema(MembershipIn, "MembershipPatch")


class MembershipOut(Schema):
    id: int
    body: str
    entity: str
    joined: str
    left: str | None
    note: str | None


def membership_out(m: Membership) -> MembershipOut:
    return MembershipOut(
        id=m.pk,
        body=m.body.key,
        entity=m.entity.acronym,
        joined=m.joined,
        left=m.left or None,
        note=m.note or None,
    )


def _save_membership(request: HttpRequest, m: Membership, data, partial: bool) -> MembershipOut:
    require_record_keeper(request)
    apply(m, data, fields=("joined", "left", "note"), partial=partial)
    if not partial or sent(data, "body"):
        m.body = reference(Body, "body", "body", data.body, required=True, key=data.body)  # type: ignore[assignment]
    if not partial or sent(data, "entity"):
        m.entity = reference(
            Entity, "entity", "entity", data.entity, required=True, acronym=data.entity
        )  # type: ignore[assignment]
    run(lambda: save_record(m, by=actor_for(request)))
    return membership_out(m)


@router.post(
    "/memberships",
    response={201: MembershipOut, **WRITE_RESPONSES},
    auth=write_auth("write:registry"),
    operation_id="create_membership",
)
def create_membership(request: HttpRequest, data: MembershipIn):
    """Record that an entity joined a body (partial dates allowed), secretariat."""
    return Status(201, _save_membership(request, Membership(), data, partial=False))


@router.patch(
    "/memberships/{membership_id}",
    response={200: MembershipOut, **WRITE_RESPONSES},
    auth=write_auth("write:registry"),
    operation_id="update_membership",
)
def update_membership(request: HttpRequest, membership_id: int, data: MembershipPatch):  # type: ignore[valid-type]
    require_record_keeper(request)
    found = lookup(Membership, "membership", pk=membership_id)
    return _save_membership(request, found, data, partial=True)


@router.delete(
    "/memberships/{membership_id}",
    response={204: None, **WRITE_RESPONSES},
    auth=write_auth("write:registry"),
    operation_id="delete_membership",
)
def delete_membership(request: HttpRequest, membership_id: int):
    return delete_keyed(request, Membership, "membership", pk=membership_id)
