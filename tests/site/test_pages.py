"""Public pages show the record, and bad input is a form error, not a 500."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_home_shows_the_group_its_last_chair_and_lineage(client):
    page = client.get("/").content.decode()
    assert "Global Migration Group" in page
    assert "22" in page  # members on the last day of the GMG
    assert "FAO and IOM" in page  # the last chair term
    for name in ("Geneva Migration Group", "United Nations Network on Migration"):
        assert name in page


def test_members_page_lists_admissions_with_sources(client):
    page = client.get("/members/").content.decode()
    assert "November 2007" in page and "IFAD" in page
    assert "In 2017 IFAD was admitted into the GMG." in page


def test_governance_page_marks_interim_terms_and_themes(client):
    page = client.get("/governance/").content.decode()
    assert page.count('class="tag">interim<') == 2
    assert "Youth and global migration" in page
    assert "coordinated by UNESCAP" in page
    assert "Core Group" in page


def test_search_page_finds_and_filters(client):
    page = client.get("/outputs/?q=climate+change").content.decode()
    assert "The impact of <mark>climate</mark> <mark>change</mark> on migration" in page
    page = client.get("/outputs/?type=issue_brief&entity=OHCHR").content.decode()
    assert "1 output" in page and "Issue Brief #1" in page


def test_output_page_has_citation_and_both_conflicting_values(client):
    page = client.get("/outputs/pub-principles-guidelines-vulnerable-migrants/").content.decode()
    assert 'class="citation"' in page
    assert "states date: <strong>2017</strong>" in page
    assert "states date: <strong>2018</strong>" in page


@pytest.mark.parametrize(
    "query", ["year=abc", "type=poem", "page=0", "q=" + "x" * 600, "sort=sideways"]
)
def test_bad_search_input_is_a_form_error(client, query):
    response = client.get(f"/outputs/?{query}")
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()


def test_unknown_pages_are_404(client):
    assert client.get("/outputs/no-such-thing/").status_code == 404
    assert client.get("/working-groups/no-such-group/").status_code == 404


def test_page_past_the_end_shows_the_last_page(client):
    response = client.get("/outputs/?page=999")
    assert response.status_code == 200
    assert "Page 8 of 8" in response.content.decode()


def test_search_shows_facets_snippets_and_a_respelling(client):
    page = client.get("/outputs/?q=briefing+note+remittances").content.decode()
    assert "<mark>remittances</mark>" in page  # a snippet from the note's own description
    assert 'aria-label="Filters"' in page and ">IFAD</a>" in page
    page = client.get("/outputs/?q=remmittances").content.decode()
    assert "Showing results for “<strong>remittances</strong>”" in page


def test_output_page_says_when_the_sources_disagree(client):
    page = client.get("/outputs/js-2017-02-01-gfmd-fof/").content.decode()
    assert "The sources disagree." in page
    assert "<strong>joint statement</strong>" in page and "<strong>chair statement</strong>" in page


def test_member_page_shows_chair_terms_groups_and_led_outputs(client):
    page = client.get("/members/undp/").content.decode()
    assert "January 2010 – June 2010" in page
    assert "Working Group on Mainstreaming Migration into National Development Strategies" in page
    assert "Roundtable I" in page  # the Summit roundtable UNDP led


def test_events_feeds_sitemap_and_robots(client):
    page = client.get("/events/").content.decode()
    assert "2018 <span" in page and "GMG Photo Exhibition" in page  # the latest year first
    page = client.get("/events/?year=2014").content.decode()
    assert "Good practices for empowering migrant domestic workers" in page
    assert client.get("/events/?year=1999").status_code == 404
    ical = client.get("/bodies/gmg/events.ics")
    assert ical["Content-Type"].startswith("text/calendar")
    body = ical.content.decode()
    assert body.startswith("BEGIN:VCALENDAR") and "DTSTART;VALUE=DATE:20180212" in body
    assert "DTEND;VALUE=DATE:20180223" in body  # 12–22 February 2018, end exclusive
    group_ical = client.get("/working-groups/wg-data-research/events.ics").content.decode()
    assert group_ical.startswith("BEGIN:VCALENDAR")
    atom = client.get("/outputs/feed.atom")
    assert atom["Content-Type"].startswith("application/atom+xml")
    assert atom.content.decode().count("<entry>") == 50
    index = client.get("/sitemap.xml").content.decode()
    assert "sitemap-outputs.xml" in index and "sitemap-pages.xml" in index
    sitemap = client.get("/sitemap-outputs.xml").content.decode()
    assert sitemap.count("<url>") == 153
    robots = client.get("/robots.txt").content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in robots
