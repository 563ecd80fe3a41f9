from django import template

from gmg.core import partial_dates

register = template.Library()


@register.filter
def partial_date(text: str | None) -> str:
    """Render a stored partial date ("2007-11") for people ("November 2007")."""
    return partial_dates.readable(text)


@register.filter
def get_item(mapping: dict, key: str):
    return mapping.get(key) if mapping else None


@register.filter
def field(form, name: str):
    return form[name]


@register.filter
def humanise_key(value: str) -> str:
    return value.replace("_", " ")
