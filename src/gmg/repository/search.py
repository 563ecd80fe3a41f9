"""Full-text search over outputs: one small interface, an index derived from the database.

The database is the record; an engine's index is rebuilt from it by ``rebuild_index()``
(``gmg reindex``, and at the end of every ``load_bundle``), and services that change single
outputs call ``reindex_outputs()``. Callers see only ``search(SearchQuery) -> SearchResult``:
ranked hits with snippets, the total, facet counts, and a suggestion for a misspelt query.

Engines (``GMG_SEARCH_ENGINE``):
- ``tantivy``: the embedded default with SQLite. A tantivy index in ``GMG_DATA_DIR``; top-k
  ranking (BM25 with block-max WAND) does not score every match, and facets are columnar
  aggregations, so common words stay fast at a million outputs.
- ``postgres``: inside PostgreSQL, shared by every app server. ``tsvector`` with a RUM index
  (ranked top-k from the index) where the ``rum`` extension exists, else GIN.
- ``sqlite``: SQLite FTS5 (bm25); small installs and tests.
``auto`` (the default) picks tantivy on SQLite and postgres on PostgreSQL.

Visibility is not decided here: engines take the viewer and filter with
``gmg.core.visibility`` (the ORM filter for database engines, audience tokens for tantivy).
"""

from __future__ import annotations

import datetime as dt
import difflib
import html
import re
import threading
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from gmg.core import visibility
from gmg.core.viewer import Viewer
from gmg.repository.models import Output, OutputEntity, OutputYear

INDEX_TABLE = "repository_search_index"
FACETS = ("type", "year", "entity", "role", "working_group", "process", "theme")
# Facet counts are exact up to this many matches; above it they are estimated from a fixed
# hash sample of about this many documents (as Elasticsearch's sampler aggregation does),
# which bounds their cost at any size. The total number of results always stays exact.
SAMPLE_ABOVE = 50_000
SAMPLE_BUCKETS = 1024


def sample_bucket(key: str) -> int:
    """A stable pseudo-random bucket per output, the unit of facet sampling."""
    return zlib.crc32(key.encode()) % SAMPLE_BUCKETS


