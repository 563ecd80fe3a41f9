"""Reports as HTML and PDF. The PDF is the same HTML laid out for print by WeasyPrint:
cover, contents with page numbers, running headers, footnoted sources, vector charts."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.template.loader import render_to_string

from gmg.reports.content import Report

CSS_FILE = Path(__file__).with_name("templates") / "reports" / "report.css"


@cache
def _css() -> str:
    return CSS_FILE.read_text(encoding="utf-8")


def render_html(
    report: Report,
    *,
    base_url: str = "",
    screen_links: dict[str, str] | None = None,
    for_print: bool = False,
) -> str:
    """The report as one self-contained HTML document (styles inline, charts inline SVG, or
    SVG images for print). ``base_url`` (e.g. ``https://example.org``) makes item titles
    link to their pages."""
    return render_to_string(
        "reports/report.html",
        {
            "report": report,
            "css": _css(),
            "base_url": base_url,
            "screen_links": screen_links,
            "for_print": for_print,
        },
    )


def render_pdf(report: Report, *, base_url: str = "") -> bytes:
    """The report as a tagged PDF, with title, author and language in its metadata."""
    from weasyprint import HTML  # imported here: loading pango is only needed for PDFs
    from weasyprint.urls import URLFetcher

    # The HTML is self-contained (the charts are data: URLs): a report makes the server
    # fetch nothing, so text from the record cannot point WeasyPrint at internal addresses
    # or local files.
    inline_only = URLFetcher(allowed_protocols={"data"})

    html = render_html(report, base_url=base_url, for_print=True)
    document = HTML(string=html, url_fetcher=inline_only, base_url=None)
    pdf = document.write_pdf(pdf_tags=True, pdf_identifier=b"gmg-report", uncompressed_pdf=False)
    assert pdf is not None  # noqa: S101 - write_pdf without a target returns the bytes
    return pdf
