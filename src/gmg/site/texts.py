"""Pages of joint texts in the members' area: drafting, comments, versions and their
comparison, clearance rounds with the entity grid, the way on after an objection, and
publication. Every write calls ``gmg.clearance.services``, as the API does; every read goes
through ``gmg.clearance.selectors`` with the viewer.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.core.signing import BadSignature, Signer
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.views.decorators.http import require_POST

from gmg.accounts.decorators import signed_in_required
from gmg.accounts.permissions import (
    PermissionDenied,
    answers_for,
    can_answer_for,
    can_comment,
    can_draft_text,
    can_keep_record,
    can_lead_text,
    can_manage_meeting,
)
from gmg.accounts.services import Actor
from gmg.clearance import paragraphs, selectors, services
from gmg.clearance.models import (
    OPEN_FOR_DRAFTING,
    Answer,
    Comment,
    JointText,
    Round,
    Status,
    TextKind,
)
from gmg.core.viewer import Viewer
from gmg.core.visibility import Visibility
from gmg.governance import selectors as governance
from gmg.governance.models import Decision, Meeting
from gmg.registry.models import Body, Entity
from gmg.repository.models import Output, OutputType
from gmg.repository.selectors import outputs_visible_to
from gmg.site.members_area import add_service_errors
from gmg.workgroups.models import WorkingGroup


def _attempt(request: HttpRequest, form: forms.Form, write) -> Any:
    """Run a service call; refusals become the form's errors. Returns the result or None."""
    try:
        return write()
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
    except ValidationError as exc:
        add_service_errors(form, exc)
    return None


def _text_or_404(viewer: Viewer, key: str) -> JointText:
    text = selectors.text_detail(viewer, key)
    if text is None:
        raise Http404("No such text.")
    return text


def _acting(request: HttpRequest) -> tuple[Viewer, Actor]:
    return Viewer.from_request(request), Actor.for_user(request.user)


# -- list and start ----------------------------------------------------------------------------


@signed_in_required
def texts(request: HttpRequest) -> HttpResponse:
    viewer = Viewer.from_request(request)
    found = selectors.texts_visible_to(viewer).prefetch_related("lead_links__entity")
    status = request.GET.get("status", "")
    if status in Status.values:
        found = found.filter(status=status)
    page = Paginator(found, 25).get_page(request.GET.get("page"))
    now = timezone.now()
    # Past an unrecorded deadline the status comes from the answers: load those, once.
    overdue_answers = Answer.objects.filter(round__closed_at=None, round__deadline__lte=now)
    latest = {
        r.text_id: r
        for r in Round.objects.filter(text__in=[t.pk for t in page])
        .order_by("number")
        .prefetch_related(Prefetch("answers", queryset=overdue_answers))
    }
    rows = [(t, selectors.current_status(t, latest.get(t.pk), now), latest.get(t.pk)) for t in page]
    return render(
        request,
        "site/area/texts/list.html",
        {
            "viewer": viewer,
            "rows": rows,
            "page": page,
            "status": status,
            "statuses": Status.choices,
            "awaiting": selectors.rounds_awaiting(viewer, now),
            "can_start": viewer.is_secretariat or bool(answers_for(viewer)),
            "calendar_url": calendar_url(request.user) if request.user.is_authenticated else "",
        },
    )


def _entities() -> Any:
    return Entity.objects.order_by("acronym")


def _multi(label: str, required: bool = False, help_text: str = "") -> forms.Field:
    return forms.ModelMultipleChoiceField(
        queryset=_entities(),
        required=required,
        to_field_name="acronym",
        label=label,
        help_text=help_text,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )


class DraftersField(forms.CharField):
    """Drafters by email, one per line or separated by commas; each must have an account."""

    def clean(self, value: Any) -> list[Any]:
        value = super().clean(value)
        emails = [e.strip().lower() for e in str(value or "").replace(",", "\n").split() if e]
        users = {
            u.username.lower(): u for u in get_user_model().objects.filter(username__in=emails)
        }
        unknown = [e for e in emails if e not in users]
        if unknown:
            raise ValidationError(f"No account for: {', '.join(unknown)}.")
        return [users[e] for e in dict.fromkeys(emails)]


