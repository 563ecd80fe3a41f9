"""Events on the calendar page and in iCalendar feeds (RFC 5545, via the icalendar library).

A feed holds only events whose dates are stated to the day: an event known only by its month
or year is listed on the page but left out of the feed, rather than given invented days.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict

from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from icalendar import Calendar, Event

from gmg.core.viewer import Viewer
from gmg.governance.models import Meeting
from gmg.registry.models import Body
from gmg.repository.models import Output, OutputType
from gmg.repository.selectors import outputs_visible_to
from gmg.workgroups.models import WorkingGroup


def _event_outputs(viewer: Viewer, *, body: Body | None = None, group: WorkingGroup | None = None):
    events = outputs_visible_to(viewer).filter(type=OutputType.EVENT)
    if body is not None:
        events = events.filter(body=body)
    if group is not None:
        events = events.filter(working_group=group)
    return events.select_related("working_group").prefetch_related("dates")


def events_by_year(viewer: Viewer, body: Body) -> list[tuple[str, list[Output]]]:
    years: OrderedDict[str, list[Output]] = OrderedDict()
    ordered = _event_outputs(viewer, body=body).order_by(
        F("date_start").desc(nulls_last=True), "key"
    )
    for event in ordered:
        label = str(event.date_start.year) if event.date_start else "Date not stated"
        years.setdefault(label, []).append(event)
    return list(years.items())


def _day_spans(texts: list[str]) -> list[tuple[dt.date, dt.date]]:
    spans = []
    for text in texts:
        parts = text.split("/")
        if all(len(p) == 10 for p in parts):
            spans.append((dt.date.fromisoformat(parts[0]), dt.date.fromisoformat(parts[-1])))
    return spans


def feed_count(viewer: Viewer, *, body: Body) -> int:
    return sum(
        1 for e in _event_outputs(viewer, body=body) if _day_spans([d.text for d in e.dates.all()])
    )


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
    for event in _event_outputs(viewer, body=body, group=group).order_by("date_start", "key"):
        for index, (start, end) in enumerate(_day_spans([d.text for d in event.dates.all()])):
            entry = Event()
            entry.add("uid", f"{event.key}-{index}@gmg-platform")
            entry.add("dtstamp", event.updated_at)
            entry.add("summary", event.title)
            entry.add("dtstart", start)
            entry.add("dtend", end + dt.timedelta(days=1))  # all-day DTEND is exclusive
            if event.location:
                entry.add("location", event.location)
            if event.occasion:
                entry.add("description", event.occasion)
            entry.add("url", request.build_absolute_uri(reverse("site:output", args=[event.key])))
            calendar.add_component(entry)
    if body is not None and group is None:
        for meeting in Meeting.objects.filter(body=body).order_by("date_start"):
            for index, (start, end) in enumerate(
                _day_spans([meeting.date] if meeting.date else [])
            ):
                entry = Event()
                entry.add("uid", f"{meeting.key}-{index}@gmg-platform")
                entry.add("dtstamp", dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC))
                entry.add("summary", meeting.title)
                entry.add("dtstart", start)
                entry.add("dtend", end + dt.timedelta(days=1))
                calendar.add_component(entry)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{(group or body).key}.ics"'  # type: ignore[union-attr]
    return response
