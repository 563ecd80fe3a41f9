"""Loading bundles: bad input is reported whole and writes nothing."""

from __future__ import annotations

import copy

import pytest

from gmg.accounts.models import AuditEntry
from gmg.accounts.services import Actor
from gmg.record.bundle import BundleError, read_bundle
from gmg.record.loader import load_bundle
from gmg.registry.models import Entity
from gmg.repository.models import Output

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")


def test_loading_over_a_record_needs_replace(gmg_bundle):
    with pytest.raises(BundleError, match="--replace"):
        load_bundle(gmg_bundle, by=ACTOR)


def test_a_bad_bundle_lists_every_problem_and_changes_nothing(gmg_bundle):
    bad = copy.deepcopy(gmg_bundle)
    bad["memberships"][0]["entity"] = "NOPE"
    bad["chair_terms"][0]["start"] = "2006-13"
    bad["outputs"][0]["entities"] = [{"entity": "IOM", "role": "sponsor"}]
    bad["outputs"][1]["date"] = "2016-02-30"
    before = (Entity.objects.count(), Output.objects.count(), AuditEntry.objects.count())
    with pytest.raises(BundleError) as caught:
        load_bundle(bad, by=ACTOR, replace=True)
    problems = "\n".join(caught.value.problems)
    assert "unknown entity 'NOPE'" in problems
    assert "'2006-13' is not a real date" in problems
    assert "unknown role 'sponsor'" in problems
    assert "'2016-02-30' is not a real date" in problems
    assert len(caught.value.problems) == 4
    assert (Entity.objects.count(), Output.objects.count(), AuditEntry.objects.count()) == before


def test_replace_loads_the_record_again_and_audits_it(gmg_bundle):
    report = load_bundle(gmg_bundle, by=ACTOR, replace=True)
    assert report.counts["Output"] == 153
    entry = AuditEntry.objects.filter(action="record.load").first()
    assert entry.actor_label == "test"
    assert entry.after["counts"]["Membership"] == 28


def test_read_bundle_refuses_what_is_not_a_bundle(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("format: something-else\n", encoding="utf-8")
    with pytest.raises(BundleError, match="not a bundle"):
        read_bundle(path)
    path.write_text("format: [unclosed\n", encoding="utf-8")
    with pytest.raises(BundleError, match="not valid"):
        read_bundle(path)
    with pytest.raises(BundleError, match="cannot read"):
        read_bundle(tmp_path / "missing.yaml")