class TextDetailsForm(forms.Form):
    kind = forms.ChoiceField(choices=TextKind.choices)
    occasion = forms.CharField(
        max_length=400, required=False, help_text="e.g. GFMD Friends of the Forum, 5 February 2018"
    )
    event = forms.ModelChoiceField(
        queryset=Output.objects.none(),
        required=False,
        to_field_name="key",
        help_text="The event in the repository where the text is delivered, if listed",
    )
    language = forms.CharField(max_length=35, initial="en", help_text="e.g. en, fr, es")
    leads = _multi("Lead entities", required=True)
    co_leads = _multi("Co-lead entities")
    drafters = DraftersField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Emails of members' area accounts, one per line",
    )
    visibility = forms.ChoiceField(
        choices=[c for c in Visibility.choices if c[0] != Visibility.PUBLIC],
        initial=Visibility.BODY,
        help_text="Who may read the drafts. Publication is a separate step.",
    )
    audience_entities = _multi("Named entities (when visible to named entities only)")

    def __init__(self, *args, viewer: Viewer, **kwargs):
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["event"].queryset = (
            outputs_visible_to(viewer).filter(type=OutputType.EVENT).order_by("-date_start", "key")
        )


class StartTextForm(TextDetailsForm):
    title = forms.CharField(max_length=300)
    body = forms.ModelChoiceField(queryset=Body.objects.all(), to_field_name="key")
    working_group = forms.ModelChoiceField(
        queryset=WorkingGroup.objects.all(),
        required=False,
        to_field_name="key",
        help_text="When the text speaks for a working group",
    )
    meeting = forms.ModelChoiceField(
        queryset=Meeting.objects.none(),
        required=False,
        to_field_name="key",
        help_text="For minutes: the meeting they record",
    )
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 14}),
        max_length=1_000_000,
        help_text="The first draft. Separate paragraphs with a blank line.",
    )
    note = forms.CharField(max_length=2000, required=False, label="Note on this draft")

    field_order = ["title", "kind", "body", "working_group", "meeting", "occasion", "event"]

    def __init__(self, *args, viewer: Viewer, **kwargs):
        super().__init__(*args, viewer=viewer, **kwargs)
        fields: Any = self.fields
        fields["meeting"].queryset = governance.meetings(viewer)


