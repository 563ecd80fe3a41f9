"""An output's citation as a file: CSL-JSON, BibTeX and RIS, for reference managers.

What a viewer may cite is what they may see: the output is read through
``repository.output_detail``, so a hidden output is a 404 here as on its page. The files
are not put in the page cache: each carries the day it was accessed.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse

from gmg.core.viewer import Viewer
from gmg.repository import citations
from gmg.repository import selectors as repository


def citation_view(format: str) -> Callable[[HttpRequest, str], HttpResponse]:
    chosen = citations.FORMATS[format]
    # JSON is shown by browsers; BibTeX and RIS are saved (or opened by a reference manager).
    disposition = "inline" if format == "csl-json" else "attachment"

    def view(request: HttpRequest, key: str) -> HttpResponse:
        found = repository.output_detail(Viewer.from_request(request), key)
        if found is None:
            raise Http404("No such output")
        item = citations.csl_item(found, citations.output_url(request, found.key))
        response = HttpResponse(citations.render(item, format), content_type=chosen.media_type)
        # The key is a slug: nothing to quote in the file name.
        response["Content-Disposition"] = (
            f'{disposition}; filename="gmg-{found.key}.{chosen.extension}"'
        )
        return response

    view.__name__ = view.__qualname__ = f"output_citation_{chosen.extension}"
    return view


output_citation_json = citation_view("csl-json")
output_citation_bib = citation_view("bibtex")
output_citation_ris = citation_view("ris")
