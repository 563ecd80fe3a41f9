"""The members' area: a dashboard, shared documents, meeting pages and the audit log.

Every read goes through the selectors, which take the viewer; a document or meeting the
viewer may not see is a 404, exactly as one that does not exist.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from gmg.accounts.decorators import secretariat_required, signed_in_required
from gmg.accounts.models import AuditEntry
from gmg.accounts.permissions import PermissionDenied, can_edit_document
from gmg.accounts.services import Actor
from gmg.clearance.selectors import rounds_awaiting
from gmg.core.viewer import Viewer
from gmg.core.visibility import Visibility, can_see
from gmg.governance import selectors as governance
from gmg.governance.models import Meeting
from gmg.registry.models import Body, Entity
from gmg.repository import selectors as repository
from gmg.repository.models import Document, OutputEntity
from gmg.repository.services import delete_document, share_document
from gmg.workgroups.models import WorkingGroup


@signed_in_required
def dashboard(request: HttpRequest) -> HttpResponse:
    viewer = Viewer.from_request(request)
    documents = repository.documents_visible_to(viewer)
    mine = documents.filter(entity_id__in=viewer.entity_ids) if viewer.entity_ids else None
    agency_outputs = []
    if viewer.entity_ids:
        linked = OutputEntity.objects.filter(entity_id__in=viewer.entity_ids).values("output_id")
        agency_outputs = list(
            repository.with_list_relations(
                repository.outputs_visible_to(viewer).filter(pk__in=linked), vocabularies=False
            ).order_by("-date_start", "key")[:10]
        )
    meetings = governance.meetings(viewer).filter(
        Q(date_start__gte=timezone.localdate() - dt.timedelta(days=365)) | Q(date_start=None)
    )
    return render(
        request,
        "site/area/dashboard.html",
        {
            "viewer": viewer,
            "recent": documents.exclude(visibility=Visibility.PUBLIC)[:10],
            "mine": mine[:10] if mine is not None else [],
            "agency_outputs": agency_outputs,
            "groups": WorkingGroup.objects.filter(pk__in=viewer.working_group_ids).select_related(
                "body"
            ),
            "bodies": Body.objects.filter(pk__in=viewer.body_ids),
            "meetings": list(meetings.order_by("-date_start")[:10]),
            "entity": Entity.objects.filter(pk__in=viewer.entity_ids).first(),
            "awaiting": rounds_awaiting(viewer),
        },
    )


class DocumentForm(forms.Form):
    title = forms.CharField(max_length=300)
    kind = forms.ChoiceField(choices=Document.Kind.choices, initial=Document.Kind.DOCUMENT)
    file = forms.FileField(
        required=False, help_text="PDF, Word, Excel, PowerPoint, OpenDocument, images, text"
    )
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), required=False, help_text="A note, or a summary"
    )
    body = forms.ModelChoiceField(queryset=Body.objects.none(), to_field_name="key")
    working_group = forms.ModelChoiceField(
        queryset=WorkingGroup.objects.none(), required=False, to_field_name="key"
    )
    meeting = forms.ModelChoiceField(
        queryset=Meeting.objects.none(), required=False, to_field_name="key"
    )
    visibility = forms.ChoiceField(choices=Visibility.choices, initial=Visibility.BODY)
    audience_entities = forms.ModelMultipleChoiceField(
        queryset=Entity.objects.order_by("acronym"),
        required=False,
        to_field_name="acronym",
        label="Named entities (when visible to named entities only)",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    def __init__(self, *args, viewer: Viewer, **kwargs):
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        groups = (
            WorkingGroup.objects.all()
            if viewer.is_secretariat
            else WorkingGroup.objects.filter(pk__in=viewer.working_group_ids)
        )
        # The bodies the viewer's entity belongs to, and those of the viewer's groups.
        fields["body"].queryset = (
            Body.objects.all()
            if viewer.is_secretariat
            else Body.objects.filter(
                Q(pk__in=viewer.body_ids) | Q(working_groups__in=groups)
            ).distinct()
        )
        fields["working_group"].queryset = groups
        fields["meeting"].queryset = governance.meetings(viewer)
        if not viewer.is_secretariat:
            fields["visibility"].choices = [
                c for c in Visibility.choices if c[0] != Visibility.PUBLIC
            ]


@signed_in_required
def documents(request: HttpRequest) -> HttpResponse:
    viewer = Viewer.from_request(request)
    found = repository.documents_visible_to(viewer)
    q = request.GET.get("q", "").strip()
    if q:
        found = found.filter(Q(title__icontains=q) | Q(text__icontains=q))
    group = request.GET.get("working_group", "")
    if group:
        found = found.filter(working_group__key=group)
    page = Paginator(found, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "site/area/documents.html",
        {"page": page, "q": q, "viewer": viewer},
    )


@signed_in_required
def new_document(request: HttpRequest) -> HttpResponse:
    viewer = Viewer.from_request(request)
    initial = {}
    if request.GET.get("meeting"):
        meeting = governance.meeting_detail(viewer, request.GET["meeting"])
        if meeting is not None:
            initial = {"meeting": meeting.key, "body": meeting.body.key}
    form = DocumentForm(request.POST or None, request.FILES or None, viewer=viewer, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        document = Document(
            title=data["title"],
            kind=data["kind"],
            text=data["text"],
            body=data["body"],
            working_group=data["working_group"],
            meeting=data["meeting"],
            visibility=data["visibility"],
            entity_id=next(iter(viewer.entity_ids), None),
            uploaded_by_id=request.user.pk,
        )
        try:
            share_document(
                document,
                viewer=viewer,
                by=Actor.for_user(request.user),
                upload=data["file"],
                audience_entities=data["audience_entities"],
            )
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"“{document.title}” is shared.")
            return redirect("members_area:document", uid=document.uid)
    return render(request, "site/area/document_form.html", {"form": form})


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's refusal shown in the form: on its field when the form has it."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def document(request: HttpRequest, uid: str) -> HttpResponse:
    """A document's page. Public documents are open to all; others need the right viewer."""
    viewer = Viewer.from_request(request)
    found = repository.document_detail(viewer, uid)
    if found is None:
        raise Http404("No such document.")
    return render(
        request,
        "site/area/document.html",
        {
            "document": found,
            "can_edit": can_edit_document(viewer, found.uploaded_by_id),
            "audience": list(found.audience_entities.all()),
        },
    )


