"""What a report says, built from the record for one viewer.

A report is plain data (chapters of paragraphs, charts and sections of items) that the HTML
template and the PDF share. Every item names the records it was built from (``refs``) and
carries its sources as footnotes, so a reader can check each line, and a test can compare the
generated annex with the annex of the GMG's 2018 report.

What a viewer may see is decided by the selectors: the public report is built for the
anonymous viewer, the members' variant for the secretariat.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.db.models import F, Prefetch
from django.utils import timezone

from gmg.accounts.models import AuditEntry
from gmg.core import partial_dates
from gmg.core.models import Citation
from gmg.core.viewer import Viewer
from gmg.governance import selectors as governance
from gmg.governance.models import ChairTerm, Meeting
from gmg.registry import selectors as registry
from gmg.registry.models import Body, Fact, Membership
from gmg.reports import charts
from gmg.repository.models import Output, OutputType, Process, Role
from gmg.repository.selectors import outputs_visible_to, with_list_relations
from gmg.workgroups.models import CoChair, WorkingGroup

LAYOUT_FILE = Path(__file__).with_name("annex.yaml")
LED_ROLES = (Role.LEAD, Role.CO_LEAD)
NOT_STATED = "not stated"


class ReportError(Exception):
    """A report that cannot be made (unknown body, year out of range); the message says why."""


Ref = tuple[str, int]  # (model label, primary key) of a record an item was built from


@dataclass
class Item:
    text: str
    refs: list[Ref] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # footnotes: "Document, § Heading"
    output_key: str = ""  # links to the output's page
    restricted: bool = False  # members only: the public variant never holds such an item


@dataclass
class Section:
    key: str
    title: str
    items: list[Item] = field(default_factory=list)
    subsections: list[Section] = field(default_factory=list)
    intro: str = ""

    def all_items(self) -> list[Item]:
        return [*self.items, *(i for s in self.subsections for i in s.all_items())]


@dataclass
class Chapter:
    key: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    charts: list[charts.Chart] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    placeholder: bool = False  # a part the secretariat has yet to write


@dataclass
class Report:
    kind: str  # "final" or "annual"
    body: Body
    title: str
    subtitle: str
    members_variant: bool
    chapters: list[Chapter]
    about: list[tuple[str, str]]  # "About this report": (what, figure)
    documents: list[str]  # the sources footnotes refer to, numbered from 1
    generated_at: dt.datetime
    year: int | None = None
    data_version: str = ""  # computed from the content (see ``data_version``)

    def __post_init__(self) -> None:
        if not self.data_version:
            self.data_version = data_version(self.chapters, self.about)

    @property
    def annex(self) -> list[Section]:
        return next((c.sections for c in self.chapters if c.key == "annex"), [])


# --- shared reads -------------------------------------------------------------------------


def find_body(key: str) -> Body:
    body = registry.bodies().filter(key=key).first()
    if body is None:
        known = ", ".join(registry.bodies().values_list("key", flat=True)) or "none"
        raise ReportError(f"No body has the key {key!r}. Known bodies: {known}.")
    return body


def data_version(chapters: list[Chapter], about: list[tuple[str, str]]) -> str:
    """The loaded bundle's version and a fingerprint of what the report says: the same text
    means the same data. It is computed from the report itself, not from the audit log, so
    a public report does not change (nor tell) when records it may not show are written."""
    loaded = AuditEntry.objects.filter(action="record.load").order_by("-id").first()
    version = str((loaded.after or {}).get("version", "")) if loaded else ""
    digest = hashlib.sha256()

    def add(*texts: object) -> None:
        for text in texts:
            digest.update(str(text).encode())
            digest.update(b"\x00")

    def add_section(section: Section) -> None:
        add(section.title, section.intro)
        for item in section.items:
            add(item.text, item.refs, item.sources, item.restricted)
        for sub in section.subsections:
            add_section(sub)

    for chapter in chapters:
        add(chapter.title, *chapter.paragraphs)
        for chart in chapter.charts:
            add(chart.title, chart.description, chart.rows)
        for section in chapter.sections:
            add_section(section)
    add(about)
    return f"record {version or NOT_STATED}, content {digest.hexdigest()[:12]}"


class _Sources:
    """Footnote texts for records, from their citations (fetched once): "[n], § Heading",
    where n numbers the source document in the report's list of sources."""

    def __init__(self) -> None:
        self.documents: list[str] = []  # the numbered list of sources, in order of first use
        self._numbers: dict[int, int] = {}
        self._by_record: dict[Ref, list[tuple[int, str, str]]] = defaultdict(list)
        for c in Citation.objects.select_related("document", "content_type").order_by(
            "position", "id"
        ):
            label = f"{c.content_type.app_label}.{c.content_type.model}"
            d = c.document
            described = (
                f"{d.title}"
                + (f", {d.publisher}" if d.publisher else "")
                + (f", {d.year}" if d.year else "")
            )
            self._by_record[(label, c.object_id)].append((d.pk, described, c.heading))

    def of(self, *refs: Ref) -> list[str]:
        notes: list[str] = []
        for ref in refs:
            for document_id, described, heading in self._by_record.get(ref, []):
                if document_id not in self._numbers:
                    self.documents.append(described)
                    self._numbers[document_id] = len(self.documents)
                note = f"[{self._numbers[document_id]}]" + (f", § {heading}" if heading else "")
                if note not in notes:
                    notes.append(note)
        return notes


