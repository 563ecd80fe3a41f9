"""API: working groups and task forces."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from gmg.api.schemas import ClaimOut, ErrorOut, SourceOut, claims_of, date_label, sources_of
from gmg.core.viewer import Viewer
from gmg.repository.selectors import outputs_visible_to
from gmg.workgroups.models import WorkingGroup
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