@signed_in_required
def new_text(request: HttpRequest) -> HttpResponse:
    viewer, actor = _acting(request)
    if not (viewer.is_secretariat or answers_for(viewer)):
        raise DjangoPermissionDenied(
            "Texts are started by the secretariat or by a Principal or focal point of a member."
        )
    own = list(answers_for(viewer))
    initial: dict[str, Any] = {
        "leads": list(Entity.objects.filter(pk__in=own).values_list("acronym", flat=True))
    }
    if request.GET.get("meeting"):
        meeting = governance.meeting_detail(viewer, request.GET["meeting"])
        if meeting is not None:
            initial |= {
                "kind": TextKind.MINUTES,
                "meeting": meeting.key,
                "body": meeting.body.key,
                "title": f"Minutes: {meeting.title}"[:300],
            }
    form = StartTextForm(request.POST or None, viewer=viewer, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        text = JointText(
            body=data["body"],
            working_group=data["working_group"],
            meeting=data["meeting"],
            kind=data["kind"],
            title=data["title"],
            occasion=data["occasion"],
            event=data["event"],
            language=data["language"],
            visibility=data["visibility"],
        )
        started = _attempt(
            request,
            form,
            lambda: services.start_text(
                text,
                viewer=viewer,
                by=actor,
                leads=list(data["leads"]),
                co_leads=list(data["co_leads"]),
                drafters=data["drafters"],
                audience_entities=list(data["audience_entities"]),
                first_draft=data["text"],
                note=data["note"],
            ),
        )
        if started is not None:
            messages.success(request, f"“{started.title}” is started, at version 1.")
            return redirect("members_area:text", key=started.key)
    return render(request, "site/area/texts/form.html", {"form": form, "heading": "Start a text"})


@signed_in_required
def edit_text(request: HttpRequest, key: str) -> HttpResponse:
    viewer, actor = _acting(request)
    text = _text_or_404(viewer, key)
    if not can_lead_text(viewer, {link.entity_id for link in text.lead_links.all()}):
        raise DjangoPermissionDenied("Only the leads and the secretariat edit a text's details.")
    links = list(text.lead_links.all())
    initial = {
        "kind": text.kind,
        "occasion": text.occasion,
        "event": text.event.key if text.event else None,
        "language": text.language,
        "leads": [link.entity.acronym for link in links if link.role == "lead"],
        "co_leads": [link.entity.acronym for link in links if link.role == "co_lead"],
        "drafters": "\n".join(u.username for u in text.drafters.all()),
        "visibility": text.visibility,
        "audience_entities": [e.acronym for e in text.audience_entities.all()],
    }
    form = TextDetailsForm(request.POST or None, viewer=viewer, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {name: data[name] for name in services.EDITABLE}
        saved = _attempt(
            request,
            form,
            lambda: services.update_text(
                text,
                viewer=viewer,
                by=actor,
                changes=changes,
                leads=list(data["leads"]),
                co_leads=list(data["co_leads"]),
                drafters=data["drafters"],
                audience_entities=list(data["audience_entities"]),
            ),
        )
        if saved is not None:
            messages.success(request, "The text's details are saved.")
            return redirect("members_area:text", key=text.key)
    return render(
        request,
        "site/area/texts/form.html",
        {"form": form, "heading": f"Details of “{text.title}”", "text": text},
    )


# -- a text, at one version --------------------------------------------------------------------


class CommentForm(forms.Form):
    paragraph = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        choices=Comment.Kind.choices, widget=forms.RadioSelect, initial=Comment.Kind.EDITORIAL
    )
    body = forms.CharField(
        label="Comment", max_length=20_000, widget=forms.Textarea(attrs={"rows": 3})
    )


def _zones() -> list[tuple[str, str]]:
    return [(z, z) for z in _zone_names()]


@cache
def _zone_names() -> list[str]:
    return ["UTC", *sorted(z for z in zoneinfo.available_timezones() if "/" in z)]


class RoundForm(forms.Form):
    deadline = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        help_text="Silence counts as no objection after this moment.",
    )
    time_zone = forms.ChoiceField(choices=_zones, initial="UTC")

    def deadline_instant(self) -> dt.datetime:
        """The deadline as an instant: the wall-clock time read in the chosen zone."""
        naive = (
            timezone.make_naive(self.cleaned_data["deadline"])
            if timezone.is_aware(self.cleaned_data["deadline"])
            else self.cleaned_data["deadline"]
        )
        return naive.replace(tzinfo=zoneinfo.ZoneInfo(self.cleaned_data["time_zone"]))


def _default_deadline(text: JointText) -> dt.datetime:
    hours = services.notice_hours(text.body)
    at = timezone.now().astimezone(dt.UTC) + dt.timedelta(hours=hours + 1)
    return at.replace(minute=0, second=0, microsecond=0, tzinfo=None)


