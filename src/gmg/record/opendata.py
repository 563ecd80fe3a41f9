"""The public record as an open-data package (Frictionless Data Package, v1).

A package is normalised tables, one file per table (CSV, or JSON arrays of row objects),
described by ``datapackage.json`` (field types, primary and foreign keys) with a README.
It is made from the bundle ``exporter.export_bundle`` writes, so what a viewer may see is
decided by the same selectors, and it turns back into the very same bundle
(``tables_to_bundle(bundle_to_tables(b)) == b``), which ``gmg load`` reads with the
existing loader and its validation.

Sources are one table, ``citations``: one row per citation (a source of a record, or a
claim on one of its fields naming that source), keyed by the record's table and key.
Records without a key of their own (memberships, entity names, organs) have an ``id``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
import zlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from gmg.record.bundle import FORMAT, BundleError, Problems, read_bundle
from gmg.record.exporter import _drop_empty

NAME = "gmg-record"
DESCRIPTOR = "datapackage.json"
README = "README.md"
ZIP_NAME = f"{NAME}.zip"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold: fixed, so zips repeat
MAX_MEMBER_BYTES = 200 * 1024 * 1024  # a table larger than this in a zip is refused

Row = dict[str, Any]
Tables = dict[str, list[Row]]


# -- the tables -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"  # string, integer or boolean
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    # (column, referenced table, referenced column)
    foreign_keys: tuple[tuple[str, str, str], ...] = ()
    # The column holding the record's key in ``citations.record`` (tables with sources).
    cited_by: str = ""

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _key(name: str = "key", description: str = "the record's key: a stable slug") -> Column:
    return Column(name, description=description, required=True)


def _ref(name: str, description: str, *, required: bool = False) -> Column:
    return Column(name, description=description, required=required)


def _position(what: str) -> Column:
    return Column("position", "integer", f"order of the {what} (from 0)", required=True)


_ID = Column("id", "integer", "number of the row, from 1 (cited in citations.record)", True)
_PARTIAL = "a partial date (YYYY, YYYY-MM, YYYY-MM-DD) or a range of two joined by '/'"
_CLAIMED = "; when sources disagree, the first claim (all claims are in citations)"

TABLES: tuple[Table, ...] = (
    Table(
        "documents",
        "The source documents every record cites.",
        (
            _key(),
            Column("title", required=True),
            Column("publisher"),
            Column("year", "integer", "year of publication"),
            Column("file", description="file name of the text the quotes come from"),
            Column("url"),
        ),
        ("key",),
    ),
    Table(
        "entities",
        "The agencies and other entities that were members, chairs or partners.",
        (
            _key("acronym", "the entity's acronym, by which every table refers to it"),
            Column("slug", required=True),
            Column("name", required=True),
            Column("kind", description="un_entity, world_bank, iom, member_state or other"),
            _ref("parent", "acronym of the entity it belongs to"),
        ),
        ("acronym",),
        (("parent", "entities", "acronym"),),
        cited_by="acronym",
    ),
    Table(
        "entity_names",
        "Other names the sources use for an entity.",
        (
            _ID,
            _ref("entity", "acronym", required=True),
            _position("names"),
            Column("name", required=True),
        ),
        ("id",),
        (("entity", "entities", "acronym"),),
        cited_by="id",
    ),
    Table(
        "bodies",
        "The group and its predecessor and successor bodies.",
        (
            _key(),
            Column("name", required=True),
            Column("short_name"),
            Column("description"),
            Column("founded", description=_PARTIAL + _CLAIMED),
            Column("ended", description=_PARTIAL + _CLAIMED),
            _ref("predecessor", "key of the body it followed"),
            Column("governance_model"),
            Column("chair_rotation", description="how the chair rotates, as stated"),
            _ref("coordinator", "acronym of the coordinating entity"),
            _ref("secretariat", "acronym of the entity holding the secretariat"),
            Column("reports_to"),
            Column("membership_note"),
        ),
        ("key",),
        (
            ("predecessor", "bodies", "key"),
            ("coordinator", "entities", "acronym"),
            ("secretariat", "entities", "acronym"),
        ),
        cited_by="key",
    ),
    Table(
        "organs",
        "The organs of a body (an executive committee, working groups, ...).",
        (
            _ID,
            _ref("body", "key of the body", required=True),
            _position("organs"),
            Column("key", required=True, description="key, unique within the body"),
            Column("name", required=True),
            Column("also_called"),
            Column("description"),
        ),
        ("id",),
        (("body", "bodies", "key"),),
        cited_by="id",
    ),
    Table(
        "memberships",
        "Who was a member of which body, from when to when.",
        (
            _ID,
            _ref("body", "key of the body", required=True),
            _ref("entity", "acronym of the member", required=True),
            Column("joined", description=_PARTIAL, required=True),
            Column("left", description=_PARTIAL + "; empty if not stated or still a member"),
            Column("note"),
        ),
        ("id",),
        (("body", "bodies", "key"), ("entity", "entities", "acronym")),
        cited_by="id",
    ),
    Table(
        "chair_terms",
        "The terms of the chair of a body, with their themes.",
        (
            _key(),
            _ref("body", "key of the body", required=True),
            Column("start", description=_PARTIAL, required=True),
            Column("end", description=_PARTIAL, required=True),
            Column("interim", "boolean", "whether the term was an interim one", required=True),
            _ref("coordinator", "acronym of the coordinating entity"),
            Column("theme", description="the term's theme, as stated" + _CLAIMED),
        ),
        ("key",),
        (("body", "bodies", "key"), ("coordinator", "entities", "acronym")),
        cited_by="key",
    ),
    Table(
        "chair_term_chairs",
        "The chair (or co-chairs) of each term.",
        (
            _ref("term", "key of the chair term", required=True),
            _position("chairs"),
            _ref("entity", "acronym of the chair", required=True),
        ),
        ("term", "position"),
        (("term", "chair_terms", "key"), ("entity", "entities", "acronym")),
    ),
    Table(
        "working_groups",
        "Working groups and task forces.",
        (
            _key(),
            _ref("body", "key of the body", required=True),
            Column("kind", description="working_group or task_force"),
            Column("name", required=True),
            Column("established", description=_PARTIAL + _CLAIMED),
            Column("mandate"),
        ),
        ("key",),
        (("body", "bodies", "key"),),
        cited_by="key",
    ),
    Table(
        "working_group_names",
        "Other names the sources use for a working group.",
        (
            _ref("group", "key of the working group", required=True),
            _position("names"),
            Column("name", required=True),
        ),
        ("group", "position"),
        (("group", "working_groups", "key"),),
    ),
    Table(
        "co_chairs",
        "The co-chairs (or co-conveners) of working groups.",
        (
            _ref("group", "key of the working group", required=True),
            _position("co-chairs"),
            _ref("entity", "acronym of the co-chair", required=True),
            Column("title", description="co-chair, co-convener, ...", required=True),
        ),
        ("group", "position"),
        (("group", "working_groups", "key"), ("entity", "entities", "acronym")),
    ),
    Table(
        "processes",
        "The intergovernmental processes outputs served (GFMD, the Global Compact, ...).",
        (_key(), Column("name", required=True), Column("short_name")),
        ("key",),
        cited_by="key",
    ),
    Table(
        "themes",
        "The themes outputs are about.",
        (_key(), Column("name", required=True)),
        ("key",),
        cited_by="key",
    ),
    Table(
        "outputs",
        "The joint outputs: publications, statements, events, briefs and contributions.",
        (
            _key(),
            _ref("body", "key of the body", required=True),
            Column("type", description="publication, joint_statement, event, ..." + _CLAIMED),
            Column("subtype"),
            Column("title", required=True),
            Column(
                "date",
                description=_PARTIAL
                + "; for several separate dates, all of them joined by ', ' (listed in "
                "output_dates)" + _CLAIMED,
            ),
            Column("location"),
            Column("occasion", description="the event or process it was made at"),
            _ref("working_group", "key of the working group it came from"),
            Column("visibility", description="public in the public package", required=True),
            Column("description", description="a sentence the source gives, verbatim"),
        ),
        ("key",),
        (("body", "bodies", "key"), ("working_group", "working_groups", "key")),
        cited_by="key",
    ),
    Table(
        "output_titles",
        "Other wordings the sources use for an output's title.",
        (
            _ref("output", "key of the output", required=True),
            _position("titles"),
            Column("title", required=True),
        ),
        ("output", "position"),
        (("output", "outputs", "key"),),
    ),
    Table(
        "output_dates",
        "The separate dates of an output stated with several (each a partial date).",
        (
            _ref("output", "key of the output", required=True),
            _position("dates"),
            Column("date", required=True),
        ),
        ("output", "position"),
        (("output", "outputs", "key"),),
    ),
    Table(
        "output_entities",
        "The entities the sources name for an output, with their role.",
        (
            _ref("output", "key of the output", required=True),
            _position("entities"),
            _ref("entity", "acronym", required=True),
            Column("role", description="lead, co_lead, prepared_by, ...", required=True),
        ),
        ("output", "position"),
        (("output", "outputs", "key"), ("entity", "entities", "acronym")),
    ),
    Table(
        "output_links",
        "Links to an output's text or page.",
        (
            _ref("output", "key of the output", required=True),
            _position("links"),
            Column("url", required=True),
            Column("label"),
        ),
        ("output", "position"),
        (("output", "outputs", "key"),),
    ),
    Table(
        "output_processes",
        "The processes an output served.",
        (
            _ref("output", "key of the output", required=True),
            _position("processes"),
            _ref("process", "key of the process", required=True),
        ),
        ("output", "position"),
        (("output", "outputs", "key"), ("process", "processes", "key")),
    ),
    Table(
        "output_themes",
        "The themes an output's own words name.",
        (
            _ref("output", "key of the output", required=True),
            _position("themes"),
            _ref("theme", "key of the theme", required=True),
        ),
        ("output", "position"),
        (("output", "outputs", "key"), ("theme", "themes", "key")),
    ),
    Table(
        "output_related",
        "Outputs the sources tie together (an event and the statement made at it).",
        (
            _ref("output", "key of the output", required=True),
            _position("related outputs"),
            _ref("related", "key of the related output", required=True),
        ),
        ("output", "position"),
        (("output", "outputs", "key"), ("related", "outputs", "key")),
    ),
    Table(
        "meetings",
        "Meetings of a body or of its working groups.",
        (
            _key(),
            _ref("body", "key of the body", required=True),
            Column("kind", description="principals, working_level, extended or other"),
            Column("title", required=True),
            Column("date", description=_PARTIAL),
            Column("location"),
            _ref("working_group", "key of the working group"),
            Column("visibility", description="public in the public package", required=True),
        ),
        ("key",),
        (("body", "bodies", "key"), ("working_group", "working_groups", "key")),
        cited_by="key",
    ),
    Table(
        "facts",
        "Other stated facts: the support team, staff time, donors, hosting...",
        (
            _key(),
            _ref("body", "key of the body", required=True),
            Column("kind", required=True),
            _ref("entity", "acronym of the entity concerned"),
            Column("statement", required=True),
            Column("date", description=_PARTIAL),
        ),
        ("key",),
        (("body", "bodies", "key"), ("entity", "entities", "acronym")),
        cited_by="key",
    ),
    Table(
        "audience_entities",
        "The entities a restricted output or meeting is shared with (empty in the public "
        "package, which holds public records only).",
        (
            Column("table", description="outputs or meetings", required=True),
            _ref("record", "key of the output or meeting", required=True),
            _position("entities"),
            _ref("entity", "acronym", required=True),
        ),
        ("table", "record", "position"),
        (("entity", "entities", "acronym"),),
    ),
    Table(
        "citations",
        "One row per citation: a source of a record (a quote from a document, under its "
        "heading) or, where sources disagree, a claim on one field of the record naming "
        "that source.",
        (
            Column("table", description="the table of the cited record", required=True),
            Column(
                "record",
                description="its key (acronym for entities, id for entity_names, organs and "
                "memberships)",
                required=True,
            ),
            Column("position", "integer", "order of the citations of the record", True),
            _ref("doc", "key of the document", required=True),
            Column("heading", description="the nearest heading above the quote (may be empty)"),
            Column("quote", description="a passage of one line of the document", required=True),
            Column("field", description="the field a claim is about (empty for a plain source)"),
            Column("value", description="the value the claim states"),
        ),
        ("table", "record", "position"),
        (("doc", "documents", "key"),),
    ),
)
SPEC: dict[str, Table] = {t.name: t for t in TABLES}
CITED = {t.name: t for t in TABLES if t.cited_by}


# -- bundle -> tables -----------------------------------------------------------------------


def _cell(value: Any, column: Column) -> Any:
    if value is None or value == "" or value == []:
        return None
    if column.type == "integer":
        return int(value)
    if column.type == "boolean":
        return bool(value)
    return str(value)


def _is_claims(raw: Any) -> bool:
    return (
        isinstance(raw, list)
        and bool(raw)
        and all(isinstance(c, dict) and "value" in c for c in raw)
    )


def _plain(node: dict[str, Any], name: str) -> Any:
    """A field's value for its column: the value, or the first claim's when claimed."""
    raw: Any = node.get(name)
    return raw[0]["value"] if _is_claims(raw) else raw


# The keys of each bundle list that are written to tables (beside ``sources``).
_KNOWN_KEYS = {
    "documents": {"key", "title", "publisher", "year", "file", "url"},
    "entities": {"acronym", "slug", "name", "kind", "parent", "variant_names"},
    "bodies": {c.name for c in SPEC["bodies"].columns} | {"organs"},
    "memberships": {"body", "entity", "joined", "left", "note"},
    "chair_terms": {"key", "body", "start", "end", "chairs", "interim", "coordinator", "theme"},
    "working_groups": {
        "key",
        "body",
        "kind",
        "name",
        "variant_names",
        "co_chairs",
        "established",
        "mandate",
    },
    "processes": {"key", "name", "short_name"},
    "themes": {"key", "name"},
    "outputs": {c.name for c in SPEC["outputs"].columns}
    | {
        "date_list",
        "title_variants",
        "entities",
        "processes",
        "themes",
        "related",
        "links",
        "audience_entities",
    },
    "meetings": {c.name for c in SPEC["meetings"].columns} | {"audience_entities"},
    "facts": {c.name for c in SPEC["facts"].columns},
    # Records within records.
    "entity_names": {"name"},
    "organs": {"key", "name", "also_called", "description"},
    "co_chairs": {"entity", "title"},
    "output_entities": {"entity", "role"},
    "output_links": {"url", "label"},
}
_KNOWN_TOP = {"format", "version", "default_body", *_KNOWN_KEYS}


class _Writer:
    def __init__(self) -> None:
        self.tables: Tables = {t.name: [] for t in TABLES}

    def add(self, name: str, /, **values: Any) -> None:
        spec = SPEC[name]
        self.tables[name].append({c.name: _cell(values.get(c.name), c) for c in spec.columns})

    def next_id(self, table: str) -> int:
        return len(self.tables[table]) + 1

    def check_keys(self, table: str, node: dict[str, Any]) -> None:
        """Refuse a field no column holds, rather than drop it."""
        unknown = set(node) - _KNOWN_KEYS[table] - {"sources"}
        if unknown:
            raise ValueError(f"{table}: no column holds {', '.join(sorted(unknown))}")

    def cite(self, table: str, record: Any, node: dict[str, Any]) -> None:
        sources = node.get("sources") or []
        claimed: dict[int, list[tuple[str | None, Any]]] = defaultdict(list)
        for name, raw in node.items():
            if name != "sources" and _is_claims(raw):
                for claim in raw:
                    index = claim.get("source")
                    if not isinstance(index, int) or not 0 <= index < len(sources):
                        raise ValueError(f"{table} {record}: claim on {name} names no source")
                    claimed[index].append((name, claim["value"]))
        position = 0
        for index, source in enumerate(sources):
            for field_name, value in claimed.get(index) or [(None, None)]:
                self.add(
                    "citations",
                    table=table,
                    record=record,
                    position=position,
                    doc=source.get("doc"),
                    heading=source.get("heading"),
                    quote=source.get("quote"),
                    field=field_name,
                    value=value,
                )
                position += 1


def bundle_to_tables(bundle: dict[str, Any]) -> Tables:
    """The bundle's records as normalised tables (rows of column -> value, None if empty)."""
    unknown = set(bundle) - _KNOWN_TOP
    if unknown:
        raise ValueError(f"the bundle holds {', '.join(sorted(unknown))}, which no table holds")
    w = _Writer()
    for d in bundle.get("documents") or []:
        w.check_keys("documents", d)
        w.add("documents", **d)
    for e in bundle.get("entities") or []:
        w.check_keys("entities", e)
        w.add("entities", **e)
        w.cite("entities", e["acronym"], e)
        for position, variant in enumerate(e.get("variant_names") or []):
            node = variant if isinstance(variant, dict) else {"name": variant}
            w.check_keys("entity_names", node)
            row = w.next_id("entity_names")
            w.add("entity_names", **node, id=row, entity=e["acronym"], position=position)
            w.cite("entity_names", row, node)
    for b in bundle.get("bodies") or []:
        w.check_keys("bodies", b)
        w.add("bodies", **{**b, "founded": _plain(b, "founded"), "ended": _plain(b, "ended")})
        w.cite("bodies", b["key"], b)
        for position, organ in enumerate(b.get("organs") or []):
            w.check_keys("organs", organ)
            row = w.next_id("organs")
            w.add("organs", **{**organ, "id": row, "body": b["key"], "position": position})
            w.cite("organs", row, organ)
    for m in bundle.get("memberships") or []:
        w.check_keys("memberships", m)
        row = w.next_id("memberships")
        w.add("memberships", **{**m, "id": row})
        w.cite("memberships", row, m)
    for t in bundle.get("chair_terms") or []:
        w.check_keys("chair_terms", t)
        w.add("chair_terms", **{**t, "theme": _plain(t, "theme")})
        w.cite("chair_terms", t["key"], t)
        for position, acronym in enumerate(t.get("chairs") or []):
            w.add("chair_term_chairs", term=t["key"], position=position, entity=acronym)
    for g in bundle.get("working_groups") or []:
        w.check_keys("working_groups", g)
        w.add("working_groups", **{**g, "established": _plain(g, "established")})
        w.cite("working_groups", g["key"], g)
        for position, name in enumerate(g.get("variant_names") or []):
            w.add("working_group_names", group=g["key"], position=position, name=name)
        for position, chair in enumerate(g.get("co_chairs") or []):
            if not isinstance(chair, dict):
                chair = {"entity": chair, "title": "co-chair"}
            w.check_keys("co_chairs", chair)
            w.add("co_chairs", group=g["key"], position=position, **chair)
    for name in ("processes", "themes"):
        for p in bundle.get(name) or []:
            w.check_keys(name, p)
            w.add(name, **p)
            w.cite(name, p["key"], p)
    for o in bundle.get("outputs") or []:
        w.check_keys("outputs", o)
        key = o["key"]
        dates = o.get("date_list") or []
        w.add(
            "outputs",
            **{
                **o,
                "type": _plain(o, "type"),
                "title": _plain(o, "title"),
                "date": ", ".join(map(str, dates)) if dates else _plain(o, "date"),
                "visibility": o.get("visibility") or "public",
            },
        )
        w.cite("outputs", key, o)
        for position, title in enumerate(o.get("title_variants") or []):
            w.add("output_titles", output=key, position=position, title=title)
        for position, date in enumerate(dates):
            w.add("output_dates", output=key, position=position, date=date)
        for position, link in enumerate(o.get("entities") or []):
            w.check_keys("output_entities", link)
            w.add("output_entities", output=key, position=position, **link)
        for position, link in enumerate(o.get("links") or []):
            link = link if isinstance(link, dict) else {"url": link}
            w.check_keys("output_links", link)
            w.add("output_links", output=key, position=position, **link)
        for name, column in (("processes", "process"), ("themes", "theme")):
            for position, other in enumerate(o.get(name) or []):
                w.add(f"output_{name}", output=key, position=position, **{column: other})
        for position, other in enumerate(o.get("related") or []):
            w.add("output_related", output=key, position=position, related=other)
        _audience(w, "outputs", o)
    for m in bundle.get("meetings") or []:
        w.check_keys("meetings", m)
        w.add("meetings", **{**m, "visibility": m.get("visibility") or "public"})
        w.cite("meetings", m["key"], m)
        _audience(w, "meetings", m)
    for f in bundle.get("facts") or []:
        w.check_keys("facts", f)
        w.add("facts", **f)
        w.cite("facts", f["key"], f)
    return w.tables