def _ref(obj: Any) -> Ref:
    return (obj._meta.label_lower, obj.pk)


def _names(acronyms: list[str]) -> str:
    if len(acronyms) <= 1:
        return "".join(acronyms)
    return ", ".join(acronyms[:-1]) + " and " + acronyms[-1]


def _when(text: str) -> str:
    return partial_dates.readable(text)


def _visible_outputs(viewer: Viewer, body: Body):
    return with_list_relations(outputs_visible_to(viewer).filter(body=body)).order_by(
        F("date_start").asc(nulls_last=True), "key"
    )


def _output_item(output: Output, sources: _Sources) -> Item:
    leads = [
        f"{link.get_role_display().lower()}: {link.entity.acronym}"
        for link in output.entity_links.all()
        if link.role in LED_ROLES
    ]
    text = output.title
    if output.date:
        text += f", {_when(output.date)}"
    if leads:
        text += f" ({'; '.join(leads)})"
    return Item(
        text=text,
        refs=[_ref(output)],
        sources=sources.of(_ref(output)) or ["This platform's record"],
        output_key=output.key,
        restricted=output.visibility != "public",
    )


def _meeting_item(meeting: Meeting, sources: _Sources) -> Item:
    return Item(
        text=f"{meeting.title}, {_when(meeting.date)}",
        refs=[_ref(meeting)],
        sources=sources.of(_ref(meeting)),
        restricted=meeting.visibility != "public",
    )


def _chair_label(term: ChairTerm) -> str:
    chairs = [f"{link.entity.name} ({link.entity.acronym})" for link in term.chair_links.all()]
    text = " and ".join(chairs)
    if term.coordinator:
        text += f", coordinated by {term.coordinator.name} ({term.coordinator.acronym})"
    return text + (" (interim)" if term.interim else "")


def _term_period(term: ChairTerm) -> str:
    start, end = partial_dates.parse(term.start), partial_dates.parse(term.end)
    if start.start.year == end.end.year:
        return f"{start.start.year} ({start.start:%B} – {end.end:%B})"
    return f"{partial_dates.humanise(term.start)} – {partial_dates.humanise(term.end)}"


def _terms(body: Body) -> list[ChairTerm]:
    return list(governance.chair_terms(body))


def _groups(body: Body) -> list[WorkingGroup]:
    return list(
        WorkingGroup.objects.filter(body=body)
        .prefetch_related(
            Prefetch("co_chair_links", queryset=CoChair.objects.select_related("entity")),
            "citations",
        )
        .order_by(F("established_start").asc(nulls_last=True), "key")
    )


def _established(group: WorkingGroup) -> str:
    """Every stated establishment date; sources that disagree are both shown."""
    stated = [c.value for c in group.citations.all() if c.field == "established"]
    values = list(dict.fromkeys(stated)) or ([group.established] if group.established else [])
    if not values:
        return f"established: {NOT_STATED}"
    shown = [partial_dates.humanise(v) for v in values]
    if len(shown) == 1:
        return f"established in {shown[0]}"
    return f"established in {shown[0]} (also stated: {', '.join(shown[1:])})"