def text(request: HttpRequest, key: str, number: int | None = None) -> HttpResponse:
    """A text at one version (the latest by default), its comments in place, its rounds and
    what the viewer may do next."""
    viewer = Viewer.from_request(request)
    found = _text_or_404(viewer, key)
    versions = list(found.versions.all())
    version = versions[-1] if number is None else selectors.version_of(found, number)
    if version is None:
        raise Http404("No such version.")
    now = timezone.now()
    latest_round = selectors.latest_round(found)
    status = selectors.current_status(found, latest_round, now)
    lead_ids = {link.entity_id for link in found.lead_links.all()}
    drafters = {u.pk for u in found.drafters.all()}
    placed = selectors.comments_on(found, version)
    by_paragraph: dict[int | None, list[selectors.PlacedComment]] = {}
    for p in placed:
        by_paragraph.setdefault(p.paragraph, []).append(p)
    numbered = [
        (i + 1, para, by_paragraph.get(i + 1, [])) for i, para in enumerate(version.paragraphs)
    ]
    is_latest = version.number == versions[-1].number
    can_lead = can_lead_text(viewer, lead_ids)
    state = selectors.grid(latest_round, now) if latest_round else None
    context = {
        "text": found,
        "version": version,
        "versions": versions,
        "is_latest": is_latest,
        "status": status,
        "status_label": Status(status).label,
        "numbered": numbered,
        "general_comments": by_paragraph.get(None, []),
        "open_comments": sum(1 for p in placed if not p.addressed),
        "leads": list(found.lead_links.all()),
        "rounds": list(found.rounds.all()),
        "latest_round": latest_round,
        "state": state,
        "viewer": viewer,
        "can_lead": can_lead,
        "can_draft": can_draft_text(viewer, lead_ids, drafters),
        "can_comment": can_comment(viewer) and status not in services.CLOSED_FOR_COMMENT,
        "can_publish": can_keep_record(viewer) and status == Status.ADOPTED and not found.output_id,
        "drafting_open": status in OPEN_FOR_DRAFTING,
        "comment_form": CommentForm(),
        "round_form": RoundForm(initial={"deadline": _default_deadline(found)}),
        "notice_hours": services.notice_hours(found.body),
        "next_steps": Round.NextStep.choices,
        "decisions": list(found.decisions.select_related("meeting").prefetch_related("objections")),
        "resolutions": [c for c in Comment.Resolution.choices if c[0] != "open"],
    }
    return render(request, "site/area/texts/text.html", context)


@signed_in_required
def new_version(request: HttpRequest, key: str) -> HttpResponse:
    viewer, actor = _acting(request)
    found = _text_or_404(viewer, key)
    if not can_draft_text(
        viewer,
        {link.entity_id for link in found.lead_links.all()},
        {u.pk for u in found.drafters.all()},
    ):
        raise DjangoPermissionDenied("Only the drafters, the leads and the secretariat do this.")
    latest = list(found.versions.all())[-1]

    class VersionForm(forms.Form):
        title = forms.CharField(max_length=300, initial=latest.title)
        text = forms.CharField(
            widget=forms.Textarea(attrs={"rows": 18}),
            max_length=1_000_000,
            initial=paragraphs.join(latest.paragraphs),
            help_text="Separate paragraphs with a blank line.",
        )
        note = forms.CharField(
            max_length=2000,
            required=False,
            label="What changed",
            help_text="e.g. UNHCR's comment on paragraph 2",
        )

    form = VersionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        version = _attempt(
            request,
            form,
            lambda: services.add_version(
                found,
                viewer=viewer,
                by=actor,
                content=data["text"],
                title=data["title"],
                note=data["note"],
            ),
        )
        if version is not None:
            messages.success(request, f"Version {version.number} is saved.")
            return redirect("members_area:text", key=found.key)
    return render(
        request,
        "site/area/texts/form.html",
        {"form": form, "heading": f"New version of “{found.title}”", "text": found},
    )


def compare(request: HttpRequest, key: str) -> HttpResponse:
    viewer = Viewer.from_request(request)
    found = _text_or_404(viewer, key)
    versions = list(found.versions.all())
    try:
        old_n = int(request.GET.get("from") or max(versions[-1].number - 1, 1))
        new_n = int(request.GET.get("to") or versions[-1].number)
    except ValueError:
        return render(
            request,
            "site/area/texts/compare.html",
            {"text": found, "versions": versions, "problem": "Versions are numbers."},
            status=400,
        )
    old, new = selectors.version_of(found, old_n), selectors.version_of(found, new_n)
    if old is None or new is None:
        raise Http404("No such version.")
    return render(
        request,
        "site/area/texts/compare.html",
        {
            "text": found,
            "versions": versions,
            "old": old,
            "new": new,
            "rows": paragraphs.compare(old.paragraphs, new.paragraphs),
            "title_changed": old.title != new.title,
        },
    )


