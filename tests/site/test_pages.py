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
    assert "The impact of climate change on migration" in page
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
