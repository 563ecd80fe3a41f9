"""API: working groups and task forces."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from gmg.api.auth import actor_for, write_auth
from gmg.api.schemas import ClaimOut, ErrorOut, SourceOut, claims_of, date_label, sources_of
from gmg.api.writes import (
    WRITE_RESPONSES,
    apply,
    delete_keyed,
    entities_named,
    lookup,
    patch_schema,
    reference,
    require_record_keeper,
    run,
    sent,
)
from gmg.core.services import save_record
from gmg.core.viewer import Viewer
from gmg.registry.models import Body
from gmg.repository.selectors import outputs_visible_to
from gmg.workgroups.models import CoChair, WorkingGroup, WorkingGroupName
from gmg.workgroups.selectors import working_groups

router = Router(tags=["working groups"])


class CoChairOut(Schema):
    entity: str
    title: str


class OutputRef(Schema):
    key: str
    type: str
    title: str
    date: str | None


class WorkingGroupOut(Schema):
    key: str
    body: str
    kind: str
    name: str
    variant_names: list[str]
    co_chairs: list[CoChairOut]
    established: str | None
    established_label: str
    mandate: str
    conflicts: list[ClaimOut]
    sources: list[SourceOut]


class WorkingGroupDetail(WorkingGroupOut):
    outputs: list[OutputRef]


class WorkingGroupList(Schema):
    items: list[WorkingGroupOut]
    count: int


def group_fields(group: WorkingGroup) -> dict:
    return dict(
        key=group.key,
        body=group.body.key,
        kind=group.kind,
        name=group.name,
        variant_names=[v.name for v in group.variant_names.all()],
        co_chairs=[
            CoChairOut(entity=c.entity.acronym, title=c.title) for c in group.co_chair_links.all()
        ],
        established=group.established or None,
        established_label=date_label(group.established),
        mandate=group.mandate,
        conflicts=claims_of(group),
        sources=sources_of(group),
    )


@router.get("/working-groups", response=WorkingGroupList, operation_id="list_working_groups")
def list_groups(request: HttpRequest) -> WorkingGroupList:
    items = [WorkingGroupOut(**group_fields(g)) for g in working_groups()]
    return WorkingGroupList(items=items, count=len(items))


@router.get(
    "/working-groups/{key}",
    response={200: WorkingGroupDetail, 404: ErrorOut},
    operation_id="get_working_group",
)
def group_detail(request: HttpRequest, key: str) -> WorkingGroupDetail:
    group = working_groups().filter(key=key).first()
    if group is None:
        raise HttpError(404, f"unknown working group {key!r}")
    outputs = (
        outputs_visible_to(Viewer.from_request(request))
        .filter(working_group=group)
        .order_by("date_start", "key")
    )
    return WorkingGroupDetail(
        **group_fields(group),
        outputs=[
            OutputRef(key=o.key, type=o.type, title=o.title, date=o.date or None) for o in outputs
        ],
    )


# -- writes -----------------------------------------------------------------------------------


class CoChairIn(Schema):
    entity: str
    title: str = "co-chair"


class WorkingGroupIn(Schema):
    key: str
    body: str
    kind: WorkingGroup.Kind
    name: str
    mandate: str = ""
    established: str = ""
    co_chairs: list[CoChairIn] = []
    variant_names: list[str] = []


WorkingGroupPatch = patch_schema(WorkingGroupIn, "WorkingGroupPatch")


def _save_group(request: HttpRequest, group: WorkingGroup, data, partial: bool) -> WorkingGroupOut:
    require_record_keeper(request)
    apply(group, data, fields=("key", "kind", "name", "mandate", "established"), partial=partial)
    if not partial or sent(data, "body"):
        group.body = reference(Body, "body", "body", data.body, required=True, key=data.body)  # type: ignore[assignment]
    co_chairs = None
    if not partial or sent(data, "co_chairs"):
        chairs = data.co_chairs or []
        co_chairs = list(
            zip(chairs, entities_named("co_chairs", [c.entity for c in chairs]), strict=False)
        )

    def children(saved: WorkingGroup) -> None:
        if co_chairs is not None:
            saved.co_chair_links.all().delete()
            for position, (chair, entity) in enumerate(co_chairs):
                CoChair.objects.create(
                    group=saved, entity=entity, position=position, title=chair.title
                )
        if not partial or sent(data, "variant_names"):
            saved.variant_names.all().delete()
            for name in dict.fromkeys(data.variant_names or []):
                WorkingGroupName.objects.create(group=saved, name=name)

    run(lambda: save_record(group, by=actor_for(request), children=children))
    return WorkingGroupOut(**group_fields(working_groups().get(pk=group.pk)))


@router.post(
    "/working-groups",
    response={201: WorkingGroupOut, **WRITE_RESPONSES},
    auth=write_auth("write:workgroups"),
    operation_id="create_working_group",
)
def create_working_group(request: HttpRequest, data: WorkingGroupIn):
    """Add a working group or task force with its co-chairs (secretariat)."""
    return Status(201, _save_group(request, WorkingGroup(), data, partial=False))


@router.patch(
    "/working-groups/{key}",
    response={200: WorkingGroupOut, **WRITE_RESPONSES},
    auth=write_auth("write:workgroups"),
    operation_id="update_working_group",
)
def update_working_group(request: HttpRequest, key: str, data: WorkingGroupPatch):  # type: ignore[valid-type]
    require_record_keeper(request)
    found = lookup(WorkingGroup, "working group", key=key)
    return _save_group(request, found, data, partial=True)


@router.delete(
    "/working-groups/{key}",
    response={204: None, **WRITE_RESPONSES},
    auth=write_auth("write:workgroups"),
    operation_id="delete_working_group",
)
def delete_working_group(request: HttpRequest, key: str):
    return delete_keyed(request, WorkingGroup, "working group", key=key)