def _co_chairs(group: WorkingGroup) -> str:
    links = list(group.co_chair_links.all())
    if not links:
        return f"co-chairs: {NOT_STATED}"
    verb = "co-convened" if all(c.title == "co-convener" for c in links) else "co-chaired"
    return f"{verb} by {_names([c.entity.acronym for c in links])}"


# --- charts -------------------------------------------------------------------------------


def membership_chart(body: Body) -> charts.Chart:
    admissions = [
        charts.Admission(entity=m.entity.acronym, joined=m.joined)
        for m in registry.lineage_admissions(body)
    ]
    return charts.membership_chart(body.name, admissions, body.ended_end)


def chair_chart(body: Body, terms: list[ChairTerm]) -> charts.Chart:
    return charts.chair_timeline_chart(
        body.name,
        [
            charts.Term(
                start=t.start_date,
                end=t.end_date,
                chairs=[link.entity.acronym for link in t.chair_links.all()],
                interim=t.interim,
                theme=t.theme,
                label=f"{partial_dates.humanise(t.start)} – {partial_dates.humanise(t.end)}",
                coordinator=t.coordinator.acronym if t.coordinator else "",
            )
            for t in terms
        ],
    )


def _type_label(value: str) -> str:
    return str(OutputType(value).label) if value in OutputType.values else value


def outputs_chart(outputs: list[Output], body: Body, highlight: int | None = None) -> charts.Chart:
    counts: Counter[tuple[str, int]] = Counter()
    for o in outputs:
        if o.date_start:
            counts[(_type_label(o.type), o.date_start.year)] += 1
    return charts.outputs_per_year_chart(body.name, dict(counts), highlight=highlight)


def led_chart(outputs: list[Output], body: Body) -> charts.Chart:
    counts: Counter[tuple[str, str]] = Counter()
    for o in outputs:
        for link in o.entity_links.all():
            if link.role in LED_ROLES:
                counts[(link.entity.acronym, _type_label(o.type))] += 1
    entities = sorted({e for e, _ in counts})
    columns = sorted({c for _, c in counts})
    return charts.led_matrix_chart(body.name, entities, columns, dict(counts))


# --- the annex ----------------------------------------------------------------------------


@cache
def annex_layout() -> dict[str, Any]:
    return yaml.safe_load(LAYOUT_FILE.read_text(encoding="utf-8"))


def _background(body: Body, sources: _Sources) -> Section:
    section = Section("background", "Background and membership")
    memberships = list(
        Membership.objects.filter(body__in=[body, *_predecessors(body)])
        .select_related("entity", "body")
        .order_by("joined_start", "entity__acronym")
    )
    by_body: dict[int, list[Membership]] = defaultdict(list)
    for m in memberships:
        by_body[m.body_id].append(m)
    lineage = [*reversed(_predecessors(body)), body]
    for index, b in enumerate(lineage):
        own = by_body.get(b.pk, [])
        founding = [m for m in own if b.founded and m.joined == own[0].joined] if own else []
        earlier = lineage[index - 1] if index else None
        if earlier is None:
            refs = [_ref(b), *map(_ref, founding)]
            section.items.append(
                Item(
                    text=f"The {b.name} began to operate in {_when(b.founded)}, consisting of "
                    f"{_names([m.entity.acronym for m in founding]) or NOT_STATED}.",
                    refs=refs,
                    sources=sources.of(*refs),
                )
            )
        else:
            carried = {m.entity_id for m in by_body.get(earlier.pk, [])}
            added = [m.entity.acronym for m in founding if m.entity_id not in carried]
            refs = [_ref(earlier), _ref(b), *map(_ref, founding)]
            section.items.append(
                Item(
                    text=f"The {earlier.name} became the {b.name} in {_when(b.founded)}"
                    + (f", with the addition of {_names(added)}." if added else "."),
                    refs=refs,
                    sources=sources.of(*refs),
                )
            )
        later_waves: dict[str, list[Membership]] = defaultdict(list)
        for m in own:
            if m not in founding:
                later_waves[m.joined].append(m)
        for joined, wave in later_waves.items():
            refs = list(map(_ref, wave))
            section.items.append(
                Item(
                    text=f"In {_when(joined)}, the {b.short_name or b.name} admitted "
                    f"{_names([m.entity.acronym for m in wave])}.",
                    refs=refs,
                    sources=sources.of(*refs),
                )
            )
    last_day = registry.in_force_day(timezone.now().date(), body.ended_end)
    members = registry.members_on(body, last_day)
    refs = [_ref(m.membership) for m in members]
    section.items.append(
        Item(
            text=f"In {last_day.year}, the {body.short_name or body.name} consisted of "
            f"{len(members)} members: "
            f"{_names(sorted(m.membership.entity.acronym for m in members))}.",
            refs=refs,
            sources=sources.of(*refs),
        )
    )
    successor = getattr(body, "successor", None)
    if successor is not None:
        refs = [_ref(body), _ref(successor)]
        section.items.append(
            Item(
                text=f"The {body.short_name or body.name} was replaced, in "
                f"{_when(successor.founded)}, by the {successor.name}.",
                refs=refs,
                sources=sources.of(*refs),
            )
        )
    return section


