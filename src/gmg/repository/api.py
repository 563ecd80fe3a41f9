"""API: the repository of outputs, searchable and filterable."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from gmg.api.schemas import ClaimOut, ErrorOut, SourceOut, claims_of, date_label, sources_of
from gmg.core.viewer import Viewer
from gmg.repository import selectors
from gmg.repository.models import Output, OutputType, Role
from gmg.repository.search import SearchQuery

router = Router(tags=["repository"])

MAX_PAGE_SIZE = 100


class EntityRole(Schema):
    entity: str
    role: str


class OutputOut(Schema):
    key: str
    body: str
    type: str
    type_label: str
    subtype: str | None
    title: str
    date: str | None
    date_label: str
    location: str | None
    occasion: str | None
    entities: list[EntityRole]
    working_group: str | None
    processes: list[str]
    themes: list[str]
    visibility: str
    snippet: str | None = Field(
        None, description="HTML: an excerpt with matched words in <mark>, for text queries"
    )


class FacetValue(Schema):
    value: str
    count: int


class OutputDetail(OutputOut):
    description: str | None
    title_variants: list[str]
    dates: list[str]
    links: list[str]
    related: list[str]
    conflicts: list[ClaimOut]
    sources: list[SourceOut]


class OutputList(Schema):
    items: list[OutputOut]
    count: int
    page: int
    pages: int
    page_size: int
    facets: dict[str, list[FacetValue]] | None = Field(
        None,
        description="With facets=true: counts per value of type, year, entity, role, "
        "working_group, process and theme, over all results",
    )
    facets_approximate: bool = Field(
        False,
        description="True when the facet counts were estimated from a sample (more than "
        "50,000 matches); count, the number of results, is always exact",
    )
    suggestion: str | None = Field(None, description="A respelling of q, when q matched nothing")
    corrected_from: str | None = Field(
        None, description="Set when results are for the suggestion instead of q as typed"
    )


class OutputQuery(Schema):
    q: str = Field(
        "", max_length=500, description="Full-text query (stemmed; all words must match)"
    )
    type: OutputType | None = None
    year: int | None = Field(None, ge=1900, le=2200)
    entity: str | None = Field(None, description="Entity acronym, e.g. IOM")
    role: Role | None = None
    working_group: str | None = None
    process: str | None = None
    theme: str | None = None
    body: str | None = None
    date_from: dt.date | None = Field(None, alias="from")
    date_to: dt.date | None = Field(None, alias="to")
    sort: Literal["relevance", "date", "-date", "title"] = "relevance"
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)
    facets: bool = Field(False, description="Also return facet counts")


def output_fields(output: Output) -> dict:
    return dict(
        key=output.key,
        body=output.body.key,
        type=output.type,
        type_label=output.get_type_display(),
        subtype=output.subtype or None,
        title=output.title,
        date=output.date or None,
        date_label=date_label(output.date) if "," not in output.date else output.date,
        location=output.location or None,
        occasion=output.occasion or None,
        entities=[
            EntityRole(entity=link.entity.acronym, role=link.role)
            for link in output.entity_links.all()
        ],
        working_group=output.working_group.key if output.working_group else None,
        processes=[p.key for p in output.processes.all()],
        themes=[t.key for t in output.themes.all()],
        visibility=output.visibility,
    )


def _check_known(query: OutputQuery) -> None:
    """Unknown filter values are an error, not an empty result, so typos are caught."""
    from gmg.registry.models import Body, Entity
    from gmg.repository.models import Process, Theme
    from gmg.workgroups.models import WorkingGroup

    checks = [
        ("entity", query.entity, Entity, "acronym"),
        ("working_group", query.working_group, WorkingGroup, "key"),
        ("process", query.process, Process, "key"),
        ("theme", query.theme, Theme, "key"),
        ("body", query.body, Body, "key"),
    ]
    for name, value, model, field in checks:
        if value and not model._default_manager.filter(**{field: value}).exists():
            raise HttpError(400, f"unknown {name} {value!r}")
    if query.date_from and query.date_to and query.date_to < query.date_from:
        raise HttpError(400, "'to' is before 'from'")


@router.get(
    "/outputs",
    response={200: OutputList, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    operation_id="list_outputs",
)
def list_outputs(request: HttpRequest, query: Query[OutputQuery]) -> OutputList:
    """Search and filter the outputs. With ``q``, results are ranked by relevance."""
    _check_known(query)
    search_query = SearchQuery(
        text=query.q,
        filters={
            name: str(value)
            for name, value in {
                "type": query.type,
                "year": query.year,
                "entity": query.entity,
                "role": query.role,
                "working_group": query.working_group,
                "process": query.process,
                "theme": query.theme,
                "body": query.body,
            }.items()
            if value not in (None, "")
        },
        date_from=query.date_from.isoformat() if query.date_from else "",
        date_to=query.date_to.isoformat() if query.date_to else "",
    )
    try:
        found = selectors.search_outputs(
            Viewer.from_request(request),
            search_query,
            sort=query.sort,
            page=query.page,
            page_size=query.page_size,
            with_facets=query.facets,
        )
    except selectors.PageOutOfRange as exc:
        raise HttpError(404, str(exc)) from exc
    return OutputList(
        items=[
            OutputOut(**output_fields(o), snippet=found.snippets.get(o.key)) for o in found.outputs
        ],
        count=found.total,
        page=found.page,
        pages=found.pages,
        page_size=found.page_size,
        facets=(
            {
                name: [FacetValue(value=v, count=n) for v, n in values]
                for name, values in found.facets.items()
            }
            if query.facets
            else None
        ),
        facets_approximate=found.facets_approximate,
        suggestion=found.suggestion or None,
        corrected_from=found.corrected_from or None,
    )


@router.get(
    "/outputs/{key}", response={200: OutputDetail, 404: ErrorOut}, operation_id="get_output"
)
def output_detail(request: HttpRequest, key: str) -> OutputDetail:
    viewer = Viewer.from_request(request)
    output = selectors.output_detail(viewer, key)
    if output is None:
        raise HttpError(404, f"no output {key!r}")
    return OutputDetail(
        **output_fields(output),
        description=output.description or None,
        title_variants=[t.title for t in output.title_variants.all()],
        dates=[d.text for d in output.dates.all()],
        links=[link.url for link in output.links.all()],
        related=[o.key for o in selectors.related_visible(viewer, output)],
        conflicts=claims_of(output),
        sources=sources_of(output),
    )
