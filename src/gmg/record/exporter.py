"""Exporting the record: the bundle format (JSON/YAML).

``export_bundle`` writes what ``load_bundle`` reads, so export then load gives back the
same record. Only what ``viewer`` may see is exported. ``gmg.record.opendata`` turns the
bundle into an open-data package (one normalised table per file).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

from gmg.core.models import Citation, SourceDocument
from gmg.core.viewer import Viewer
from gmg.governance import selectors as governance_selectors
from gmg.governance.models import ChairTerm
from gmg.record.bundle import FORMAT
from gmg.registry.models import Body, Entity, Fact, Membership
from gmg.repository.models import Process, Theme
from gmg.repository.selectors import outputs_visible_to, with_all_relations
from gmg.workgroups.models import WorkingGroup


class _Citations:
    """All citations, grouped by record, fetched in one query."""

    def __init__(self) -> None:
        self.by_record: dict[tuple[int, int], list[Citation]] = defaultdict(list)
        for c in Citation.objects.select_related("document").order_by("position", "id"):
            self.by_record[(c.content_type_id, c.object_id)].append(c)
        self.types: dict[type[Model], int] = {}

    def of(self, obj: Model) -> list[Citation]:
        model = type(obj)
        if model not in self.types:
            self.types[model] = ContentType.objects.get_for_model(model).pk
        return self.by_record.get((self.types[model], obj.pk), [])

    def sources(self, obj: Model) -> list[dict[str, str]]:
        """Distinct sources in order; claims become ``[{value, source}]`` on their fields."""
        seen: list[tuple[str, str, str]] = []
        for c in self.of(obj):
            ident = (c.document.key, c.heading, c.quote)
            if ident not in seen:
                seen.append(ident)
        return [{"doc": d, "heading": h, "quote": q} for d, h, q in seen]

    def claims(self, obj: Model, field: str) -> list[dict[str, Any]] | None:
        cites = [c for c in self.of(obj) if c.field == field]
        if not cites:
            return None
        order = [(s["doc"], s["heading"], s["quote"]) for s in self.sources(obj)]
        return [
            {"value": c.value, "source": order.index((c.document.key, c.heading, c.quote))}
            for c in cites
        ]


def _field(cites: _Citations, obj: Model, name: str, plain: Any) -> Any:
    """A field as the bundle writes it: the claims when cited per value, else the value."""
    claimed = cites.claims(obj, name)
    return claimed if claimed else plain


def _drop_empty(node: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if v not in (None, "", [], False) or k == "interim"}


def export_bundle(viewer: Viewer, *, version: str = "") -> dict[str, Any]:
    cites = _Citations()
    data: dict[str, Any] = {"format": FORMAT, "version": version}
    default = Body.objects.filter(governance_model=Body.Governance.ROTATING_CHAIR).first()
    if default is not None:
        data["default_body"] = default.key
    data["documents"] = [
        _drop_empty(
            {
                "key": d.key,
                "title": d.title,
                "publisher": d.publisher,
                "year": d.year,
                "file": d.file_name,
                "url": d.url,
            }
        )
        for d in SourceDocument.objects.all()
    ]
    data["entities"] = [
        _drop_empty(
            {
                "acronym": e.acronym,
                "slug": e.slug,
                "name": e.name,
                "kind": e.kind,
                "parent": e.parent.acronym if e.parent else None,
                "variant_names": [
                    _drop_empty({"name": v.name, "sources": cites.sources(v)})
                    for v in e.variant_names.all()
                ],
                "sources": cites.sources(e),
            }
        )
        for e in Entity.objects.select_related("parent").prefetch_related("variant_names")
    ]
    data["bodies"] = [
        _drop_empty(
            {
                "key": b.key,
                "name": b.name,
                "short_name": b.short_name,
                "description": b.description,
                "founded": _field(cites, b, "founded", b.founded),
                "ended": _field(cites, b, "ended", b.ended),
                "predecessor": b.predecessor.key if b.predecessor else None,
                "governance_model": b.governance_model,
                "chair_rotation": b.chair_rotation,
                "coordinator": b.coordinator.acronym if b.coordinator else None,
                "secretariat": b.secretariat.acronym if b.secretariat else None,
                "reports_to": b.reports_to,
                "membership_note": b.membership_note,
                "organs": [
                    _drop_empty(
                        {
                            "key": o.key,
                            "name": o.name,
                            "also_called": o.also_called,
                            "description": o.description,
                            "sources": cites.sources(o),
                        }
                    )
                    for o in b.organs.all()
                ],
                "sources": cites.sources(b),
            }
        )
        for b in Body.objects.select_related("predecessor", "coordinator", "secretariat")
        .prefetch_related("organs")
        .order_by("founded_start", "key")
    ]
    data["memberships"] = [
        _drop_empty(
            {
                "body": m.body.key,
                "entity": m.entity.acronym,
                "joined": m.joined,
                "left": m.left,
                "note": m.note,
                "sources": cites.sources(m),
            }
        )
        for m in Membership.objects.select_related("body", "entity").order_by("pk")
    ]
    data["chair_terms"] = [
        _drop_empty(
            {
                "key": t.key,
                "body": t.body.key,
                "start": t.start,
                "end": t.end,
                "chairs": [link.entity.acronym for link in t.chair_links.all()],
                "interim": t.interim,
                "coordinator": t.coordinator.acronym if t.coordinator else None,
                "theme": _field(cites, t, "theme", t.theme),
                "sources": cites.sources(t),
            }
        )
        for t in ChairTerm.objects.select_related("body", "coordinator").prefetch_related(
            "chair_links__entity"
        )
    ]
    data["working_groups"] = [
        _drop_empty(
            {
                "key": g.key,
                "body": g.body.key,
                "kind": g.kind,
                "name": g.name,
                "variant_names": [v.name for v in g.variant_names.all()],
                "co_chairs": [
                    c.entity.acronym
                    if c.title == "co-chair"
                    else {"entity": c.entity.acronym, "title": c.title}
                    for c in g.co_chair_links.all()
                ],
                "established": _field(cites, g, "established", g.established),
                "mandate": g.mandate,
                "sources": cites.sources(g),
            }
        )
        for g in WorkingGroup.objects.select_related("body").prefetch_related(
            "variant_names", "co_chair_links__entity"
        )
    ]
    data["processes"] = [
        _drop_empty(
            {"key": p.key, "name": p.name, "short_name": p.short_name, "sources": cites.sources(p)}
        )
        for p in Process.objects.all()
    ]
    data["themes"] = [
        _drop_empty({"key": t.key, "name": t.name, "sources": cites.sources(t)})
        for t in Theme.objects.all()
    ]
    visible = with_all_relations(outputs_visible_to(viewer)).order_by("pk")
    visible_keys = set(visible.values_list("key", flat=True))
    outputs = []
    for o in visible:
        stated_dates = [d.text for d in o.dates.all()]
        date_claims = cites.claims(o, "date")
        is_list = not date_claims and len(stated_dates) > 1
        outputs.append(
            _drop_empty(
                {
                    "key": o.key,
                    "body": o.body.key,
                    "type": _field(cites, o, "type", o.type),
                    "subtype": o.subtype,
                    "title": o.title,
                    "title_variants": [t.title for t in o.title_variants.all()],
                    "date": None if is_list else (date_claims or o.date),
                    "date_list": stated_dates if is_list else None,
                    "location": o.location,
                    "occasion": o.occasion,
                    "entities": [
                        {"entity": link.entity.acronym, "role": link.role}
                        for link in o.entity_links.all()
                    ],
                    "working_group": o.working_group.key if o.working_group else None,
                    "processes": [p.key for p in o.processes.all()],
                    "themes": [t.key for t in o.themes.all()],
                    "related": sorted(r.key for r in o.related.all() if r.key in visible_keys),
                    "links": [
                        {"url": link.url, "label": link.label} if link.label else link.url
                        for link in o.links.all()
                    ],
                    "visibility": o.visibility,
                    "audience_entities": [e.acronym for e in o.audience_entities.all()],
                    "description": o.description,
                    "sources": cites.sources(o),
                }
            )
        )
    data["outputs"] = outputs
    data["meetings"] = [
        _drop_empty(
            {
                "key": m.key,
                "body": m.body.key,
                "kind": m.kind,
                "title": m.title,
                "date": m.date,
                "location": m.location,
                "working_group": m.working_group.key if m.working_group else None,
                "visibility": m.visibility if m.visibility != "public" else None,
                "audience_entities": [e.acronym for e in m.audience_entities.all()],
                "sources": cites.sources(m),
            }
        )
        for m in governance_selectors.meetings(viewer).prefetch_related("audience_entities")
    ]
    data["facts"] = [
        _drop_empty(
            {
                "key": f.key,
                "body": f.body.key,
                "kind": f.kind,
                "entity": f.entity.acronym if f.entity else None,
                "statement": f.statement,
                "date": f.date,
                "sources": cites.sources(f),
            }
        )
        for f in Fact.objects.select_related("body", "entity")
    ]
    return data


def csv_tables(bundle: dict[str, Any]) -> dict[str, str]:
    """One CSV text per table of the open-data package (``gmg.record.opendata``)."""
    from gmg.record.opendata import csv_tables as package_tables

    return package_tables(bundle)
