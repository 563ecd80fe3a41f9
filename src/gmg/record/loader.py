"""Loading a bundle into the database: one atomic, audited service.

Every record is validated (``full_clean``) before it is saved, and all problems in a bundle
are reported together. A bundle loads into an empty record, or replaces the record whole
with ``replace=True``; it never merges into existing data half-way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.text import slugify

from gmg.accounts.services import Actor, audit
from gmg.core import partial_dates
from gmg.core.models import Citation, SourceDocument
from gmg.core.visibility import LEGACY_VISIBILITY, Visibility
from gmg.governance.models import ChairTerm, ChairTermChair, Meeting
from gmg.record import sources as source_text
from gmg.record.bundle import BundleError, Problems, claims, first
from gmg.registry.models import Body, Entity, EntityName, Fact, Membership, Organ
from gmg.repository.models import (
    Output,
    OutputDate,
    OutputEntity,
    OutputLink,
    OutputTitle,
    OutputYear,
    Process,
    Role,
    Theme,
)
from gmg.workgroups.models import CoChair, WorkingGroup, WorkingGroupName

# Deleted in this order when a load replaces the record (children first).
RECORD_MODELS: list[type[models.Model]] = [
    Citation,
    OutputLink,
    OutputTitle,
    OutputDate,
    OutputYear,
    OutputEntity,
    Output,
    Process,
    Theme,
    Meeting,
    ChairTermChair,
    ChairTerm,
    CoChair,
    WorkingGroupName,
    WorkingGroup,
    Fact,
    Membership,
    Organ,
    EntityName,
    Body,
    Entity,
    SourceDocument,
]


@dataclass
class LoadReport:
    version: str
    counts: Counter[str] = field(default_factory=Counter)


def record_is_empty() -> bool:
    return not Body.objects.exists()


class _Loader:
    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.problems = Problems()
        self.report = LoadReport(version=str(data.get("version", "")))
        self.documents: dict[str, SourceDocument] = {}
        self.entities: dict[str, Entity] = {}
        self.bodies: dict[str, Body] = {}
        self.groups: dict[str, WorkingGroup] = {}
        self.processes: dict[str, Process] = {}
        self.themes: dict[str, Theme] = {}
        self.outputs: dict[str, Output] = {}
        self.citations: list[Citation] = []
        self._content_types: dict[type[models.Model], ContentType] = {}

    # -- helpers -----------------------------------------------------------------------------

    def items(self, name: str) -> list[tuple[str, dict[str, Any]]]:
        raw = self.data.get(name) or []
        if not isinstance(raw, list):
            self.problems.add(name, "must be a list")
            return []
        found = []
        for index, node in enumerate(raw):
            where = f"{name}[{index}]"
            if not isinstance(node, dict):
                self.problems.add(where, "must be a mapping")
                continue
            label = node.get("key") or node.get("acronym")
            found.append((f"{name}[{index}]" + (f" ({label})" if label else ""), node))
        return found

    def date(self, where: str, text: Any) -> partial_dates.PartialDate | None:
        if text in (None, ""):
            return None
        try:
            return partial_dates.parse(text)
        except partial_dates.PartialDateError as exc:
            self.problems.add(where, str(exc))
            return None

    def ref(self, table: dict[str, Any], where: str, key: Any, what: str) -> Any:
        if key in (None, ""):
            return None
        found = table.get(key)
        if found is None:
            self.problems.add(where, f"unknown {what} {key!r}")
        return found

    def save(self, where: str, obj: models.Model, exclude: list[str] | None = None) -> bool:
        try:
            obj.full_clean(exclude=exclude, validate_unique=False)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                self.problems.add(where, f"{name}: {'; '.join(errors)}")
            return False
        obj.save()
        self.report.counts[type(obj).__name__] += 1
        return True

    def cite(self, where: str, obj: models.Model, node: dict[str, Any], claim_fields=()) -> None:
        """Turn a record's ``sources`` (and claims naming them) into Citation rows."""
        sources = node.get("sources") or []
        if not isinstance(sources, list):
            self.problems.add(where, "sources must be a list")
            return
        if obj.pk is None:
            return
        claimed: dict[int, list[tuple[str, str]]] = {}
        for name in claim_fields:
            for claim in claims(node, name):
                if claim.source is not None:
                    claimed.setdefault(claim.source, []).append((name, str(claim.value)))
        for index in claimed:
            if not 0 <= index < len(sources):
                self.problems.add(where, f"a claim names source {index}, which does not exist")
        content_type = self._content_types.get(type(obj))
        if content_type is None:
            content_type = ContentType.objects.get_for_model(obj)
            self._content_types[type(obj)] = content_type
        for index, source in enumerate(sources):
            swhere = f"{where}.sources[{index}]"
            if not isinstance(source, dict) or not {"doc", "quote"} <= source.keys():
                self.problems.add(swhere, "a source needs doc, heading and quote")
                continue
            document = self.ref(self.documents, swhere, source["doc"], "document")
            if document is None:
                continue
            heading = str(source.get("heading") or "")
            lines = source_text.locate(document.key, heading, str(source["quote"]))
            line = lines[0].number if lines else None
            for position, (field_name, value) in enumerate(claimed.get(index) or [("", "")]):
                self.citations.append(
                    Citation(
                        content_type=content_type,
                        object_id=obj.pk,
                        document=document,
                        heading=heading,
                        quote=str(source["quote"]),
                        line=line,
                        field=field_name,
                        value=value[:300],
                        position=index * 10 + position,
                    )
                )

    def visibility(self, where: str, node: dict[str, Any]) -> str:
        value = str(node.get("visibility") or Visibility.PUBLIC)
        value = LEGACY_VISIBILITY.get(value, value)
        if value not in Visibility.values:
            self.problems.add(where, f"unknown visibility {value!r}")
        return value

    def audience(self, where: str, obj: Any, node: dict[str, Any]) -> None:
        """The named entities of an ``entities``-level record (required for that level)."""
        named = [
            e
            for e in (
                self.ref(self.entities, f"{where}.audience_entities", a, "entity")
                for a in node.get("audience_entities") or []
            )
            if e
        ]
        if obj.visibility == Visibility.ENTITIES and not named:
            self.problems.add(where, "visibility 'entities' needs audience_entities")
        obj.audience_entities.set(named)

    # -- tables ------------------------------------------------------------------------------

    def load(self) -> LoadReport:
        for where, node in self.items("documents"):
            doc = SourceDocument(
                key=node.get("key", ""),
                title=node.get("title", ""),
                publisher=node.get("publisher") or "",
                year=node.get("year"),
                file_name=node.get("file") or "",
                url=node.get("url") or "",
            )
            if self.save(where, doc):
                self.documents[doc.key] = doc
        self.load_entities()
        self.load_bodies()
        self.load_memberships()
        self.load_chair_terms()
        self.load_working_groups()
        self.load_vocabularies()
        self.load_outputs()
        self.load_meetings()
        self.load_facts()
        self.problems.raise_if_any()
        Citation.objects.bulk_create(self.citations, batch_size=500)
        self.report.counts["Citation"] += len(self.citations)
        return self.report

    def load_entities(self) -> None:
        pending_parents = []
        for where, node in self.items("entities"):
            acronym = str(node.get("acronym") or "")
            if acronym in self.entities:
                self.problems.add(where, f"entity {acronym!r} is listed twice")
                continue
            entity = Entity(
                acronym=acronym,
                slug=node.get("slug") or slugify(acronym),
                name=node.get("name") or "",
                kind=node.get("kind") or "",
            )
            if not self.save(where, entity):
                continue
            self.entities[acronym] = entity
            self.cite(where, entity, node)
            if node.get("parent"):
                pending_parents.append((where, entity, node["parent"]))
            for vindex, variant in enumerate(node.get("variant_names") or []):
                vwhere = f"{where}.variant_names[{vindex}]"
                name = variant.get("name") if isinstance(variant, dict) else variant
                variant_obj = EntityName(entity=entity, name=name or "")
                if self.save(vwhere, variant_obj) and isinstance(variant, dict):
                    self.cite(vwhere, variant_obj, variant)
        for where, entity, parent in pending_parents:
            entity.parent = self.ref(self.entities, where, parent, "entity")
            entity.save(update_fields=["parent"])

    def load_bodies(self) -> None:
        pending = []
        for where, node in self.items("bodies"):
            founded = [self.date(f"{where}.founded", c.value) for c in claims(node, "founded")]
            ended = [self.date(f"{where}.ended", c.value) for c in claims(node, "ended")]
            founded_known = [d for d in founded if d]
            ended_known = [d for d in ended if d]
            body = Body(
                key=node.get("key", ""),
                name=node.get("name", ""),
                short_name=node.get("short_name") or "",
                description=node.get("description") or "",
                founded=first(node, "founded", ""),
                founded_start=min((d.start for d in founded_known), default=None),
                ended=first(node, "ended", ""),
                ended_end=max((d.end for d in ended_known), default=None),
                governance_model=node.get("governance_model") or Body.Governance.NOT_STATED,
                chair_rotation=node.get("chair_rotation") or "",
                coordinator=self.ref(self.entities, where, node.get("coordinator"), "entity"),
                secretariat=self.ref(self.entities, where, node.get("secretariat"), "entity"),
                reports_to=node.get("reports_to") or "",
                membership_note=node.get("membership_note") or "",
            )
            if not self.save(where, body):
                continue
            self.bodies[body.key] = body
            self.cite(where, body, node, claim_fields=("founded", "ended"))
            if node.get("predecessor"):
                pending.append((where, body, node["predecessor"]))
            for oindex, organ_node in enumerate(node.get("organs") or []):
                owhere = f"{where}.organs[{oindex}]"
                organ = Organ(
                    body=body,
                    key=organ_node.get("key", ""),
                    name=organ_node.get("name", ""),
                    also_called=organ_node.get("also_called") or "",
                    description=organ_node.get("description") or "",
                )
                if self.save(owhere, organ):
                    self.cite(owhere, organ, organ_node)
        for where, body, predecessor in pending:
            body.predecessor = self.ref(self.bodies, where, predecessor, "body")
            body.save(update_fields=["predecessor"])

    def load_memberships(self) -> None:
        for where, node in self.items("memberships"):
            joined = self.date(f"{where}.joined", node.get("joined"))
            left = self.date(f"{where}.left", node.get("left"))
            if joined is None:
                self.problems.add(where, "joined is required")
                continue
            membership = Membership(
                body=self.ref(self.bodies, where, node.get("body"), "body"),
                entity=self.ref(self.entities, where, node.get("entity"), "entity"),
                joined=joined.text,
                joined_start=joined.start,
                joined_end=joined.end,
                left=left.text if left else "",
                left_start=left.start if left else None,
                left_end=left.end if left else None,
                note=node.get("note") or "",
            )
            if membership.body_id is None or membership.entity_id is None:
                continue
            if self.save(where, membership, exclude=["body", "entity"]):
                self.cite(where, membership, node)

    def load_chair_terms(self) -> None:
        for where, node in self.items("chair_terms"):
            start = self.date(f"{where}.start", node.get("start"))
            end = self.date(f"{where}.end", node.get("end"))
            body = self.ref(self.bodies, where, node.get("body"), "body")
            for name in ("start", "end"):
                if not node.get(name):
                    self.problems.add(where, f"{name} is required")
            if start is None or end is None or body is None:
                continue
            if end.end < start.start:
                self.problems.add(where, f"ends ({end.text}) before it starts ({start.text})")
                continue
            term = ChairTerm(
                key=node.get("key", ""),
                body=body,
                start=start.text,
                start_date=start.start,
                end=end.text,
                end_date=end.end,
                interim=bool(node.get("interim")),
                coordinator=self.ref(self.entities, where, node.get("coordinator"), "entity"),
                theme=first(node, "theme", "") or "",
            )
            if not self.save(where, term):
                continue
            chairs = node.get("chairs") or []
            if not chairs:
                self.problems.add(where, "a chair term needs at least one chair")
            for position, acronym in enumerate(chairs):
                entity = self.ref(self.entities, f"{where}.chairs", acronym, "entity")
                if entity:
                    ChairTermChair.objects.create(term=term, entity=entity, position=position)
            self.cite(where, term, node, claim_fields=("theme",))

    def load_working_groups(self) -> None:
        for where, node in self.items("working_groups"):
            established = [
                d
                for d in (
                    self.date(f"{where}.established", c.value) for c in claims(node, "established")
                )
                if d
            ]
            group = WorkingGroup(
                key=node.get("key", ""),
                body=self.ref(self.bodies, where, node.get("body"), "body"),
                kind=node.get("kind") or "",
                name=node.get("name") or "",
                mandate=node.get("mandate") or "",
                established=first(node, "established", "") or "",
                established_start=min((d.start for d in established), default=None),
            )
            if group.body_id is None:
                continue
            if not self.save(where, group, exclude=["body"]):
                continue
            self.groups[group.key] = group
            for name in node.get("variant_names") or []:
                WorkingGroupName.objects.create(group=group, name=name)
            for position, chair in enumerate(node.get("co_chairs") or []):
                acronym = chair.get("entity") if isinstance(chair, dict) else chair
                title = chair.get("title", "co-chair") if isinstance(chair, dict) else "co-chair"
                entity = self.ref(self.entities, f"{where}.co_chairs", acronym, "entity")
                if entity:
                    CoChair.objects.create(
                        group=group, entity=entity, position=position, title=title
                    )
            self.cite(where, group, node, claim_fields=("established",))

    def load_vocabularies(self) -> None:
        for where, node in self.items("processes"):
            process = Process(
                key=node.get("key", ""),
                name=node.get("name", ""),
                short_name=node.get("short_name") or "",
            )
            if self.save(where, process):
                self.processes[process.key] = process
                self.cite(where, process, node)
        for where, node in self.items("themes"):
            theme = Theme(key=node.get("key", ""), name=node.get("name", ""))
            if self.save(where, theme):
                self.themes[theme.key] = theme
                self.cite(where, theme, node)

    def load_outputs(self) -> None:
        pending_related: list[tuple[str, Output, str]] = []
        default_key = self.data.get("default_body")
        default_body = self.bodies.get(default_key) if default_key else None
        for where, node in self.items("outputs"):
            key = node.get("key", "")
            if key in self.outputs:
                self.problems.add(where, f"output key {key!r} is used twice")
                continue
            spans = [
                d for d in (self.date(f"{where}.date", c.value) for c in claims(node, "date")) if d
            ]
            spans += [
                d
                for d in (self.date(f"{where}.date_list", v) for v in node.get("date_list") or [])
                if d
            ]
            date_text = first(node, "date", "") or ", ".join(map(str, node.get("date_list") or []))
            body_key = node.get("body")
            body = self.ref(self.bodies, where, body_key, "body") if body_key else default_body
            if body is None and not body_key:
                self.problems.add(where, "no body: give `body` or a top-level `default_body`")
            output = Output(
                key=key,
                body=body,
                type=first(node, "type", ""),
                subtype=node.get("subtype") or "",
                title=first(node, "title", "") or "",
                description=node.get("description") or "",
                date=str(date_text),
                date_start=min((d.start for d in spans), default=None),
                date_end=max((d.end for d in spans), default=None),
                location=node.get("location") or "",
                occasion=node.get("occasion") or "",
                working_group=self.ref(
                    self.groups, where, node.get("working_group"), "working group"
                ),
                visibility=self.visibility(where, node),
            )
            if output.body_id is None or not self.save(where, output, exclude=["body"]):
                continue
            self.outputs[key] = output
            OutputDate.objects.bulk_create(
                OutputDate(output=output, text=d.text, start=d.start, end=d.end)
                for d in {d.text: d for d in spans}.values()
            )
            OutputYear.objects.bulk_create(
                OutputYear(output=output, year=year)
                for year in sorted({y for d in spans for y in range(d.start.year, d.end.year + 1)})
            )
            for title in node.get("title_variants") or []:
                OutputTitle.objects.create(output=output, title=title)
            for position, link in enumerate(node.get("entities") or []):
                lwhere = f"{where}.entities[{position}]"
                entity = self.ref(self.entities, lwhere, link.get("entity"), "entity")
                role = link.get("role")
                if role not in Role.values:
                    self.problems.add(lwhere, f"unknown role {role!r}")
                    continue
                if entity:
                    OutputEntity.objects.get_or_create(
                        output=output, entity=entity, role=role, defaults={"position": position}
                    )
            output.processes.set(
                [
                    p
                    for p in (
                        self.ref(self.processes, where, k, "process")
                        for k in node.get("processes") or []
                    )
                    if p
                ]
            )
            output.themes.set(
                [
                    t
                    for t in (
                        self.ref(self.themes, where, k, "theme") for k in node.get("themes") or []
                    )
                    if t
                ]
            )
            for link in node.get("links") or []:
                url = str(link.get("url") or "") if isinstance(link, dict) else str(link)
                label = str(link.get("label") or "") if isinstance(link, dict) else ""
                self.save(f"{where}.links", OutputLink(output=output, url=url, label=label))
            self.audience(where, output, node)
            pending_related.extend((where, output, k) for k in node.get("related") or [])
            self.cite(where, output, node, claim_fields=("date", "type", "title"))
        for where, output, other_key in pending_related:
            other = self.ref(self.outputs, f"{where}.related", other_key, "output")
            if other:
                output.related.add(other)

    def load_meetings(self) -> None:
        for where, node in self.items("meetings"):
            span = self.date(f"{where}.date", node.get("date"))
            meeting = Meeting(
                key=node.get("key", ""),
                body=self.ref(self.bodies, where, node.get("body"), "body"),
                kind=node.get("kind") or "",
                title=node.get("title") or "",
                date=span.text if span else "",
                date_start=span.start if span else None,
                date_end=span.end if span else None,
                location=node.get("location") or "",
                working_group=self.ref(
                    self.groups, where, node.get("working_group"), "working group"
                ),
                visibility=self.visibility(where, node),
            )
            if meeting.body_id is not None and self.save(where, meeting, exclude=["body"]):
                self.audience(where, meeting, node)
                self.cite(where, meeting, node)

    def load_facts(self) -> None:
        for where, node in self.items("facts"):
            span = self.date(f"{where}.date", node.get("date"))
            fact = Fact(
                key=node.get("key", ""),
                body=self.ref(self.bodies, where, node.get("body"), "body"),
                kind=node.get("kind") or "",
                entity=self.ref(self.entities, where, node.get("entity"), "entity"),
                statement=node.get("statement") or "",
                date=span.text if span else "",
                date_start=span.start if span else None,
                date_end=span.end if span else None,
            )
            if fact.body_id is not None and self.save(where, fact, exclude=["body"]):
                self.cite(where, fact, node)