def _predecessors(body: Body) -> list[Body]:
    found, current = [], body.predecessor
    while current is not None and current not in found:
        found.append(current)
        current = current.predecessor
    return found


def _chairs(body: Body, terms: list[ChairTerm], sources: _Sources) -> Section:
    first = terms[0].start_date.year if terms else None
    section = Section("chairs", f"Chairmanships since {first}" if first else "Chairmanships")
    for term in terms:
        theme = f" Theme: {term.theme}." if term.theme else ""
        section.items.append(
            Item(
                text=f"{_term_period(term)}: {_chair_label(term)}.{theme}",
                refs=[_ref(term)],
                sources=sources.of(_ref(term)),
            )
        )
    return section


def _working_groups(groups: list[WorkingGroup], sources: _Sources) -> Section:
    section = Section("working-groups", "Working Groups and Task Forces")
    for group in groups:
        section.items.append(
            Item(
                text=f"{group.name} ({_co_chairs(group)}), {_established(group)}",
                refs=[_ref(group)],
                sources=sources.of(_ref(group)),
            )
        )
    return section


def _by_rule(
    key: str, title: str, outputs: list[Output], rule: dict[str, Any], sources: _Sources
) -> Section:
    types = set(rule.get("types", []))
    excluded = set(rule.get("processes_excluded", []))
    also = set(rule.get("also", []))
    chosen = [
        o
        for o in outputs
        if o.key in also or (o.type in types and not excluded & {p.key for p in o.processes.all()})
    ]
    return Section(key, title, [_output_item(o, sources) for o in chosen])


# Within a process's section, outputs are grouped by what they are, in this order.
PROCESS_GROUPS = [
    ("Publications and contributions", {"publication", "position_paper", "contribution"}),
    ("Briefs and notes", {"issue_brief", "briefing_note", "concept_note"}),
    (
        "Statements",
        set(OutputType.values)
        - {"publication", "position_paper", "contribution"}
        - {"issue_brief", "briefing_note", "concept_note", "event"},
    ),
    ("Events", {"event"}),
]


def _process_title(process: Process) -> str:
    short = process.short_name
    return f"{process.name} ({short})" if short and short.isupper() else process.name


def _process_sections(
    viewer: Viewer, body: Body, outputs: list[Output], sources: _Sources
) -> list[Section]:
    order = annex_layout().get("process_order", [])
    processes = sorted(
        Process.objects.all(),
        key=lambda p: (order.index(p.key) if p.key in order else len(order), p.pk),
    )
    principals = list(
        governance.meetings(viewer)
        .filter(body=body, kind=Meeting.Kind.PRINCIPALS)
        .exclude(date_start__isnull=True)
        .order_by("date_start")
    )
    found = []
    for process in processes:
        tagged = [o for o in outputs if process in o.processes.all()]
        if not tagged:
            continue
        section = Section(f"process-{process.key}", _process_title(process))
        for title, types in PROCESS_GROUPS:
            group = [o for o in tagged if o.type in types]
            if group:
                section.subsections.append(
                    Section(
                        f"process-{process.key}-{title.split()[0].lower()}",
                        title,
                        [_output_item(o, sources) for o in group],
                    )
                )
        starts = [o.date_start for o in tagged if o.date_start]
        ends = [o.date_end for o in tagged if o.date_end]
        if starts and ends:
            first, last = min(starts), max(ends)
            during = [m for m in principals if m.date_start and first <= m.date_start <= last]
            if during:
                refs = list(map(_ref, during))
                section.subsections.append(
                    Section(
                        f"process-{process.key}-principals",
                        "Principals' meetings",
                        [
                            Item(
                                text="Principal-level meetings held while the process was "
                                "under way: "
                                + ", ".join(partial_dates.humanise(m.date) for m in during)
                                + ".",
                                refs=refs,
                                sources=sources.of(*refs),
                                restricted=any(m.visibility != "public" for m in during),
                            )
                        ],
                    )
                )
        found.append(section)
    return found