def _audience(w: _Writer, table: str, node: dict[str, Any]) -> None:
    for position, acronym in enumerate(node.get("audience_entities") or []):
        w.add(
            "audience_entities", table=table, record=node["key"], position=position, entity=acronym
        )


# -- tables -> bundle -----------------------------------------------------------------------


def _s(value: Any) -> str:
    return "" if value is None else str(value)


class _Reader:
    """Rebuilds the bundle from the tables (already checked by ``check_tables``)."""

    def __init__(self, tables: Tables):
        self.tables = tables
        self.citations: dict[tuple[str, str], list[Row]] = defaultdict(list)
        for row in sorted(tables["citations"], key=lambda r: r["position"]):
            self.citations[(row["table"], _s(row["record"]))].append(row)
        self.children: dict[str, dict[str, list[Row]]] = {}

    def of(self, table: str, parent: str, key: Any) -> list[Row]:
        """The rows of a child table under one parent record, in order."""
        if table not in self.children:
            grouped: dict[str, list[Row]] = defaultdict(list)
            for row in sorted(self.tables[table], key=lambda r: r["position"]):
                grouped[_s(row[parent])].append(row)
            self.children[table] = grouped
        return self.children[table].get(_s(key), [])

    def sourced(self, table: str, record: Any, node: dict[str, Any]) -> dict[str, Any]:
        """The node with its ``sources`` and, on claimed fields, its claims."""
        seen: list[tuple[str, str, str]] = []
        claims: dict[str, list[dict[str, Any]]] = {}
        for row in self.citations.get((table, _s(record)), []):
            ident = (_s(row["doc"]), _s(row["heading"]), _s(row["quote"]))
            if ident not in seen:
                seen.append(ident)
            if row["field"]:
                claims.setdefault(row["field"], []).append(
                    {"value": _s(row["value"]), "source": seen.index(ident)}
                )
        node.update(claims)
        node["sources"] = [{"doc": d, "heading": h, "quote": q} for d, h, q in seen]
        return _drop_empty(node)


