"""Reads of the repository, for a viewer.

What a viewer may see is decided in ``gmg.core.visibility``; the ORM reads here
(``outputs_visible_to``, ``documents_visible_to``) and every search engine apply that one
rule, so pages, the API, search results and facet counts cannot disagree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import F, Prefetch, QuerySet

from gmg.core.viewer import Viewer
from gmg.core.visibility import filter_visible, visible_among
from gmg.repository import search
from gmg.repository.models import Document, Output, OutputEntity


def outputs_visible_to(viewer: Viewer) -> QuerySet[Output]:
    return filter_visible(Output.objects.all(), viewer)


def documents_visible_to(viewer: Viewer) -> QuerySet[Document]:
    return filter_visible(Document.objects.all(), viewer).select_related(
        "body", "working_group", "meeting", "entity"
    )


def document_detail(viewer: Viewer, uid: str) -> Document | None:
    """The document with ``uid`` if ``viewer`` may see it; None both when it does not exist
    and when it is hidden, so a URL never tells which."""
    import uuid

    try:
        parsed = uuid.UUID(str(uid))
    except ValueError:
        return None
    return documents_visible_to(viewer).filter(uid=parsed).first()


def with_list_relations(
    outputs: QuerySet[Output], *, vocabularies: bool = True
) -> QuerySet[Output]:
    """What a list item shows, in a fixed number of queries whatever the page holds.

    ``vocabularies=False`` leaves out processes and themes, for lists that do not show them.
    """
    outputs = outputs.select_related("working_group", "body").prefetch_related(
        Prefetch("entity_links", queryset=OutputEntity.objects.select_related("entity"))
    )
    return outputs.prefetch_related("processes", "themes") if vocabularies else outputs


def with_all_relations(outputs: QuerySet[Output]) -> QuerySet[Output]:
    """Everything an output page or an export shows, fetched in a fixed number of queries."""
    return with_list_relations(outputs).prefetch_related(
        "title_variants", "dates", "links", "related"
    )


@dataclass
class OutputPage:
    outputs: list[Output]
    total: int
    page: int
    pages: int
    page_size: int
    snippets: dict[str, str] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)  # HTML: titles with matches marked
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    facets_approximate: bool = False
    suggestion: str = ""
    corrected_from: str = ""


class PageOutOfRange(Exception):
    def __init__(self, page: int, pages: int):
        self.page, self.pages = page, pages
        super().__init__(f"page {page} is past the last page ({pages})")


def search_outputs(
    viewer: Viewer,
    query: search.SearchQuery,
    *,
    sort: str = "relevance",
    page: int = 1,
    page_size: int = 20,
    with_facets: bool = False,
    clamp_page: bool = False,
) -> OutputPage:
    """One page of the outputs ``viewer`` may see that match ``query``, in the asked order.

    Relevance order applies only to a text query; without one, results are by date.
    """
    if sort == "relevance" and not query.text.strip():
        sort = "-date"
    result = search.search(
        query,
        viewer=viewer,
        sort=sort,
        offset=(page - 1) * page_size,
        limit=page_size,
        with_facets=with_facets,
    )
    pages = max(1, -(-result.total // page_size))
    if page > pages:
        if not clamp_page:
            raise PageOutOfRange(page, pages)
        return search_outputs(
            viewer, query, sort=sort, page=pages, page_size=page_size, with_facets=with_facets
        )
    keys = [hit.key for hit in result.hits]
    # Visibility is checked again on the rows themselves, so a stale index can never leak a
    # record. (By key first: the unique index is the fast path whatever the planner knows.)
    by_key = {
        o.key: o
        for o in visible_among(viewer, with_list_relations(Output.objects.filter(key__in=keys)))
    }
    return OutputPage(
        outputs=[by_key[k] for k in keys if k in by_key],
        total=result.total,
        page=page,
        pages=pages,
        page_size=page_size,
        snippets={hit.key: hit.snippet for hit in result.hits if hit.snippet},
        titles=(
            {o.key: search.highlight(o.title, search.words(query.text)) for o in by_key.values()}
            if query.text.strip()
            else {}
        ),
        facets=result.facets,
        facets_approximate=result.facets_approximate,
        suggestion=result.suggestion,
        corrected_from=result.corrected_from,
    )


def output_detail(viewer: Viewer, key: str) -> Output | None:
    return (
        with_all_relations(outputs_visible_to(viewer))
        .prefetch_related("citations__document")
        .filter(key=key)
        .first()
    )


def related_visible(viewer: Viewer, output: Output) -> list[Output]:
    return visible_among(viewer, output.related.all())


def counts_by_type_and_year(viewer: Viewer) -> Counter[tuple[str, int | None]]:
    """Each output counted once, under the year of its earliest stated date."""
    counts: Counter[tuple[str, int | None]] = Counter()
    for type_, start in outputs_visible_to(viewer).values_list("type", "date_start"):
        counts[(type_, start.year if start else None)] += 1
    return counts


def latest_outputs(viewer: Viewer, *, body_key: str, limit: int) -> list[Output]:
    return list(
        with_list_relations(outputs_visible_to(viewer).filter(body__key=body_key)).order_by(
            F("date_start").desc(nulls_last=True), "key"
        )[:limit]
    )


def outputs_of_entity(
    viewer: Viewer, acronym: str, role_groups: dict[str, tuple[str, ...]], *, limit: int
) -> dict[str, list[Output]]:
    """For each named group of roles, the entity's ``limit`` most recent outputs in them.

    Ids come from one cheap query per group; the list relations load once for all groups.
    """
    visible = outputs_visible_to(viewer)
    ids: dict[str, list[int]] = {}
    for name, roles in role_groups.items():
        linked = OutputEntity.objects.filter(entity__acronym=acronym, role__in=roles)
        ids[name] = list(
            visible.filter(pk__in=linked.values("output_id"))
            .order_by(F("date_start").desc(nulls_last=True), "key")
            .values_list("pk", flat=True)[:limit]
        )
    wanted = {pk for group in ids.values() for pk in group}
    loaded = {
        o.pk: o
        for o in with_list_relations(Output.objects.filter(pk__in=wanted), vocabularies=False)
    }
    return {name: [loaded[pk] for pk in group] for name, group in ids.items()}