def sampled_buckets(total: int) -> int:
    """How many of the SAMPLE_BUCKETS to count over, for ``total`` matches (all when small)."""
    if total <= SAMPLE_ABOVE:
        return SAMPLE_BUCKETS
    return max(1, -(-SAMPLE_BUCKETS * SAMPLE_ABOVE // total))


def scaled(values: list[tuple[str, int]], buckets: int) -> list[tuple[str, int]]:
    if buckets >= SAMPLE_BUCKETS:
        return values
    factor = SAMPLE_BUCKETS / buckets
    return [(v, int(round(n * factor, -2)) or 100) for v, n in values]


MAX_FACET_VALUES = 500
_WORD = re.compile(r"\w+", re.UNICODE)


# -- the interface ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    filters: Mapping[str, str] = field(default_factory=dict)  # facet name -> one value
    date_from: str = ""  # ISO day, inclusive
    date_to: str = ""


@dataclass(frozen=True)
class Hit:
    key: str
    score: float = 0.0
    snippet: str = ""  # HTML: escaped summary text with <mark> around matched words


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    # True when facet counts were estimated from a sample (above SAMPLE_ABOVE matches).
    facets_approximate: bool = False
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    corrected_from: str = ""  # the query as typed, when results are for a suggestion
    suggestion: str = ""  # a better spelling, when nothing matched


class SearchEngine(Protocol):
    name: str

    def rebuild(self) -> int: ...

    def update(self, keys: Iterable[str]) -> None: ...

    def remove(self, pk: int, key: str) -> None: ...

    def search(
        self,
        query: SearchQuery,
        *,
        viewer: Viewer,
        sort: str,
        offset: int,
        limit: int,
        with_facets: bool,
    ) -> SearchResult: ...

    def vocabulary(self, prefix: str, viewer: Viewer) -> list[str]: ...


def _batched(items: Iterable, size: int):
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


# -- what gets indexed -----------------------------------------------------------------------


@dataclass
class IndexRow:
    """What the index needs of one output, read as plain rows (no model instances)."""

    pk: int
    key: str
    title: str
    description: str
    occasion: str
    location: str
    type: str
    subtype: str
    date: str
    date_start: dt.date | None
    visibility: str
    body_id: int
    body_key: str
    working_group: tuple[str, str] | None  # (key, name)
    type_label: str = ""
    title_variants: list[str] = field(default_factory=list)
    entities: list[tuple[str, str, str]] = field(default_factory=list)  # (acronym, name, role)
    processes: list[tuple[str, str]] = field(default_factory=list)  # (key, label)
    themes: list[tuple[str, str]] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    spans: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    working_group_id: int | None = None
    audience_entity_ids: list[int] = field(default_factory=list)

    @property
    def audience(self) -> list[str]:
        return visibility.content_tokens(
            self.visibility, self.body_id, self.working_group_id, self.audience_entity_ids
        )


def indexable_rows(keys: Iterable[str] | None = None, chunk: int = 20_000):
    """Yield an IndexRow per output, in id order, reading a fixed number of queries a chunk."""
    from gmg.registry.models import Body, Entity
    from gmg.repository.models import OutputDate, OutputTitle, OutputType, Process, Theme
    from gmg.workgroups.models import WorkingGroup

    entities = {pk: (a, n) for pk, a, n in Entity.objects.values_list("pk", "acronym", "name")}
    groups = {pk: (k, n) for pk, k, n in WorkingGroup.objects.values_list("pk", "key", "name")}
    processes = {
        pk: (k, f"{n} {sn}")
        for pk, k, n, sn in Process.objects.values_list("pk", "key", "name", "short_name")
    }
    themes = {pk: (k, n) for pk, k, n in Theme.objects.values_list("pk", "key", "name")}
    bodies = dict(Body.objects.values_list("pk", "key"))
    labels = dict(OutputType.choices)
    outputs = Output.objects.order_by("pk")
    if keys is not None:
        outputs = outputs.filter(key__in=list(keys))
    last = 0
    columns = (
        "pk",
        "key",
        "title",
        "description",
        "occasion",
        "location",
        "type",
        "subtype",
        "date",
        "date_start",
        "visibility",
        "body_id",
        "working_group_id",
    )
    while True:
        batch = list(outputs.filter(pk__gt=last).values_list(*columns)[:chunk])
        if not batch:
            return
        low, high = batch[0][0], batch[-1][0]
        last = high
        rows = {}
        for pk, key, title, desc, occ, loc, type_, sub, date, start, vis, body, group in batch:
            rows[pk] = IndexRow(
                pk,
                key,
                title,
                desc,
                occ,
                loc,
                type_,
                sub,
                date,
                start,
                vis,
                body,
                bodies.get(body, ""),
                groups.get(group) if group else None,
                labels.get(type_, type_),
                working_group_id=group,
            )
        in_range = {"output_id__gte": low, "output_id__lte": high}
        for pk, text in OutputTitle.objects.filter(**in_range).values_list("output_id", "title"):
            if pk in rows:
                rows[pk].title_variants.append(text)
        for pk, entity, role in (
            OutputEntity.objects.filter(**in_range)
            .order_by("output_id", "position")
            .values_list("output_id", "entity_id", "role")
        ):
            if pk in rows:
                rows[pk].entities.append((*entities[entity], role))
        for pk, process in Output.processes.through.objects.filter(**in_range).values_list(
            "output_id", "process_id"
        ):
            if pk in rows:
                rows[pk].processes.append(processes[process])
        for pk, theme in Output.themes.through.objects.filter(**in_range).values_list(
            "output_id", "theme_id"
        ):
            if pk in rows:
                rows[pk].themes.append(themes[theme])
        for pk, year in OutputYear.objects.filter(**in_range).values_list("output_id", "year"):
            if pk in rows:
                rows[pk].years.append(year)
        for pk, start, end in OutputDate.objects.filter(**in_range).values_list(
            "output_id", "start", "end"
        ):
            if pk in rows:
                rows[pk].spans.append((start, end))
        for pk, entity in Output.audience_entities.through.objects.filter(**in_range).values_list(
            "output_id", "entity_id"
        ):
            if pk in rows:
                rows[pk].audience_entity_ids.append(entity)
        yield from rows.values()


def document_text(row: IndexRow) -> tuple[str, str, str]:
    """(title, summary, extra): what an output is indexed under.

    Snippets are cut from the summary only (the source's own sentences), never from the
    ``extra`` metadata, which is indexed so that "UNDP" or "GFMD" finds an output.
    """
    title = " ".join([row.title, *row.title_variants])
    summary = " ".join(p for p in (row.description, row.occasion, row.location) if p)
    parts = [
        row.type_label,
        row.subtype.replace("_", " "),
        " ".join(f"{acronym} {name}" for acronym, name, _ in row.entities),
        row.working_group[1] if row.working_group else "",
        " ".join(label for _, label in row.processes),
        " ".join(label for _, label in row.themes),
        row.date,
    ]
    return title, summary, " ".join(p for p in parts if p)


def facet_values(row: IndexRow) -> dict[str, list[str]]:
    return {
        "type": [row.type],
        "year": sorted({str(y) for y in row.years}),
        "entity": sorted({acronym for acronym, _, _ in row.entities}),
        "role": sorted({role for _, _, role in row.entities}),
        "entity_role": sorted({f"{acronym}|{role}" for acronym, _, role in row.entities}),
        "working_group": [row.working_group[0]] if row.working_group else [],
        "process": [key for key, _ in row.processes],
        "theme": [key for key, _ in row.themes],
        "audience": row.audience,
        "group_body": [row.body_key],
    }


def highlight(text: str, terms: list[str]) -> str:
    """Escape ``text`` and mark the words that start with a query word's stem-ish prefix."""
    if not terms:
        return html.escape(text)
    stems = sorted({t[: max(4, len(t) - 2)] if len(t) > 4 else t for t in terms}, key=len)
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, stems)) + r")\w*", re.IGNORECASE)
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        out.append(f"<mark>{html.escape(match.group(0))}</mark>")
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def suggest(engine: SearchEngine, text: str, viewer: Viewer) -> str:
    """A respelling of ``text`` from the words of what the viewer may see, or ""."""
    corrected, changed = [], False
    for word in words(text):
        candidates = engine.vocabulary(word[:2], viewer) if len(word) > 3 else []
        if word in candidates or not candidates:
            corrected.append(word)
            continue
        close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.75)
        corrected.append(close[0] if close else word)
        changed = changed or bool(close)
    return " ".join(corrected) if changed else ""