def tables_to_bundle(tables: Tables, *, version: str = "", default_body: str = "") -> dict:
    """The bundle the tables hold: the one ``bundle_to_tables`` was given."""
    r = _Reader(tables)
    data: dict[str, Any] = {"format": FORMAT, "version": version}
    if default_body:
        data["default_body"] = default_body
    data["documents"] = [
        _drop_empty({k: d[k] for k in ("key", "title", "publisher", "year", "file", "url")})
        for d in tables["documents"]
    ]
    data["entities"] = [
        r.sourced(
            "entities",
            e["acronym"],
            {
                **{k: e[k] for k in ("acronym", "slug", "name", "kind", "parent")},
                "variant_names": [
                    r.sourced("entity_names", v["id"], {"name": v["name"]})
                    for v in r.of("entity_names", "entity", e["acronym"])
                ],
            },
        )
        for e in tables["entities"]
    ]
    data["bodies"] = [
        r.sourced(
            "bodies",
            b["key"],
            {
                **{k: b[k] for k in ("key", "name", "short_name", "description", "founded")},
                **{k: b[k] for k in ("ended", "predecessor", "governance_model")},
                **{k: b[k] for k in ("chair_rotation", "coordinator", "secretariat")},
                **{k: b[k] for k in ("reports_to", "membership_note")},
                "organs": [
                    r.sourced(
                        "organs",
                        o["id"],
                        {k: o[k] for k in ("key", "name", "also_called", "description")},
                    )
                    for o in r.of("organs", "body", b["key"])
                ],
            },
        )
        for b in tables["bodies"]
    ]
    data["memberships"] = [
        r.sourced(
            "memberships", m["id"], {k: m[k] for k in ("body", "entity", "joined", "left", "note")}
        )
        for m in tables["memberships"]
    ]
    data["chair_terms"] = [
        r.sourced(
            "chair_terms",
            t["key"],
            {
                **{k: t[k] for k in ("key", "body", "start", "end")},
                "chairs": [c["entity"] for c in r.of("chair_term_chairs", "term", t["key"])],
                "interim": bool(t["interim"]),
                **{k: t[k] for k in ("coordinator", "theme")},
            },
        )
        for t in tables["chair_terms"]
    ]
    data["working_groups"] = [
        r.sourced(
            "working_groups",
            g["key"],
            {
                **{k: g[k] for k in ("key", "body", "kind", "name")},
                "variant_names": [
                    n["name"] for n in r.of("working_group_names", "group", g["key"])
                ],
                "co_chairs": [
                    c["entity"]
                    if _s(c["title"]) == "co-chair"
                    else {"entity": c["entity"], "title": _s(c["title"])}
                    for c in r.of("co_chairs", "group", g["key"])
                ],
                **{k: g[k] for k in ("established", "mandate")},
            },
        )
        for g in tables["working_groups"]
    ]
    data["processes"] = [
        r.sourced("processes", p["key"], {k: p[k] for k in ("key", "name", "short_name")})
        for p in tables["processes"]
    ]
    data["themes"] = [
        r.sourced("themes", t["key"], {k: t[k] for k in ("key", "name")}) for t in tables["themes"]
    ]
    data["outputs"] = [_output(r, o) for o in tables["outputs"]]
    data["meetings"] = [
        r.sourced(
            "meetings",
            m["key"],
            {
                **{k: m[k] for k in ("key", "body", "kind", "title", "date", "location")},
                "working_group": m["working_group"],
                "visibility": None if m["visibility"] == "public" else m["visibility"],
                "audience_entities": _audience_of(r, "meetings", m["key"]),
            },
        )
        for m in tables["meetings"]
    ]
    data["facts"] = [
        r.sourced(
            "facts",
            f["key"],
            {k: f[k] for k in ("key", "body", "kind", "entity", "statement", "date")},
        )
        for f in tables["facts"]
    ]
    return data