def download(request: HttpRequest, uid: str) -> HttpResponse | FileResponse:
    """The only way to a stored file: checked here, sent by nginx or by Django."""
    viewer = Viewer.from_request(request)
    found = repository.document_detail(viewer, uid)
    if found is None or not found.file or not can_see(viewer, found):
        raise Http404("No such document.")
    filename = found.file_name or PurePath(found.file.name or "file").name
    response: HttpResponse | FileResponse
    if settings.GMG_X_ACCEL_REDIRECT_PREFIX:
        response = HttpResponse(content_type=found.content_type or "application/octet-stream")
        response["X-Accel-Redirect"] = f"{settings.GMG_X_ACCEL_REDIRECT_PREFIX}/{found.file.name}"
    else:
        response = FileResponse(
            found.file.open("rb"),
            content_type=found.content_type or "application/octet-stream",
        )
    response["Content-Disposition"] = _attachment(filename)
    response["Cache-Control"] = (
        "private, no-store" if found.visibility != Visibility.PUBLIC else "public, max-age=3600"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _attachment(filename: str) -> str:
    from urllib.parse import quote

    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


@signed_in_required
@require_POST
def remove_document(request: HttpRequest, uid: str) -> HttpResponse:
    viewer = Viewer.from_request(request)
    found = repository.document_detail(viewer, uid)
    if found is None:
        raise Http404("No such document.")
    try:
        delete_document(found, viewer=viewer, by=Actor.for_user(request.user))
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from exc
    messages.success(request, f"“{found.title}” is deleted.")
    return redirect("members_area:documents")


@signed_in_required
def meetings(request: HttpRequest) -> HttpResponse:
    viewer = Viewer.from_request(request)
    found = governance.meetings(viewer).order_by("-date_start", "key")
    can_add = viewer.is_secretariat or bool(viewer.chairs_body_ids or viewer.co_chairs_group_ids)
    return render(
        request,
        "site/area/meetings.html",
        {"meetings": found, "can_add": can_add, "viewer": viewer},
    )


def meeting(request: HttpRequest, key: str) -> HttpResponse:
    viewer = Viewer.from_request(request)
    found = governance.meeting_detail(viewer, key)
    if found is None:
        raise Http404("No such meeting.")
    from gmg.accounts.permissions import can_manage_meeting
    from gmg.site.texts import meeting_context

    return render(
        request,
        "site/area/meeting.html",
        {
            "meeting": found,
            "viewer": viewer,
            "can_edit": can_manage_meeting(viewer, found.body_id, found.working_group_id),
            **meeting_context(viewer, found),
        },
    )


# -- the audit log (secretariat) ---------------------------------------------------------------


def _audit_entries(request: HttpRequest):
    found = AuditEntry.objects.all()
    q = request.GET.get("q", "").strip()
    if q:
        found = found.filter(
            Q(action__icontains=q)
            | Q(object_key__icontains=q)
            | Q(actor_label__icontains=q)
            | Q(object_type__icontains=q)
        )
    for name, lookup in (("from", "at__date__gte"), ("to", "at__date__lte")):
        value = request.GET.get(name, "")
        if value:
            try:
                found = found.filter(**{lookup: dt.date.fromisoformat(value)})
            except ValueError:
                return None, f"“{value}” is not a date (YYYY-MM-DD)."
    return found, ""


@secretariat_required
def audit(request: HttpRequest) -> HttpResponse:
    found, problem = _audit_entries(request)
    if found is None:
        return render(
            request, "site/area/audit.html", {"problem": problem, "page": None}, status=400
        )
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "site/area/audit.html",
        {"page": page, "query": request.GET.urlencode(), "q": request.GET.get("q", "")},
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@secretariat_required
def audit_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    found, problem = _audit_entries(request)
    if found is None:
        return HttpResponse(problem, status=400, content_type="text/plain; charset=utf-8")
    import json

    writer = csv.writer(_Echo())
    header = ["id", "at", "actor", "action", "object_type", "object_key", "before", "after"]

    def rows():
        yield writer.writerow(header)
        for e in found.order_by("id").iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    e.pk,
                    e.at.isoformat(),
                    e.actor_label,
                    e.action,
                    e.object_type,
                    e.object_key,
                    json.dumps(e.before, ensure_ascii=False) if e.before is not None else "",
                    json.dumps(e.after, ensure_ascii=False) if e.after is not None else "",
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response


# -- meeting pages: kept by the secretariat, the chair in office, the groups' co-chairs ----------


class MeetingForm(forms.Form):
    title = forms.CharField(max_length=300)
    kind = forms.ChoiceField(choices=Meeting.Kind.choices)
    date = forms.CharField(
        max_length=30, required=False, help_text="YYYY-MM-DD, or YYYY-MM, or a range a/b"
    )
    location = forms.CharField(max_length=200, required=False)
    body = forms.ModelChoiceField(queryset=Body.objects.all(), to_field_name="key")
    working_group = forms.ModelChoiceField(
        queryset=WorkingGroup.objects.all(), required=False, to_field_name="key"
    )
    visibility = forms.ChoiceField(choices=Visibility.choices, initial=Visibility.BODY)
    audience_entities = forms.ModelMultipleChoiceField(
        queryset=Entity.objects.order_by("acronym"),
        required=False,
        to_field_name="acronym",
        label="Named entities (when visible to named entities only)",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    agenda = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), required=False, help_text="One item per line"
    )
    participants = forms.ModelMultipleChoiceField(
        queryset=Entity.objects.order_by("acronym"),
        required=False,
        to_field_name="acronym",
        label="Entities present",
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    decisions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, help_text="One per line"
    )


