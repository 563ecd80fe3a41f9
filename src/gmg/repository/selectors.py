"""Reads of the repository. Visibility is decided here and only here."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from gmg.core.viewer import Viewer
from gmg.repository import search
from gmg.repository.models import Output, OutputDate, OutputEntity, Visibility


def outputs_visible_to(viewer: Viewer) -> QuerySet[Output]:
    """The outputs ``viewer`` may see: the public sees public outputs; staff see all.

    The members' area (roles per agency and body) extends this function, not its callers.
    """
    outputs = Output.objects.all()
    if viewer.is_staff:
        return outputs
    return outputs.filter(visibility=Visibility.PUBLIC)


def with_list_relations(outputs: QuerySet[Output]) -> QuerySet[Output]:
    return outputs.select_related("working_group", "body").prefetch_related(
        "entity_links__entity", "processes", "themes"
    )


@dataclass
class OutputFilters:
    q: str = ""
    type: str = ""
    year: int | None = None
    entity: str = ""
    role: str = ""
    working_group: str = ""
    process: str = ""
    theme: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    body: str = ""


@dataclass
class OutputSearchResult:
    outputs: QuerySet[Output]
    count: int
    ranked_ids: list[int] | None = None  # set when a full-text query ranks the results
    scores: dict[int, float] = field(default_factory=dict)


def _dated_between(start: dt.date | None, end: dt.date | None) -> Q:
    """Outputs with at least one stated date span overlapping [start, end]."""
    spans = OutputDate.objects.filter(output=OuterRef("pk"))
    if start:
        spans = spans.filter(end__gte=start)
    if end:
        spans = spans.filter(start__lte=end)
    return Q(Exists(spans))


def filter_outputs(viewer: Viewer, filters: OutputFilters) -> OutputSearchResult:
    """Apply filters and full-text search to what ``viewer`` may see; ranked when ``q`` is set."""
    outputs = outputs_visible_to(viewer)
    if filters.body:
        outputs = outputs.filter(body__key=filters.body)
    if filters.type:
        outputs = outputs.filter(type=filters.type)
    if filters.year is not None:
        outputs = outputs.filter(
            _dated_between(dt.date(filters.year, 1, 1), dt.date(filters.year, 12, 31))
        )
    if filters.date_from or filters.date_to:
        outputs = outputs.filter(_dated_between(filters.date_from, filters.date_to))
    if filters.entity or filters.role:
        links = OutputEntity.objects.filter(output=OuterRef("pk"))
        if filters.entity:
            links = links.filter(entity__acronym=filters.entity)
        if filters.role:
            links = links.filter(role=filters.role)
        outputs = outputs.filter(Exists(links))
    if filters.working_group:
        outputs = outputs.filter(working_group__key=filters.working_group)
    if filters.process:
        outputs = outputs.filter(processes__key=filters.process)
    if filters.theme:
        outputs = outputs.filter(themes__key=filters.theme)
    if filters.q.strip():
        hits = search.search(filters.q)
        scores = {h.output_id: h.score for h in hits}
        allowed = set(outputs.filter(pk__in=list(scores)).values_list("pk", flat=True))
        ranked = [h.output_id for h in hits if h.output_id in allowed]
        return OutputSearchResult(
            outputs=outputs.filter(pk__in=ranked),
            count=len(ranked),
            ranked_ids=ranked,
            scores=scores,
        )
    return OutputSearchResult(outputs=outputs, count=outputs.count())


def page_of(result: OutputSearchResult, *, page: int, page_size: int, sort: str) -> list[Output]:
    """One page of results, in relevance order (when searched) or by date."""
    offset = (page - 1) * page_size
    if result.ranked_ids is not None and sort == "relevance":
        ids = result.ranked_ids[offset : offset + page_size]
        by_id = {o.pk: o for o in with_list_relations(result.outputs.filter(pk__in=ids))}
        return [by_id[i] for i in ids if i in by_id]
    # Undated outputs go last in both directions, on SQLite and PostgreSQL alike.
    by_date = (
        F("date_start").desc(nulls_last=True)
        if sort == "-date"
        else F("date_start").asc(nulls_last=True)
    )
    ordering = [F("title").asc(), F("key").asc()] if sort == "title" else [by_date, F("key").asc()]
    return list(
        with_list_relations(result.outputs.order_by(*ordering))[offset : offset + page_size]
    )


def with_all_relations(outputs: QuerySet[Output]) -> QuerySet[Output]:
    """Everything an output page or an export shows, fetched in a fixed number of queries."""
    return with_list_relations(outputs).prefetch_related(
        "title_variants", "dates", "links", "related"
    )


def output_detail(viewer: Viewer, key: str) -> Output | None:
    return (
        with_all_relations(outputs_visible_to(viewer))
        .prefetch_related("citations__document")
        .filter(key=key)
        .first()
    )


def related_visible(viewer: Viewer, output: Output) -> list[Output]:
    visible = set(outputs_visible_to(viewer).values_list("pk", flat=True))
    return [o for o in output.related.all() if o.pk in visible]


def counts_by_type_and_year(viewer: Viewer) -> Counter[tuple[str, int | None]]:
    """Each output counted once, under the year of its earliest stated date."""
    counts: Counter[tuple[str, int | None]] = Counter()
    for type_, start in outputs_visible_to(viewer).values_list("type", "date_start"):
        counts[(type_, start.year if start else None)] += 1
    return counts