def _audience_of(r: _Reader, table: str, key: str) -> list[str]:
    return [a["entity"] for a in r.of("audience_entities", "record", key) if a["table"] == table]


def _output(r: _Reader, o: Row) -> dict[str, Any]:
    key = o["key"]
    dates = [d["date"] for d in r.of("output_dates", "output", key)]
    node = {
        **{k: o[k] for k in ("key", "body", "type", "subtype", "title")},
        "title_variants": [t["title"] for t in r.of("output_titles", "output", key)],
        "date": None if dates else o["date"],
        "date_list": dates or None,
        **{k: o[k] for k in ("location", "occasion")},
        "entities": [
            {"entity": e["entity"], "role": e["role"]}
            for e in r.of("output_entities", "output", key)
        ],
        "working_group": o["working_group"],
        "processes": [p["process"] for p in r.of("output_processes", "output", key)],
        "themes": [t["theme"] for t in r.of("output_themes", "output", key)],
        "related": [x["related"] for x in r.of("output_related", "output", key)],
        "links": [
            {"url": x["url"], "label": x["label"]} if x["label"] else x["url"]
            for x in r.of("output_links", "output", key)
        ],
        "visibility": o["visibility"],
        "audience_entities": _audience_of(r, "outputs", key),
        "description": o["description"],
    }
    return r.sourced("outputs", key, node)