def build_annex(
    viewer: Viewer,
    body: Body,
    *,
    outputs: list[Output],
    terms: list[ChairTerm],
    groups: list[WorkingGroup],
    sources: _Sources,
) -> list[Section]:
    sections = [
        _background(body, sources),
        _chairs(body, terms, sources),
        _working_groups(groups, sources),
    ]
    for rule in annex_layout()["sections"]:
        sections.append(_by_rule(rule["key"], rule["title"], outputs, rule, sources))
    sections.extend(_process_sections(viewer, body, outputs, sources))
    return sections


# --- the final report ---------------------------------------------------------------------


def _foreword(body: Body, report_key: str) -> Chapter:
    from gmg.reports.models import Foreword

    written = Foreword.objects.filter(body=body, report=report_key).first()
    chapter = Chapter("foreword", "Foreword")
    if written and written.text.strip():
        chapter.paragraphs = [p.strip() for p in written.text.split("\n\n") if p.strip()]
    else:
        chapter.placeholder = True
        chapter.paragraphs = [
            "The foreword has not been written yet. The secretariat writes it on the "
            "members' area's reports page; the rest of this report is generated from the record."
        ]
    return chapter


def _origins(body: Body) -> Chapter:
    chapter = Chapter("origins", f"Origins of the {body.name}")
    lineage = [*reversed(_predecessors(body)), body]
    for index, b in enumerate(lineage):
        members = list(
            b.memberships.select_related("entity").order_by("joined_start", "entity__acronym")
        )
        first = (
            [m.entity.acronym for m in members if m.joined == members[0].joined] if members else []
        )
        if index == 0:
            text = f"The {b.name} was established in {_when(b.founded)}"
            text += f" and consisted of {len(first)} entities: {_names(first)}." if first else "."
        else:
            text = f"In {_when(b.founded)} the {lineage[index - 1].name} became the {b.name}."
        if b.description:
            text += f" {b.description}"
        chapter.paragraphs.append(text)
    waves: dict[str, list[str]] = defaultdict(list)
    members = list(
        body.memberships.select_related("entity").order_by("joined_start", "entity__acronym")
    )
    for m in members:
        if m.joined != members[0].joined:
            waves[m.joined].append(m.entity.acronym)
    if waves:
        chapter.paragraphs.append(
            "Later admissions: "
            + "; ".join(f"{_names(names)} in {_when(joined)}" for joined, names in waves.items())
            + f". Members in all: {len(members)}."
        )
    if body.chair_rotation:
        chapter.paragraphs.append(body.chair_rotation)
    chapter.charts.append(membership_chart(body))
    return chapter


