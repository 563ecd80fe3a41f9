"""The members' area works end to end for each kind of person (a quick sanity pass)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_viewers_follow_roles_and_the_record(people):
    from gmg.registry.models import Body
    from gmg.workgroups.models import WorkingGroup

    gmg = Body.objects.get(key="gmg")
    group = lambda key: WorkingGroup.objects.get(key=key).pk  # noqa: E731
    unicef = people["unicef"].viewer()
    assert unicef.body_ids == {gmg.pk}
    assert unicef.working_group_ids == {group("wg-human-rights-gender")}  # co-chair, derived
    assert people["fao_data"].viewer().working_group_ids == {group("wg-data-research")}
    assert people["registered"].viewer().body_ids == frozenset()
    assert people["secretariat"].viewer().is_secretariat
    # Without the second factor the secretariat role grants nothing.
    from gmg.accounts.roles import viewer_for

    assert not viewer_for(people["secretariat"].user, verified=False).is_secretariat


def test_pages_open_for_their_people(clients):
    assert clients["unicef"].get("/members-area/").status_code == 200
    assert clients["anonymous"].get("/members-area/").status_code == 302
    assert clients["secretariat"].get("/members-area/audit/").status_code == 200
    assert clients["unicef"].get("/members-area/audit/").status_code == 403
    assert clients["secretariat"].get("/admin/").status_code == 200
    assert clients["unicef"].get("/admin/").status_code == 302
