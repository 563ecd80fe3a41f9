"""When do two stated values of one field disagree? One rule for the API and ``gmg check``."""

from __future__ import annotations

from gmg.core import partial_dates

DATE_FIELDS = {"date", "established", "founded", "ended"}


def values_disagree(field: str, values: list[str]) -> bool:
    """True when the values cannot all be true at once.

    Dates of different precision agree when they overlap: "2003" and "2003-04" are both true
    of April 2003, so they are not a conflict; "2012-11" and "2013" are.
    """
    if field not in DATE_FIELDS:
        return len(set(values)) > 1
    try:
        spans = [partial_dates.parse(v) for v in values]
    except partial_dates.PartialDateError:
        return len(set(values)) > 1
    return any(not a.overlaps(b) for i, a in enumerate(spans) for b in spans[i + 1 :])


def conflicts_of(record: object) -> dict[str, list]:
    """The fields of ``record`` whose cited values disagree: {field: [Citation, ...]}.

    Expects ``record.citations`` prefetched (with their documents).
    """
    by_field: dict[str, list] = {}
    for citation in record.citations.all():  # type: ignore[attr-defined]  # any cited model
        if citation.field:
            by_field.setdefault(citation.field, []).append(citation)
    return {
        name: cites
        for name, cites in by_field.items()
        if values_disagree(name, [c.value for c in cites])
    }