def _back_to(found: JointText, version_number: int | None = None, anchor: str = "") -> str:
    if version_number is None:
        url = reverse("members_area:text", args=[found.key])
    else:
        url = reverse("members_area:text_version", args=[found.key, version_number])
    return url + (f"#{anchor}" if anchor else "")


def _refused(request: HttpRequest, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.error(request, str(exc))


@signed_in_required
@require_POST
def add_comment(request: HttpRequest, key: str, number: int) -> HttpResponse:
    viewer, actor = _acting(request)
    found = _text_or_404(viewer, key)
    version = selectors.version_of(found, number)
    if version is None:
        raise Http404("No such version.")
    form = CommentForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(str(e) for e in errors)}")
        return redirect(_back_to(found, number))
    data = form.cleaned_data
    try:
        comment = services.add_comment(
            version,
            viewer=viewer,
            by=actor,
            kind=data["kind"],
            body=data["body"],
            paragraph=data["paragraph"],
        )
    except (ValidationError, PermissionDenied) as exc:
        _refused(request, exc)
        return redirect(_back_to(found, number))
    messages.success(request, "Your comment is recorded.")
    return redirect(_back_to(found, number, f"comment-{comment.pk}"))


@signed_in_required
@require_POST
def resolve_comment(request: HttpRequest, key: str, comment_id: int) -> HttpResponse:
    viewer, actor = _acting(request)
    found = _text_or_404(viewer, key)
    comment = (
        Comment.objects.filter(pk=comment_id, version__text=found)
        .select_related("version__text")
        .first()
    )
    if comment is None:
        raise Http404("No such comment.")
    try:
        services.resolve_comment(
            comment,
            viewer=viewer,
            by=actor,
            resolution=request.POST.get("resolution", ""),
            reason=request.POST.get("reason", "")[:5000],
        )
    except (ValidationError, PermissionDenied) as exc:
        _refused(request, exc)
    else:
        messages.success(request, "The comment is resolved.")
    return redirect(_back_to(found, None, f"comment-{comment.pk}"))


# -- rounds ------------------------------------------------------------------------------------


@signed_in_required
@require_POST
def open_round(request: HttpRequest, key: str) -> HttpResponse:
    viewer, actor = _acting(request)
    found = _text_or_404(viewer, key)
    form = RoundForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(
                request, f"{field.replace('_', ' ')}: {' '.join(str(e) for e in errors)}"
            )
        return redirect(_back_to(found, None, "open-round"))
    try:
        round_ = services.open_round(
            found, viewer=viewer, by=actor, deadline=form.deadline_instant()
        )
    except (ValidationError, PermissionDenied) as exc:
        _refused(request, exc)
        return redirect(_back_to(found, None, "open-round"))
    messages.success(
        request,
        f"Round {round_.number} is open until {round_.deadline:%d %B %Y, %H:%M} UTC; "
        f"{round_.asked_links.count()} entities are asked.",
    )
    return redirect("members_area:text_round", key=found.key, number=round_.number)


class AnswerForm(forms.Form):
    entity = forms.ModelChoiceField(queryset=Entity.objects.none(), to_field_name="acronym")
    kind = forms.ChoiceField(choices=Answer.Kind.choices, widget=forms.RadioSelect)
    reason = forms.CharField(
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required for an objection: the substantive reason.",
    )
    comments = forms.CharField(
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Editorial comments",
    )


