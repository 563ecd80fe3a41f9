"""The record answers the seed documents' own figures (each figure is quoted from a source)."""

from __future__ import annotations

import datetime as dt

import pytest

from gmg.core.viewer import ANONYMOUS
from gmg.governance.models import ChairTerm
from gmg.registry.models import Body
from gmg.registry.selectors import members_on
from gmg.repository.models import Output
from gmg.repository.selectors import counts_by_type_and_year

pytestmark = pytest.mark.django_db


def count_on(body_key: str, day: str) -> tuple[int, int]:
    found = members_on(Body.objects.get(key=body_key), dt.date.fromisoformat(day))
    return len(found), sum(1 for m in found if m.certain)


def test_geneva_group_had_six_entities():
    # "established in April 2003 and consisted of six entities"
    assert count_on("geneva-migration-group", "2003-06-01") == (6, 6)
    assert count_on("geneva-migration-group", "2003-03-01") == (0, 0)


def test_gmg_had_22_members_in_2018():
    # "In 2018, the GMG consisted of 22 members"
    assert count_on("gmg", "2018-06-01") == (22, 22)


def test_encyclopedia_count_of_sixteen_matches_2011():
    # "fourteen UN agencies, the World Bank and the International Organisation for Migration"
    assert count_on("gmg", "2011-06-01") == (16, 16)


def test_membership_growth_follows_the_annex():
    assert count_on("gmg", "2007-10-31") == (10, 10)
    assert count_on("gmg", "2007-11-15") == (14, 10)  # "In November 2007": not certain yet
    assert count_on("gmg", "2007-12-01") == (14, 14)
    # WHO and UN-Women joined "in 2010": listed during 2010, but not certainly before its end.
    assert count_on("gmg", "2010-06-01") == (16, 14)
    assert count_on("gmg", "2014-12-31") == (18, 18)
    assert count_on("gmg", "2017-12-31") == (22, 22)


def test_no_members_after_the_gmg_was_replaced():
    assert count_on("gmg", "2019-01-01") == (0, 0)


def test_network_members_are_not_invented():
    network = Body.objects.get(key="un-network-on-migration")
    assert count_on("un-network-on-migration", "2019-06-01") == (0, 0)
    assert "not stated" in network.membership_note
    assert network.coordinator.acronym == "IOM" and network.secretariat.acronym == "IOM"
    assert network.predecessor.key == "gmg"
    assert {o.also_called for o in network.organs.all()} >= {"Core Group"}


def test_chair_terms_cover_2006_to_2018_without_gaps():
    terms = list(ChairTerm.objects.filter(body__key="gmg").order_by("start_date"))
    assert len(terms) == 21
    assert terms[0].start_date == dt.date(2006, 1, 1)
    assert terms[-1].end_date == dt.date(2018, 12, 31)
    for earlier, later in zip(terms, terms[1:], strict=False):
        assert later.start_date == earlier.end_date + dt.timedelta(days=1)
    assert [t.key for t in terms if t.interim] == ["gmg-2009-h1", "gmg-2012-h1"]


@pytest.mark.parametrize(
    ("subtype_or_type", "process", "expected"),
    [
        (
            "multi_stakeholder_meeting",
            "summit-2016",
            7,
        ),  # "Convened seven multi-stakeholder meetings"
        ("concept_note", "summit-2016", 6),  # "the six thematic round tables"
        ("issue_brief", "gcm", 6),  # "inputs to the six issue briefs"
        ("briefing_note", "gcm", 3),  # three thematic briefing notes
    ],
)
def test_stated_counts_of_series(subtype_or_type, process, expected):
    outputs = Output.objects.filter(processes__key=process)
    found = outputs.filter(subtype=subtype_or_type) | outputs.filter(type=subtype_or_type)
    assert found.distinct().count() == expected


def test_counts_in_the_docs_match_the_record():
    from pathlib import Path

    from gmg.record.stats import counts_table_markdown

    docs = (Path(__file__).resolve().parents[2] / "docs" / "record.md").read_text(encoding="utf-8")
    assert counts_table_markdown(ANONYMOUS) in docs


def test_every_output_is_counted_once():
    counts = counts_by_type_and_year(ANONYMOUS)
    assert sum(counts.values()) == Output.objects.filter(visibility="public").count() == 153
