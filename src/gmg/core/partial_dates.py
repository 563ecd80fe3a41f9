"""Partial dates: a year, a month or a day, as precise as the source and no more.

The record stores the text the bundle gave (``2007-11``, ``2016-02-25/2016-02-26``) together
with the first and last possible day, so "who was a member on D" is an indexed range query.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

_PART = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


class PartialDateError(ValueError):
    """The text is not a partial date or range this platform understands."""


@dataclass(frozen=True)
class PartialDate:
    text: str
    start: dt.date  # earliest day the text allows
    end: dt.date  # latest day the text allows
    precision: str  # "year", "month", "day" (of the start), "range" for an interval

    @property
    def is_day(self) -> bool:
        return self.precision == "day"

    def overlaps(self, other: PartialDate) -> bool:
        return self.start <= other.end and other.start <= self.end

    def __str__(self) -> str:
        return self.text


def _parse_part(text: str) -> tuple[dt.date, dt.date, str]:
    match = _PART.match(text.strip())
    if not match:
        raise PartialDateError(f"{text!r} is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD")
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    day = int(match.group(3)) if match.group(3) else None
    try:
        if month is None:
            return dt.date(year, 1, 1), dt.date(year, 12, 31), "year"
        if day is None:
            last = calendar.monthrange(year, month)[1]
            return dt.date(year, month, 1), dt.date(year, month, last), "month"
        exact = dt.date(year, month, day)
    except ValueError as exc:
        raise PartialDateError(f"{text!r} is not a real date: {exc}") from exc
    return exact, exact, "day"


def parse(text: str | int) -> PartialDate:
    """Parse ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or a ``start/end`` range of those."""
    text = str(text).strip()
    if "/" in text:
        first, _, last = text.partition("/")
        start, _, _ = _parse_part(first)
        _, end, _ = _parse_part(last)
        if end < start:
            raise PartialDateError(f"{text!r} ends before it starts")
        return PartialDate(text, start, end, "range")
    start, end, precision = _parse_part(text)
    return PartialDate(text, start, end, precision)


def parse_optional(text: str | int | None) -> PartialDate | None:
    if text is None or text == "":
        return None
    return parse(text)


_MONTHS = [calendar.month_name[m] for m in range(13)]


def humanise(text: str | None) -> str:
    """``2016-03`` -> ``March 2016``; a missing date is "not stated"."""
    if not text:
        return "not stated"

    def one(part: str) -> str:
        start, _, precision = _parse_part(part)
        if precision == "year":
            return str(start.year)
        if precision == "month":
            return f"{_MONTHS[start.month]} {start.year}"
        return f"{start.day} {_MONTHS[start.month]} {start.year}"

    if "/" in text:
        first, _, last = text.partition("/")
        return f"{one(first)} – {one(last)}"
    return one(text)


def derive_span(
    obj: object,
    field: str,
    *,
    start: str | None = None,
    end: str | None = None,
    required: bool = False,
) -> PartialDate | None:
    """Set ``obj.<start>``/``obj.<end>`` from the partial date in ``obj.<field>``.

    For a model's ``clean()``: a bad or missing date is a ``ValidationError`` on ``field``.
    """
    from django.core.exceptions import ValidationError

    text = str(getattr(obj, field) or "").strip()
    span = None
    if text:
        try:
            span = parse(text)
        except PartialDateError as exc:
            raise ValidationError({field: str(exc)}) from exc
    elif required:
        raise ValidationError({field: "A date is required (YYYY, YYYY-MM, YYYY-MM-DD or a/b)."})
    if start:
        setattr(obj, start, span.start if span else None)
    if end:
        setattr(obj, end, span.end if span else None)
    return span


def readable(text: str | None) -> str:
    """Any stored date text for people: a partial date humanised ("November 2007"), a list
    of dates ("2008, 2009") as it is, and a missing one as "not stated"."""
    if text and "," in text:
        return text
    try:
        return humanise(text)
    except PartialDateError:
        return text or "not stated"