# -- writing --------------------------------------------------------------------------------


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _csv_text(table: Table, rows: list[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.name for c in table.columns])
    for row in rows:
        writer.writerow([_csv_cell(row[c.name]) for c in table.columns])
    return buffer.getvalue()


def _json_text(rows: list[Row]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=1) + "\n"


def table_files(tables: Tables, fmt: str) -> dict[str, bytes]:
    """``data/<table>.<fmt>`` -> its bytes, in table order."""
    return {
        f"data/{t.name}.{fmt}": (
            _csv_text(t, tables[t.name]) if fmt == "csv" else _json_text(tables[t.name])
        ).encode("utf-8")
        for t in TABLES
    }


def _title(bundle: dict[str, Any]) -> str:
    bodies = {b["key"]: b for b in bundle.get("bodies") or []}
    main = bodies.get(bundle.get("default_body") or "")
    return f"The {main['name']}: the public record" if main else "The public record"


def _field_descriptor(column: Column) -> dict[str, Any]:
    field: dict[str, Any] = {"name": column.name, "type": column.type}
    if column.description:
        field["description"] = column.description
    if column.required:
        field["constraints"] = {"required": True}
    return field


def descriptor(bundle: dict[str, Any], files: dict[str, bytes], fmt: str) -> dict[str, Any]:
    """The ``datapackage.json`` (Data Package v1, tabular) of the package's table files."""
    mediatype = {"csv": "text/csv", "json": "application/json"}[fmt]
    resources = []
    for table in TABLES:
        path = f"data/{table.name}.{fmt}"
        schema: dict[str, Any] = {
            "fields": [_field_descriptor(c) for c in table.columns],
            "primaryKey": list(table.primary_key),
        }
        if table.foreign_keys:
            schema["foreignKeys"] = [
                {
                    "fields": column,
                    # A reference to the table itself is written "" (Table Schema v1).
                    "reference": {
                        "resource": "" if other == table.name else other,
                        "fields": other_column,
                    },
                }
                for column, other, other_column in table.foreign_keys
            ]
        resources.append(
            {
                "profile": "tabular-data-resource",
                "name": table.name,
                "path": path,
                "format": fmt,
                "mediatype": mediatype,
                "encoding": "utf-8",
                # frictionless counts the bytes of CSV files only (JSON is parsed whole).
                **({"bytes": len(files[path])} if fmt == "csv" else {}),
                "hash": hashlib.md5(files[path], usedforsecurity=False).hexdigest(),
                "description": table.description,
                "schema": schema,
            }
        )
    package: dict[str, Any] = {
        "profile": "tabular-data-package",
        "name": NAME,
        "title": _title(bundle),
        "description": (
            "The public record of an inter-agency coordination group as published by the GMG "
            "Platform: its bodies, members, chairs, working groups, outputs, meetings and "
            "facts, each with the sources it is taken from (table citations). Licence: not "
            "stated by the sources. See README.md."
        ),
    }
    if bundle.get("version"):
        package["version"] = str(bundle["version"])
    package["sources"] = [
        {"title": _document_label(d), **({"path": d["url"]} if d.get("url") else {})}
        for d in bundle.get("documents") or []
    ]
    package["gmg"] = {
        "bundle_format": FORMAT,
        **({"default_body": bundle["default_body"]} if bundle.get("default_body") else {}),
    }
    package["resources"] = resources
    return package


