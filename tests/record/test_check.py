"""``gmg check`` reports the source conflicts it knows, and real inconsistencies as errors."""

from __future__ import annotations

import datetime as dt

import pytest

from gmg.governance.models import ChairTerm
from gmg.record.check import check_record

pytestmark = pytest.mark.django_db

KNOWN_CONFLICTS = {
    ("working group wg-human-rights-gender", "established"),
    ("output pub-remittances-financial-inclusion-women", "date"),
    ("output pub-principles-guidelines-vulnerable-migrants", "date"),
    ("output js-2017-02-01-gfmd-fof", "type"),
    ("output js-2017-04-05-gfmd-fof", "type"),
    ("output js-2018-02-05-gfmd-fof", "type"),
    ("chair term gmg-2018", "runs to 2018-12"),
}


def test_shipped_record_reports_only_the_known_conflicts():
    findings = check_record()
    assert [f for f in findings if f.kind == "error"] == []
    found = {
        (f.subject, next(word for _, word in KNOWN_CONFLICTS if word in f.message))
        for f in findings
    }
    assert found == KNOWN_CONFLICTS
    assert len(findings) == len(KNOWN_CONFLICTS)


def test_compatible_precision_is_not_a_conflict():
    # The Geneva group's founding is stated as "April 2003" and as "2003": both true.
    assert not any("geneva-migration-group" in f.subject for f in check_record())


def test_overlapping_terms_are_an_error():
    term = ChairTerm.objects.get(key="gmg-2006-h2")
    term.start_date = dt.date(2006, 6, 1)
    term.save()
    errors = [str(f) for f in check_record() if f.kind == "error"]
    assert errors == ["error: chair term gmg-2006-h2: overlaps gmg-2006-h1"]
