"""API: the repository of outputs, searchable and filterable."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.errors import HttpError

from gmg.api.auth import actor_for, write_auth
from gmg.api.schemas import ClaimOut, ErrorOut, SourceOut, claims_of, date_label, sources_of
from gmg.api.writes import (
    WRITE_RESPONSES,
    WriteRejected,
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
from gmg.core.viewer import Viewer
from gmg.core.visibility import Visibility, can_see
from gmg.governance.models import Meeting
from gmg.registry.models import Body
from gmg.repository import citations, selectors
from gmg.repository.models import Document, Output, OutputType, Process, Role, Theme
from gmg.repository.search import SearchQuery
from gmg.repository.services import (
    delete_document,
    save_output,
    share_document,
    too_large_message,
)
from gmg.workgroups.models import WorkingGroup

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
    page: int = Field(1, ge=1, le=1_000_000)
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
    return output_detail_out(viewer, output)


def output_detail_out(viewer: Viewer, output: Output) -> OutputDetail:
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


# -- citations ---------------------------------------------------------------------------------


class CslName(Schema):
    literal: str = Field(..., description="An institution's name, kept whole")


class CslDate(Schema):
    date_parts: list[list[int]] = Field(
        ...,
        alias="date-parts",
        description="[[year]], [[year, month]] or [[year, month, day]], as precise as the "
        "record; a range has two",
    )


class CslItem(Schema):
    """A CSL-JSON item (Citation Style Language): what Zotero and citeproc read."""

    id: str
    type: Literal["book", "report", "speech", "article", "event", "document"]
    title: str
    author: list[CslName]
    publisher: str
    issued: CslDate | None = None
    genre: str
    event_title: str | None = Field(None, alias="event-title")
    event_place: str | None = Field(None, alias="event-place")
    abstract: str | None = None
    URL: str
    accessed: CslDate


class CitationQuery(Schema):
    format: Literal["csl-json", "bibtex", "ris"] = Field(
        "csl-json",
        description="csl-json (a JSON list of one CSL item), bibtex or ris (text files)",
    )


_TEXT = {"schema": {"type": "string"}}


@router.get(
    "/outputs/{key}/citation",
    response={200: list[CslItem], 404: ErrorOut, 422: ErrorOut},
    operation_id="get_output_citation",
    by_alias=True,
    exclude_none=True,
    openapi_extra={
        "responses": {
            200: {
                "description": "The citation: JSON for csl-json, text for bibtex and ris",
                "content": {
                    "application/x-bibtex": _TEXT,
                    "application/x-research-info-systems": _TEXT,
                },
            }
        }
    },
)
def output_citation(request: HttpRequest, key: str, query: Query[CitationQuery]):
    """The output's citation, for reference managers: CSL-JSON, BibTeX or RIS, all made from
    one CSL item. Dates are as precise as the record; the author is the body."""
    output = selectors.output_detail(Viewer.from_request(request), key)
    if output is None:
        raise HttpError(404, f"no output {key!r}")
    item = citations.csl_item(output, citations.output_url(request, output.key))
    if query.format == "csl-json":
        return [item]
    return HttpResponse(
        citations.render(item, query.format),
        content_type=citations.FORMATS[query.format].media_type,
    )


# -- writes: outputs (secretariat) ---------------------------------------------------------------


class EntityRoleIn(Schema):
    entity: str
    role: Role


class OutputIn(Schema):
    key: str
    body: str
    type: OutputType
    subtype: str = ""
    title: str
    description: str = ""
    date: str = Field(
        "",
        description="A partial date (YYYY, YYYY-MM, YYYY-MM-DD, a/b), or several, comma-separated",
    )
    location: str = ""
    occasion: str = ""
    working_group: str | None = None
    visibility: Visibility = Visibility.PUBLIC
    audience_entities: list[str] = []
    entities: list[EntityRoleIn] = []
    processes: list[str] = []
    themes: list[str] = []


OutputPatch = patch_schema(OutputIn, "OutputPatch")
OUTPUT_FIELDS = (
    "key",
    "type",
    "subtype",
    "title",
    "description",
    "date",
    "location",
    "occasion",
    "visibility",
)


def _vocabulary(model, field: str, keys: list[str]) -> list:
    found = {v.key: v for v in model.objects.filter(key__in=keys)}
    unknown = [k for k in keys if k not in found]
    if unknown:
        raise WriteRejected(ValidationError({field: f"unknown {field}: {', '.join(unknown)}"}))
    return [found[k] for k in dict.fromkeys(keys)]


def _save_output(request: HttpRequest, output: Output, data, partial: bool) -> OutputDetail:
    viewer = require_record_keeper(request)
    apply(output, data, fields=OUTPUT_FIELDS, partial=partial)
    if not partial or sent(data, "body"):
        output.body = reference(Body, "body", "body", data.body, required=True, key=data.body)  # type: ignore[assignment]
    if not partial or sent(data, "working_group"):
        output.working_group = reference(
            WorkingGroup,
            "working group",
            "working_group",
            data.working_group,
            key=data.working_group,
        )
    given = lambda name: not partial or sent(data, name)  # noqa: E731
    links = None
    if given("entities"):
        pairs = data.entities or []
        links = [
            (entity, pair.role)
            for pair, entity in zip(
                pairs, entities_named("entities", [p.entity for p in pairs]), strict=False
            )
        ]
    run(
        lambda: save_output(
            output,
            by=actor_for(request),
            entity_links=links,
            processes=_vocabulary(Process, "processes", data.processes or [])
            if given("processes")
            else None,
            themes=_vocabulary(Theme, "themes", data.themes or []) if given("themes") else None,
            audience_entities=(
                entities_named("audience_entities", data.audience_entities or [])
                if given("audience_entities")
                else None
            ),
        )
    )
    found = selectors.output_detail(viewer, output.key)
    assert found is not None  # the secretariat sees everything
    return output_detail_out(viewer, found)


@router.post(
    "/outputs",
    response={201: OutputDetail, **WRITE_RESPONSES},
    auth=write_auth("write:repository"),
    operation_id="create_output",
)
def create_output(request: HttpRequest, data: OutputIn):
    """Add an output to the repository (secretariat). It is searchable at once."""
    return Status(201, _save_output(request, Output(), data, partial=False))


@router.patch(
    "/outputs/{key}",
    response={200: OutputDetail, **WRITE_RESPONSES},
    auth=write_auth("write:repository"),
    operation_id="update_output",
)
def update_output(request: HttpRequest, key: str, data: OutputPatch):  # type: ignore[valid-type]
    require_record_keeper(request)
    return _save_output(request, lookup(Output, "output", key=key), data, partial=True)


@router.delete(
    "/outputs/{key}",
    response={204: None, **WRITE_RESPONSES},
    auth=write_auth("write:repository"),
    operation_id="delete_output",
)
def delete_output(request: HttpRequest, key: str):
    return delete_keyed(request, Output, "output", key=key)


# -- documents (members) ----------------------------------------------------------------------


class DocumentOut(Schema):
    uid: str
    title: str
    kind: str
    text: str | None
    body: str
    working_group: str | None
    meeting: str | None
    visibility: str
    audience_entities: list[str]
    shared_by: str | None
    file_name: str | None
    content_type: str | None
    size: int | None
    sha256: str | None
    download_url: str | None
    created_at: dt.datetime


class DocumentList(Schema):
    items: list[DocumentOut]
    count: int


def document_out(d: Document) -> DocumentOut:
    return DocumentOut(
        uid=str(d.uid),
        title=d.title,
        kind=d.kind,
        text=d.text or None,
        body=d.body.key,
        working_group=d.working_group.key if d.working_group else None,
        meeting=d.meeting.key if d.meeting else None,
        visibility=d.visibility,
        audience_entities=[e.acronym for e in d.audience_entities.all()],
        shared_by=d.entity.acronym if d.entity else None,
        file_name=d.file_name or None,
        content_type=d.content_type or None,
        size=d.size if d.file else None,
        sha256=d.sha256 or None,
        download_url=f"/members-area/documents/{d.uid}/download/" if d.file else None,
        created_at=d.created_at,
    )


class DocumentQuery(Schema):
    q: str = Field("", max_length=200)
    working_group: str | None = None
    meeting: str | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000_000)


@router.get(
    "/documents",
    response={200: DocumentList, 422: ErrorOut},
    operation_id="list_documents",
)
def list_documents(request: HttpRequest, query: Query[DocumentQuery]) -> DocumentList:
    """The documents and notes you may see, newest first (anonymous callers: public ones)."""
    found = selectors.documents_visible_to(Viewer.from_request(request)).prefetch_related(
        "audience_entities"
    )
    if query.q.strip():
        found = found.filter(Q(title__icontains=query.q) | Q(text__icontains=query.q))
    if query.working_group:
        found = found.filter(working_group__key=query.working_group)
    if query.meeting:
        found = found.filter(meeting__key=query.meeting)
    count = found.count()
    page = found[query.offset : query.offset + query.limit]
    return DocumentList(items=[document_out(d) for d in page], count=count)


@router.get(
    "/documents/{uid}",
    response={200: DocumentOut, 404: ErrorOut},
    operation_id="get_document",
)
def get_document(request: HttpRequest, uid: str) -> DocumentOut:
    found = selectors.document_detail(Viewer.from_request(request), uid)
    if found is None:
        raise HttpError(404, "No such document.")
    return document_out(found)


class DocumentIn(Schema):
    title: str = Field(..., max_length=300)
    kind: Document.Kind = Document.Kind.DOCUMENT
    text: str = ""
    body: str
    working_group: str | None = None
    meeting: str | None = None
    visibility: Visibility = Visibility.BODY
    audience_entities: list[str] = []


@router.post(
    "/documents",
    response={201: DocumentOut, 413: ErrorOut, **WRITE_RESPONSES},
    auth=write_auth("write:documents"),
    operation_id="share_document",
)
def create_document(
    request: HttpRequest,
    data: Form[DocumentIn],
    file: UploadedFile | None = File(None),  # noqa: B008 - ninja marker
):
    """Share a document or note (multipart form; members). Visibility as on the page."""
    viewer = Viewer.from_request(request)
    if file is not None and file.size and file.size > settings.GMG_UPLOAD_MAX_BYTES:
        raise HttpError(413, too_large_message())
    document = Document(
        title=data.title,
        kind=data.kind,
        text=data.text,
        visibility=data.visibility,
        body=reference(Body, "body", "body", data.body, required=True, key=data.body),
        working_group=reference(
            WorkingGroup,
            "working group",
            "working_group",
            data.working_group,
            key=data.working_group,
        ),
        meeting=reference(Meeting, "meeting", "meeting", data.meeting, key=data.meeting),
        entity_id=next(iter(viewer.entity_ids), None),
        uploaded_by_id=viewer.user_id,
    )
    named = entities_named("audience_entities", data.audience_entities or [])
    if document.meeting is not None and not can_see(viewer, document.meeting):
        raise WriteRejected(ValidationError({"meeting": f"unknown meeting {data.meeting!r}"}))
    run(
        lambda: share_document(
            document, viewer=viewer, by=actor_for(request), upload=file, audience_entities=named
        )
    )
    return Status(201, document_out(document))


@router.delete(
    "/documents/{uid}",
    response={204: None, **WRITE_RESPONSES},
    auth=write_auth("write:documents"),
    operation_id="delete_document",
)
def remove_document(request: HttpRequest, uid: str):
    """Delete a document you shared (or any, for the secretariat)."""
    viewer = Viewer.from_request(request)
    found = selectors.document_detail(viewer, uid)
    if found is None:
        raise HttpError(404, "No such document.")
    run(lambda: delete_document(found, viewer=viewer, by=actor_for(request)))
    return Status(204, None)