# -- database engines (SQLite FTS5, PostgreSQL tsvector) -------------------------------------


class _DatabaseEngine:
    """Filters and facets through the ORM; full text through the database's own index."""

    name = "database"

    def rebuild(self) -> int:
        # One transaction: in autocommit every row would be its own, and FTS5 would write
        # (and then merge) a segment per row: 7 s instead of 0.2 s for 10,000 outputs.
        with transaction.atomic():
            self._clear()
            return self._insert(indexable_rows())

    def update(self, keys: Iterable[str]) -> None:
        with transaction.atomic():
            rows = list(indexable_rows(keys))
            self._remove([r.pk for r in rows])
            self._insert(rows)

    def remove(self, pk: int, key: str) -> None:
        self._remove([pk])

    def _clear(self) -> None:
        raise NotImplementedError

    def _insert(self, rows: Iterable[IndexRow]) -> int:
        raise NotImplementedError

    def _remove(self, ids: list[int]) -> None:
        raise NotImplementedError

    def _match_ids(self, text: str) -> RawSQL:
        """A subquery of the ids matching ``text``, so matches never travel through Python."""
        raise NotImplementedError

    def _ranked(
        self, text: str, candidates: QuerySet[Output], offset: int, limit: int
    ) -> list[tuple[int, str, float]]:
        """One page of (id, key, score) of ``candidates`` matching ``text``, best first."""
        raise NotImplementedError

    def vocabulary(self, prefix: str, viewer: Viewer) -> list[str]:
        return _title_vocabulary(prefix, viewer)

    def _filtered(self, query: SearchQuery, viewer: Viewer) -> QuerySet[Output]:
        outputs = visibility.filter_visible(Output.objects.all(), viewer)
        f = query.filters
        if f.get("type"):
            outputs = outputs.filter(type=f["type"])
        if f.get("year"):
            outputs = outputs.filter(years__year=int(f["year"]))
        if f.get("entity") or f.get("role"):
            links = OutputEntity.objects.all()
            if f.get("entity"):
                links = links.filter(entity__acronym=f["entity"])
            if f.get("role"):
                links = links.filter(role=f["role"])
            outputs = outputs.filter(pk__in=links.values("output_id"))
        if f.get("working_group"):
            outputs = outputs.filter(working_group__key=f["working_group"])
        if f.get("process"):
            outputs = outputs.filter(processes__key=f["process"])
        if f.get("theme"):
            outputs = outputs.filter(themes__key=f["theme"])
        if f.get("body"):
            outputs = outputs.filter(body__key=f["body"])
        if query.date_from or query.date_to:
            spans = Output.objects.all()
            if query.date_from:
                spans = spans.filter(dates__end__gte=query.date_from)
            if query.date_to:
                spans = spans.filter(dates__start__lte=query.date_to)
            outputs = outputs.filter(pk__in=spans.values("pk"))
        return outputs

    def search(
        self,
        query: SearchQuery,
        *,
        viewer: Viewer,
        sort: str,
        offset: int,
        limit: int,
        with_facets: bool,
    ) -> SearchResult:
        filtered = self._filtered(query, viewer)
        terms = words(query.text)
        scores: dict[int, float] = {}
        outputs = filtered
        if terms:
            outputs = filtered.filter(pk__in=self._match_ids(query.text))
        total = outputs.count()
        if terms and sort == "relevance":
            # The ranked query matches the text itself: hand it the filters only, so the
            # match is not evaluated a second time inside its own candidate set.
            ranked = self._ranked(query.text, filtered, offset, limit)
            scores = {pk: score for pk, _, score in ranked}
            keys = {pk: key for pk, key, _ in ranked}
            page_ids = [pk for pk, _, _ in ranked]
        else:
            rows = list(
                outputs.order_by(*_date_order(sort)).values_list("pk", "key")[
                    offset : offset + limit
                ]
            )
            keys = dict(rows)
            page_ids = [pk for pk, _ in rows]
        snippets = self._snippets(page_ids, query.text) if terms and page_ids else {}
        hits = [Hit(keys[pk], scores.get(pk, 0.0), snippets.get(pk, "")) for pk in page_ids]
        result = SearchResult(total=total, hits=hits)
        if with_facets:
            buckets = sampled_buckets(total)
            counted = outputs
            if buckets < SAMPLE_BUCKETS:
                # The database's own sample: ids are dense, so id modulo is as good as a hash.
                counted = outputs.alias(bucket=F("pk") % SAMPLE_BUCKETS).filter(bucket__lt=buckets)
                result.facets_approximate = True
            facets = database_facets(counted, query.filters.get("entity", ""))
            result.facets = {name: scaled(values, buckets) for name, values in facets.items()}
        return result

    def _snippets(self, ids: list[int], text: str) -> dict[int, str]:
        raise NotImplementedError