def _activities(
    body: Body,
    outputs: list[Output],
    terms: list[ChairTerm],
    groups: list[WorkingGroup],
    sources: _Sources,
) -> Chapter:
    chapter = Chapter("activities", f"Main activities of the {body.name}")
    by_type = Counter(_type_label(o.type) for o in outputs)
    dated = [o.date_start.year for o in outputs if o.date_start]
    span = f" between {min(dated)} and {max(dated)}" if dated else ""
    chapter.paragraphs.append(
        f"The record holds {len(outputs)} joint outputs of the {body.short_name or body.name}"
        f"{span}: "
        + ", ".join(f"{label.lower()} {n}" for label, n in by_type.most_common())
        + f". {len(terms)} chair terms and {len(groups)} working groups and task forces are "
        "recorded; the annex lists them all."
    )
    process_counts = Counter(p.name for o in outputs for p in o.processes.all())
    if process_counts:
        chapter.paragraphs.append(
            "Outputs by intergovernmental process: "
            + "; ".join(f"{name}: {n}" for name, n in process_counts.most_common())
            + "."
        )
    themes = [t for t in terms if t.theme]
    if themes:
        chapter.sections.append(
            Section(
                "themes",
                "Themes of the chairs",
                [
                    Item(
                        text=f"{_term_period(t)}, {_chair_label(t)}: {t.theme}",
                        refs=[_ref(t)],
                        sources=sources.of(_ref(t)),
                    )
                    for t in themes
                ],
            )
        )
    facts = Fact.objects.filter(body=body).exclude(kind=Fact.Kind.MILESTONE).order_by("pk")
    if facts:
        chapter.sections.append(
            Section(
                "support",
                "Organisation and support",
                [
                    Item(text=f.statement, refs=[_ref(f)], sources=sources.of(_ref(f)))
                    for f in facts
                ],
            )
        )
    chapter.charts += [
        chair_chart(body, terms),
        outputs_chart(outputs, body),
        led_chart(outputs, body),
    ]
    return chapter


def _groups_chapter(
    groups: list[WorkingGroup], outputs: list[Output], sources: _Sources
) -> Chapter:
    chapter = Chapter("working-groups", "Activities of the Working Groups and Task Forces")
    for group in groups:
        own = [o for o in outputs if o.working_group_id == group.pk]
        section = Section(
            f"group-{group.key}",
            group.name,
            [_output_item(o, sources) for o in own],
            intro=f"{_co_chairs(group).capitalize()}; {_established(group)}."
            + (f" {group.mandate}" if group.mandate else "")
            + ("" if own else " The record lists no outputs of this group."),
        )
        chapter.sections.append(section)
    return chapter


def _transition(viewer: Viewer, body: Body, sources: _Sources) -> Chapter:
    successor = getattr(body, "successor", None)
    chapter = Chapter("transition", "Conclusion and transition")
    milestones = Fact.objects.filter(
        body__in=[body, *([successor] if successor else [])], kind=Fact.Kind.MILESTONE
    ).order_by(F("date_start").asc(nulls_last=True), "pk")
    chapter.paragraphs += [f.statement for f in milestones]
    if successor is None:
        chapter.paragraphs.append(f"The record names no successor to the {body.name}.")
        return chapter
    chapter.title = f"Conclusion and transition to the {successor.name}"
    chapter.paragraphs.append(
        f"The {successor.name} succeeded the {body.short_name or body.name} in "
        f"{_when(successor.founded)}. {successor.description}".strip()
    )
    roles = [
        ("Coordinator", successor.coordinator.name if successor.coordinator else NOT_STATED),
        ("Secretariat", successor.secretariat.name if successor.secretariat else NOT_STATED),
        ("Reports to", successor.reports_to or NOT_STATED),
        ("Members", successor.membership_note or NOT_STATED),
    ]
    chapter.sections.append(
        Section(
            "successor",
            f"How the {successor.short_name or successor.name} is organised",
            [Item(text=f"{what}: {value}") for what, value in roles]
            + [
                Item(
                    text=f"{o.name}"
                    + (f" (also called {o.also_called})" if o.also_called else "")
                    + f": {o.description or NOT_STATED}",
                    refs=[_ref(o)],
                    sources=sources.of(_ref(o)),
                )
                for o in successor.organs.all()
            ],
        )
    )
    meetings = governance.meetings(viewer).filter(body=successor).order_by("date_start")
    if meetings:
        chapter.sections.append(
            Section(
                "successor-meetings",
                "First meetings",
                [_meeting_item(m, sources) for m in meetings],
            )
        )
    return chapter


def _about(
    body: Body, members_variant: bool, figures: list[tuple[str, int]]
) -> list[tuple[str, str]]:
    """The "About this report" box: which variant, and the counts the report was built from."""
    return [
        ("Body", body.name),
        ("Variant", "members only: includes internal items" if members_variant else "public"),
        *((what, str(n)) for what, n in figures),
    ]


