"""Writes to the repository: outputs and shared documents (see gmg.core.services)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from gmg.accounts.permissions import PermissionDenied, can_edit_document, share_problem
from gmg.accounts.services import Actor
from gmg.core.services import delete_record, save_record, validate
from gmg.core.viewer import Viewer
from gmg.registry.models import Entity
from gmg.repository.models import (
    Document,
    Output,
    OutputDate,
    OutputEntity,
    OutputYear,
    Process,
    Theme,
)


def save_output(
    output: Output,
    *,
    by: Actor,
    entity_links: Iterable[tuple[Entity, str]] | None = None,
    processes: Iterable[Process] | None = None,
    themes: Iterable[Theme] | None = None,
    audience_entities: Iterable[Entity] | None = None,
    write_related: Callable[[Output], None] | None = None,
) -> Output:
    """Create or update an output. ``None`` leaves a relation as it is; ``write_related``
    saves the back office's inline forms in the same transaction."""

    def children(saved: Output) -> None:
        if write_related is not None:
            write_related(saved)
        spans = saved.stated_spans()
        OutputDate.objects.filter(output=saved).delete()
        OutputYear.objects.filter(output=saved).delete()
        OutputDate.objects.bulk_create(
            OutputDate(output=saved, text=s.text, start=s.start, end=s.end)
            for s in {s.text: s for s in spans}.values()
        )
        OutputYear.objects.bulk_create(
            OutputYear(output=saved, year=y)
            for y in sorted({y for s in spans for y in range(s.start.year, s.end.year + 1)})
        )
        if entity_links is not None:
            OutputEntity.objects.filter(output=saved).delete()
            seen = set()
            for position, (entity, role) in enumerate(entity_links):
                if (entity.pk, role) in seen:
                    continue
                seen.add((entity.pk, role))
                link = OutputEntity(output=saved, entity=entity, role=role, position=position)
                validate(link)
                link.save()
        if processes is not None:
            saved.processes.set(list(processes))
        if themes is not None:
            saved.themes.set(list(themes))
        if audience_entities is not None:
            saved.audience_entities.set(list(audience_entities))
        saved.clean_audience(saved.audience_entities.values_list("pk", flat=True))

    return save_record(output, by=by, children=children)


# -- documents -----------------------------------------------------------------------------

# What may be uploaded: the extension, and the first bytes the file must start with.
ZIP = (b"PK\x03\x04",)
OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
ALLOWED_UPLOADS: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ZIP),
    ".odt": ("application/vnd.oasis.opendocument.text", ZIP),
    ".ods": ("application/vnd.oasis.opendocument.spreadsheet", ZIP),
    ".doc": ("application/msword", OLE),
    ".xls": ("application/vnd.ms-excel", OLE),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".txt": ("text/plain", ()),
    ".csv": ("text/csv", ()),
}


def too_large_message() -> str:
    from django.template.defaultfilters import filesizeformat

    return f"The file is larger than the {filesizeformat(settings.GMG_UPLOAD_MAX_BYTES)} allowed."


def check_upload(upload: UploadedFile) -> str:
    """The content type to store for ``upload``; a ValidationError when it is refused."""
    name = PurePath(upload.name or "").name
    suffix = PurePath(name).suffix.lower()
    limit = settings.GMG_UPLOAD_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationError({"file": too_large_message()})
    if upload.size == 0:
        raise ValidationError({"file": "The file is empty."})
    if suffix not in ALLOWED_UPLOADS:
        allowed = ", ".join(sorted(ALLOWED_UPLOADS))
        raise ValidationError(
            {"file": f"Files of type {suffix or '(none)'} are not accepted ({allowed})."}
        )
    content_type, signatures = ALLOWED_UPLOADS[suffix]
    upload.seek(0)
    head = upload.read(4096)
    upload.seek(0)
    if signatures and not any(head.startswith(sig) for sig in signatures):
        raise ValidationError({"file": f"The file's content is not a {suffix} file."})
    if not signatures:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A cut multi-byte character at the end of the sample is still text.
            if exc.start < len(head) - 4:
                raise ValidationError({"file": f"A {suffix} file must be UTF-8 text."}) from exc
    return content_type


def share_document(
    document: Document,
    *,
    viewer: Viewer,
    by: Actor,
    upload: UploadedFile | None = None,
    audience_entities: Iterable[Entity] | None = None,
) -> Document:
    """Share a new document, or change one (its uploader or the secretariat), audited."""
    if document.pk is not None:
        stored = Document.objects.filter(pk=document.pk).values_list("uploaded_by", flat=True)
        if not can_edit_document(viewer, stored.first()):
            raise PermissionDenied("Only the person who shared it or the secretariat can edit it.")
    problem = share_problem(
        viewer, document.visibility, document.body_id, document.working_group_id
    )
    if problem:
        raise PermissionDenied(problem)
    if upload is not None:
        document.content_type = check_upload(upload)
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        document.sha256 = digest.hexdigest()
        document.size = upload.size or 0
        document.file_name = PurePath(upload.name or "file").name[:255]
        document.file.save(document.file_name, upload, save=False)
    named = list(audience_entities) if audience_entities is not None else None

    def children(saved: Document) -> None:
        if named is not None:
            saved.audience_entities.set(named)
        saved.clean_audience(saved.audience_entities.values_list("pk", flat=True))

    try:
        return save_record(document, by=by, children=children)
    except ValidationError:
        if upload is not None and document.file:
            document.file.delete(save=False)  # nothing is kept of a refused document
        raise


def delete_document(document: Document, *, viewer: Viewer, by: Actor) -> None:
    if not can_edit_document(viewer, document.uploaded_by_id):
        raise PermissionDenied("Only the person who shared it or the secretariat can delete it.")
    stored = document.file.name if document.file else ""
    delete_record(document, by=by)
    if stored:
        document.file.storage.delete(stored)
