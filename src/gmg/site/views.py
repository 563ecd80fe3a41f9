"""Public pages. They read through the same selectors as the API."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.db.models import F, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from gmg.core.claims import conflicts_of
from gmg.core.page_cache import cache_public_page
from gmg.core.viewer import Viewer
from gmg.governance.models import ChairTermChair
from gmg.governance.selectors import chair_terms
from gmg.registry import selectors as registry
from gmg.registry.models import Body
from gmg.reports import content as report_charts
from gmg.repository import selectors as repository
from gmg.repository.models import OutputType, Process, Role, Theme
from gmg.repository.search import SearchQuery
from gmg.site import calendar
from gmg.workgroups import selectors as workgroups
from gmg.workgroups.models import WorkingGroup

PAGE_SIZE = 20
LIST_LIMIT = 50  # longer lists on entity and group pages hand over to the repository search
LED_ROLES = (Role.LEAD.value, Role.CO_LEAD.value)


def _main_body(bodies: list[Body]) -> Body:
    """The body the site is about: the one with a rotating chair, else the oldest."""
    ruled = [b for b in bodies if b.governance_model == Body.Governance.ROTATING_CHAIR]
    if not bodies:
        raise Http404("The record is empty: load a bundle with `gmg load`.")
    return (ruled or bodies)[0]


def _last_day(body: Body) -> dt.date:
    today = timezone.now().date()
    return min(today, body.ended_end) if body.ended_end else today


@cache_public_page
def home(request: HttpRequest) -> HttpResponse:
    lineage = list(registry.bodies())
    body = _main_body(lineage)
    last_day = _last_day(body)
    terms = list(chair_terms(body))
    current = next((t for t in reversed(terms) if t.start_date <= last_day), None)
    viewer = Viewer.from_request(request)
    return render(
        request,
        "site/home.html",
        {
            "body": body,
            "current_term": current,
            "member_count": len(registry.members_on(body, last_day)),
            "members_on": last_day,
            "latest": repository.latest_outputs(viewer, body_key=body.key, limit=8),
            "lineage": lineage,
        },
    )


@cache_public_page
def members(request: HttpRequest) -> HttpResponse:
    body = _main_body(list(registry.bodies()))
    memberships = (
        body.memberships.select_related("entity").prefetch_related("citations__document").all()
    )
    return render(
        request,
        "site/members.html",
        {"body": body, "memberships": memberships, "chart": report_charts.membership_chart(body)},
    )


@cache_public_page
def member(request: HttpRequest, slug: str) -> HttpResponse:
    entity = registry.entities().filter(slug=slug).first()
    if entity is None:
        raise Http404("No such entity")
    viewer = Viewer.from_request(request)
    return render(
        request,
        "site/member.html",
        {
            "entity": entity,
            "memberships": entity.memberships.select_related("body").order_by("joined_start"),
            "terms": entity.chair_terms.select_related("body").prefetch_related(
                Prefetch("chair_links", queryset=ChairTermChair.objects.select_related("entity"))
            ),
            "groups": entity.co_chair_links.select_related("group"),
            **repository.outputs_of_entity(
                viewer,
                entity.acronym,
                {"led": LED_ROLES, "other": tuple(r for r in Role.values if r not in LED_ROLES)},
                limit=LIST_LIMIT,
            ),
            "limit": LIST_LIMIT,
        },
    )


@cache_public_page
def governance(request: HttpRequest) -> HttpResponse:
    bodies = list(registry.bodies(with_sources=True))
    body = _main_body(bodies)
    terms = list(chair_terms(body, with_sources=True))
    return render(
        request,
        "site/governance.html",
        {
            "body": body,
            "terms": terms,
            "bodies": bodies,
            "chart": report_charts.chair_chart(body, terms),
        },
    )


@cache_public_page
def working_groups(request: HttpRequest) -> HttpResponse:
    return render(request, "site/working_groups.html", {"groups": workgroups.working_groups()})


@cache_public_page
def working_group(request: HttpRequest, key: str) -> HttpResponse:
    group = workgroups.working_groups().filter(key=key).first()
    if group is None:
        raise Http404("No such working group")
    visible = repository.outputs_visible_to(Viewer.from_request(request)).filter(
        working_group=group
    )
    outputs = list(
        repository.with_list_relations(visible).order_by(
            F("date_start").asc(nulls_last=True), "key"
        )[: LIST_LIMIT + 1]
    )
    return render(
        request,
        "site/working_group.html",
        {"group": group, "outputs": outputs[:LIST_LIMIT], "more": len(outputs) > LIST_LIMIT},
    )


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=500, label="Search the repository")
    type = forms.ChoiceField(required=False, choices=[("", "Any type"), *OutputType.choices])
    year = forms.IntegerField(required=False, min_value=1900, max_value=2200)
    entity = forms.CharField(required=False, max_length=60, label="Agency")
    role = forms.ChoiceField(required=False, choices=[("", "Any role"), *Role.choices])
    working_group = forms.CharField(required=False, max_length=80, label="Working group")
    process = forms.CharField(required=False, max_length=80)
    theme = forms.CharField(required=False, max_length=80)
    sort = forms.ChoiceField(
        required=False,
        choices=[("relevance", "Relevance"), ("-date", "Newest first"), ("date", "Oldest first")],
    )
    page = forms.IntegerField(required=False, min_value=1)

    FILTERS = ("type", "year", "entity", "role", "working_group", "process", "theme")


FACET_TITLES = {
    "type": "Type",
    "year": "Year",
    "entity": "Agency",
    "role": "Role",
    "working_group": "Working group",
    "process": "Process",
    "theme": "Theme",
}


def _facet_labels() -> dict[str, dict[str, str]]:
    return {
        "type": dict(OutputType.choices),
        "role": dict(Role.choices),
        "working_group": dict(WorkingGroup.objects.values_list("key", "name")),
        "process": {p.key: p.short_name or p.name for p in Process.objects.all()},
        "theme": dict(Theme.objects.values_list("key", "name")),
    }


@cache_public_page
def outputs(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    if request.GET and not form.is_valid():
        return render(
            request, "site/outputs.html", {"form": form, "page": None, "facets": []}, status=400
        )
    data = form.cleaned_data if request.GET else {}
    filters = {
        name: str(data[name]) for name in SearchForm.FILTERS if data.get(name) not in (None, "")
    }
    query = SearchQuery(text=data.get("q") or "", filters=filters)
    sort = data.get("sort") or ("relevance" if query.text.strip() else "-date")
    page = repository.search_outputs(
        Viewer.from_request(request),
        query,
        sort=sort,
        page=data.get("page") or 1,
        page_size=PAGE_SIZE,
        with_facets=True,
        clamp_page=True,
    )
    labels = _facet_labels()
    base = {k: v for k, v in request.GET.items() if k != "page" and v}

    def link(**changes: str | None) -> str:
        params = {**base, **changes}
        return "?" + urlencode({k: v for k, v in params.items() if v})

    facets = []
    for name in SearchForm.FILTERS:
        values = page.facets.get(name, [])
        if name == "year":
            values = sorted(values, key=lambda item: item[0], reverse=True)
        selected = filters.get(name, "")
        facets.append(
            {
                "title": FACET_TITLES[name],
                "values": [
                    {
                        "value": value,
                        "label": labels.get(name, {}).get(value, value),
                        "count": count,
                        "selected": value == selected,
                        "url": link(**{name: None if value == selected else value}),
                    }
                    for value, count in values[:30]
                ],
            }
        )
    return render(
        request,
        "site/outputs.html",
        {
            "form": form,
            "page": page,
            "facets": facets,
            "query": query,
            "previous_url": link(page=str(page.page - 1)) if page.page > 1 else "",
            "next_url": link(page=str(page.page + 1)) if page.page < page.pages else "",
            "suggestion_url": link(q=page.suggestion) if page.suggestion else "",
            "any_filter": bool(filters),
            "clear_all": link(**{name: None for name in SearchForm.FILTERS}),
        },
    )


@cache_public_page
def output(request: HttpRequest, key: str) -> HttpResponse:
    from gmg.clearance.selectors import published_record

    viewer = Viewer.from_request(request)
    found = repository.output_detail(viewer, key)
    if found is None:
        raise Http404("No such output")
    conflicts = conflicts_of(found)
    return render(
        request,
        "site/output.html",
        {
            "output": found,
            "conflicts": [
                {"field": name, "values": [(c.value, c.heading) for c in cites]}
                for name, cites in conflicts.items()
            ],
            "related": repository.related_visible(viewer, found),
            "citation": citation_text(request, found),
            "clearance": published_record(viewer, found.pk),
        },
    )


def citation_text(request: HttpRequest, output) -> str:
    year = f" ({output.date_start.year})" if output.date_start else " (n.d.)"
    place = f" {output.location}." if output.location else ""
    url = request.build_absolute_uri(reverse("site:output", args=[output.key]))
    accessed = timezone.now().date().strftime("%-d %B %Y")
    return f"{output.body.name}.{year}. {output.title}.{place} {url} (accessed {accessed})."


@cache_public_page
def events(request: HttpRequest) -> HttpResponse:
    viewer = Viewer.from_request(request)
    body = _main_body(list(registry.bodies()))
    groups = list(WorkingGroup.objects.filter(body=body))
    years = calendar.event_years(viewer, body)
    chosen = request.GET.get("year", "")
    if chosen and chosen not in {label for label, _ in years}:
        raise Http404("No events that year")
    chosen = chosen or (years[0][0] if years else "")
    return render(
        request,
        "site/events.html",
        {
            "body": body,
            "years": years,
            "year": chosen,
            "events": calendar.events_in_year(viewer, body, chosen),
            "groups": groups,
            "feed_limit": calendar.FEED_LIMIT,
        },
    )


@cache_public_page
def body_ical(request: HttpRequest, key: str) -> HttpResponse:
    body = registry.bodies().filter(key=key).first()
    if body is None:
        raise Http404("No such body")
    return calendar.ical_response(Viewer.from_request(request), body=body, request=request)


@cache_public_page
def working_group_ical(request: HttpRequest, key: str) -> HttpResponse:
    group = WorkingGroup.objects.select_related("body").filter(key=key).first()
    if group is None:
        raise Http404("No such working group")
    return calendar.ical_response(Viewer.from_request(request), group=group, request=request)


def robots(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /api/",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")
