"""The OpenAPI document is served, and the committed copy does not drift from the code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"

pytestmark = pytest.mark.django_db


def test_openapi_is_served_and_lists_every_endpoint(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/bodies",
        "/api/entities",
        "/api/members",
        "/api/chairs",
        "/api/working-groups",
        "/api/working-groups/{key}",
        "/api/outputs",
        "/api/outputs/{key}",
    ]:
        assert path in paths
    operation_ids = [op["operationId"] for ops in paths.values() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids))


def test_committed_openapi_document_matches_the_code(client):
    served = client.get("/api/openapi.json").json()
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert served == committed, "regenerate with: make openapi"
