"""Events on the calendar page and in iCalendar feeds (RFC 5545, via the icalendar library).

A feed holds only events whose dates are stated to the day: an event known only by its month
or year is listed on the page but left out of the feed, rather than given invented days.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F
from django.db.models.functions import ExtractYear
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from icalendar import Calendar, Event

from gmg.core.viewer import Viewer
from gmg.core.visibility import filter_visible
from gmg.governance.models import Meeting
from gmg.registry.models import Body
from gmg.repository.models import Output, OutputType
from gmg.repository.selectors import outputs_visible_to
from gmg.workgroups.models import WorkingGroup

FEED_LIMIT = 2000  # the most recent events a feed carries; calendars poll feeds often
UNDATED = "not-stated"


def _event_outputs(viewer: Viewer, *, body: Body | None = None, group: WorkingGroup | None = None):
    events = outputs_visible_to(viewer).filter(type=OutputType.EVENT)
    if body is not None:
        events = events.filter(body=body)
    if group is not None:
        events = events.filter(working_group=group)
    return events


def event_years(viewer: Viewer, body: Body) -> list[tuple[str, int]]:
    """(year, count) of the body's events, newest first; undated events last."""
    rows = (
        _event_outputs(viewer, body=body)
        .annotate(y=ExtractYear("date_start"))
        .values("y")
        .annotate(n=Count("pk"))
        .order_by(F("y").desc(nulls_last=True))
    )
    return [(str(r["y"]) if r["y"] else UNDATED, r["n"]) for r in rows]


def events_in_year(viewer: Viewer, body: Body, year: str) -> list[Output]:
    events = _event_outputs(viewer, body=body)
    if year == UNDATED:
        events = events.filter(date_start__isnull=True)
    elif year:
        events = events.filter(date_start__year=int(year))
    else:
        return []
    return list(events.prefetch_related("dates").order_by("date_start", "key"))


def _day_spans(texts: list[str]) -> list[tuple[dt.date, dt.date]]:
    spans = []
    for text in texts:
        parts = text.split("/")
        if all(len(p) == 10 for p in parts):
            spans.append((dt.date.fromisoformat(parts[0]), dt.date.fromisoformat(parts[-1])))
    return spans


def _all_day(uid: str, summary: str, start: dt.date, end: dt.date, stamp: dt.datetime) -> Event:
    entry = Event()
    entry.add("uid", f"{uid}@gmg-platform")
    entry.add("dtstamp", stamp)
    entry.add("summary", summary)
    entry.add("dtstart", start)
    entry.add("dtend", end + dt.timedelta(days=1))  # all-day DTEND is exclusive
    return entry


def ical_response(
    viewer: Viewer,
    *,
    request: HttpRequest,
    body: Body | None = None,
    group: WorkingGroup | None = None,
) -> HttpResponse:
    name = group.name if group else (body.name if body else "")
    calendar = Calendar()
    calendar.add("prodid", "-//GMG Platform//Events//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{name}: events")
    calendar.add(
        "x-wr-caldesc",
        f"Events stated to the day, the most recent {FEED_LIMIT} at most. "
        "Events known only by month or year are on the website's events page.",
    )
    events = (
        _event_outputs(viewer, body=body, group=group)
        .prefetch_related("dates")
        .order_by(F("date_start").desc(nulls_last=True), "key")[:FEED_LIMIT]
    )
    for event in events:
        for index, (start, end) in enumerate(_day_spans([d.text for d in event.dates.all()])):
            entry = _all_day(f"{event.key}-{index}", event.title, start, end, event.updated_at)
            if event.location:
                entry.add("location", event.location)
            if event.occasion:
                entry.add("description", event.occasion)
            entry.add("url", request.build_absolute_uri(reverse("site:output", args=[event.key])))
            calendar.add_component(entry)
    if body is not None and group is None:
        for meeting in filter_visible(Meeting.objects.filter(body=body), viewer).order_by(
            "date_start"
        ):
            spans = _day_spans([meeting.date] if meeting.date else [])
            for index, (start, end) in enumerate(spans):
                stamp = dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC)
                calendar.add_component(
                    _all_day(f"{meeting.key}-{index}", meeting.title, start, end, stamp)
                )
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    key = group.key if group else (body.key if body else "events")
    response["Content-Disposition"] = f'inline; filename="{key}.ics"'
    return response