def final_report(viewer: Viewer, body_key: str, *, members_variant: bool = False) -> Report:
    body = find_body(body_key)
    outputs = list(_visible_outputs(viewer, body))
    terms = _terms(body)
    groups = _groups(body)
    sources = _Sources()
    annex = Chapter(
        "annex",
        "Annex",
        paragraphs=[
            "The annex lists the group's membership, chairs, working groups and its "
            "publications, events, statements and contributions, section by section. Each "
            "line is generated from the record, and its footnote names the source."
        ],
        sections=build_annex(
            viewer, body, outputs=outputs, terms=terms, groups=groups, sources=sources
        ),
    )
    first = (body.founded_start.year if body.founded_start else None) or (
        min((o.date_start.year for o in outputs if o.date_start), default=None)
    )
    last = body.ended_end.year if body.ended_end else timezone.now().year
    return Report(
        kind="final",
        body=body,
        title=f"Final Report of the {body.name}",
        subtitle=f"Summary of main achievements {first or NOT_STATED}–{last}",
        members_variant=members_variant,
        chapters=[
            _foreword(body, "final"),
            _origins(body),
            _activities(body, outputs, terms, groups, sources),
            _groups_chapter(groups, outputs, sources),
            _transition(viewer, body, sources),
            annex,
        ],
        about=_about(
            body,
            members_variant,
            [
                ("Member entities (with predecessors)", len(registry.lineage_admissions(body))),
                ("Chair terms", len(terms)),
                ("Working groups and task forces", len(groups)),
                ("Outputs", len(outputs)),
            ],
        ),
        documents=sources.documents,
        generated_at=timezone.now(),
    )


# --- the annual report --------------------------------------------------------------------


def report_years(viewer: Viewer, body: Body) -> list[int]:
    """The years an annual report can cover: the body's life, as far as the record dates it."""
    first = body.founded_start.year if body.founded_start else None
    last = (body.ended_end or timezone.now().date()).year
    if first is None:
        dated = outputs_visible_to(viewer).filter(body=body, date_start__isnull=False)
        starts = [d for d in dated.values_list("date_start", flat=True) if d is not None]
        if not starts:
            return []
        first = min(starts).year
    return list(range(first, last + 1))


