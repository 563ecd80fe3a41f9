"""Reads of working groups and task forces."""

from __future__ import annotations

from django.db.models import QuerySet

from gmg.workgroups.models import WorkingGroup


def working_groups() -> QuerySet[WorkingGroup]:
    """Groups with what their pages and the API show: co-chairs, other names, sources."""
    return WorkingGroup.objects.select_related("body").prefetch_related(
        "co_chair_links__entity", "variant_names", "citations__document"
    )