# Marks put around matches by the database, then swapped for <mark> after HTML-escaping,
# so text from the record can never inject markup.
_OPEN, _CLOSE = "\x02", "\x03"


def _marked_html(text: str) -> str:
    return html.escape(text).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


def _date_order(sort: str) -> list:
    if sort == "title":
        return [F("title").asc(), F("key").asc()]
    if sort == "-date":
        return [F("date_start").desc(nulls_last=True), F("key").asc()]
    return [F("date_start").asc(nulls_last=True), F("key").asc()]


def database_facets(
    outputs: QuerySet[Output], entity: str = ""
) -> dict[str, list[tuple[str, int]]]:
    """Every facet's counts over ``outputs`` in one UNION ALL query."""
    ids = outputs.values("pk")
    as_text = lambda expr: Cast(expr, output_field=Output._meta.get_field("key"))  # noqa: E731
    links = OutputEntity.objects.filter(output__in=ids)
    role_links = links.filter(entity__acronym=entity) if entity else links
    parts = [
        Output.objects.filter(pk__in=ids)
        .values(v=as_text(F("type")))
        .annotate(f=Value("type"), n=Count("pk", distinct=True))
        .values_list("f", "v", "n"),
        OutputYear.objects.filter(output__in=ids)
        .values(v=as_text(F("year")))
        .annotate(f=Value("year"), n=Count("output", distinct=True))
        .values_list("f", "v", "n"),
        links.values(v=as_text(F("entity__acronym")))
        .annotate(f=Value("entity"), n=Count("output", distinct=True))
        .values_list("f", "v", "n"),
        role_links.values(v=as_text(F("role")))
        .annotate(f=Value("role"), n=Count("output", distinct=True))
        .values_list("f", "v", "n"),
        Output.objects.filter(pk__in=ids, working_group__isnull=False)
        .values(v=as_text(F("working_group__key")))
        .annotate(f=Value("working_group"), n=Count("pk", distinct=True))
        .values_list("f", "v", "n"),
        Output.processes.through.objects.filter(output__in=ids)  # type: ignore[misc]  # stubs miss annotate aliases on through models
        .values(v=as_text(F("process__key")))
        .annotate(f=Value("process"), n=Count("output", distinct=True))
        .values_list("f", "v", "n"),
        Output.themes.through.objects.filter(output__in=ids)  # type: ignore[misc]  # as above
        .values(v=as_text(F("theme__key")))
        .annotate(f=Value("theme"), n=Count("output", distinct=True))
        .values_list("f", "v", "n"),
    ]
    facets: dict[str, list[tuple[str, int]]] = {name: [] for name in FACETS}
    # Default orderings (Meta.ordering) are cleared: SQLite refuses ORDER BY inside a UNION.
    parts = [part.order_by() for part in parts]
    for name, value, count in parts[0].union(*parts[1:], all=True):
        facets[name].append((str(value), count))
    for name in facets:
        facets[name].sort(key=lambda item: (-item[1], item[0]))
    return facets