def text_round(request: HttpRequest, key: str, number: int) -> HttpResponse:
    """A round's entity grid, and the answer form for the entities the viewer answers for."""
    viewer = Viewer.from_request(request)
    found = _text_or_404(viewer, key)
    round_ = selectors.round_of(found, number)
    if round_ is None:
        raise Http404("No such round.")
    state = selectors.grid(round_)
    asked_ids = {row.entity.pk for row in state.rows}
    mine = [row.entity for row in state.rows if can_answer_for(viewer, row.entity.pk)]
    form = AnswerForm(request.POST or None, initial={"entity": mine[0].acronym if mine else None})
    fields: Any = form.fields
    fields["entity"].queryset = Entity.objects.filter(pk__in=[e.pk for e in mine])
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('accounts:sign_in')}?next={request.path}")
        if form.is_valid():
            data = form.cleaned_data
            answered = _attempt(
                request,
                form,
                lambda: services.answer(
                    round_,
                    viewer=viewer,
                    by=Actor.for_user(request.user),
                    entity=data["entity"],
                    kind=data["kind"],
                    reason=data["reason"],
                    comments=data["comments"],
                ),
            )
            if answered is not None:
                messages.success(
                    request,
                    f"{answered.entity.acronym}'s answer is recorded: "
                    f"{answered.get_kind_display()}.",
                )
                return redirect("members_area:text_round", key=found.key, number=number)
    lead_ids = {link.entity_id for link in found.lead_links.all()}
    latest = selectors.latest_round(found)
    return render(
        request,
        "site/area/texts/round.html",
        {
            "text": found,
            "round": round_,
            "state": state,
            # After a refused late answer the form stays, to show why it was refused.
            "form": form if mine and (state.is_open or request.method == "POST") else None,
            "asked_mine": bool(asked_ids & answers_for(viewer)),
            "can_lead": can_lead_text(viewer, lead_ids),
            "is_latest": latest is not None and latest.pk == round_.pk,
            "next_steps": Round.NextStep.choices,
            "principals_meetings": governance.meetings(
                viewer, found.body, kind=Meeting.Kind.PRINCIPALS
            ).order_by("-date_start")[:20],
            "viewer": viewer,
        },
    )


@signed_in_required
@require_POST
def next_step(request: HttpRequest, key: str, number: int) -> HttpResponse:
    viewer, actor = _acting(request)
    found = _text_or_404(viewer, key)
    round_ = selectors.round_of(found, number)
    if round_ is None:
        raise Http404("No such round.")
    meeting = None
    if request.POST.get("meeting"):
        meeting = governance.meeting_detail(viewer, request.POST["meeting"])
        if meeting is None:
            messages.error(request, "No such meeting.")
            return redirect("members_area:text_round", key=found.key, number=number)
    try:
        services.choose_next_step(
            round_,
            viewer=viewer,
            by=actor,
            step=request.POST.get("step", ""),
            note=request.POST.get("note", "")[:5000],
            meeting=meeting,
        )
    except (ValidationError, PermissionDenied) as exc:
        _refused(request, exc)
        return redirect("members_area:text_round", key=found.key, number=number)
    messages.success(request, "The way on is recorded.")
    return redirect("members_area:text", key=found.key)


@signed_in_required
@require_POST
def publish(request: HttpRequest, key: str) -> HttpResponse:
    viewer, actor = _acting(request)
    found = _text_or_404(viewer, key)
    try:
        published = services.publish(
            found, viewer=viewer, by=actor, visibility=request.POST.get("visibility", "public")
        )
    except (ValidationError, PermissionDenied) as exc:
        _refused(request, exc)
        return redirect("members_area:text", key=found.key)
    if isinstance(published, Output):
        messages.success(request, "The text is published in the repository.")
        return redirect("site:output", key=published.key)
    messages.success(request, "The minutes are published on the meeting's page.")
    return redirect("members_area:document", uid=published.uid)


@signed_in_required
@require_POST
def withdraw(request: HttpRequest, key: str) -> HttpResponse:
    viewer, actor = _acting(request)
    found = _text_or_404(viewer, key)
    try:
        services.withdraw(
            found, viewer=viewer, by=actor, reason=request.POST.get("reason", "")[:5000]
        )
    except (ValidationError, PermissionDenied) as exc:
        _refused(request, exc)
    else:
        messages.success(request, "The text is withdrawn.")
    return redirect("members_area:text", key=found.key)


