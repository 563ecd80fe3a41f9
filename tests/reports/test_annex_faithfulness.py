"""The generated annex against the annex of the GMG's 2018 report (the seed), section by section.

Every item the seed lists must appear in the generated section it was listed under; any
difference is reported by name.

How a seed item is found in the generated annex: the shipped record cites its sources
(``gmg.core.models.Citation``): each record row built from the seed quotes the text it comes
from, under the heading that text sits under. The rows that quote a seed item (entities
aside: they are cited only for variant names) are the rows that item is about. The item
appears in the generated section when one item of that section (or of its subsections) was
built from all of those rows (its ``refs`` hold them all), and that generated item does not
already stand for another seed item with other rows (one generated item per seed item, so
a summary built from many rows cannot hide a missing item built from a few of them).

A quote matches a seed item when, both normalised (``seed_annex.normalise``), the quote is
the item's text or is part of it (or of a paragraph describing it), under the same heading.

A lead-in ("Statements at GFMD Workshops ... including the following:") introduces the items
after it; a record row that quotes a lead-in and also an item after it quotes the lead-in as
context and is that later item's row. A lead-in is compared only through rows that quote it
alone; one with no such row is shown by the items it introduces.

Seed items no record row quotes are reported as "not in the record", and generated items
with no seed counterpart as "extras"; neither fails the comparison (their numbers are pinned
in ``test_the_informational_counts_are_as_measured``).
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field

import pytest

from gmg.record.sources import DOCUMENT_FILES, SEEDS_DIR
from tests.reports.seed_annex import SeedItem, SeedSection, normalise, seed_annex

SEED = SEEDS_DIR / DOCUMENT_FILES["final-report"]
DOCUMENT_KEY = "final-report"
# Entities and their names are cited for the names the seed uses, not as items of the annex.
IGNORED_LABELS = {"registry.entity", "registry.entityname"}

# The seed's annex sections and the keys of the generated sections they correspond to.
SECTION_KEYS = {
    "Background and membership": "background",
    "Chairmanships since 2006": "chairs",
    "Working Groups and Task Forces": "working-groups",
    "Symposia, workshops and panel discussions": "events",
    "Joint Publications": "publications",
    "Joint Statements": "statements",
    "UN General Assembly High-level Dialogue on International Migration and Development (HLD)": (
        "process-hld"
    ),
    "Post-2015 Development Agenda": "process-post-2015",
    "Contributions to the Global Forum on Migration and Development (GFMD)": "process-gfmd",
    "UN Summit for Refugees and Migrants": "process-summit-2016",
    "Global Compact for Migration process": "process-gcm",
}
TITLES = list(SECTION_KEYS)

Ref = tuple[str, int]


# --- the parser -----------------------------------------------------------------------------

# Counted by hand in the seed: (all items, of which lead-ins, of which prose paragraphs).
SEED_COUNTS = {
    "Background and membership": (9, 0, 0),  # lines 206–214
    "Chairmanships since 2006": (21, 0, 0),  # 218–236, 238–239
    "Working Groups and Task Forces": (5, 0, 0),  # 243–247
    "Symposia, workshops and panel discussions": (17, 0, 0),  # 251–267
    "Joint Publications": (15, 0, 0),  # 271–285
    "Joint Statements": (37, 0, 0),  # 289–296, 298–326
    "UN General Assembly High-level Dialogue on International Migration and Development (HLD)": (
        3,
        0,
        0,
    ),  # 330–332
    "Post-2015 Development Agenda": (6, 0, 0),  # 336–341
    # 345–353, 355–377, 379–396; lead-ins 345, 363, 368
    "Contributions to the Global Forum on Migration and Development (GFMD)": (50, 3, 0),
    # 400 (lead-in), 404–408, 412–413, 415 (prose), 417 (lead-in), 421–426, 428 (prose)
    "UN Summit for Refugees and Migrants": (17, 2, 2),
    # 432–436 (lead-ins 432, 433, 435), 438–442, 446 (lead-in)–451, 455 (prose),
    # 457 (lead-in), 465, 471, 475, 483, 484
    "Global Compact for Migration process": (23, 5, 1),
}


@pytest.fixture(scope="module")
def seed() -> list[SeedSection]:
    return seed_annex(SEED)


def _by_title(sections: list[SeedSection]) -> dict[str, SeedSection]:
    return {s.title: s for s in sections}


def test_the_parser_finds_the_eleven_annex_sections_in_order(seed):
    assert [s.title for s in seed] == TITLES


@pytest.mark.parametrize("title", TITLES)
def test_the_parser_counts_each_section_s_items(seed, title):
    items = _by_title(seed)[title].items
    counted = (
        len(items),
        sum(i.kind == "lead-in" for i in items),
        sum(i.prose for i in items),
    )
    assert counted == SEED_COUNTS[title]


def test_numbered_sub_headings_fold_into_the_global_compact_section(seed):
    gcm = _by_title(seed)["Global Compact for Migration process"]
    # Headings are normalised as the record's quotes are: their numbering goes.
    assert gcm.sub_headings == [
        "Publications/background documents",
        "Seminars in NY",
        "Thematic briefing notes",
        "Events",
    ]
    by_line = {i.line: i for i in gcm.items}
    assert by_line[447].heading == "Publications/background documents"
    assert by_line[484].heading == "Events"
    assert by_line[484].text.endswith("UN Headquarters, New York, 6 June 2018")


def test_prose_paragraphs_are_items_descriptions_or_introductions(seed):
    sections = _by_title(seed)
    summit = {i.line: i for i in sections["UN Summit for Refugees and Migrants"].items}
    gcm = {i.line: i for i in sections["Global Compact for Migration process"].items}
    # Items of their own: the report on the meetings, the statement, the seminars.
    assert summit[415].prose and summit[415].text.endswith("is available on the GMG website")
    assert summit[428].prose and "presenting a joint GMG statement" in summit[428].text
    assert gcm[455].prose and "a series of six seminars in New York" in gcm[455].text
    # Descriptions belong to the line above them, a cut paragraph included.
    assert summit[400].more[0].startswith("In preparation for the UN Summit")
    assert gcm[465].more[0].startswith("This briefing note illustrates")
    assert gcm[465].more[1].startswith("shows how the GMG principles and guidelines")
    assert len(gcm[471].more) == len(gcm[475].more) == 1
    # Introductions ("... namely:", "... the following side events:") list nothing.
    assert sections["UN Summit for Refugees and Migrants"].intros == [410]
    assert sections["Global Compact for Migration process"].intros == [463, 481]


def test_lead_ins_are_lines_that_introduce_a_list(seed):
    lead_ins = {i.line for s in seed for i in s.items if i.kind == "lead-in"}
    assert lead_ins == {345, 363, 368, 400, 417, 432, 433, 435, 446, 457}


def test_mark_up_is_normalised_away(seed):
    items = {i.line: i for s in seed for i in s.items}
    assert items[256].text.startswith('Two workshops on learning, "Educating in the 21st century')
    assert items[224].text.endswith("Trade and Development (interim)")
    assert items[283].text.startswith("GMG Guidance Note on Integrating Migration and Displac")
    assert "(UNDAFs), 2017" in items[283].text
    assert items[303].text.endswith("8–11 March 2016")  # the closing ";" is gone
    assert normalise(" [Joint  statement](#) at “X”; ") == 'Joint statement at "X"'


# --- the comparison -------------------------------------------------------------------------


@dataclass
class Missing:
    item: SeedItem
    rows: set[Ref]
    elsewhere: list[str]  # keys of generated sections whose one item holds all the rows
    scattered: dict[Ref, list[str]]  # where each row is, when no single item holds them all


@dataclass
class SectionResult:
    title: str
    key: str
    generated_title: str | None  # None: the generated annex has no such section
    items: int = 0
    matched: list[SeedItem] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    not_in_record: list[SeedItem] = field(default_factory=list)
    introduced_only: list[SeedItem] = field(default_factory=list)  # lead-ins, no row of own
    extras: list[str] = field(default_factory=list)  # generated items with no seed item


@dataclass
class Citing:
    """Which record rows quote which seed items (by line); and, to catch a parser that lost
    or merged lines, the annex quotes that fit no seed item or more than one."""

    rows: dict[int, set[Ref]]
    unplaced: list[str]
    ambiguous: list[str]


def citing_rows(seed: list[SeedSection], citations) -> Citing:
    """For each seed item (by line), the record rows whose citations quote it.

    ``citations`` are (label, object_id, heading, quote) of the document's citations.
    """
    by_heading: dict[str, list[SeedItem]] = defaultdict(list)
    for section in seed:
        for item in section.items:
            by_heading[item.heading].append(item)
    annex_headings = {h for section in seed for h in section.headings}
    rows: dict[int, set[Ref]] = defaultdict(set)
    unplaced, ambiguous = [], []
    for label, object_id, heading, quote in citations:
        if label in IGNORED_LABELS or normalise(heading) not in annex_headings:
            continue
        candidates = by_heading.get(normalise(heading), [])
        wanted = normalise(quote)
        hits = [i for i in candidates if wanted in i.texts] or [
            i for i in candidates if any(wanted in text for text in i.texts)
        ]
        if not hits:
            unplaced.append(f"{label} {object_id}: {quote!r} under {heading!r}")
        elif len(hits) > 1:
            ambiguous.append(f"{label} {object_id}: {quote!r} fits lines {[i.line for i in hits]}")
        for item in hits:
            rows[item.line].add((label, object_id))
    # A row quoting a lead-in and an item after it quotes the lead-in as context.
    for section in seed:
        for lead_in in (i for i in section.items if i.kind == "lead-in"):
            later = set().union(*(rows[i.line] for i in section.items if i.line > lead_in.line))
            rows[lead_in.line] -= later
    return Citing(dict(rows), unplaced, ambiguous)


def _assign(wanted: list[frozenset[Ref]], holders: list[set[Ref]]) -> dict[int, int]:
    """One generated item for each set of rows, as many as can be: ``wanted`` index ->
    ``holders`` index.

    A holder built from exactly the wanted rows is taken first (this never lowers the number
    matched: any holder of those rows also holds whatever the exact one could hold). The rest
    is a maximum matching (Kuhn's algorithm), the largest sets of rows placed first and the
    tightest holders tried first, so that an item left over is the one the annex lacks, not
    one whose holder a looser item took.
    """
    owner: dict[int, int] = {}  # holder -> wanted
    for w, rows in enumerate(wanted):
        exact = next((h for h, refs in enumerate(holders) if refs == rows and h not in owner), None)
        if exact is not None:
            owner[exact] = w
    order = sorted(range(len(holders)), key=lambda h: (len(holders[h]), h))

    def place(w: int, tried: set[int]) -> bool:
        for h in order:
            if h in tried or not wanted[w] <= holders[h]:
                continue
            tried.add(h)
            if h not in owner or place(owner[h], tried):
                owner[h] = w
                return True
        return False

    placed = set(owner.values())
    for w in sorted(range(len(wanted)), key=lambda w: (-len(wanted[w]), w)):
        if w not in placed:
            place(w, set())
    return {w: h for h, w in owner.items()}


def compare(seed: list[SeedSection], citing: Citing, annex) -> dict[str, SectionResult]:
    """Each seed section's items against the generated annex (a list of ``Section``).

    A seed item is matched by a generated item of its section whose refs hold all the rows
    that cite it; no generated item stands for two seed items unless both are cited by the
    same rows (so "In 2018, the GMG consisted of 22 members" cannot stand in for a missing
    "In 2010 WHO and UN-Women were admitted").
    """
    generated = {s.key: s for s in annex}
    held = {key: [(i.text, set(i.refs)) for i in s.all_items()] for key, s in generated.items()}
    results = {}
    for section in seed:
        key = SECTION_KEYS[section.title]
        own = generated.get(key)
        result = SectionResult(section.title, key, own.title if own else None, len(section.items))
        by_rows: dict[frozenset[Ref], list[SeedItem]] = defaultdict(list)
        for item in section.items:
            rows = frozenset(citing.rows.get(item.line, ()))
            if rows:
                by_rows[rows].append(item)
            elif item.kind == "lead-in":
                result.introduced_only.append(item)
            else:
                result.not_in_record.append(item)
        wanted = list(by_rows)
        here = held.get(key, [])
        assigned = _assign(wanted, [refs for _, refs in here])
        for w, rows in enumerate(wanted):
            if w in assigned:
                result.matched += by_rows[rows]
                continue
            elsewhere = [k for k, found in held.items() if any(rows <= r for _, r in found)]
            scattered = {
                row: sorted({k for k, found in held.items() if any(row in r for _, r in found)})
                for row in sorted(rows)
            }
            for item in by_rows[rows]:
                result.missing.append(
                    Missing(item, set(rows), elsewhere, {} if elsewhere else scattered)
                )
        taken = set(assigned.values())
        result.extras = [text for h, (text, _) in enumerate(here) if h not in taken]
        result.matched.sort(key=lambda i: i.line)
        result.missing.sort(key=lambda m: m.item.line)
        results[section.title] = result
    return results


def describe(result: SectionResult, names: dict[Ref, str]) -> str:
    """A readable account of one section's differences."""
    shown = (
        f"generated section {result.key!r} ({result.generated_title})"
        if result.generated_title is not None
        else f"generated section {result.key!r}, which the annex does not have"
    )
    lines = [
        f"{result.title}: {len(result.missing)} of {result.items} seed items are not in the "
        f"{shown}:"
    ]
    for m in result.missing:
        lines.append(f"  - line {m.item.line}: {m.item.text}")
        lines.append(
            f"      cited by: {', '.join(names.get(r, f'{r[0]} {r[1]}') for r in sorted(m.rows))}"
        )
        if m.elsewhere:
            lines.append(f"      held instead by generated section(s): {', '.join(m.elsewhere)}")
        else:
            for row, keys in m.scattered.items():
                where = ", ".join(keys) if keys else "no generated section"
                lines.append(f"      {names.get(row, f'{row[0]} {row[1]}')}: in {where}")
    if result.not_in_record:
        lines.append(f"  not in the record ({len(result.not_in_record)}, not a failure):")
        lines += [f"    line {i.line}: {i.text}" for i in result.not_in_record]
    if result.extras:
        lines.append(f"  generated items with no seed item ({len(result.extras)}, not a failure):")
        lines += [f"    {text}" for text in result.extras]
    return "\n".join(lines)


# --- against the shipped record -------------------------------------------------------------


def _citations():
    from gmg.core.models import Citation

    return [
        (f"{c.content_type.app_label}.{c.content_type.model}", c.object_id, c.heading, c.quote)
        for c in Citation.objects.filter(document__key=DOCUMENT_KEY).select_related("content_type")
    ]


def _names(refs: set[Ref]) -> dict[Ref, str]:
    """Readable names of record rows: "repository.output 12 (js-2015-...)"."""
    from django.apps import apps

    by_label: dict[str, set[int]] = defaultdict(set)
    for label, pk in refs:
        by_label[label].add(pk)
    names = {}
    for label, pks in by_label.items():
        model = apps.get_model(label)
        for obj in model.objects.filter(pk__in=pks):
            said = getattr(obj, "key", "") or str(obj)
            names[(label, obj.pk)] = f"{label} {obj.pk} ({said})"
    return names


@dataclass
class Fixture:
    seed: list[SeedSection]
    citing: Citing
    annex: list
    results: dict[str, SectionResult]
    names: dict[Ref, str]


@pytest.fixture(scope="module")
def faithfulness(django_db_setup, django_db_blocker, seed) -> Fixture:
    from gmg.core.viewer import ANONYMOUS
    from gmg.reports.content import final_report

    with django_db_blocker.unblock():
        citing = citing_rows(seed, _citations())
        annex = final_report(ANONYMOUS, "gmg").annex
        every = set().union(
            *citing.rows.values(), *(set(i.refs) for s in annex for i in s.all_items())
        )
        names = _names(every)
    return Fixture(seed, citing, annex, compare(seed, citing, annex), names)


@pytest.mark.django_db
@pytest.mark.parametrize("title", TITLES)
def test_every_seed_item_is_in_the_generated_section_it_was_listed_under(faithfulness, title):
    result = faithfulness.results[title]
    assert result.generated_title is not None and not result.missing, describe(
        result, faithfulness.names
    )


@pytest.mark.django_db
def test_every_annex_quote_fits_exactly_one_seed_item(faithfulness):
    assert faithfulness.citing.unplaced == []
    assert faithfulness.citing.ambiguous == []


# Measured on the shipped record (public report). Per seed section: (seed items matched,
# not in the record, lead-ins shown only by the items they introduce, generated items with
# no seed item). The extras are the generator's rules placing an output in more sections
# than the 2018 report did (e.g. the GFMD side events and workshops among all events).
INFORMATIONAL = {
    "Background and membership": (9, 0, 0, 0),
    "Chairmanships since 2006": (21, 0, 0, 0),
    "Working Groups and Task Forces": (5, 0, 0, 0),
    "Symposia, workshops and panel discussions": (17, 0, 0, 13),
    "Joint Publications": (15, 0, 0, 17),
    "Joint Statements": (37, 0, 0, 11),
    "UN General Assembly High-level Dialogue on International Migration and Development (HLD)": (
        3,
        0,
        0,
        0,
    ),
    "Post-2015 Development Agenda": (6, 0, 0, 5),
    "Contributions to the Global Forum on Migration and Development (GFMD)": (48, 0, 2, 4),
    "UN Summit for Refugees and Migrants": (16, 0, 1, 0),
    "Global Compact for Migration process": (18, 0, 5, 3),
}
# Generated sections the 2018 report has no counterpart for.
UNMATCHED_GENERATED = ["process-agenda-2030"]


@pytest.mark.django_db
def test_the_informational_counts_are_as_measured(faithfulness):
    measured = {
        title: (len(r.matched), len(r.not_in_record), len(r.introduced_only), len(r.extras))
        for title, r in faithfulness.results.items()
    }
    assert measured == INFORMATIONAL, "\n\n".join(
        describe(r, faithfulness.names) for r in faithfulness.results.values()
    )
    keys = set(SECTION_KEYS.values())
    assert [s.key for s in faithfulness.annex if s.key not in keys] == UNMATCHED_GENERATED


def _without(annex, key: str, rows: set[Ref]):
    """A copy of the annex whose section ``key`` lacks the item built from just ``rows`` (of
    the items holding them, the one with the fewest refs)."""
    planted = copy.deepcopy(annex)
    section = next(s for s in planted if s.key == key)
    parts = [section, *section.subsections]
    holding = [
        (len(i.refs), n, i) for n, p in enumerate(parts) for i in p.items if rows <= set(i.refs)
    ]
    _, n, dropped = min(holding, key=lambda h: h[:2])
    parts[n].items.remove(dropped)
    return planted


@pytest.mark.django_db
def test_a_planted_difference_is_reported_by_name(faithfulness):
    """Dropping one statement from the generated annex makes the comparison name it."""
    rows = faithfulness.citing.rows[300]
    annex = _without(faithfulness.annex, "statements", rows)

    results = compare(faithfulness.seed, faithfulness.citing, annex)
    assert [m.item.line for m in results["Joint Statements"].missing] == [300]
    report = describe(results["Joint Statements"], faithfulness.names)
    assert "Joint Statements: 1 of 37 seed items are not in the generated section" in report
    assert (
        "line 300: Joint statement at the 48th Session of the Commission on Population and "
        "Development, 2015" in report
    )
    assert all(faithfulness.names[row] in report for row in rows)
    others = [t for t in TITLES if t != "Joint Statements"]
    assert [results[t].missing for t in others] == [faithfulness.results[t].missing for t in others]


@pytest.mark.django_db
def test_a_summary_item_does_not_stand_in_for_a_missing_admission(faithfulness):
    """ "In 2018, the GMG consisted of 22 members" is built from every membership, those of
    2010 included; it still cannot stand for the dropped "In 2010 WHO and UN-Women ..."."""
    rows = faithfulness.citing.rows[209]
    annex = _without(faithfulness.annex, "background", rows)

    missing = compare(faithfulness.seed, faithfulness.citing, annex)["Background and membership"]
    assert [m.item.line for m in missing.missing] == [209]
    assert "line 209: In 2010 WHO and UN-Women were admitted into the GMG" in describe(
        missing, faithfulness.names
    )
