"""Reads of chair terms and meetings."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from gmg.core.viewer import Viewer
from gmg.core.visibility import filter_visible
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


def meetings(
    viewer: Viewer, body: Body | None = None, *, kind: str | None = None
) -> QuerySet[Meeting]:
    """The meetings ``viewer`` may see."""
    found = filter_visible(Meeting.objects.all(), viewer)
    found = found.select_related("body", "working_group").prefetch_related("citations__document")
    if body is not None:
        found = found.filter(body=body)
    if kind:
        found = found.filter(kind=kind)
    return found.order_by("date_start", "key")


def meeting_detail(viewer: Viewer, key: str) -> Meeting | None:
    """A meeting page's meeting with its agenda, participants, decisions and the documents
    the viewer may see (``visible_documents``); None when missing or hidden."""
    from django.db.models import Prefetch

    from gmg.repository.models import Document

    return (
        filter_visible(Meeting.objects.all(), viewer)
        .select_related("body", "working_group")
        .prefetch_related(
            "agenda_items__joint_text",
            "participants__entity",
            "decisions__objections",
            "citations__document",
            Prefetch(
                "documents",
                queryset=filter_visible(Document.objects.all(), viewer).select_related("entity"),
                to_attr="visible_documents",
            ),
        )
        .filter(key=key)
        .first()
    )