class SqliteEngine(_DatabaseEngine):
    """SQLite FTS5 with the Porter stemmer; bm25 with the title weighted up."""

    name = "sqlite"

    def _clear(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {INDEX_TABLE}")  # noqa: S608 - constant table name

    def _insert(self, rows: Iterable[IndexRow]) -> int:
        count = 0
        for batch in _batched(rows, 5000):
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {INDEX_TABLE} (rowid, title, summary, extra) "  # noqa: S608
                    "VALUES (%s, %s, %s, %s)",
                    [(r.pk, *document_text(r)) for r in batch],
                )
            count += len(batch)
        return count

    def _remove(self, ids: list[int]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"DELETE FROM {INDEX_TABLE} WHERE rowid = %s",  # noqa: S608
                [(i,) for i in ids],
            )

    @staticmethod
    def _fts_query(text: str) -> str:
        terms = words(text)
        # Quote every word so input is never FTS5 syntax; the last one matches as a prefix.
        return (" ".join(f'"{t}"' for t in terms[:-1]) + f' "{terms[-1]}"*').strip()

    def _match_ids(self, text: str) -> RawSQL:
        return RawSQL(  # noqa: S611 - constant table name; the query text is a parameter
            f"SELECT rowid FROM {INDEX_TABLE} WHERE {INDEX_TABLE} MATCH %s",  # noqa: S608
            [self._fts_query(text)],
        )

    def _ranked(
        self, text: str, candidates: QuerySet[Output], offset: int, limit: int
    ) -> list[tuple[int, str, float]]:
        inner, params = candidates.values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT i.rowid, o.key, bm25({INDEX_TABLE}, 4.0, 2.0, 1.0) AS rank "  # noqa: S608
                f"FROM {INDEX_TABLE} i JOIN repository_output o ON o.id = i.rowid "
                # "+rowid": without the unary plus SQLite hands the IN list to FTS5,
                # which re-runs the match once per candidate (6 s instead of 30 ms at 10k).
                f"WHERE {INDEX_TABLE} MATCH %s AND +i.rowid IN ({inner}) "
                "ORDER BY rank, i.rowid LIMIT %s OFFSET %s",
                [self._fts_query(text), *params, limit, offset],
            )
            return [(row[0], row[1], -row[2]) for row in cursor.fetchall()]

    def _snippets(self, ids: list[int], text: str) -> dict[int, str]:
        terms = words(text)
        match = " OR ".join(f'"{t}"*' for t in terms)
        placeholders = ", ".join(["%s"] * len(ids))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid, snippet({INDEX_TABLE}, 1, %s, %s, '…', 28) "  # noqa: S608
                f"FROM {INDEX_TABLE} WHERE {INDEX_TABLE} MATCH %s AND +rowid IN ({placeholders})",
                [_OPEN, _CLOSE, match, *ids],
            )
            rows = cursor.fetchall()
        return {pk: _marked_html(summary) for pk, summary in rows if _OPEN in summary}


class PostgresEngine(_DatabaseEngine):
    """PostgreSQL full text: English tsvector per output (title weighted A), RUM or GIN."""

    name = "postgres"

    def _clear(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {INDEX_TABLE}")

    def _insert(self, rows: Iterable[IndexRow]) -> int:
        count = 0
        for batch in _batched(rows, 5000):
            texts = [(r.pk, *document_text(r)) for r in batch]
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {INDEX_TABLE} (output_id, title, body, document) "  # noqa: S608
                    "VALUES (%s, %s, %s, setweight(to_tsvector('english', %s), 'A') || "
                    "setweight(to_tsvector('english', %s), 'B')) "
                    "ON CONFLICT (output_id) DO UPDATE SET title = EXCLUDED.title, "
                    "body = EXCLUDED.body, document = EXCLUDED.document",
                    [
                        (pk, title, summary, title, f"{summary} {extra}")
                        for pk, title, summary, extra in texts
                    ],
                )
            count += len(batch)
        return count

    def _remove(self, ids: list[int]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"DELETE FROM {INDEX_TABLE} WHERE output_id = %s",  # noqa: S608
                [(i,) for i in ids],
            )

    @staticmethod
    def _tsquery(text: str) -> str:
        terms = words(text)
        return " & ".join([*terms[:-1], f"{terms[-1]}:*"])

    def _match_ids(self, text: str) -> RawSQL:
        return RawSQL(  # noqa: S611 - constant table name; the query text is a parameter
            f"SELECT output_id FROM {INDEX_TABLE} "  # noqa: S608
            "WHERE document @@ to_tsquery('english', %s)",
            [self._tsquery(text)],
        )

    def _ranked(
        self, text: str, candidates: QuerySet[Output], offset: int, limit: int
    ) -> list[tuple[int, str, float]]:
        inner, params = candidates.values("pk").query.sql_with_params()
        # With RUM, `document <=> q` orders top-k from the index itself; with GIN, ts_rank.
        order = "i.document <=> q" if _has_rum_index() else "ts_rank(i.document, q) DESC"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT i.output_id, o.key, ts_rank(i.document, q) "  # noqa: S608
                f"FROM {INDEX_TABLE} i JOIN repository_output o ON o.id = i.output_id, "
                f"to_tsquery('english', %s) q WHERE i.document @@ q AND i.output_id IN ({inner}) "
                f"ORDER BY {order}, i.output_id LIMIT %s OFFSET %s",
                [self._tsquery(text), *params, limit, offset],
            )
            return [(row[0], row[1], float(row[2])) for row in cursor.fetchall()]

    def _snippets(self, ids: list[int], text: str) -> dict[int, str]:
        terms = words(text)
        tsquery = " | ".join(f"{t}:*" for t in terms)
        options = f"StartSel={_OPEN}, StopSel={_CLOSE}, MaxWords=35, MinWords=12"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT output_id, ts_headline('english', body, q, %s) "  # noqa: S608
                f"FROM {INDEX_TABLE}, to_tsquery('english', %s) q "
                "WHERE output_id = ANY(%s) AND body <> ''",
                [options, tsquery, ids],
            )
            rows = cursor.fetchall()
        return {pk: _marked_html(summary) for pk, summary in rows if _OPEN in summary}


