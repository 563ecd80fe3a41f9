"""One way to make a report file, for the command line and the site alike."""

from __future__ import annotations

from dataclasses import dataclass

from gmg.core.viewer import Viewer
from gmg.reports.content import Report, ReportError, annual_report, final_report
from gmg.reports.render import render_html, render_pdf

KINDS = ("final", "annual")
FORMATS = ("html", "pdf")
# The members-only variant is built for the secretariat, who sees everything.
SECRETARIAT = Viewer(is_secretariat=True)


@dataclass(frozen=True)
class ReportRequest:
    kind: str
    body: str
    year: int | None = None
    members_variant: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ReportError(f"There is no {self.kind!r} report: choose final or annual.")
        if self.kind == "annual" and self.year is None:
            raise ReportError("An annual report needs a year (e.g. --year 2016).")

    @property
    def file_name(self) -> str:
        year = f"-{self.year}" if self.kind == "annual" else ""
        variant = "-members" if self.members_variant else ""
        return f"{self.body}-{self.kind}-report{year}{variant}"


def build(request: ReportRequest, viewer: Viewer | None = None) -> Report:
    """The report's content; the public variant is built for the public, whoever asks."""
    from gmg.core.viewer import ANONYMOUS

    reader = (viewer or SECRETARIAT) if request.members_variant else ANONYMOUS
    if request.kind == "final":
        return final_report(reader, request.body, members_variant=request.members_variant)
    assert request.year is not None  # noqa: S101 - checked in __post_init__
    return annual_report(
        reader, request.body, request.year, members_variant=request.members_variant
    )


def produce(
    request: ReportRequest,
    fmt: str,
    *,
    base_url: str = "",
    screen_links: dict[str, str] | None = None,
    viewer: Viewer | None = None,
) -> bytes:
    if fmt not in FORMATS:
        raise ReportError(f"There is no {fmt!r} format: choose html or pdf.")
    report = build(request, viewer)
    if fmt == "pdf":
        return render_pdf(report, base_url=base_url)
    return render_html(report, base_url=base_url, screen_links=screen_links).encode()
