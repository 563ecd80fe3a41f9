"""Bodies (the groups), entities (member agencies) and memberships with history."""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.db import models

from gmg.core import partial_dates
from gmg.core.models import Citation


class Body(models.Model):
    """A coordination group: the Geneva Migration Group, the GMG, the UN Network on Migration."""

    class Governance(models.TextChoices):
        ROTATING_CHAIR = "rotating_chair", "Rotating chair"
        COORDINATOR = (
            "coordinator_secretariat",
            "Coordinator and secretariat with an Executive Committee",
        )
        NOT_STATED = "not_stated", "Not stated"

    key = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=40, blank=True)
    description = models.TextField(blank=True)
    founded = models.CharField(max_length=30, blank=True, help_text="Partial date or range")
    founded_start = models.DateField(null=True, blank=True)
    ended = models.CharField(max_length=30, blank=True)
    ended_end = models.DateField(null=True, blank=True)
    predecessor = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="successor"
    )
    governance_model = models.CharField(
        max_length=40, choices=Governance.choices, default=Governance.NOT_STATED
    )
    chair_rotation = models.TextField(blank=True, help_text="How the chair rotates, as stated")
    coordinator = models.ForeignKey(
        "Entity", null=True, blank=True, on_delete=models.PROTECT, related_name="coordinates"
    )
    secretariat = models.ForeignKey(
        "Entity", null=True, blank=True, on_delete=models.PROTECT, related_name="secretariat_of"
    )
    reports_to = models.CharField(max_length=200, blank=True)
    membership_note = models.TextField(
        blank=True, help_text="Shown where the sources do not list the members"
    )
    citations = GenericRelation(Citation)

    class Meta:
        ordering = ["founded_start", "key"]
        verbose_name_plural = "bodies"

    def __str__(self) -> str:
        return self.short_name or self.name

    def derive_dates(self) -> None:
        """Set the date columns from the stated partial dates (write services call this)."""
        partial_dates.derive_span(self, "founded", start="founded_start")
        partial_dates.derive_span(self, "ended", end="ended_end")
        if self.predecessor_id and self.predecessor_id == self.pk:
            raise ValidationError({"predecessor": "A body cannot succeed itself."})


class Organ(models.Model):
    """A standing part of a body's structure, e.g. the Network's Executive Committee."""

    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="organs")
    key = models.SlugField()
    name = models.CharField(max_length=200)
    also_called = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    citations = GenericRelation(Citation)

    class Meta:
        ordering = ["body", "key"]
        constraints = [models.UniqueConstraint(fields=["body", "key"], name="organ_key_per_body")]

    def __str__(self) -> str:
        return self.name


class Entity(models.Model):
    """A member agency or another actor named by the sources."""

    class Kind(models.TextChoices):
        UN_ENTITY = "un_entity", "UN entity"
        WORLD_BANK = "world_bank", "World Bank"
        IOM = "iom", "IOM"
        MEMBER_STATE = "member_state", "Member State"
        OTHER = "other", "Other"

    acronym = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=250)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="parts"
    )
    citations = GenericRelation(Citation)

    class Meta:
        ordering = ["acronym"]
        verbose_name_plural = "entities"

    def __str__(self) -> str:
        return self.acronym


class EntityName(models.Model):
    """A variant name the sources use for an entity (e.g. a misordered official name)."""

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="variant_names")
    name = models.CharField(max_length=250)
    citations = GenericRelation(Citation)

    class Meta:
        ordering = ["entity", "name"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "name"], name="entity_variant_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """An entity's membership of a body between two partial dates.

    A membership with no ``left`` date lasts as long as the body does.
    """

    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="memberships")
    entity = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="memberships")
    joined = models.CharField(max_length=30)
    joined_start = models.DateField()
    joined_end = models.DateField()
    left = models.CharField(max_length=30, blank=True)
    left_start = models.DateField(null=True, blank=True)
    left_end = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    citations = GenericRelation(Citation)

    class Meta:
        ordering = ["body", "joined_start", "entity__acronym"]
        constraints = [
            models.UniqueConstraint(
                fields=["body", "entity", "joined_start"], name="membership_unique_start"
            ),
            models.CheckConstraint(
                condition=models.Q(joined_start__lte=models.F("joined_end")),
                name="membership_joined_ordered",
            ),
        ]
        indexes = [models.Index(fields=["body", "joined_start"])]

    def __str__(self) -> str:
        return f"{self.entity} in {self.body} from {self.joined}"

    def derive_dates(self) -> None:
        """Set the date columns from the stated partial dates (write services call this)."""
        joined = partial_dates.derive_span(
            self, "joined", start="joined_start", end="joined_end", required=True
        )
        left = partial_dates.derive_span(self, "left", start="left_start", end="left_end")
        if joined and left and left.end < joined.start:
            raise ValidationError({"left": f"{self.left} is before joining ({self.joined})."})


class Fact(models.Model):
    """A stated fact about a body that has no table of its own: support, staff time, donors."""

    class Kind(models.TextChoices):
        SUPPORT = "support", "Support team"
        STAFF_TIME = "staff_time", "Staff time"
        DONOR = "donor", "Donor"
        HOSTING = "hosting", "Hosting"
        STRUCTURE = "structure", "Structure"
        MILESTONE = "milestone", "Milestone"
        OTHER = "other", "Other"

    key = models.SlugField(unique=True)
    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="facts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    entity = models.ForeignKey(
        Entity, null=True, blank=True, on_delete=models.PROTECT, related_name="facts"
    )
    statement = models.TextField()
    date = models.CharField(max_length=30, blank=True)
    date_start = models.DateField(null=True, blank=True)
    date_end = models.DateField(null=True, blank=True)
    citations = GenericRelation(Citation)

    class Meta:
        ordering = ["body", "kind", "date_start", "key"]

    def __str__(self) -> str:
        return self.statement[:80]