def _refuse_if_members_area_refers_to_record() -> None:
    """Replacing the record would orphan the members' area (people, documents, meeting
    papers refer to entities, bodies and meetings): refuse, saying what holds on."""
    from gmg.accounts.models import Person, RoleAssignment
    from gmg.repository.models import Document

    holding = {
        "documents": Document.objects.count(),
        "people with an entity": Person.objects.filter(entity__isnull=False).count(),
        "working-group roles": RoleAssignment.objects.filter(working_group__isnull=False).count(),
    }
    held = {name: n for name, n in holding.items() if n}
    if held:
        raise BundleError(
            [
                "the members' area refers to the current record ("
                + ", ".join(f"{n} {name}" for name, n in held.items())
                + "); replacing the record would orphan them. Edit records one by one "
                "(back office or API) instead."
            ]
        )


def load_bundle(data: dict[str, Any], *, by: Actor, replace: bool = False) -> LoadReport:
    """Load a parsed bundle as the whole record, atomically, with one audit entry.

    Raises ``BundleError`` listing every problem; on error nothing is written.
    """
    with transaction.atomic():
        if not record_is_empty():
            if not replace:
                raise BundleError(
                    ["the database already holds a record; load with --replace to replace it"]
                )
            _refuse_if_members_area_refers_to_record()
            # Cut the links that protect rows from deletion, then delete children first.
            Body.objects.update(coordinator=None, secretariat=None, predecessor=None)
            Entity.objects.update(parent=None)
            for model in RECORD_MODELS:
                model._default_manager.all().delete()
        report = _Loader(data).load()
        audit(
            by=by,
            action="record.load",
            object_type="bundle",
            object_key=report.version,
            after={"version": report.version, "counts": dict(report.counts)},
        )
    from django.db import connection

    if connection.vendor == "sqlite":
        # Give SQLite's planner statistics, so it prefers selective indexes after a bulk load.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    # The search index is derived from the database: rebuild it after the transaction.
    from gmg.repository import search

    search.rebuild_index()
    return report
