"""Done when: every item of the report's annex can be found by searching words of its title,
and narrowed by agency, year and type."""

from __future__ import annotations

import pytest

from gmg.core.viewer import ANONYMOUS
from gmg.record import sources
from gmg.repository.models import Output
from gmg.repository.search import SearchQuery, words
from gmg.repository.selectors import search_outputs

pytestmark = pytest.mark.django_db

ANNEX_START = 204
COMMON = {
    "gmg",
    "joint",
    "statement",
    "migration",
    "international",
    "development",
    "the",
    "and",
    "for",
    "with",
    "united",
    "nations",
    "global",
    "group",
    "session",
    "event",
}


def annex_outputs() -> list[Output]:
    annex_lines = {
        line.number for line in sources.document_lines("final-report") if line.number >= ANNEX_START
    }
    found = []
    for output in Output.objects.prefetch_related("citations", "years", "entity_links__entity"):
        if any(c.line in annex_lines for c in output.citations.all()):
            found.append(output)
    return found


def distinctive_words(title: str, count: int = 3) -> str:
    candidates = [w for w in words(title) if w not in COMMON and len(w) > 3 and not w.isdigit()]
    return " ".join(sorted(candidates, key=len, reverse=True)[:count])


def test_every_annex_item_is_found_by_words_of_its_title():
    outputs = annex_outputs()
    assert len(outputs) > 120
    missing = []
    for output in outputs:
        query = distinctive_words(output.title)
        page = search_outputs(ANONYMOUS, SearchQuery(text=query), page_size=100)
        if output.key not in [o.key for o in page.outputs]:
            missing.append(f"{output.key}: {query!r}")
    assert missing == []


def test_annex_items_can_be_narrowed_by_agency_year_and_type():
    narrowed = 0
    for output in annex_outputs():
        links = list(output.entity_links.all())
        years = [y.year for y in output.years.all()]
        if not links or not years:
            continue
        filters = {"entity": links[0].entity.acronym, "year": str(years[0]), "type": output.type}
        page = search_outputs(
            ANONYMOUS,
            SearchQuery(text=distinctive_words(output.title, 2), filters=filters),
            page_size=100,
        )
        assert output.key in [o.key for o in page.outputs], (output.key, filters)
        assert all(o.type == output.type for o in page.outputs)
        narrowed += 1
    assert narrowed >= 18  # annex items that name an agency and a year