def annual_report(
    viewer: Viewer, body_key: str, year: int, *, members_variant: bool = False
) -> Report:
    body = find_body(body_key)
    years = report_years(viewer, body)
    if year not in years:
        span = f"{years[0]}–{years[-1]}" if years else "no year"
        raise ReportError(f"The {body.name} has no year {year} in the record (it covers {span}).")
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    sources = _Sources()
    all_outputs = list(_visible_outputs(viewer, body))
    outputs = [o for o in all_outputs if o.date_start and o.date_start.year == year]
    all_terms = _terms(body)
    terms = [t for t in all_terms if t.start_date <= end and t.end_date >= start]
    chapters = [_foreword(body, f"annual-{year}")]

    chairs = Chapter(
        "chairs", f"Chair{'s' if len(terms) != 1 else ''} and theme{'s' if len(terms) != 1 else ''}"
    )
    for t in terms:
        chairs.paragraphs.append(
            f"{_term_period(t)}: {_chair_label(t)}. Theme: {t.theme or NOT_STATED}."
        )
    if not terms:
        chairs.paragraphs.append(f"No chair term of {year} is recorded.")
    chairs.charts.append(chair_chart(body, all_terms))  # the year among all the terms
    chapters.append(chairs)

    membership = Chapter("membership", "Membership")
    joined = Membership.objects.filter(body=body, joined_start__gte=start, joined_start__lte=end)
    left = Membership.objects.filter(body=body, left_start__gte=start, left_start__lte=end)
    at_end = registry.members_on(body, registry.in_force_day(end, body.ended_end))
    membership.paragraphs.append(
        f"Members at the end of {year}: {len(at_end)}."
        if at_end
        else f"No members are recorded at the end of {year}."
    )
    membership.sections.append(
        Section(
            "changes",
            "Changes",
            [
                Item(
                    text=f"{m.entity.name} ({m.entity.acronym}) joined in {_when(m.joined)}.",
                    refs=[_ref(m)],
                    sources=sources.of(_ref(m)),
                )
                for m in joined.select_related("entity").order_by("joined_start", "entity__acronym")
            ]
            + [
                Item(
                    text=f"{m.entity.name} ({m.entity.acronym}) left in {_when(m.left)}.",
                    refs=[_ref(m)],
                    sources=sources.of(_ref(m)),
                )
                for m in left.select_related("entity").order_by("left_start", "entity__acronym")
            ]
            or [Item(text=f"No member joined or left in {year}.")],
        )
    )
    membership.charts.append(membership_chart(body))
    chapters.append(membership)

    produced = Chapter("outputs", f"Outputs of {year}")
    by_type = Counter(_type_label(o.type) for o in outputs)
    by_group = Counter(
        o.working_group.name if o.working_group else "The group as a whole" for o in outputs
    )
    produced.paragraphs.append(
        f"{len(outputs)} outputs are dated {year}"
        + (
            ": " + ", ".join(f"{label.lower()} {n}" for label, n in by_type.most_common()) + "."
            if outputs
            else "."
        )
    )
    if outputs:
        produced.sections.append(
            Section(
                "by-group",
                "By working group",
                [Item(text=f"{name}: {n}") for name, n in by_group.most_common()],
            )
        )
    for value, label in OutputType.choices:
        own = [o for o in outputs if o.type == value and value != OutputType.EVENT]
        if own:
            produced.sections.append(
                Section(f"type-{value}", str(label), [_output_item(o, sources) for o in own])
            )
    produced.charts += [outputs_chart(all_outputs, body, highlight=year), led_chart(outputs, body)]
    chapters.append(produced)

    events = Chapter("events", "Events")
    happened = [o for o in outputs if o.type == OutputType.EVENT]
    meetings = list(
        governance.meetings(viewer).filter(body=body, date_start__gte=start, date_start__lte=end)
    )
    events.sections.append(
        Section(
            "events",
            "Events",
            [_output_item(o, sources) for o in happened]
            or [Item(text=f"No event of {year} is recorded.")],
        )
    )
    if meetings:
        events.sections.append(
            Section(
                "meetings",
                "Meetings",
                [_meeting_item(m, sources) for m in meetings],
            )
        )
    chapters.append(events)
    chapters.append(_adopted(viewer, body, year, outputs, sources))
    return Report(
        kind="annual",
        body=body,
        title=f"{body.name}: annual report {year}",
        subtitle=f"The year {year} as the record holds it",
        members_variant=members_variant,
        chapters=chapters,
        about=_about(
            body,
            members_variant,
            [
                (f"Members at the end of {year}", len(at_end)),
                ("Chair terms in the year", len(terms)),
                ("Outputs dated in the year", len(outputs)),
            ],
        ),
        documents=sources.documents,
        generated_at=timezone.now(),
        year=year,
    )


STATEMENT_TYPES = {
    "joint_statement",
    "chair_statement",
    "statement",
    "message",
    "intervention",
    "joint_communique",
    "press_release",
}


def _adopted(
    viewer: Viewer, body: Body, year: int, outputs: list[Output], sources: _Sources
) -> Chapter:
    """Statements of the year, with their clearance figures where the platform cleared them."""
    from gmg.clearance.selectors import published_record

    chapter = Chapter("statements", "Statements adopted")
    statements = [o for o in outputs if o.type in STATEMENT_TYPES]
    listed = Section("adopted", "Statements")
    if statements:
        chapter.sections.append(listed)
    cleared = 0
    for o in statements:
        item = _output_item(o, sources)
        record = published_record(viewer, o.pk)
        if record is not None and record.state is not None:
            counts = record.state.counts
            cleared += 1
            item.text += (
                f". Cleared under the silence procedure (round {record.state.round.number}): "
                f"{counts['asked']} entities asked, {counts['clear']} cleared, "
                f"{counts['clear_with_comments']} cleared with comments, "
                f"{counts['silent']} stayed silent, {counts['object']} objected."
            )
        elif record is not None and record.decision is not None:
            cleared += 1
            meeting = getattr(record.decision, "meeting", None)
            item.text += (
                f". Adopted by the Principals at {meeting.title if meeting else NOT_STATED}."
            )
        else:
            item.text += ". Clearance figures: not recorded (adopted before the platform)."
        listed.items.append(item)
    chapter.paragraphs.append(
        f"{len(statements)} statements are dated {year}; {cleared} of them were cleared on "
        "this platform, with the figures below."
        if statements
        else f"No statement of {year} is recorded."
    )
    return chapter