def _document_label(d: dict[str, Any]) -> str:
    extra = ", ".join(str(x) for x in (d.get("publisher"), d.get("year")) if x)
    return f"{d.get('title', d.get('key'))}" + (f" ({extra})" if extra else "")


def readme(bundle: dict[str, Any], tables: Tables, fmt: str) -> str:
    version = str(bundle.get("version") or "") or "not stated"
    lines = [
        f"# {_title(bundle)}",
        "",
        "An open-data package of the public record kept by the GMG Platform: every record an",
        "anonymous visitor of the site may see, as normalised tables, one file per table,",
        "described by `datapackage.json` (a Frictionless Data Package, v1: field types,",
        "primary and foreign keys). Every record cites its sources (table `citations`);",
        "where a source is silent the field is empty: nothing is guessed.",
        "",
        f"- Data version: {version}",
        f"- Format: `data/<table>.{fmt}`"
        + (
            " (CSV, UTF-8, a header row; an empty cell is an empty value)"
            if fmt == "csv"
            else " (a JSON array of row objects; null is an empty value)"
        ),
        "- Dates are partial dates as the sources state them: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`,",
        "  or two joined by `/` for a range.",
        "- Where sources disagree on a field, the table holds the first claim and",
        "  `citations` holds every claim (`field`, `value`) with its source.",
        "",
        "## Licence and attribution",
        "",
        "Licence: not stated. The sources do not state a licence for this data, so none is",
        "given here. The record is drawn from these documents; cite them with the data:",
        "",
    ]
    lines += [f"- {_document_label(d)}" for d in bundle.get("documents") or []] or ["- none"]
    lines += ["", "## Tables", "", "| Table | Rows | Contents |", "| --- | ---: | --- |"]
    lines += [f"| `{t.name}` | {len(tables[t.name])} | {t.description} |" for t in TABLES]
    lines += [
        "",
        "## Loading it back",
        "",
        "The package loads into a GMG Platform database as it is (the tables are turned back",
        "into a record bundle and checked by the same loader):",
        "",
        "```sh",
        f"gmg load {ZIP_NAME}               # into an empty database",
        "gmg load --replace path/to/package/   # a directory with datapackage.json",
        "```",
        "",
        "Write one with `gmg export --format zip --out gmg-record.zip` (or `--format csv` /",
        "`--format json` with `--out DIRECTORY`).",
        "",
    ]
    return "\n".join(lines)


