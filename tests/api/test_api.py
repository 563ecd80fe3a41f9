"""The API answers the record's questions exactly, and bad input gets a clear 4xx."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_bodies_and_lineage(api):
    status, data = api("/api/bodies")
    assert status == 200 and data["count"] == 3
    by_key = {b["key"]: b for b in data["items"]}
    assert by_key["gmg"]["predecessor"] == "geneva-migration-group"
    assert by_key["gmg"]["successor"] == "un-network-on-migration"
    assert by_key["gmg"]["governance_model"] == "rotating_chair"
    network = by_key["un-network-on-migration"]
    assert network["coordinator"] == network["secretariat"] == "IOM"
    assert network["governance_model"] == "coordinator_secretariat"
    assert {o["also_called"] for o in network["organs"]} >= {"Core Group"}
    assert by_key["geneva-migration-group"]["founded"] == "2003-04"
    # "2003" and "April 2003" are compatible precisions, not a conflict.
    assert by_key["geneva-migration-group"]["conflicts"] == []


def test_entities_are_named_by_acronym_with_variant_names(api):
    status, data = api("/api/entities/UN DESA")
    assert status == 200
    assert "United Nations Department of Social and Economic Affairs" in data["variant_names"]
    status, data = api("/api/entities?kind=world_bank")
    assert [e["acronym"] for e in data["items"]] == ["World Bank"]


@pytest.mark.parametrize(
    ("day", "count", "certain"),
    # The GMG and its first admissions are dated "2006" only: certain once 2006 is over.
    [
        ("2006-06-01", 10, 0),
        ("2007-01-15", 10, 10),
        ("2011-06-01", 16, 16),
        ("2010-03-01", 16, 14),
        ("2018-06-01", 22, 22),
    ],
)
def test_members_on_a_day(api, day, count, certain):
    status, data = api(f"/api/members?body=gmg&on={day}")
    assert status == 200
    assert (data["count"], data["certain_count"]) == (count, certain)
    assert len(data["items"]) == count


def test_members_list_names_the_2018_members(api):
    _, data = api("/api/members?body=gmg&on=2018-06-01")
    assert {m["entity"] for m in data["items"]} == {
        "FAO",
        "IFAD",
        "ILO",
        "IOM",
        "OHCHR",
        "UNEP",
        "UN Regional Commissions",
        "UNICEF",
        "UNCTAD",
        "UN DESA",
        "UNDP",
        "UNESCO",
        "UNIDO",
        "UNHCR",
        "UNITAR",
        "UNODC",
        "UNFPA",
        "UNU",
        "UN-Women",
        "World Bank",
        "WFP",
        "WHO",
    }
    assert all(m["sources"] for m in data["items"])


def test_members_outside_the_body_life_say_why(api):
    status, data = api("/api/members?body=gmg&on=2005-01-01")
    assert status == 200 and data["count"] == 0
    assert "did not exist" in data["note"]


@pytest.mark.parametrize(
    ("day", "chairs", "interim", "coordinator", "theme"),
    [
        ("2009-03-01", ["UNCTAD"], True, None, None),
        ("2009-06-01", ["UNITAR"], False, None, None),
        ("2011-03-01", ["UNICEF"], False, None, "Youth and global migration"),
        ("2011-09-01", ["UNESCO"], False, None, "Climate change and global migration"),
        ("2012-02-01", ["UNESCO"], True, None, None),
        ("2013-03-01", ["UN Regional Commissions"], False, "UNESCAP", None),
        ("2015-07-01", ["World Bank"], False, None, None),
        ("2018-03-01", ["FAO", "IOM"], False, None, None),
    ],
)
def test_who_chaired_on_a_day(api, day, chairs, interim, coordinator, theme):
    status, data = api(f"/api/chairs?body=gmg&on={day}")
    assert status == 200 and data["count"] == 1
    term = data["items"][0]
    assert term["chairs"] == chairs
    assert term["co_chaired"] == (len(chairs) > 1)
    assert term["interim"] is interim
    assert term["coordinator"] == coordinator
    assert term["theme"] == theme
    assert term["theme_label"] == (theme or "not stated")


def test_all_chair_terms_without_a_day(api):
    _, data = api("/api/chairs?body=gmg")
    assert data["count"] == 21
    assert [t["chairs"] for t in data["items"]][:2] == [["UNCTAD"], ["UNHCR"]]


def test_no_term_before_2006(api):
    status, data = api("/api/chairs?body=gmg&on=2005-06-01")
    assert status == 200 and data["count"] == 0 and "no chair term" in data["note"]


def test_working_group_co_chairs_and_conflicting_dates(api):
    status, data = api("/api/working-groups")
    assert status == 200 and data["count"] == 5
    status, group = api("/api/working-groups/wg-human-rights-gender")
    assert [c["entity"] for c in group["co_chairs"]] == ["OHCHR", "UNICEF", "UN-Women"]
    assert sorted(c["value"] for c in group["conflicts"]) == ["2012-11", "2013"]
    assert len(group["outputs"]) >= 3
    _, group = api("/api/working-groups/wg-data-research")
    assert [c["entity"] for c in group["co_chairs"]] == ["UN DESA", "IOM"]


def test_outputs_an_entity_led(api):
    _, data = api("/api/outputs?entity=UNDP&role=lead&page_size=100")
    assert [o["key"] for o in data["items"]] == ["cn-2016-09-19-summit-roundtable-1"]


def test_issue_briefs_an_entity_co_led(api):
    _, data = api("/api/outputs?type=issue_brief&entity=UNHCR&role=co_lead")
    assert data["count"] == 1
    assert data["items"][0]["title"].startswith("Issue Brief #2")
    _, data = api("/api/outputs?type=issue_brief&entity=IOM&role=co_lead")
    assert [o["title"][:14] for o in data["items"]] == ["Issue Brief #3"]


def test_full_text_search_is_stemmed_and_ranked(api):
    status, data = api("/api/outputs?q=remittance")
    assert status == 200 and data["count"] >= 4
    assert all("emittance" in (o["title"] + str(o["themes"])) for o in data["items"][:3])
    _, data = api("/api/outputs?q=handbook+migration+data")
    assert data["items"][0]["key"] == "pub-2017-data-handbook"


def test_filters_combine(api):
    _, all_2016 = api("/api/outputs?year=2016&page_size=100")
    _, js_2016 = api("/api/outputs?year=2016&type=joint_statement&page_size=100")
    assert 0 < js_2016["count"] < all_2016["count"]
    assert all(o["type"] == "joint_statement" for o in js_2016["items"])
    _, gcm = api("/api/outputs?process=gcm&from=2018-01-01&to=2018-12-31&page_size=100")
    assert gcm["count"] >= 2 and all("gcm" in o["processes"] for o in gcm["items"])


def test_year_filter_honours_both_conflicting_dates(api):
    for year in (2017, 2018):
        _, data = api(f"/api/outputs?year={year}&q=principles+guidelines")
        assert "pub-principles-guidelines-vulnerable-migrants" in [o["key"] for o in data["items"]]


def test_pagination_carries_a_total(api):
    _, page1 = api("/api/outputs?page_size=50")
    _, page4 = api("/api/outputs?page_size=50&page=4")
    assert page1["count"] == page4["count"] == 153
    assert page1["pages"] == 4 and len(page4["items"]) == 3


def test_output_detail_has_sources_and_conflicts(api):
    status, data = api("/api/outputs/js-2017-02-01-gfmd-fof")
    assert status == 200
    assert {c["value"] for c in data["conflicts"]} == {"joint_statement", "chair_statement"}
    assert len(data["sources"]) == 2 and all(s["line"] for s in data["sources"])


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/api/members?body=gmg&on=2018-02-30", 422, "on"),
        ("/api/members?body=gmg", 422, "on"),
        ("/api/members?body=nope&on=2010-01-01", 404, "unknown body 'nope'"),
        ("/api/chairs?body=gmg&on=yesterday", 422, "on"),
        ("/api/outputs?page=99", 404, "past the last page"),
        ("/api/outputs?page=0", 422, "page"),
        ("/api/outputs?page_size=1000", 422, "page_size"),
        ("/api/outputs?year=abc", 422, "year"),
        ("/api/outputs?type=poem", 422, "type"),
        ("/api/outputs?entity=XYZ", 400, "unknown entity 'XYZ'"),
        ("/api/outputs?from=2018-01-01&to=2017-01-01", 400, "before"),
        ("/api/outputs/no-such-output", 404, "no output"),
        ("/api/working-groups/nope", 404, "unknown working group"),
        ("/api/entities/NOPE", 404, "unknown entity"),
    ],
)
def test_bad_input_gets_a_clear_4xx(api, path, status, says):
    got, data = api(path)
    assert got == status
    assert says in data["detail"]


def test_search_syntax_in_q_is_not_an_error(api):
    for q in ['"unbalanced', "a AND OR NOT", "*", "migration)(", "NEAR(x y)", "ü"]:
        status, data = api(f"/api/outputs?q={q}")
        assert status == 200, q


def test_principals_meetings_and_support_facts(api):
    status, data = api("/api/meetings?body=gmg&kind=principals")
    assert status == 200
    assert [m["date"] for m in data["items"]] == ["2017-04", "2017-11"]
    _, data = api("/api/facts?body=gmg&kind=staff_time")
    assert {(f["entity"], f["date"]) for f in data["items"]} == {
        ("IOM", "2014/2018"),
        ("UN DESA", "2014/2016"),
        ("UNU", "2015"),
    }
    _, data = api("/api/facts?kind=donor")
    assert [f["entity"] for f in data["items"]] == ["SDC"]
    status, data = api("/api/meetings?kind=party")
    assert status == 422
