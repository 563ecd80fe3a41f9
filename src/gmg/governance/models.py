"""Chair terms and meetings of a body."""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.db import models

from gmg.core import partial_dates
from gmg.core.models import Citation
from gmg.core.visibility import RestrictedContent
from gmg.registry.models import Body, Entity


class ChairTerm(models.Model):
    """A term of the chair of a body: one or more chairs, maybe interim, maybe a theme."""

    key = models.SlugField(unique=True)
    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="chair_terms")
    start = models.CharField(max_length=30)
    start_date = models.DateField()
    end = models.CharField(max_length=30)
    end_date = models.DateField()
    interim = models.BooleanField(default=False)
    coordinator = models.ForeignKey(
        Entity, null=True, blank=True, on_delete=models.PROTECT, related_name="coordinated_terms"
    )
    theme = models.CharField(max_length=300, blank=True, help_text="Empty when no source states it")
    chairs = models.ManyToManyField(Entity, through="ChairTermChair", related_name="chair_terms")
    citations = GenericRelation(Citation)

    class Meta:
        ordering = ["body", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_date__lte=models.F("end_date")),
                name="chair_term_ordered",
            )
        ]
        indexes = [models.Index(fields=["body", "start_date", "end_date"])]

    def __str__(self) -> str:
        return f"{self.body} chair {self.start} – {self.end}"

    def derive_dates(self) -> None:
        """Set the date columns from the stated partial dates (write services call this)."""
        start = partial_dates.derive_span(self, "start", start="start_date", required=True)
        end = partial_dates.derive_span(self, "end", end="end_date", required=True)
        if start and end and end.end < start.start:
            raise ValidationError({"end": f"The term ends ({self.end}) before it starts."})


class ChairTermChair(models.Model):
    term = models.ForeignKey(ChairTerm, on_delete=models.CASCADE, related_name="chair_links")
    entity = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="chair_links")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["term", "position"]
        constraints = [
            models.UniqueConstraint(fields=["term", "entity"], name="chair_once_per_term")
        ]

    def __str__(self) -> str:
        return f"{self.entity} in {self.term}"


class Meeting(RestrictedContent):
    """A meeting of a body: Principals, working level, or extended membership."""

    class Kind(models.TextChoices):
        PRINCIPALS = "principals", "Principals"
        WORKING_LEVEL = "working_level", "Working level"
        EXTENDED = "extended", "Extended membership"
        OTHER = "other", "Other"

    key = models.SlugField(unique=True)
    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="meetings")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=300)
    date = models.CharField(max_length=30, blank=True)
    date_start = models.DateField(null=True, blank=True)
    date_end = models.DateField(null=True, blank=True)
    location = models.CharField(max_length=200, blank=True)
    working_group = models.ForeignKey(
        "workgroups.WorkingGroup",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="meetings",
        help_text="For a working group's meeting",
    )
    summary = models.TextField(blank=True)
    citations = GenericRelation(Citation)

    class Meta:
        ordering = ["body", "date_start", "key"]

    def derive_dates(self) -> None:
        """Set the date columns from the stated partial date (write services call this)."""
        partial_dates.derive_span(self, "date", start="date_start", end="date_end")

    def clean(self) -> None:
        if self.working_group and self.body_id and self.working_group.body_id != self.body_id:
            raise ValidationError({"working_group": "The working group belongs to another body."})
        self.clean_audience()

    def __str__(self) -> str:
        return self.title


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=300)
    notes = models.TextField(blank=True)
    joint_text = models.ForeignKey(
        "clearance.JointText",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agenda_items",
        help_text="A text referred to this meeting",
    )

    class Meta:
        ordering = ["meeting", "position", "id"]

    def __str__(self) -> str:
        return self.title


class Participant(models.Model):
    """Attendance, kept per entity (and the person who represented it, when known)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    entity = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="+")
    represented_by = models.CharField(max_length=200, blank=True)
    attended = models.BooleanField(default=True)

    class Meta:
        ordering = ["meeting", "entity__acronym"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "entity"], name="participant_once")
        ]

    def __str__(self) -> str:
        return f"{self.entity} at {self.meeting}"


class Decision(models.Model):
    """A decision of a meeting, taken by consensus. On a referred joint text the outcome is
    recorded: a recorded objection blocks adoption, though the text may still be noted."""

    class Outcome(models.TextChoices):
        ADOPTED = "adopted", "Adopted"
        NOTED = "noted", "Noted"
        RETURNED = "returned", "Returned to the drafters"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    agenda_item = models.ForeignKey(
        AgendaItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    position = models.PositiveSmallIntegerField(default=0)
    text = models.TextField()
    joint_text = models.ForeignKey(
        "clearance.JointText",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decisions",
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    objections = models.ManyToManyField(
        Entity, blank=True, related_name="+", help_text="Entities that recorded an objection"
    )

    class Meta:
        ordering = ["meeting", "position", "id"]

    def __str__(self) -> str:
        return self.text[:80]
