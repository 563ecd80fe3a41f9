"""Export then load into an empty database gives back the same record."""

from __future__ import annotations

import json

import pytest

from gmg.accounts.services import Actor
from gmg.core.viewer import ANONYMOUS
from gmg.record.exporter import csv_tables, export_bundle
from gmg.record.loader import load_bundle

pytestmark = pytest.mark.django_db


def test_round_trip_is_lossless():
    first = export_bundle(ANONYMOUS, version="t")
    load_bundle(json.loads(json.dumps(first)), by=Actor.system("test"), replace=True)
    second = export_bundle(ANONYMOUS, version="t")
    assert second == first
    assert len(first["outputs"]) == 153
    conflicts = [o["key"] for o in first["outputs"] if isinstance(o.get("date"), list)]
    assert sorted(conflicts) == [
        "pub-principles-guidelines-vulnerable-migrants",
        "pub-remittances-financial-inclusion-women",
    ]


def test_export_matches_the_shipped_bundle(gmg_bundle):
    exported = export_bundle(ANONYMOUS, version=gmg_bundle["version"])
    shipped_keys = sorted(o["key"] for o in gmg_bundle["outputs"])
    assert sorted(o["key"] for o in exported["outputs"]) == shipped_keys
    assert len(exported["memberships"]) == len(gmg_bundle["memberships"])


def test_members_only_outputs_stay_out_of_the_public_export():
    from gmg.repository.models import Output

    Output.objects.filter(key="js-2015-cpd48").update(visibility="members")
    exported = export_bundle(ANONYMOUS)
    assert "js-2015-cpd48" not in {o["key"] for o in exported["outputs"]}
    assert all("js-2015-cpd48" not in text for text in csv_tables(exported).values())


def test_csv_has_one_table_per_record_type():
    """The CSV tables are the open-data package's (see test_opendata.py): one per table."""
    tables = csv_tables(export_bundle(ANONYMOUS))
    assert set(tables) >= {"bodies", "entities", "memberships", "chair_terms", "outputs"}
    header, *rows = tables["memberships"].strip().splitlines()
    assert header.startswith("id,body,entity,joined")
    assert len(rows) == 28
