"""Anonymous pages are cached until the record changes; members' requests never are."""

from __future__ import annotations

import pytest

from gmg.accounts.services import Actor, audit

pytestmark = pytest.mark.django_db


def test_second_request_is_a_hit_until_the_record_changes(client, django_assert_max_num_queries):
    first = client.get("/outputs/?q=migration")
    assert first["X-Page-Cache"] == "miss"
    with django_assert_max_num_queries(1):  # only the record version is read
        second = client.get("/outputs/?q=migration")
    assert second["X-Page-Cache"] == "hit"
    assert second.content == first.content
    audit(by=Actor.system("test"), action="record.touch")  # any write moves the version
    assert client.get("/outputs/?q=migration")["X-Page-Cache"] == "miss"


def test_requests_with_a_session_are_never_cached(client):
    client.cookies["sessionid"] = "x"
    assert "X-Page-Cache" not in client.get("/outputs/")
    assert "X-Page-Cache" not in client.get("/outputs/")


def test_errors_are_not_cached(client):
    assert client.get("/outputs/?year=abc").status_code == 400
    assert "X-Page-Cache" not in client.get("/outputs/?year=abc")


def test_cache_off(client, settings):
    settings.GMG_PAGE_CACHE_SECONDS = 0
    assert "X-Page-Cache" not in client.get("/")
