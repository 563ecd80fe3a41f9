"""The repository of the group's joint work: outputs and their vocabularies."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import models

from gmg.core import partial_dates
from gmg.core.models import Citation
from gmg.core.visibility import RestrictedContent
from gmg.registry.models import Body, Entity
from gmg.workgroups.models import WorkingGroup


def private_storage():
    """Where internal files live: outside the static and media roots, never served."""
    return storages["private"]


class Process(models.Model):
    """An intergovernmental process the group served: GFMD, the HLDs, the Global Compact..."""

    key = models.SlugField(unique=True)
    name = models.CharField(max_length=250)
    short_name = models.CharField(max_length=60, blank=True)
    citations = GenericRelation(Citation)

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "processes"

    def __str__(self) -> str:
        return self.short_name or self.name


class Theme(models.Model):
    key = models.SlugField(unique=True)
    name = models.CharField(max_length=250)
    citations = GenericRelation(Citation)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name


class OutputType(models.TextChoices):
    PUBLICATION = "publication", "Publication"
    JOINT_STATEMENT = "joint_statement", "Joint statement"
    CHAIR_STATEMENT = "chair_statement", "Chair statement"
    STATEMENT = "statement", "Statement"
    MESSAGE = "message", "Message"
    PRESS_RELEASE = "press_release", "Press release"
    INTERVENTION = "intervention", "Intervention"
    JOINT_COMMUNIQUE = "joint_communique", "Joint communiqué"
    EVENT = "event", "Event"
    ISSUE_BRIEF = "issue_brief", "Issue brief"
    BRIEFING_NOTE = "briefing_note", "Briefing note"
    CONCEPT_NOTE = "concept_note", "Roundtable concept note"
    CONTRIBUTION = "contribution", "Contribution to a process"
    POSITION_PAPER = "position_paper", "Position paper"


class Role(models.TextChoices):
    LEAD = "lead", "Lead"
    CO_LEAD = "co_lead", "Co-lead"
    PREPARED_BY = "prepared_by", "Prepared by"
    FACILITATED_BY = "facilitated_by", "Facilitated by"
    CO_ORGANISER = "co_organiser", "Co-organiser"
    PARTNER = "partner", "Partner"
    DELIVERED_BY = "delivered_by", "Delivered by"


class Output(RestrictedContent):
    """A joint output: publication, statement, event, brief, contribution."""

    key = models.SlugField(max_length=120, unique=True)
    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="outputs")
    type = models.CharField(max_length=30, choices=OutputType.choices, db_index=True)
    subtype = models.CharField(max_length=40, blank=True)
    title = models.TextField()
    description = models.TextField(blank=True)
    # The stated date(s) as text; OutputDate rows hold each stated span for queries.
    date = models.CharField(max_length=80, blank=True)
    date_start = models.DateField(null=True, blank=True, db_index=True)
    date_end = models.DateField(null=True, blank=True)
    location = models.CharField(max_length=200, blank=True)
    occasion = models.CharField(max_length=400, blank=True)
    working_group = models.ForeignKey(
        WorkingGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="outputs"
    )
    processes = models.ManyToManyField(Process, blank=True, related_name="outputs")
    themes = models.ManyToManyField(Theme, blank=True, related_name="outputs")
    related = models.ManyToManyField("self", blank=True, symmetrical=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    citations = GenericRelation(Citation)

    class Meta:
        ordering = ["date_start", "key"]
        indexes = [models.Index(fields=["visibility", "type", "date_start"])]

    def stated_spans(self) -> list[partial_dates.PartialDate]:
        """The spans of ``date``: one partial date, or several separated by commas."""
        spans = []
        for part in (p.strip() for p in self.date.split(",")):
            if part:
                try:
                    spans.append(partial_dates.parse(part))
                except partial_dates.PartialDateError as exc:
                    raise ValidationError({"date": str(exc)}) from exc
        return spans

    def derive_dates(self) -> None:
        """Set the date columns from the stated date(s) (write services call this)."""
        spans = self.stated_spans()
        self.date_start = min((s.start for s in spans), default=None)
        self.date_end = max((s.end for s in spans), default=None)

    def clean(self) -> None:
        if self.working_group and self.body_id and self.working_group.body_id != self.body_id:
            raise ValidationError({"working_group": "The working group belongs to another body."})
        self.clean_audience()

    def __str__(self) -> str:
        return self.title


class OutputTitle(models.Model):
    """Another wording the sources use for the same output."""

    output = models.ForeignKey(Output, on_delete=models.CASCADE, related_name="title_variants")
    title = models.TextField()

    class Meta:
        ordering = ["output", "id"]

    def __str__(self) -> str:
        return self.title


class OutputDate(models.Model):
    """One stated date or span of an output (several when listed for several years)."""

    output = models.ForeignKey(Output, on_delete=models.CASCADE, related_name="dates")
    text = models.CharField(max_length=40)
    start = models.DateField()
    end = models.DateField()

    class Meta:
        ordering = ["output", "start"]
        indexes = [models.Index(fields=["start", "end"])]

    def __str__(self) -> str:
        return self.text


class OutputYear(models.Model):
    """A year an output's stated dates touch: the year facet and filter (derived by the loader)."""

    output = models.ForeignKey(Output, on_delete=models.CASCADE, related_name="years")
    year = models.PositiveSmallIntegerField(db_index=True)

    class Meta:
        ordering = ["output", "year"]
        constraints = [models.UniqueConstraint(fields=["output", "year"], name="output_year_once")]

    def __str__(self) -> str:
        return str(self.year)


