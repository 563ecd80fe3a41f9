"""The public site in a real browser: search, facets, citation, charts, phones, accessibility."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_problems, keep_screenshot

MAIN_PAGES = {
    "home": "/",
    "members": "/members/",
    "member-iom": "/members/iom/",
    "governance": "/governance/",
    "working-groups": "/working-groups/",
    "working-group": "/working-groups/wg-data-research/",
    "repository": "/outputs/?q=migration",
    "output": "/outputs/pub-2017-data-handbook/",
    "events": "/events/",
}


def test_search_and_facets_round_trip_through_the_url(page):
    page.goto("/outputs/")
    page.get_by_label("Search the repository").fill("migration")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/outputs/?q=migration**")
    total = page.get_by_role("status").inner_text()
    assert total.endswith("for “migration”") and int(total.split()[0]) > 20

    filters = page.get_by_role("complementary", name="Filters")
    filters.get_by_role("link", name="Joint statement").click()
    page.wait_for_url("**type=joint_statement**")
    filters = page.get_by_role("complementary", name="Filters")
    filters.get_by_role("link", name="2016", exact=True).click()
    page.wait_for_url("**year=2016**")
    query = parse_qs(urlparse(page.url).query)
    query.pop("sort", None)
    assert query == {"q": ["migration"], "type": ["joint_statement"], "year": ["2016"]}
    narrowed = page.get_by_role("status").inner_text()
    titles = page.locator("ol.outputs > li > a").all_inner_texts()
    types = page.locator("ol.outputs > li .meta .tag").all_inner_texts()
    assert titles and types == ["Joint statement"] * len(titles)
    keep_screenshot(page, "repository-filtered")

    # The same URL, opened fresh, gives the same results with the same filters selected.
    again = page.context.new_page()
    again.goto(page.url)
    assert again.get_by_role("status").inner_text() == narrowed
    assert again.locator("ol.outputs > li > a").all_inner_texts() == titles
    selected = again.locator(".facets a[aria-current=true]").all_inner_texts()
    assert sorted(s.strip("✓ ") for s in selected) == ["2016", "Joint statement"]

    # Removing a filter is one click on it again.
    again.locator(".facets a[aria-current=true]", has_text="2016").click()
    again.wait_for_load_state()
    assert "year=" not in again.url and "type=joint_statement" in again.url


def test_sort_by_date_applies_at_once(page):
    page.goto("/outputs/?q=statement")
    page.get_by_label("Sort by").select_option("-date")
    page.wait_for_url("**sort=-date**")
    # Newest first. (Other browser tests may publish statements on this server today, so
    # the newest year is not always the record's last, 2018.)
    metas = page.locator("ol.outputs > li .meta").all_inner_texts()[:10]
    years = [int(m.group()) for m in (re.search(r"\b(19|20)\d\d\b", t) for t in metas) if m]
    assert len(years) >= 5 and years == sorted(years, reverse=True), metas
    assert max(years) >= 2018


def test_output_page_and_citation_copy(page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/outputs/pub-2017-data-handbook/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Handbook for Improving")
    citation = page.locator("#citation").inner_text()
    assert citation.startswith("Global Migration Group. (2017). Handbook")
    page.get_by_role("button", name="Copy citation").click()
    assert page.evaluate("navigator.clipboard.readText()") == citation
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.locator("details.sources[open] blockquote").count() == 2


def test_charts_render_with_text_alternatives(page):
    for path, name in [("/members/", "Members of the"), ("/governance/", "Chairs of the")]:
        page.goto(path)
        chart = page.get_by_role("img", name=name)
        box = chart.bounding_box()
        assert box and box["width"] > 600 and box["height"] > 150
        assert chart.locator("path, rect, use").count() > 10  # drawn, not an empty frame
        page.get_by_text("The data as a table").click()
        assert page.locator(".chart-data table tbody tr").count() >= 7


def test_empty_result_and_bad_query(page):
    page.goto("/outputs/?q=qqqqzzzzxxxx")
    assert page.get_by_role("status").inner_text().startswith("0 outputs")
    expect(page.get_by_text("Nothing matches")).to_be_visible()
    response = page.goto("/outputs/?year=abc&type=poem")
    assert response.status == 400
    assert page.locator(".errorlist").count() >= 2
    keep_screenshot(page, "repository-bad-query")


def test_misspelt_query_is_corrected(page):
    page.goto("/outputs/?q=climat+chnage")
    expect(page.get_by_text("Showing results for")).to_be_visible()
    assert int(page.get_by_role("status").inner_text().split()[0]) >= 1


def test_phone_viewport(browser, base_url):
    context = browser.new_context(
        base_url=base_url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    for name, path in [
        ("phone-home", "/"),
        ("phone-repository", "/outputs/?q=climate"),
        ("phone-governance", "/governance/"),
    ]:
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px"
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        keep_screenshot(page, name)
    context.close()


def test_keyboard_reaches_content_first(page):
    page.goto("/outputs/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    # The search box and its button are reachable by keyboard alone.
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "id_q":
            break
    assert page.evaluate("document.activeElement.id") == "id_q"


@pytest.mark.parametrize("name", list(MAIN_PAGES))
def test_accessibility_of_main_pages(page, name):
    """axe-core: no WCAG 2.1 A/AA violations (landmarks, labels, contrast, names)."""
    page.goto(MAIN_PAGES[name])
    keep_screenshot(page, name)
    assert axe_problems(page) == []