def package_files(bundle: dict[str, Any], fmt: str = "csv") -> dict[str, bytes]:
    """Every file of the package (descriptor, README, tables), by path, in a fixed order."""
    if fmt not in ("csv", "json"):
        raise ValueError(f"no data package format {fmt!r}")
    tables = bundle_to_tables(bundle)
    files = table_files(tables, fmt)
    package = descriptor(bundle, files, fmt)
    return {
        DESCRIPTOR: (json.dumps(package, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
        README: readme(bundle, tables, fmt).encode("utf-8"),
        **files,
    }


def write_package(bundle: dict[str, Any], out: Path, fmt: str = "csv") -> list[Path]:
    """Write the package into the directory ``out`` (made if missing)."""
    written = []
    for name, content in package_files(bundle, fmt).items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written.append(path)
    return written


def zip_bytes(bundle: dict[str, Any]) -> bytes:
    """The CSV package as a zip; the same bundle always gives the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in package_files(bundle, "csv").items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever system builds it
            info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
            archive.writestr(info, content, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()


def csv_tables(bundle: dict[str, Any]) -> dict[str, str]:
    """The package's tables as CSV texts, by table name."""
    tables = bundle_to_tables(bundle)
    return {t.name: _csv_text(t, tables[t.name]) for t in TABLES}


# -- reading --------------------------------------------------------------------------------


class _Source:
    """The files of a package: a directory or a zip."""

    def __init__(self, path: Path):
        self.path = path
        self.archive: zipfile.ZipFile | None = None
        self.prefix = ""
        self.root = path
        self.descriptor_name = DESCRIPTOR
        if path.is_dir():
            pass
        elif path.name.endswith(".json"):
            self.root = path.parent
            self.descriptor_name = path.name
        else:
            try:
                self.archive = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise BundleError([f"{path}: not a readable zip file ({exc})"]) from exc
            names = [n for n in self.archive.namelist() if PurePosixPath(n).name == DESCRIPTOR]
            names.sort(key=lambda n: n.count("/"))
            if not names:
                raise BundleError([f"{path}: the zip holds no {DESCRIPTOR}"])
            self.prefix = names[0][: -len(DESCRIPTOR)]

    def read(self, name: str) -> bytes:
        """The bytes of the package file ``name``; BundleError if missing."""
        if self.archive is not None:
            try:
                info = self.archive.getinfo(self.prefix + name)
            except KeyError:
                raise BundleError([f"{name}: the file is missing from {self.path}"]) from None
            if info.file_size > MAX_MEMBER_BYTES:
                raise BundleError([f"{name}: larger than {MAX_MEMBER_BYTES} bytes"])
            try:
                return self.archive.read(info)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
                raise BundleError([f"{name}: cannot read it from {self.path}: {exc}"]) from exc
        try:
            return (self.root / name).read_bytes()
        except FileNotFoundError:
            raise BundleError([f"{name}: the file is missing from {self.root}"]) from None
        except OSError as exc:
            raise BundleError([f"{name}: cannot read: {exc.strerror}"]) from exc

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()


def is_package(path: Path) -> bool:
    """Whether ``gmg load`` should read ``path`` as a data package (not a bundle file)."""
    return (
        path.is_dir()
        or path.name.endswith(DESCRIPTOR)
        or path.suffix.lower() == ".zip"
        or (path.is_file() and zipfile.is_zipfile(path))
    )


def read_record(path: Path) -> dict[str, Any]:
    """A bundle from a bundle file (YAML/JSON) or a data package (zip, directory, descriptor)."""
    return read_package(path) if is_package(path) else read_bundle(path)


def read_package(path: str | Path) -> dict[str, Any]:
    """Read a data package written by ``gmg export`` back into a bundle.

    Raises ``BundleError`` listing every problem found (missing files, unknown or missing
    columns, values of the wrong type, duplicate keys, references to missing records).
    """
    path = Path(path)
    if path.is_dir() and not (path / DESCRIPTOR).is_file():
        raise BundleError([f"{path}: no {DESCRIPTOR} in this directory"])
    source = _Source(path)
    try:
        package = _read_descriptor(source)
        problems = Problems()
        tables: Tables = {}
        for table in TABLES:
            resource = package[table.name]
            try:
                raw = source.read(resource["path"])
            except BundleError as exc:
                problems.items += [f"table {table.name}: {p}" for p in exc.problems]
                continue
            tables[table.name] = _parse(table, resource, raw, problems)
        problems.raise_if_any()
    finally:
        source.close()
    check_tables(tables, problems)
    problems.raise_if_any()
    meta = package["gmg"]
    return tables_to_bundle(
        tables, version=package["version"], default_body=meta.get("default_body") or ""
    )


def _read_descriptor(source: _Source) -> dict[str, Any]:
    where = source.descriptor_name
    try:
        package = json.loads(source.read(source.descriptor_name).decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError([f"{where}: not valid JSON: {exc}"]) from exc
    if not isinstance(package, dict) or not isinstance(package.get("resources"), list):
        raise BundleError([f"{where}: not a data package (no list of resources)"])
    meta: dict[str, Any] = package["gmg"] if isinstance(package.get("gmg"), dict) else {}
    if meta.get("bundle_format", FORMAT) != FORMAT:
        raise BundleError([f"{where}: holds {meta['bundle_format']}; this loader reads {FORMAT}"])
    problems = Problems()
    found: dict[str, dict[str, Any]] = {}
    for index, resource in enumerate(package["resources"]):
        rwhere = f"{where}: resources[{index}]"
        if not isinstance(resource, dict) or not isinstance(resource.get("name"), str):
            problems.add(rwhere, "a resource needs a name")
            continue
        name = resource["name"]
        rwhere = f"{where}: table {name}"
        if name not in SPEC:
            problems.add(rwhere, f"unknown table (known: {', '.join(SPEC)})")
            continue
        if name in found:
            problems.add(rwhere, "listed twice")
            continue
        path = resource.get("path")
        if not isinstance(path, str) or not _inside(path):
            problems.add(rwhere, f"path must be one file inside the package, not {path!r}")
            continue
        fmt = str(resource.get("format") or PurePosixPath(path).suffix.lstrip(".")).lower()
        if fmt not in ("csv", "json"):
            problems.add(rwhere, f"format must be csv or json, not {fmt!r}")
            continue
        encoding = str(resource.get("encoding") or "utf-8").lower().replace("_", "-")
        if encoding not in ("utf-8", "utf8", "utf-8-sig"):
            problems.add(rwhere, f"encoding must be utf-8, not {encoding!r}")
            continue
        found[name] = {"path": path, "format": fmt}
    for name in SPEC:
        if name not in found and not any(
            p.startswith(f"{where}: table {name}:") for p in problems.items
        ):
            problems.add(f"{where}: table {name}", "missing (no resource of that name)")
    problems.raise_if_any()
    return {**found, "version": str(package.get("version") or ""), "gmg": meta}


def _inside(path: str) -> bool:
    """Whether ``path`` names a file inside the package (relative, without '..')."""
    parts = PurePosixPath(path).parts
    return (
        bool(parts)
        and not PurePosixPath(path).is_absolute()
        and ".." not in parts
        and ("\\" not in path)
    )


def _parse(table: Table, resource: dict[str, Any], raw: bytes, problems: Problems) -> list[Row]:
    label = f"table {table.name} ({resource['path']})"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.add(label, f"not UTF-8: {exc}")
        return []
    names = [c.name for c in table.columns]
    records: list[tuple[int, dict[str, Any]]] = []
    if resource["format"] == "csv":
        try:
            lines = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error as exc:
            problems.add(label, f"not valid CSV: {exc}")
            return []
        if not lines:
            problems.add(label, "empty file: a header row is needed")
            return []
        header = lines[0]
        if not _check_header(label, header, names, problems):
            return []
        for number, cells in enumerate(lines[1:], start=1):
            if cells == []:
                continue  # a blank line
            if len(cells) != len(header):
                problems.add(
                    f"table {table.name}, row {number}",
                    f"{len(cells)} cells where the header has {len(header)}",
                )
                continue
            records.append((number, dict(zip(header, cells, strict=True))))
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.add(label, f"not valid JSON: {exc}")
            return []
        if not isinstance(data, list):
            problems.add(label, "must be a JSON array of row objects")
            return []
        keys: list[str] = []
        for number, item in enumerate(data, start=1):
            if not isinstance(item, dict):
                problems.add(f"table {table.name}, row {number}", "not an object")
                continue
            keys += [k for k in item if k not in keys]
            records.append((number, item))
        unknown = [k for k in keys if k not in names]
        for k in unknown:
            problems.add(f"{label}, column {k}", f"unknown column (known: {', '.join(names)})")
        if unknown:
            return []
    rows = []
    for number, record in records:
        row: Row = {}
        for column in table.columns:
            where = f"table {table.name}, row {number}, column {column.name}"
            row[column.name] = _value(where, column, record.get(column.name), problems)
        rows.append(row)
    return rows


def _check_header(label: str, header: list[str], names: list[str], problems: Problems) -> bool:
    ok = True
    for name in header:
        if name not in names:
            problems.add(f"{label}, column {name}", f"unknown column (known: {', '.join(names)})")
            ok = False
        elif header.count(name) > 1:
            problems.add(f"{label}, column {name}", "appears twice in the header")
            ok = False
    for name in names:
        if name not in header:
            problems.add(f"{label}, column {name}", "missing from the header")
            ok = False
    return ok


def _value(where: str, column: Column, raw: Any, problems: Problems) -> Any:
    if raw is None or raw == "":
        if column.required:
            problems.add(where, "required, but empty")
        return None
    if column.type == "integer":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            return int(raw)
        problems.add(where, f"{raw!r} is not an integer")
        return None
    if column.type == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true"
        problems.add(where, f"{raw!r} is not a boolean (true or false)")
        return None
    if not isinstance(raw, str):
        problems.add(where, f"{raw!r} is not a string")
        return None
    return raw


def check_tables(tables: Tables, problems: Problems) -> None:
    """Primary keys unique; foreign keys, and the records citations and audiences name,
    found in their tables. Problems name the table, the row (from 1) and the column."""
    keys: dict[str, dict[tuple[str, ...], int]] = {}
    for table in TABLES:
        seen: dict[tuple[str, ...], int] = {}
        for number, row in enumerate(tables[table.name], start=1):
            key = tuple(_s(row[c]) for c in table.primary_key)
            if "" in key:
                continue  # reported as required
            if key in seen:
                problems.add(
                    f"table {table.name}, row {number}, column {', '.join(table.primary_key)}",
                    f"{'/'.join(key)!r} is used twice (also row {seen[key]})",
                )
            else:
                seen[key] = number
        keys[table.name] = seen
    for table in TABLES:
        for column, other, other_column in table.foreign_keys:
            if len(SPEC[other].primary_key) != 1 or other_column != SPEC[other].primary_key[0]:
                continue
            for number, row in enumerate(tables[table.name], start=1):
                value = row[column]
                if value is not None and (_s(value),) not in keys[other]:
                    problems.add(
                        f"table {table.name}, row {number}, column {column}",
                        f"no row {value!r} in table {other}",
                    )
    for number, row in enumerate(tables["audience_entities"], start=1):
        where = f"table audience_entities, row {number}"
        if row["table"] not in ("outputs", "meetings"):
            problems.add(f"{where}, column table", "must be outputs or meetings")
        elif (_s(row["record"]),) not in keys[row["table"]]:
            problems.add(f"{where}, column record", f"no row {row['record']!r} in {row['table']}")
    for number, row in enumerate(tables["citations"], start=1):
        where = f"table citations, row {number}"
        if row["table"] is None:
            continue
        if row["table"] not in CITED:
            problems.add(f"{where}, column table", f"{row['table']!r} has no sources")
        elif (_s(row["record"]),) not in keys[row["table"]]:
            problems.add(f"{where}, column record", f"no row {row['record']!r} in {row['table']}")
        if row["value"] is not None and not row["field"]:
            problems.add(f"{where}, column field", "a claim's value needs its field")


# -- the public record ----------------------------------------------------------------------


def data_version() -> str:
    """The version of the bundle last loaded (the data version shown with the package)."""
    from gmg.accounts.models import AuditEntry

    last_load = AuditEntry.objects.filter(action="record.load").first()
    return str((last_load.after or {}).get("version", "")) if last_load else ""


def public_bundle() -> dict[str, Any]:
    """The bundle of what an anonymous visitor may see, whoever asks."""
    from gmg.core.viewer import ANONYMOUS
    from gmg.record.exporter import export_bundle

    return export_bundle(ANONYMOUS, version=data_version())