class OutputEntity(models.Model):
    output = models.ForeignKey(Output, on_delete=models.CASCADE, related_name="entity_links")
    entity = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="output_links")
    role = models.CharField(max_length=20, choices=Role.choices)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["output", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["output", "entity", "role"], name="output_entity_role_unique"
            )
        ]
        indexes = [models.Index(fields=["entity", "role"])]

    def __str__(self) -> str:
        return f"{self.entity} ({self.role}) of {self.output.key}"


class OutputLink(models.Model):
    output = models.ForeignKey(Output, on_delete=models.CASCADE, related_name="links")
    url = models.URLField(max_length=500)
    label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["output", "id"]

    def __str__(self) -> str:
        return self.url


def _document_path(document: Document, filename: str) -> str:
    # A random name: the stored path says nothing about the document, and is never served.
    return f"documents/{document.uid.hex[:2]}/{document.uid.hex}"


class Document(RestrictedContent):
    """An internal document, meeting paper or note shared in the members' area.

    A file (or a note's text, or both). Never served from a public path: downloads go
    through a view that checks visibility (and then, in production, nginx X-Accel-Redirect).
    """

    class Kind(models.TextChoices):
        DOCUMENT = "document", "Document"
        NOTE = "note", "Note"
        AGENDA = "agenda", "Agenda"
        MINUTES = "minutes", "Minutes"
        BACKGROUND = "background", "Background paper"
        DRAFT = "draft", "Draft"

    uid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="documents")
    working_group = models.ForeignKey(
        WorkingGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    meeting = models.ForeignKey(
        "governance.Meeting",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.DOCUMENT)
    title = models.CharField(max_length=300)
    text = models.TextField(blank=True, help_text="A note's text, or a summary of the file")
    file = models.FileField(upload_to=_document_path, storage=private_storage, blank=True)
    file_name = models.CharField(max_length=255, blank=True, help_text="The uploaded file's name")
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    entity = models.ForeignKey(
        Entity,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
        help_text="The entity that shared it",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["visibility", "body"])]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.working_group and self.body_id and self.working_group.body_id != self.body_id:
            raise ValidationError({"working_group": "The working group belongs to another body."})
        if self.meeting and self.body_id and self.meeting.body_id != self.body_id:
            raise ValidationError({"meeting": "The meeting belongs to another body."})
        if not self.file and not self.text.strip():
            raise ValidationError("A document needs a file or a text.")
        self.clean_audience()
