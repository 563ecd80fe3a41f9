"""Reads of chair terms and meetings."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from gmg.governance.models import ChairTerm, Meeting
from gmg.registry.models import Body


def chair_terms(
    body: Body, on: dt.date | None = None, *, with_sources: bool = False
) -> QuerySet[ChairTerm]:
    """All terms of ``body``, or the one(s) covering the day ``on``."""
    terms = ChairTerm.objects.filter(body=body)
    if on is not None:
        terms = terms.filter(start_date__lte=on, end_date__gte=on)
    terms = terms.select_related("coordinator", "body").prefetch_related("chair_links__entity")
    if with_sources:
        terms = terms.prefetch_related("citations__document")
    return terms


def meetings(body: Body | None = None, *, kind: str | None = None) -> QuerySet[Meeting]:
    found = Meeting.objects.select_related("body").prefetch_related("citations__document")
    if body is not None:
        found = found.filter(body=body)
    if kind:
        found = found.filter(kind=kind)
    return found.order_by("date_start", "key")