_rum: dict[str, bool] = {}


def _has_rum_index() -> bool:
    """Whether migration 0004 could build the RUM index (checked once per database)."""
    alias = connection.settings_dict["NAME"]
    if alias not in _rum:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [f"{INDEX_TABLE}_rum"])
            _rum[alias] = cursor.fetchone() is not None
    return _rum[alias]


def _title_vocabulary(prefix: str, viewer: Viewer) -> list[str]:
    """Words starting with ``prefix`` in the titles of outputs ``viewer`` may see."""
    found: set[str] = set()
    titles = visibility.filter_visible(Output.objects.filter(title__icontains=prefix), viewer)
    for title in titles.values_list("title", flat=True).iterator():
        found.update(w for w in words(title) if w.startswith(prefix) and not w.isdigit())
    return sorted(found)


# -- tantivy ---------------------------------------------------------------------------------


class TantivyEngine:
    """An on-disk tantivy index: top-k BM25 and columnar facet counts."""

    name = "tantivy"
    SCHEMA_VERSION = 3  # bump when the schema changes: the index is then rebuilt, not misread
    KEYWORD_FIELDS = (*FACETS, "entity_role", "audience", "group_body")
    _lock = threading.Lock()
    _indexes: dict[str, object] = {}

    def __init__(self, path: Path):
        self.path = path / f"v{self.SCHEMA_VERSION}"

    @staticmethod
    def _schema():
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("key", stored=True, tokenizer_name="raw", fast=True)
        builder.add_text_field("title", stored=True, tokenizer_name="en_stem")
        builder.add_text_field("summary", stored=True, tokenizer_name="en_stem")
        builder.add_text_field("body", tokenizer_name="en_stem")
        builder.add_text_field("words", tokenizer_name="default", index_option="basic")
        builder.add_integer_field("date_desc", fast=True, indexed=True)
        builder.add_integer_field("date_asc", fast=True, indexed=True)
        builder.add_integer_field("day_start", fast=True, indexed=True)
        builder.add_integer_field("day_end", fast=True, indexed=True)
        builder.add_integer_field("sample", fast=True, indexed=True)
        for name in TantivyEngine.KEYWORD_FIELDS:
            builder.add_text_field(name, tokenizer_name="raw", fast=True, index_option="basic")
        return builder.build()

    def _index(self, create: bool = False):
        import tantivy

        key = str(self.path)
        with self._lock:
            index = self._indexes.get(key)
            if index is None or create:
                self.path.mkdir(parents=True, exist_ok=True)
                index = tantivy.Index(self._schema(), path=key, reuse=not create)
                self._indexes[key] = index
            return index

    @staticmethod
    def document(output: IndexRow):
        import tantivy

        title, summary, extra = document_text(output)
        doc = tantivy.Document()
        doc.add_text("key", output.key)
        doc.add_text("title", title)
        doc.add_text("summary", summary)
        doc.add_text("body", extra)
        doc.add_text("words", title)
        start = output.date_start.toordinal() if output.date_start else None
        doc.add_integer("date_desc", start if start is not None else -1)
        doc.add_integer("date_asc", start if start is not None else 10**7)
        doc.add_integer("sample", sample_bucket(output.key))
        for start_day, end_day in output.spans:
            doc.add_integer("day_start", start_day.toordinal())
            doc.add_integer("day_end", end_day.toordinal())
        for name, values in facet_values(output).items():
            for value in values:
                doc.add_text(name, value)
        return doc

    def rebuild(self) -> int:
        index = self._index(create=True)
        writer = _writer(index, 200_000_000)
        writer.delete_all_documents()
        count = 0
        for row in indexable_rows():
            writer.add_document(self.document(row))
            count += 1
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        return count

    def update(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        index = self._index()
        writer = _writer(index, 50_000_000)
        for key in keys:
            writer.delete_documents_by_term("key", key)
        for row in indexable_rows(keys):
            writer.add_document(self.document(row))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()

    def remove(self, pk: int, key: str) -> None:
        index = self._index()
        writer = _writer(index, 50_000_000)
        writer.delete_documents_by_term("key", key)
        writer.commit()
        writer.wait_merging_threads()
        index.reload()

    def vocabulary(self, prefix: str, viewer: Viewer) -> list[str]:
        import tantivy

        index = self._index()
        hidden = self._hidden(index.schema, viewer)
        visible = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, tantivy.Query.all_query())]
            + ([(tantivy.Occur.MustNot, hidden)] if hidden is not None else [])
        )
        terms = index.searcher().terms_with_prefix("words", prefix, filter_query=visible)
        return [term for term, count in terms if count and not term.isdigit()]

    @staticmethod
    def _hidden(schema, viewer: Viewer):
        """The documents ``viewer`` may not see: restricted, and sharing none of the viewer's
        tokens. ``None`` when the viewer sees everything."""
        import tantivy

        tokens = visibility.viewer_tokens(viewer)
        if tokens is None:
            return None
        return tantivy.Query.boolean_query(
            [
                (
                    tantivy.Occur.Must,
                    tantivy.Query.term_query(schema, "audience", visibility.RESTRICTED_TOKEN),
                )
            ]
            + [
                (tantivy.Occur.MustNot, tantivy.Query.term_query(schema, "audience", token))
                for token in sorted(tokens)
            ]
        )

    def _query(self, query: SearchQuery, viewer: Viewer):
        import tantivy

        index = self._index()
        schema = index.schema
        # Visibility as "not hidden from the viewer": restricted documents are rare, so the
        # text query still drives top-k ranking instead of a full intersection.
        must: list = []
        hidden = self._hidden(schema, viewer)
        must_not = [hidden] if hidden is not None else []
        for name, value in query.filters.items():
            if not value:
                continue
            if name == "role" and query.filters.get("entity"):
                name, value = "entity_role", f"{query.filters['entity']}|{value}"
            elif name == "body":
                name = "group_body"
            must.append(tantivy.Query.term_query(schema, name, str(value)))
        if query.date_from:
            day = _ordinal(query.date_from)
            must.append(
                tantivy.Query.range_query(schema, "day_end", tantivy.FieldType.Integer, day, 10**7)
            )
        if query.date_to:
            day = _ordinal(query.date_to)
            must.append(
                tantivy.Query.range_query(schema, "day_start", tantivy.FieldType.Integer, 0, day)
            )
        text_query = None
        terms = words(query.text)
        if terms:
            text_query = index.parse_query(
                " ".join(terms),
                ["title", "summary", "body"],
                field_boosts={"title": 3.0, "summary": 1.5},
                conjunction_by_default=True,
            )
            must.append(text_query)
        if not must:
            must.append(tantivy.Query.all_query())
        combined = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, q) for q in must] + [(tantivy.Occur.MustNot, q) for q in must_not]
        )
        return index, combined, text_query, terms

    def search(
        self,
        query: SearchQuery,
        *,
        viewer: Viewer,
        sort: str,
        offset: int,
        limit: int,
        with_facets: bool,
    ) -> SearchResult:
        import tantivy

        index, combined, text_query, terms = self._query(query, viewer)
        searcher = index.searcher()
        if terms and sort == "relevance":
            found = searcher.search(combined, limit=limit, offset=offset, count=True)
        else:
            field_name = "date_desc" if sort == "-date" else "date_asc"
            order = tantivy.Order.Desc if sort == "-date" else tantivy.Order.Asc
            found = searcher.search(
                combined,
                limit=limit,
                offset=offset,
                count=True,
                order_by_field=field_name,
                order=order,
            )
        generator = None
        if text_query is not None:
            generator = tantivy.SnippetGenerator.create(
                searcher, text_query, index.schema, "summary"
            )
            generator.set_max_num_chars(220)
        hits = []
        for score, address in found.hits:
            doc = searcher.doc(address)
            snippet = ""
            if generator is not None:
                snippet = _tantivy_snippet_html(generator.snippet_from_doc(doc))
            hits.append(Hit(doc.get_first("key"), float(score) if terms else 0.0, snippet))
        result = SearchResult(total=found.count or 0, hits=hits)
        if with_facets:
            buckets = sampled_buckets(result.total)
            counted = combined
            if buckets < SAMPLE_BUCKETS:
                counted = tantivy.Query.boolean_query(
                    [
                        (tantivy.Occur.Must, combined),
                        (
                            tantivy.Occur.Must,
                            tantivy.Query.range_query(
                                index.schema, "sample", tantivy.FieldType.Integer, 0, buckets - 1
                            ),
                        ),
                    ]
                )
                result.facets_approximate = True
            facets = self._facets(searcher, counted, query.filters.get("entity", ""))
            result.facets = {name: scaled(values, buckets) for name, values in facets.items()}
        return result

    def exists(self) -> bool:
        return (self.path / "meta.json").exists()

    def _facets(self, searcher, combined, entity: str) -> dict[str, list[tuple[str, int]]]:
        wanted = {name: {"terms": {"field": name, "size": MAX_FACET_VALUES}} for name in FACETS}
        if entity:
            wanted["role"] = {
                "terms": {
                    "field": "entity_role",
                    "size": MAX_FACET_VALUES,
                    "include": f"{re.escape(entity)}\\|.*",
                }
            }
        raw = searcher.aggregate(combined, wanted)
        facets: dict[str, list[tuple[str, int]]] = {}
        for name in FACETS:
            buckets = raw.get(name, {}).get("buckets", [])
            values = [(str(b["key"]), int(b["doc_count"])) for b in buckets]
            if name == "role" and entity:
                values = [(v.split("|", 1)[1], n) for v, n in values if v.startswith(entity + "|")]
            facets[name] = sorted(values, key=lambda item: (-item[1], item[0]))
        return facets


