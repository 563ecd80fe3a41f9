"""Reports on the site: the public final and annual reports (HTML and PDF), and for the
secretariat the members-only variants and the forewords.

The content is built by ``gmg.reports`` for a viewer: the public variant for the anonymous
viewer whoever asks, the members' variant for the secretariat only.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import parse_etags

from gmg.accounts.decorators import secretariat_required
from gmg.accounts.services import Actor
from gmg.core.derived_files import open_derived
from gmg.core.page_cache import cache_public_page
from gmg.core.viewer import ANONYMOUS, Viewer
from gmg.registry import selectors as registry
from gmg.reports.content import ReportError, report_years
from gmg.reports.models import Foreword
from gmg.reports.produce import ReportRequest, produce
from gmg.reports.services import MAX_FOREWORD, set_foreword
from gmg.repository.selectors import outputs_visible_to
from gmg.site.members_area import add_service_errors


def _request(body: str, year: int | None, members: bool) -> ReportRequest:
    return ReportRequest(
        kind="annual" if year is not None else "final",
        body=body,
        year=year,
        members_variant=members,
    )


def _links(request: ReportRequest) -> dict[str, str]:
    prefix = "members_area:" if request.members_variant else "site:"
    args = [request.body, request.year] if request.year is not None else [request.body]
    name = "annual_report" if request.year is not None else "final_report"
    return {
        "back": reverse(f"{prefix}reports"),
        "pdf": reverse(f"{prefix}{name}_pdf", args=args),
    }


def _html(http: HttpRequest, wanted: ReportRequest) -> HttpResponse:
    try:
        content = produce(
            wanted,
            "html",
            base_url=http.build_absolute_uri("/").rstrip("/"),
            screen_links=_links(wanted),
            viewer=Viewer.from_request(http),
        )
    except ReportError as exc:
        raise Http404(str(exc)) from exc
    return HttpResponse(content, content_type="text/html; charset=utf-8")


def _pdf(http: HttpRequest, wanted: ReportRequest) -> HttpResponse | FileResponse:
    base_url = http.build_absolute_uri("/").rstrip("/")
    viewer = Viewer.from_request(http)
    try:
        # Fail fast (a 404) on an unknown body or year, before anything is built.
        _check(wanted)
        file, etag = open_derived(
            f"{wanted.file_name}-{_slug(base_url)}",
            ".pdf",
            lambda: produce(wanted, "pdf", base_url=base_url, viewer=viewer),
        )
    except ReportError as exc:
        raise Http404(str(exc)) from exc
    response: HttpResponse | FileResponse
    if etag in parse_etags(http.headers.get("If-None-Match", "")):
        file.close()
        response = HttpResponseNotModified()
    else:
        response = FileResponse(
            file,
            content_type="application/pdf",
            as_attachment=True,
            filename=f"{wanted.file_name}.pdf",
        )
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache" if wanted.members_variant else "no-cache"
    return response


def _slug(base_url: str) -> str:
    """The site address the links in a PDF point at, as part of its cached file's name."""
    import hashlib

    return hashlib.sha256(base_url.encode()).hexdigest()[:8]


def _check(wanted: ReportRequest) -> None:
    from gmg.reports.content import find_body

    body = find_body(wanted.body)
    if wanted.year is not None and wanted.year not in report_years(ANONYMOUS, body):
        raise ReportError(f"The {body.name} has no year {wanted.year} in the record.")


def report_catalogue() -> list[dict]:
    """The reports there are: for each body with a record, its final and annual reports."""
    found = []
    visible = outputs_visible_to(ANONYMOUS)
    for body in registry.bodies().order_by("founded_start", "key"):
        # What the public may see decides, so hidden outputs never add a body to the list.
        if visible.filter(body=body).exists() or body.chair_terms.exists():
            found.append({"body": body, "years": report_years(ANONYMOUS, body)})
    return found


@cache_public_page
def reports(request: HttpRequest) -> HttpResponse:
    return render(request, "site/reports.html", {"catalogue": report_catalogue()})


@cache_public_page
def final_report(request: HttpRequest, body: str) -> HttpResponse:
    return _html(request, _request(body, None, False))


def final_report_pdf(request: HttpRequest, body: str) -> HttpResponse | FileResponse:
    return _pdf(request, _request(body, None, False))


@cache_public_page
def annual_report(request: HttpRequest, body: str, year: int) -> HttpResponse:
    return _html(request, _request(body, year, False))


def annual_report_pdf(request: HttpRequest, body: str, year: int) -> HttpResponse | FileResponse:
    return _pdf(request, _request(body, year, False))


# --- the members' area: the members-only variants and the forewords ------------------------


class ForewordForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12}),
        required=False,
        max_length=MAX_FOREWORD,
        help_text="Paragraphs separated by a blank line. Leave empty to show the placeholder.",
    )


def _foreword_choices(catalogue: list[dict]) -> list[tuple[str, str, str]]:
    """(body key, report key, label) for every report that can have a foreword."""
    choices = []
    for entry in catalogue:
        body = entry["body"]
        choices.append((body.key, "final", f"{body.short_name or body.name}: final report"))
        choices += [
            (body.key, f"annual-{y}", f"{body.short_name or body.name}: annual report {y}")
            for y in entry["years"]
        ]
    return choices


@secretariat_required
def area_reports(request: HttpRequest) -> HttpResponse:
    catalogue = report_catalogue()
    choices = _foreword_choices(catalogue)
    default = (catalogue[0]["body"].key, "final") if catalogue else ("", "final")
    picked = request.GET.get("pick", "")
    if "|" in picked:  # the chooser sends "body|report"
        body_key, _, report_key = picked.partition("|")
        chosen = (body_key, report_key)
    else:
        chosen = (request.GET.get("body", default[0]), request.GET.get("report", default[1]))
    if request.method == "POST":
        chosen = (request.POST.get("body", ""), request.POST.get("report", ""))
    if choices and chosen not in {(b, r) for b, r, _ in choices}:
        raise Http404("No such report.")
    current = Foreword.objects.filter(body__key=chosen[0], report=chosen[1]).first()
    form = ForewordForm(request.POST or None, initial={"text": current.text if current else ""})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                set_foreword(
                    Viewer.from_request(request),
                    body_key=chosen[0],
                    report=chosen[1],
                    text=form.cleaned_data["text"],
                    by=Actor.for_user(request.user),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "The foreword is saved; the reports show it now.")
                return redirect(
                    f"{reverse('members_area:reports')}?body={chosen[0]}&report={chosen[1]}"
                )
        status = 400
    return render(
        request,
        "site/area/reports.html",
        {
            "catalogue": catalogue,
            "choices": choices,
            "chosen": chosen,
            "chosen_label": next((label for b, r, label in choices if (b, r) == chosen), ""),
            "form": form,
            "current": current,
            "viewer": Viewer.from_request(request),
        },
        status=status,
    )


@secretariat_required
def area_final_report(request: HttpRequest, body: str) -> HttpResponse:
    return _html(request, _request(body, None, True))


@secretariat_required
def area_final_report_pdf(request: HttpRequest, body: str) -> HttpResponse | FileResponse:
    return _pdf(request, _request(body, None, True))


@secretariat_required
def area_annual_report(request: HttpRequest, body: str, year: int) -> HttpResponse:
    return _html(request, _request(body, year, True))


@secretariat_required
def area_annual_report_pdf(
    request: HttpRequest, body: str, year: int
) -> HttpResponse | FileResponse:
    return _pdf(request, _request(body, year, True))
