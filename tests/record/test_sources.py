"""The shipped record against the seed report: every quote is real, every listed item is there."""

from __future__ import annotations

from collections import Counter

import pytest

from gmg.record import sources

ANNEX_START = 204  # "## Background and membership": the annex runs from here to the end

# List lines that only introduce or structure a list, and so are no record of their own.
STRUCTURAL_LINES = {
    "Preparation phase (prior to the start of the negotiations)",
    "Thematic sessions",
    "Intergovernmental negotiations April–July 2018",
    "Statements at GFMD Workshops, Friends of the Forum, Thematic or Summit meetings"
    " including the following:",
}


def walk_sources(node, where=""):
    if isinstance(node, dict):
        if {"doc", "heading", "quote"} <= node.keys():
            yield where, node
        for key, value in node.items():
            yield from walk_sources(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk_sources(value, f"{where}[{index}]")


def test_every_cited_quote_is_verbatim_under_its_heading(gmg_bundle):
    missing = [
        f"{where}: {s['quote']!r} under {s['heading']!r}"
        for where, s in walk_sources(gmg_bundle)
        if not sources.locate(s["doc"], s["heading"], s["quote"])
    ]
    assert missing == []


def test_a_wrong_heading_is_caught():
    quote = (
        "Joint statement at the 48th Session of the Commission on Population and Development, 2015"
    )
    assert sources.locate("final-report", "Joint Statements", quote)
    assert not sources.locate("final-report", "Joint Publications", quote)
    assert not sources.locate("final-report", "Joint Statements", quote + " (invented)")


def cited_lines(bundle) -> Counter[int]:
    counts: Counter[int] = Counter()
    for _, s in walk_sources(bundle):
        for line in sources.locate(s["doc"], s["heading"], s["quote"]):
            counts[line.number] += 1
    return counts


def annex_list_items():
    return [
        line
        for line in sources.document_lines("final-report")
        if line.number >= ANNEX_START and line.is_list_item and line.text not in STRUCTURAL_LINES
    ]


def test_every_item_of_the_annex_is_in_the_record(gmg_bundle):
    cited = cited_lines(gmg_bundle)
    uncited = [
        f"line {line.number} ({line.heading}): {line.text}"
        for line in annex_list_items()
        if line.number not in cited
    ]
    assert uncited == []


@pytest.mark.parametrize(
    "heading",
    [
        "Working Group on Mainstreaming Migration into National Development Strategies",
        "Working Group on Data and Research",
        "Working Group on Migration, Human Rights and Gender",
        "Task Force on Migration and Decent Work",
    ],
)
def test_every_listed_working_group_output_is_in_the_record(gmg_bundle, heading):
    cited = cited_lines(gmg_bundle)
    items = [
        line
        for line in sources.document_lines("final-report")
        if line.heading == heading and line.is_list_item
    ]
    assert items, heading
    assert [line.text for line in items if line.number not in cited] == []


def test_an_item_listed_twice_is_one_record_citing_both_places(gmg_bundle):
    by_key = {o["key"]: o for o in gmg_bundle["outputs"]}
    handbook = by_key["pub-2010-mainstreaming-handbook"]
    headings = {s["heading"] for s in handbook["sources"]}
    assert headings == {
        "Working Group on Mainstreaming Migration into National Development Strategies",
        "Joint Publications",
        "Contributions to the Global Forum on Migration and Development (GFMD)",
    }
    titles = [o["title"] for o in gmg_bundle["outputs"]]
    assert len(titles) == len(set(o["key"] for o in gmg_bundle["outputs"]))


def test_annex_sections_are_covered_section_by_section(gmg_bundle):
    """Each annex section's list items are cited by output records (not just any record)."""
    output_lines: Counter[int] = Counter()
    for output in gmg_bundle["outputs"]:
        for s in output["sources"]:
            for line in sources.locate(s["doc"], s["heading"], s["quote"]):
                output_lines[line.number] += 1
    output_sections = {
        "Symposia, workshops and panel discussions",
        "Joint Publications",
        "Joint Statements",
        "UN General Assembly High-level Dialogue on International Migration and Development (HLD)",
        "Post-2015 Development Agenda",
        "Contributions to the Global Forum on Migration and Development (GFMD)",
        "UN Summit for Refugees and Migrants",
        "Global Compact for Migration process",
    }
    missing = [
        line.text
        for line in annex_list_items()
        if line.heading in output_sections
        and line.number not in output_lines
        and not line.text.endswith(":")
    ]
    assert missing == []