def _writer(index, heap_size: int, attempts: int = 100):
    """The index's one writer. Another process (a second app worker saving at the same
    moment) may hold it: wait for it, up to about ten seconds, instead of failing the write."""
    import time

    for attempt in range(attempts):
        try:
            return index.writer(heap_size=heap_size, num_threads=1)
        except ValueError as exc:
            if "lock" not in str(exc).lower() or attempt == attempts - 1:
                raise
            time.sleep(0.1)
    raise AssertionError("unreachable")


def _ordinal(day: str) -> int:
    return dt.date.fromisoformat(day).toordinal()


def _tantivy_snippet_html(snippet) -> str:
    fragment = snippet.fragment()
    if not fragment or not snippet.highlighted():
        return ""
    out, last = [], 0
    for r in snippet.highlighted():
        out.append(html.escape(fragment[last : r.start]))
        out.append(f"<mark>{html.escape(fragment[r.start : r.end])}</mark>")
        last = r.end
    out.append(html.escape(fragment[last:]))
    return "".join(out)


# -- choosing the engine ---------------------------------------------------------------------


def engine_name() -> str:
    name = settings.GMG_SEARCH_ENGINE
    if name == "auto":
        return "postgres" if connection.vendor == "postgresql" else "tantivy"
    return name


def get_engine() -> SearchEngine:
    name = engine_name()
    if name == "tantivy":
        return TantivyEngine(Path(settings.GMG_SEARCH_INDEX_DIR))
    if name == "postgres":
        if connection.vendor != "postgresql":
            raise ValueError("GMG_SEARCH_ENGINE=postgres needs DATABASE_URL to be PostgreSQL")
        return PostgresEngine()
    if name == "sqlite":
        if connection.vendor != "sqlite":
            raise ValueError("GMG_SEARCH_ENGINE=sqlite needs the SQLite database")
        return SqliteEngine()
    raise ValueError(f"unknown GMG_SEARCH_ENGINE {name!r}")


