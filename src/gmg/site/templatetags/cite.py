"""The output page's citation metadata, made from the same CSL item as the cite files."""

from __future__ import annotations

from django import template

from gmg.repository import citations
from gmg.repository.models import Output

register = template.Library()


@register.simple_tag(takes_context=True)
def citation_meta(context, output: Output) -> list[tuple[str, str]]:
    """Highwire Press and Dublin Core (name, content) pairs for ``<meta>`` tags."""
    url = citations.output_url(context["request"], output.key)
    return citations.page_meta(citations.csl_item(output, url))
