"""Public pages. They read through the same selectors as the API."""

from __future__ import annotations

import datetime as dt
import math

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from gmg.core.viewer import Viewer
from gmg.governance.selectors import chair_terms
from gmg.registry import selectors as registry
from gmg.registry.models import Body
from gmg.repository import selectors as repository
from gmg.repository.models import OutputType, Process, Role, Theme
from gmg.workgroups.models import WorkingGroup

PAGE_SIZE = 20


def _main_body(bodies: list[Body]) -> Body:
    """The body the site is about: the one with a rotating chair, else the oldest."""
    ruled = [b for b in bodies if b.governance_model == Body.Governance.ROTATING_CHAIR]
    if not bodies:
        raise Http404("The record is empty: load a bundle with `gmg load`.")
    return (ruled or bodies)[0]


def home(request: HttpRequest) -> HttpResponse:
    lineage = list(registry.bodies())
    body = _main_body(lineage)
    today = timezone.now().date()
    last_day = min(today, body.ended_end) if body.ended_end else today
    terms = list(chair_terms(body))
    current = next((t for t in reversed(terms) if t.start_date <= last_day), None)
    members = registry.members_on(body, last_day)
    viewer = Viewer.from_request(request)
    latest = repository.page_of(
        repository.filter_outputs(viewer, repository.OutputFilters(body=body.key)),
        page=1,
        page_size=8,
        sort="-date",
    )
    return render(
        request,
        "site/home.html",
        {
            "body": body,
            "current_term": current,
            "member_count": len(members),
            "members_on": last_day,
            "latest": latest,
            "lineage": lineage,
        },
    )


def members(request: HttpRequest) -> HttpResponse:
    body = _main_body(list(registry.bodies()))
    memberships = (
        body.memberships.select_related("entity").prefetch_related("citations__document").all()
    )
    return render(request, "site/members.html", {"body": body, "memberships": memberships})


def governance(request: HttpRequest) -> HttpResponse:
    bodies = list(registry.bodies(with_sources=True))
    body = _main_body(bodies)
    return render(
        request,
        "site/governance.html",
        {"body": body, "terms": chair_terms(body, with_sources=True), "bodies": bodies},
    )


def _groups():
    return WorkingGroup.objects.select_related("body").prefetch_related(
        "co_chair_links__entity", "variant_names", "citations__document"
    )


def working_groups(request: HttpRequest) -> HttpResponse:
    return render(request, "site/working_groups.html", {"groups": _groups()})


def working_group(request: HttpRequest, key: str) -> HttpResponse:
    group = _groups().filter(key=key).first()
    if group is None:
        raise Http404("No such working group")
    outputs = repository.with_list_relations(
        repository.outputs_visible_to(Viewer.from_request(request)).filter(working_group=group)
    ).order_by("date_start", "key")
    return render(request, "site/working_group.html", {"group": group, "outputs": outputs})


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=500, label="Search")
    type = forms.ChoiceField(required=False, choices=[("", "Any type"), *OutputType.choices])
    year = forms.IntegerField(required=False, min_value=1900, max_value=2200)
    entity = forms.CharField(required=False, max_length=60, label="Agency")
    role = forms.ChoiceField(required=False, choices=[("", "Any role"), *Role.choices])
    process = forms.ChoiceField(required=False)
    theme = forms.ChoiceField(required=False)
    sort = forms.ChoiceField(
        required=False,
        choices=[("relevance", "Relevance"), ("-date", "Newest first"), ("date", "Oldest first")],
    )
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["process"].choices = [("", "Any process")] + [  # type: ignore[attr-defined]  # a ChoiceField; stubs say Field
            (p.key, p.short_name or p.name) for p in Process.objects.all()
        ]
        self.fields["theme"].choices = [("", "Any theme")] + [  # type: ignore[attr-defined]  # a ChoiceField; stubs say Field
            (t.key, t.name) for t in Theme.objects.all()
        ]


def outputs(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    items: list = []
    count = 0
    pages = 1
    page = 1
    if request.GET and not form.is_valid():
        return render(
            request, "site/outputs.html", {"form": form, "items": [], "count": 0}, status=400
        )
    data = form.cleaned_data if request.GET else {}
    filters = repository.OutputFilters(
        q=data.get("q") or "",
        type=data.get("type") or "",
        year=data.get("year"),
        entity=data.get("entity") or "",
        role=data.get("role") or "",
        process=data.get("process") or "",
        theme=data.get("theme") or "",
    )
    result = repository.filter_outputs(Viewer.from_request(request), filters)
    count = result.count
    pages = max(1, math.ceil(count / PAGE_SIZE))
    page = min(data.get("page") or 1, pages)
    sort = data.get("sort") or ("relevance" if filters.q else "date")
    items = repository.page_of(result, page=page, page_size=PAGE_SIZE, sort=sort)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "site/outputs.html",
        {
            "form": form,
            "items": items,
            "count": count,
            "page": page,
            "pages": pages,
            "query": query.urlencode(),
            "searched": bool(filters.q),
        },
    )


def output(request: HttpRequest, key: str) -> HttpResponse:
    viewer = Viewer.from_request(request)
    found = repository.output_detail(viewer, key)
    if found is None:
        raise Http404("No such output")
    return render(
        request,
        "site/output.html",
        {
            "output": found,
            "related": repository.related_visible(viewer, found),
            "today": dt.date.today(),  # noqa: DTZ011 - a date for "accessed on" in the citation
        },
    )
