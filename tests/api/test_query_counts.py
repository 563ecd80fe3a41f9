"""Query counts per request stay flat whatever the page size (no N+1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

BUDGET = {
    "/api/outputs?page_size=100": 8,
    "/api/outputs?page_size=100&q=migration": 8,
    "/api/outputs?entity=IOM&year=2016&page_size=100": 10,
    "/api/outputs/pub-2010-mainstreaming-handbook": 12,
    "/api/members?body=gmg&on=2018-06-01": 6,
    "/api/chairs?body=gmg": 6,
    "/api/bodies": 8,
    "/api/entities": 4,
    "/api/meetings": 4,
    "/api/facts?body=gmg": 5,
    "/api/working-groups": 7,
    "/api/working-groups/wg-mainstreaming": 7,
    "/": 12,
    "/outputs/?q=migration": 12,
    "/outputs/pub-2010-mainstreaming-handbook/": 12,
    "/members/": 6,
    "/governance/": 12,
    "/working-groups/wg-mainstreaming/": 11,
    "/members/iom/": 12,
    "/events/": 6,
    "/outputs/?q=migration&type=joint_statement&year=2016&sort=-date": 12,
    "/outputs/feed.atom": 5,
    "/sitemap-outputs.xml": 3,
    "/bodies/gmg/events.ics": 5,
}


@pytest.mark.parametrize(("path", "budget"), BUDGET.items())
def test_queries_per_request(client, path, budget):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    assert len(queries) <= budget, [q["sql"][:120] for q in queries.captured_queries]


def test_list_queries_do_not_grow_with_page_size(client):
    counts = []
    for size in (5, 100):
        with CaptureQueriesContext(connection) as queries:
            client.get(f"/api/outputs?page_size={size}")
        counts.append(len(queries))
    assert counts[0] == counts[1]
