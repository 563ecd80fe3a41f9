"""Full-text search over outputs: one small interface, an index derived from the database.

The database is the record; the index is rebuilt from it by ``rebuild_index()`` (``gmg
reindex``, and at the end of every ``load_bundle``). Services that write single outputs call
``reindex_outputs()``. Callers only ever see
``search(query) -> ranked output ids``, so engines can be swapped by ``GMG_SEARCH_ENGINE``.

The ``database`` engine uses what the database has: SQLite FTS5 (bm25) or PostgreSQL's
``tsvector`` with a GIN index. Faster engines for very large repositories plug in here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from gmg.repository.models import Output

INDEX_TABLE = "repository_search_index"
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Hit:
    output_id: int
    score: float


class SearchEngine(Protocol):
    name: str

    def rebuild(self, outputs: Iterable[Output]) -> int: ...

    def update(self, outputs: Iterable[Output]) -> None: ...

    def remove(self, output_ids: Iterable[int]) -> None: ...

    def search(self, query: str) -> list[Hit]: ...


def document_text(output: Output) -> tuple[str, str]:
    """The (title, body) an output is indexed under. Expects the relations prefetched."""
    title = " ".join([output.title, *(t.title for t in output.title_variants.all())])
    parts = [
        output.description,
        output.occasion,
        output.location,
        output.get_type_display(),
        output.subtype.replace("_", " "),
        " ".join(
            link.entity.acronym + " " + link.entity.name for link in output.entity_links.all()
        ),
        output.working_group.name if output.working_group else "",
        " ".join(p.name + " " + p.short_name for p in output.processes.all()),
        " ".join(t.name for t in output.themes.all()),
        output.date,
    ]
    return title, " ".join(p for p in parts if p)


def words(query: str) -> list[str]:
    return _WORD.findall(query.lower())


class SqliteFts5Engine:
    """SQLite FTS5 with the Porter stemmer; ranked by bm25 with the title weighted up."""

    name = "sqlite-fts5"

    def rebuild(self, outputs: Iterable[Output]) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {INDEX_TABLE}")  # noqa: S608 - constant table name
        return self._insert(outputs)

    def _insert(self, outputs: Iterable[Output]) -> int:
        rows = [(o.pk, *document_text(o)) for o in outputs]
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {INDEX_TABLE} (rowid, title, body) VALUES (%s, %s, %s)",  # noqa: S608
                rows,
            )
        return len(rows)

    def update(self, outputs: Iterable[Output]) -> None:
        outputs = list(outputs)
        self.remove(o.pk for o in outputs)
        self._insert(outputs)

    def remove(self, output_ids: Iterable[int]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"DELETE FROM {INDEX_TABLE} WHERE rowid = %s",  # noqa: S608
                [(i,) for i in output_ids],
            )

    def search(self, query: str) -> list[Hit]:
        terms = words(query)
        if not terms:
            return []
        # Quote every word so user input is never FTS5 syntax; the last word matches as a prefix.
        match = " ".join(f'"{t}"' for t in terms[:-1]) + f' "{terms[-1]}"*'
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid, bm25({INDEX_TABLE}, 4.0, 1.0) FROM {INDEX_TABLE} "  # noqa: S608
                f"WHERE {INDEX_TABLE} MATCH %s ORDER BY 2",
                [match.strip()],
            )
            return [Hit(row[0], -row[1]) for row in cursor.fetchall()]


class PostgresTsvectorEngine:
    """PostgreSQL full text: an English tsvector per output, title weighted A, GIN-indexed."""

    name = "postgres-tsvector"

    def rebuild(self, outputs: Iterable[Output]) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {INDEX_TABLE}")
        return self._insert(outputs)

    def _insert(self, outputs: Iterable[Output]) -> int:
        rows = [(o.pk, *document_text(o)) for o in outputs]
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {INDEX_TABLE} (output_id, document) VALUES (%s, "  # noqa: S608
                "setweight(to_tsvector('english', %s), 'A') || "
                "setweight(to_tsvector('english', %s), 'B')) "
                "ON CONFLICT (output_id) DO UPDATE SET document = EXCLUDED.document",
                rows,
            )
        return len(rows)

    def update(self, outputs: Iterable[Output]) -> None:
        self._insert(outputs)

    def remove(self, output_ids: Iterable[int]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"DELETE FROM {INDEX_TABLE} WHERE output_id = %s",  # noqa: S608
                [(i,) for i in output_ids],
            )

    def search(self, query: str) -> list[Hit]:
        terms = words(query)
        if not terms:
            return []
        # Every word must match; the last one as a prefix, as a user types.
        tsquery = " & ".join([f"{t}" for t in terms[:-1]] + [f"{terms[-1]}:*"])
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT output_id, ts_rank(document, q) FROM {INDEX_TABLE}, "  # noqa: S608
                "to_tsquery('english', %s) q WHERE document @@ q ORDER BY 2 DESC",
                [tsquery],
            )
            return [Hit(row[0], float(row[1])) for row in cursor.fetchall()]


def get_engine() -> SearchEngine:
    name = settings.GMG_SEARCH_ENGINE
    if name != "database":
        raise ValueError(f"unknown GMG_SEARCH_ENGINE {name!r} (known: database)")
    if connection.vendor == "postgresql":
        return PostgresTsvectorEngine()
    return SqliteFts5Engine()


def indexable_outputs() -> QuerySet[Output]:
    return (
        Output.objects.select_related("working_group")
        .prefetch_related("title_variants", "entity_links__entity", "processes", "themes")
        .order_by("pk")
    )


def rebuild_index() -> int:
    """Rebuild the whole index from the database; returns the number of outputs indexed."""
    return get_engine().rebuild(indexable_outputs())


def reindex_outputs(output_ids: Iterable[int]) -> None:
    get_engine().update(indexable_outputs().filter(pk__in=list(output_ids)))


def search(query: str) -> list[Hit]:
    return get_engine().search(query)