def rebuild_index() -> int:
    """Rebuild the whole index from the database; returns the number of outputs indexed."""
    return get_engine().rebuild()


def index_size() -> int | None:
    """How many outputs the index holds (None when it does not exist yet)."""
    engine = get_engine()
    if isinstance(engine, TantivyEngine):
        return engine._index().searcher().num_docs if engine.exists() else None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {INDEX_TABLE}")  # noqa: S608 - constant table name
        return cursor.fetchone()[0]


def ensure_index() -> bool:
    """Rebuild the index if it is missing or does not hold every output (e.g. after an
    upgrade changed its schema, or a restore). Returns True when it rebuilt."""
    if index_size() == Output.objects.count():
        return False
    rebuild_index()
    return True


def reindex_outputs(keys: Iterable[str]) -> None:
    get_engine().update(keys)


def remove_output(pk: int, key: str) -> None:
    """Take a deleted output out of the index."""
    get_engine().remove(pk, key)


def search(
    query: SearchQuery,
    *,
    viewer: Viewer,
    sort: str = "relevance",
    offset: int = 0,
    limit: int = 20,
    with_facets: bool = False,
) -> SearchResult:
    """Run ``query`` for ``viewer``; respell it once if nothing matches."""
    engine = get_engine()

    def run(q: SearchQuery) -> SearchResult:
        return engine.search(
            q, viewer=viewer, sort=sort, offset=offset, limit=limit, with_facets=with_facets
        )

    result = run(query)
    if result.total == 0 and query.text.strip():
        better = suggest(engine, query.text, viewer)
        if better:
            retry = run(SearchQuery(better, query.filters, query.date_from, query.date_to))
            if retry.total:
                retry.corrected_from = query.text
                retry.suggestion = better
                return retry
            result.suggestion = better
    return result