# -- the Principals' decision, from the meeting page ---------------------------------------------


@signed_in_required
@require_POST
def decide(request: HttpRequest, key: str) -> HttpResponse:
    viewer, actor = _acting(request)
    meeting = governance.meeting_detail(viewer, key)
    if meeting is None:
        raise Http404("No such meeting.")
    found = selectors.text_detail(viewer, request.POST.get("text", ""))
    if found is None:
        messages.error(request, "Choose a referred text.")
        return redirect("members_area:meeting", key=key)
    objections = list(Entity.objects.filter(acronym__in=request.POST.getlist("objections")))
    try:
        services.decide_on_text(
            meeting,
            found,
            viewer=viewer,
            by=actor,
            outcome=request.POST.get("outcome", ""),
            objections=objections,
            note=request.POST.get("note", "")[:5000],
        )
    except (ValidationError, PermissionDenied) as exc:
        _refused(request, exc)
    else:
        messages.success(request, "The decision is recorded.")
    return redirect("members_area:meeting", key=key)


def meeting_context(viewer: Viewer, meeting: Meeting) -> dict[str, Any]:
    """What the meeting page shows of joint texts: those referred to it (or to the body's
    Principals) awaiting decision, and whether the viewer may record the decision."""
    referred = selectors.texts_visible_to(viewer).filter(status=Status.REFERRED, body=meeting.body)
    return {
        "referred_texts": list(referred) if meeting.kind == Meeting.Kind.PRINCIPALS else [],
        "minutes_texts": list(selectors.texts_visible_to(viewer).filter(meeting=meeting)),
        "can_decide": can_manage_meeting(viewer, meeting.body_id, meeting.working_group_id),
        "decision_outcomes": Decision.Outcome.choices,
        "entities": _entities(),
    }


# -- a person's deadlines as iCalendar -----------------------------------------------------------

_calendar_signer = Signer(salt="gmg.clearance.calendar")


def _password_fingerprint(user: Any) -> str:
    """Changes with the password; hex, so the address stays URL-safe whatever the hash."""
    return salted_hmac("gmg.clearance.calendar", user.password).hexdigest()[:16]


def calendar_url(user: Any) -> str:
    """A private address of the person's clearance deadlines, for calendar applications
    (which cannot sign in). It changes when the person's password changes."""
    token = _calendar_signer.sign(f"{user.pk}.{_password_fingerprint(user)}")
    return f"{settings.GMG_BASE_URL}{reverse('members_area:clearance_calendar', args=[token])}"


def clearance_calendar(request: HttpRequest, token: str) -> HttpResponse:
    from icalendar import Calendar, Event

    try:
        user_pk, fingerprint = _calendar_signer.unsign(token).split(".", 1)
        user = get_user_model().objects.get(pk=int(user_pk), is_active=True)
    except (BadSignature, ValueError, get_user_model().DoesNotExist):
        raise Http404("No such calendar.") from None
    if not constant_time_compare(_password_fingerprint(user), fingerprint):
        raise Http404("No such calendar.")
    from gmg.accounts.roles import viewer_for

    viewer = viewer_for(user, verified=True)
    calendar = Calendar()
    calendar.add("prodid", "-//GMG Platform//clearance deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Clearance deadlines")
    for round_ in selectors.deadlines_for(viewer)[:500]:
        event = Event()
        event.add("uid", f"round-{round_.pk}@{request.get_host()}")
        event.add("summary", f"Clearance deadline: {round_.text.title}")
        event.add("dtstart", round_.deadline)
        event.add("dtend", round_.deadline)
        event.add("dtstamp", round_.opened_at)
        event.add(
            "description",
            f"Version {round_.version.number}, round {round_.number}. Silence after this "
            "moment counts as no objection.",
        )
        event.add(
            "url",
            settings.GMG_BASE_URL
            + reverse("members_area:text_round", args=[round_.text.key, round_.number]),
        )
        calendar.add_component(event)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