def _meeting_key(title: str, date: str) -> str:
    from django.utils.text import slugify

    base = slugify(f"mtg-{date}-{title}")[:60].strip("-") or "meeting"
    key, n = base, 2
    while Meeting.objects.filter(key=key).exists():
        key, n = f"{base}-{n}", n + 1
    return key


@signed_in_required
def edit_meeting(request: HttpRequest, key: str | None = None) -> HttpResponse:
    from gmg.accounts.permissions import can_manage_meeting
    from gmg.governance.services import Attendance, save_meeting

    viewer = Viewer.from_request(request)
    meeting = None
    initial: dict[str, Any] = {}
    if key is not None:
        meeting = governance.meeting_detail(viewer, key)
        if meeting is None:
            raise Http404("No such meeting.")
        if not can_manage_meeting(viewer, meeting.body_id, meeting.working_group_id):
            raise DjangoPermissionDenied("You do not keep this meeting's page.")
        initial = {
            "title": meeting.title,
            "kind": meeting.kind,
            "date": meeting.date,
            "location": meeting.location,
            "body": meeting.body.key,
            "working_group": meeting.working_group.key if meeting.working_group else None,
            "visibility": meeting.visibility,
            "audience_entities": [e.acronym for e in meeting.audience_entities.all()],
            "summary": meeting.summary,
            "agenda": "\n".join(a.title for a in meeting.agenda_items.all()),
            "participants": [p.entity.acronym for p in meeting.participants.all()],
            "decisions": "\n".join(d.text for d in meeting.decisions.all()),
        }
    elif not (viewer.is_secretariat or viewer.chairs_body_ids or viewer.co_chairs_group_ids):
        raise DjangoPermissionDenied(
            "Meeting pages are kept by the secretariat, the chair in office and co-chairs."
        )
    form = MeetingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        target = meeting or Meeting(key=_meeting_key(data["title"], data["date"]))
        for name in ("title", "kind", "date", "location", "visibility", "summary"):
            setattr(target, name, data[name] or "")
        target.body = data["body"]
        target.working_group = data["working_group"]
        try:
            save_meeting(
                target,
                viewer=viewer,
                by=Actor.for_user(request.user),
                audience_entities=data["audience_entities"],
                agenda=data["agenda"].splitlines(),
                participants=[Attendance(e) for e in data["participants"]],
                decisions=data["decisions"].splitlines(),
            )
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The meeting page is saved.")
            return redirect("members_area:meeting", key=target.key)
    return render(request, "site/area/meeting_form.html", {"form": form, "meeting": meeting})
