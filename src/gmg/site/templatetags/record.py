from django import template

from gmg.core import partial_dates

register = template.Library()


@register.filter
def partial_date(text: str | None) -> str:
    """Render a stored partial date ("2007-11") for people ("November 2007")."""
    if text and "," in text:
        return text
    try:
        return partial_dates.humanise(text)
    except partial_dates.PartialDateError:
        return text or "not stated"
